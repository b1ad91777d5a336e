"""PyTorch CPU reference for bench/llama_step.ts: the same tiny Llama and the same steps.

Model (as models/llama.ts): 4 layers, hidden 128, SwiGLU 512, 4 query heads over 2 kv heads
(head_dim 32), RoPE (HF rotate_half, theta 1e4), RMSNorm (eps 1e-5), tied embeddings, vocab 256;
N(0, 0.02) init, float32; 1,016,960 parameters. Steps, timed with bench/llama_step.ts's protocol
(warm-up calls excluded, then --repeat rounds of --steps calls, best median reported):

- SFT step: batch 32 x 64 tokens, cross-entropy on the last 48 tokens of each row, AdamW
  (lr 1e-3, weight decay 0) -- the step of models/llama_losses.ts makeTrainStep + sftLoss;
- SFT+KL step: the same plus 0.1 x exact KL(pi0 || pi) to a frozen copy (its forward included);
- GRPO step: clipped ratio (eps 0.2), k3 KL to a reference (beta 0.04), sequence-mean weights,
  gradient clipping to norm 1, AdamW lr 1e-5;
- sampling: 32 prompts x 16 tokens, 48 new tokens at temperature 1 with a KV cache (prefill once,
  then one token per step), and greedily by recomputing a [32, 64] forward per token (no cache;
  8 tokens per call);
- with --profile: forward (loss) only, forward + backward, and the AdamW update only.

Run with Debian's interpreter (python3-torch; libopenblas0-pthread makes it use OpenBLAS):
    /usr/bin/python3 bench/llama_torch_reference.py [--threads 1,2] [--profile] [--json FILE]
        [--only REGEX]   (time only the pieces whose name matches, as llama_step.ts --only)
Each thread count runs in a fresh process with OMP/OpenBLAS/MKL thread variables set.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

CONFIG = dict(vocab=256, hidden=128, inter=512, layers=4, heads=4, kv_heads=2, head_dim=32,
              rms_eps=1e-5, theta=10000.0)
B, T, PROMPT = 32, 64, 16
NEW = T - PROMPT
NO_CACHE = 8  # new tokens per call of the no-cache sampler


def param_count(c):
    h, q, kv = c["hidden"], c["heads"] * c["head_dim"], c["kv_heads"] * c["head_dim"]
    per_layer = 2 * h + h * q + 2 * h * kv + q * h + 3 * h * c["inter"]
    return c["vocab"] * h + c["layers"] * per_layer + h


def percentile(xs, q):
    """Linear interpolation between closest ranks (numpy's default); same as llama_step.ts."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def blas_library():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower()}
        return ", ".join(sorted(os.path.realpath(p) for p in libs)) or "unknown"
    except OSError:
        return "unknown"


def build(torch, c):
    nn, F = torch.nn, torch.nn.functional
    H, D, NH, KV = c["hidden"], c["head_dim"], c["heads"], c["kv_heads"]
    G = NH // KV

    inv = 1.0 / (c["theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    ang = torch.arange(512, dtype=torch.float64)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], -1)
    COS, SIN = ang.cos().float(), ang.sin().float()  # [512, D], float64 angles as the jax-js side

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c["rms_eps"]) * w

    def rope(x, pos):  # x [B, T, heads, D], pos [B, T] or [T]
        cos, sin = COS[pos].unsqueeze(-2), SIN[pos].unsqueeze(-2)
        x1, x2 = x[..., : D // 2], x[..., D // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm = nn.Parameter(torch.ones(H))
            self.q = nn.Linear(H, NH * D, bias=False)
            self.k = nn.Linear(H, KV * D, bias=False)
            self.v = nn.Linear(H, KV * D, bias=False)
            self.o = nn.Linear(NH * D, H, bias=False)
            self.post_attention_layernorm = nn.Parameter(torch.ones(H))
            self.gate = nn.Linear(H, c["inter"], bias=False)
            self.up = nn.Linear(H, c["inter"], bias=False)
            self.down = nn.Linear(c["inter"], H, bias=False)

        def forward(self, x, pos, mask, cache=None):
            b, t, _ = x.shape
            xn = rms(x, self.input_layernorm)
            q = rope(self.q(xn).view(b, t, NH, D), pos).transpose(1, 2)  # [b, NH, t, D]
            k = rope(self.k(xn).view(b, t, KV, D), pos).transpose(1, 2)  # [b, KV, t, D]
            v = self.v(xn).view(b, t, KV, D).transpose(1, 2)
            if cache is not None:
                k, v = cache(k, v)
            s = k.shape[2]
            scores = q.reshape(b, KV, G * t, D) @ k.transpose(-1, -2) / math.sqrt(D)
            scores = scores.view(b, NH, t, s).masked_fill(~mask, float("-inf"))
            att = F.softmax(scores, -1).view(b, KV, G * t, s) @ v
            x = x + self.o(att.view(b, NH, t, D).transpose(1, 2).reshape(b, t, NH * D))
            hn = rms(x, self.post_attention_layernorm)
            return x + self.down(F.silu(self.gate(hn)) * self.up(hn))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(c["vocab"], H)
            self.layers = nn.ModuleList(Layer() for _ in range(c["layers"]))
            self.norm = nn.Parameter(torch.ones(H))
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, 0.0, 0.02)

        def forward(self, tokens):  # logits [B, T, V], right padding / no padding
            t = tokens.shape[1]
            pos = torch.arange(t)
            mask = torch.ones(t, t, dtype=torch.bool).tril()
            x = self.embed(tokens)
            for layer in self.layers:
                x = layer(x, pos, mask)
            return rms(x, self.norm) @ self.embed.weight.T  # tied head

        @torch.no_grad()
        def sample(self, prompts, new, gen):  # prompts [B, P] (equal lengths), KV cache
            b, p = prompts.shape
            S = p + new
            ks = [torch.zeros(b, KV, S, D) for _ in self.layers]
            vs = [torch.zeros(b, KV, S, D) for _ in self.layers]
            out, at = [], 0

            def cache_for(i, n):
                def write(k, v):
                    ks[i][:, :, at:at + n] = k
                    vs[i][:, :, at:at + n] = v
                    return ks[i][:, :, :at + n], vs[i][:, :, :at + n]
                return write

            tok, t = prompts, p
            for step in range(new + 1):
                pos = torch.arange(at, at + t)
                mask = torch.ones(t, at + t, dtype=torch.bool).tril(at)
                x = self.embed(tok)
                for i, layer in enumerate(self.layers):
                    x = layer(x, pos, mask, cache_for(i, t))
                logits = rms(x[:, -1], self.norm) @ self.embed.weight.T
                at += t
                if step == new:
                    break
                lp = F.log_softmax(logits, -1)
                tok = torch.multinomial(lp.exp(), 1, generator=gen)
                out.append(tok)
                t = 1
            return torch.cat(out, 1)

    return Llama()


def run_one(threads, a):
    import torch
    F = torch.nn.functional

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(torch, CONFIG)
    base = build(torch, CONFIG)
    base.load_state_dict(model.state_dict())
    base.requires_grad_(False)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == param_count(CONFIG) == 1_016_960, n_params
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, CONFIG["vocab"], (B, T), generator=g)
    mask = torch.zeros(B, T)
    mask[:, PROMPT:] = 1
    n_targets = mask.sum()

    def token_lp(logits):  # [B, T]: log p(tokens[t] | <t), 0 at t = 0
        lp = F.log_softmax(logits[:, :-1], -1).gather(-1, tokens[:, 1:, None])[..., 0]
        return F.pad(lp, (1, 0))

    def sft_loss(with_kl):
        logits = model(tokens)
        ce = -(token_lp(logits) * mask).sum() / n_targets
        if not with_kl:
            return ce
        with torch.no_grad():
            ref = F.log_softmax(base(tokens)[:, :-1], -1)
        lp = F.log_softmax(logits[:, :-1], -1)
        kl = (ref.exp() * (ref - lp)).sum(-1)
        return ce + 0.1 * (F.pad(kl, (1, 0)) * mask).sum() / n_targets

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)

    def sft_step(with_kl=False):
        opt.zero_grad(set_to_none=True)
        loss = sft_loss(with_kl)
        loss.backward()
        opt.step()
        return loss.item()

    with torch.no_grad():
        lp_old = token_lp(model(tokens))
    lp_ref = lp_old - 0.05
    adv = (torch.arange(B) % 4 - 1.5).float()[:, None]
    weights = mask / (B * mask.sum(1, keepdim=True))  # sequence-mean
    grpo_opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0)

    def grpo_step():
        grpo_opt.zero_grad(set_to_none=True)
        lp = token_lp(model(tokens))
        on = mask > 0
        ratio = torch.exp(torch.where(on, lp - lp_old, torch.zeros(())))
        obj = torch.minimum(ratio * adv, ratio.clamp(0.8, 1.2) * adv)
        d = torch.where(on, lp_ref - lp, torch.zeros(()))
        k3 = d.exp() - d - 1
        loss = ((-obj + 0.04 * k3) * weights).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        grpo_opt.step()
        return loss.item()

    prompts = tokens[:, :PROMPT]
    gen = torch.Generator().manual_seed(0)

    def sample_cache():
        out = model.sample(prompts, NEW, gen)
        assert out.shape == (B, NEW)

    @torch.no_grad()
    def sample_recompute():  # 8 greedy tokens per call: each costs the same [32, 64] forward
        seq = torch.zeros(B, T, dtype=torch.long)
        seq[:, :PROMPT] = prompts
        for s in range(NO_CACHE):
            logits = model(seq)
            seq[:, PROMPT + s] = logits[:, PROMPT + s - 1].argmax(-1)

    pieces = [
        ("SFT step", B * T, sft_step),
        ("SFT+KL step (beta 0.1, pi0 forward incl.)", B * T, lambda: sft_step(True)),
        ("GRPO step (k3 KL, beta 0.04)", B * T, grpo_step),
        (f"sample, KV cache ({B} x {PROMPT} -> +{NEW})", B * NEW, sample_cache),
        (f"sample, no cache (recompute [{B}, {T}])", B * NO_CACHE, sample_recompute),
    ]
    if a.profile:
        def fwd():
            with torch.no_grad():
                sft_loss(False).item()

        def fwd_bwd():
            model.zero_grad(set_to_none=True)
            sft_loss(False).backward()

        fwd_bwd()  # leaves gradients for the optimizer-only piece
        prof_opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
        pieces += [
            ("profile: SFT forward (loss)", B * T, fwd),
            ("profile: SFT forward + backward", B * T, fwd_bwd),
            ("profile: AdamW update only", 0, prof_opt.step),
        ]
    if a.only:
        pieces = [p for p in pieces if re.search(a.only, p[0])]
    first_loss = sft_loss(False).item()
    results = []
    for name, tokens_per_call, fn in pieces:
        for _ in range(a.warmup):
            fn()
        rounds = []
        for _ in range(a.repeat):
            times = []
            for _ in range(a.steps):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
            rounds.append(dict(median=percentile(times, 0.5), p10=percentile(times, 0.1),
                               p90=percentile(times, 0.9)))
        best = min(rounds, key=lambda r: r["median"])
        results.append(dict(name=name, tokens=tokens_per_call, rounds=rounds, **best))
    return dict(implementation=f"PyTorch {torch.__version__}", threads=threads, params=n_params,
                first_loss=first_loss, blas=blas_library(), results=results)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2, help="timed rounds; the best median is reported")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", help="time only the pieces whose name matches this regex")
    ap.add_argument("--json", help="write results to this file")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.child is not None:  # one thread count, in a fresh process
        print(json.dumps(run_one(a.child, a)))
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed (apt-get install -y python3-torch libopenblas0-pthread); skipping.")
        return

    runs = []
    for n in [int(s) for s in a.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
        cmd = [sys.executable, __file__, "--child", str(n), "--warmup", str(a.warmup),
               "--steps", str(a.steps), "--repeat", str(a.repeat)] + (["--profile"] if a.profile else [])
        cmd += ["--only", a.only] if a.only else []
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))

    r0 = runs[0]
    print(f"tiny Llama, {r0['params']:,} params: {CONFIG}; {r0['implementation']}, float32")
    print(f"BLAS: {r0['blas']}")
    print(f"{a.warmup} warm-up calls, {a.repeat} round(s) of {a.steps} timed calls; best median")
    for r in runs:
        print(f"-- threads {r['threads']}")
        print(f"{'what':<44} {'median':>8} {'p10':>8} {'p90':>8} {'tokens/s':>9}  round medians (ms)")
        for x in r["results"]:
            tps = f"{x['tokens'] / (x['median'] / 1000):9.0f}" if x["tokens"] else f"{'-':>9}"
            meds = " ".join(f"{y['median']:.1f}" for y in x["rounds"])
            print(f"{x['name']:<44} {x['median']:8.1f} {x['p10']:8.1f} {x['p90']:8.1f} {tps}  {meds}")
    print(f"first SFT loss {r0['first_loss']:.4f} (ln 256 = {math.log(256):.4f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=2)


if __name__ == "__main__":
    main()
