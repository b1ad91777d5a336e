"""PyTorch CPU reference for bench/train_step.ts (see docs/benchmarks.md).

The same GPT-2 style model as bench/transformer.ts (pre-LayerNorm, fused QKV,
causal attention written out, tanh-GELU MLP, learned positions, untied head
without bias, N(0, 0.02) init), cross-entropy next-token loss and one Adam
(lr 1e-3) step, float32, timed with the same protocol: warm-up steps excluded,
then --repeat rounds of --steps timed steps, each reporting median / p10 / p90.

Run with Debian's interpreter (python3-torch is installed there):
    /usr/bin/python3 bench/torch_reference.py [--threads 1,2] [--json FILE]
Each thread count runs in a fresh subprocess with OMP/OpenBLAS/MKL thread
variables set, so the BLAS library's own thread pool is limited too.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

CONFIG = dict(vocab=64, seq_len=32, d_model=128, n_heads=4, d_hidden=512, n_layers=2)
BATCH = 32


def param_count_formula(c):
    d, h = c["d_model"], c["d_hidden"]
    per_block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * h + h) + (h * d + d)
    return c["vocab"] * d + c["seq_len"] * d + c["n_layers"] * per_block + 2 * d + d * c["vocab"]


def percentile(xs, q):
    """Linear interpolation between closest ranks (numpy's default); same as train_step.ts."""
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
    nn = torch.nn
    F = torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            d = c["d_model"]
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, c["d_hidden"])
            self.fc2 = nn.Linear(c["d_hidden"], d)
            t = c["seq_len"]
            self.register_buffer("causal", torch.tril(torch.ones(t, t, dtype=torch.bool)))

        def attn(self, x):
            b, t, d = x.shape
            n = c["n_heads"]
            q, k, v = self.qkv(x).view(b, t, 3, n, d // n).permute(2, 0, 3, 1, 4)
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // n))
            att = F.softmax(scores.masked_fill(~self.causal[:t, :t], float("-inf")), dim=-1)
            return self.proj((att @ v).transpose(1, 2).reshape(b, t, d))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            d = c["d_model"]
            self.wte = nn.Embedding(c["vocab"], d)
            self.wpe = nn.Embedding(c["seq_len"], d)
            self.blocks = nn.ModuleList(Block() for _ in range(c["n_layers"]))
            self.lnf = nn.LayerNorm(d)
            self.head = nn.Linear(d, c["vocab"], bias=False)
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, 0.0, 0.02)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)

        def forward(self, tokens, targets):
            t = tokens.shape[1]
            x = self.wte(tokens) + self.wpe(torch.arange(t))
            for blk in self.blocks:
                x = blk(x)
            logits = self.head(self.lnf(x))
            return F.cross_entropy(logits.view(-1, c["vocab"]), targets.reshape(-1))

    return GPT()


def run_one(threads, warmup, steps, repeat):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(torch, CONFIG)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == param_count_formula(CONFIG), (n_params, param_count_formula(CONFIG))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    seq = torch.randint(0, CONFIG["vocab"], (BATCH, CONFIG["seq_len"] + 1), generator=g)
    tokens, targets = seq[:, :-1], seq[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(tokens, targets)
        loss.backward()
        opt.step()
        return loss.item()

    first_loss = step()
    for _ in range(warmup - 1):
        step()
    rounds = []
    for _ in range(repeat):
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1e3)
        rounds.append(
            dict(median=percentile(times, 0.5), p10=percentile(times, 0.1), p90=percentile(times, 0.9))
        )
    best = min(rounds, key=lambda r: r["median"])
    return dict(
        implementation=f"PyTorch {torch.__version__}",
        device="cpu",
        threads=threads,
        params=n_params,
        first_loss=first_loss,
        blas=blas_library(),
        steps=steps,
        warmup=warmup,
        rounds=rounds,
        **best,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds; the best median is reported")
    ap.add_argument("--json", help="write results to this file")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.child is not None:  # one thread count, in a fresh process
        print(json.dumps(run_one(a.child, a.warmup, a.steps, a.repeat)))
        return

    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed (apt-get install -y python3-torch); skipping.")
        return

    results = []
    for n in [int(s) for s in a.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
        cmd = [sys.executable, __file__, "--child", str(n), "--warmup", str(a.warmup)]
        cmd += ["--steps", str(a.steps), "--repeat", str(a.repeat)]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))

    r0 = results[0]
    print(f"config: batch {BATCH} x seq {CONFIG['seq_len']}, {CONFIG}, Adam lr 1e-3, float32")
    print(f"BLAS: {r0['blas']}")
    print(f"timing: {a.warmup} warm-up steps, then {a.repeat} round(s) of {a.steps} steps; best median shown")
    hdr = ["implementation", "device", "threads", "median ms", "p10", "p90", "params", "round medians"]
    rows = [
        [
            r["implementation"],
            r["device"],
            str(r["threads"]),
            f"{r['median']:.1f}",
            f"{r['p10']:.1f}",
            f"{r['p90']:.1f}",
            str(r["params"]),
            " ".join(f"{x['median']:.1f}" for x in r["rounds"]),
        ]
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(hdr)]
    for row in [hdr, ["-" * w for w in widths], *rows]:
        print(" | ".join(s.ljust(w) for s, w in zip(row, widths)))
    print(f"first-step loss {r0['first_loss']:.4f} (ln 64 = {math.log(64):.4f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
