"""PyTorch CPU reference for bench/mlp_step.ts's SFT step: the ParityMNIST MLP, the same step.

Model (as models/mlp.ts): 785 -> 256 -> 256 -> 10, ReLU, He-normal weights, zero biases, float32;
269,578 parameters. One step (as models/mlp_learner.ts session.sft over models/optim.ts), batch 32:
gather the 32 rows of x (32 x 785) and of the one-hot targets q (32 x 10) and pi0's
log-probabilities lp0 (computed once by a frozen copy), loss
  -(1/B) sum q log pi + beta (1/B) sum exp(lp0) (lp0 - log pi),   beta = 0 (the bench's "sft1"),
its gradient, the global gradient norm, AdamW (lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay
0), then read back the loss, the norm and the log-probabilities, and the mean KL(pi0 || pi) of the
batch. Timed with bench/mlp_step.ts's protocol: --warmup untimed steps, then --repeat rounds of
--steps timed steps (median / p10 / p90, percentiles interpolated as numpy); best median reported.

    /usr/bin/python3 bench/mlp_torch_reference.py [--threads 1,2] [--json FILE] [--check FILE]

--check FILE reads the initial weights, inputs and first losses that
`bench/mlp_step.ts --dump FILE` wrote, runs the same steps from those weights and prints the
largest loss difference (exit 1 above 1e-4). Each thread count runs in a fresh process with
OMP/OpenBLAS/MKL thread variables set.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

SIZES = [785, 256, 256, 10]
BATCH = 32
LR = 1e-4
BETA = 0.0


def param_count():
    return sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:]))


def percentile(xs, q):
    """Linear interpolation between closest ranks (numpy's default); same as mlp_step.ts."""
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


def build(torch, dump=None):
    nn = torch.nn
    layers = [nn.Linear(a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]
    for i, lin in enumerate(layers):
        with torch.no_grad():
            if dump is None:  # He-normal, zero biases (models/mlp.ts initMlp)
                nn.init.normal_(lin.weight, 0.0, math.sqrt(2 / lin.in_features))
                nn.init.zeros_(lin.bias)
            else:  # jax-js stores w[l] as in x out; torch's Linear keeps out x in
                w = torch.tensor(dump[f"w{i}"], dtype=torch.float32)
                lin.weight.copy_(w.view(lin.in_features, lin.out_features).T)
                lin.bias.copy_(torch.tensor(dump[f"b{i}"], dtype=torch.float32))
    mods = []
    for i, lin in enumerate(layers):
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def setup(torch, dump=None):
    F = torch.nn.functional
    torch.manual_seed(0)
    model = build(torch, dump)
    ref = build(torch, dump)
    ref.load_state_dict(model.state_dict())
    ref.requires_grad_(False)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == param_count() == 269_578, n_params
    if dump is None:
        x_all = torch.rand(BATCH, SIZES[0])
    else:
        x_all = torch.tensor(dump["x"], dtype=torch.float32).view(BATCH, SIZES[0])
    q_all = torch.zeros(BATCH, SIZES[-1])
    q_all[:, 3] = 1  # every instance's sft1 target is class 3, as in mlp_step.ts
    with torch.no_grad():
        lp0_all = F.log_softmax(ref(x_all), -1)  # pi0 on the training inputs, computed once
    idx = torch.arange(BATCH)
    beta = torch.tensor(BETA)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.0)

    def step():
        x, q, lp0 = x_all[idx], q_all[idx], lp0_all[idx]
        opt.zero_grad(set_to_none=True)
        lp = F.log_softmax(model(x), -1)
        n = x.shape[0]
        ce = -(lp * q).sum() / n
        kl = (lp0.exp() * (lp0 - lp)).sum() / n
        loss = ce + beta * kl
        loss.backward()
        grad_norm = torch.stack([p.grad.pow(2).sum() for p in model.parameters()]).sum().sqrt()
        opt.step()
        lp_host = lp.detach()
        mean_kl = (lp0.exp() * (lp0 - lp_host)).sum(-1).mean().item()
        return loss.item(), grad_norm.item(), mean_kl

    return step, n_params


def run_one(threads, a):
    import torch

    torch.set_num_threads(threads)
    step, n_params = setup(torch)
    first_loss = step()[0]
    for _ in range(a.warmup - 1):
        step()
    rounds = []
    for _ in range(a.repeat):
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1e3)
        rounds.append(dict(median=percentile(times, 0.5), p10=percentile(times, 0.1),
                           p90=percentile(times, 0.9)))
    best = min(rounds, key=lambda r: r["median"])
    return dict(implementation=f"PyTorch {torch.__version__}", device="cpu", threads=threads,
                params=n_params, first_loss=first_loss, blas=blas_library(), batch=BATCH,
                warmup=a.warmup, steps=a.steps, rounds=rounds, **best)


def check(path):
    import torch

    torch.set_num_threads(1)
    with open(path) as f:
        dump = json.load(f)
    step, _ = setup(torch, dump)
    losses = [step()[0] for _ in dump["losses"]]
    diff = max(abs(a - b) for a, b in zip(losses, dump["losses"]))
    print(json.dumps(dict(torch=losses, jax=dump["losses"], max_abs_diff=diff)))
    return diff


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=1, help="timed rounds; the best median is reported")
    ap.add_argument("--json", help="write results to this file")
    ap.add_argument("--check", help="compare losses with a dump of bench/mlp_step.ts --dump")
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
    if a.check:
        sys.exit(0 if check(a.check) <= 1e-4 else 1)

    results = []
    for n in [int(s) for s in a.threads.split(",")]:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
        cmd = [sys.executable, __file__, "--child", str(n), "--warmup", str(a.warmup),
               "--steps", str(a.steps), "--repeat", str(a.repeat)]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))

    r0 = results[0]
    print(f"MLP {SIZES} ({r0['params']:,} params), SFT step batch {BATCH}, AdamW lr {LR}, float32; "
          f"{r0['implementation']}")
    print(f"BLAS: {r0['blas']}")
    print(f"timing: {a.warmup} warm-up steps, then {a.repeat} round(s) of {a.steps} steps; best median shown")
    print(f"{'threads':<8} {'median':>8} {'p10':>8} {'p90':>8}  round medians (ms)")
    for r in results:
        meds = " ".join(f"{x['median']:.1f}" for x in r["rounds"])
        print(f"{r['threads']:<8} {r['median']:8.1f} {r['p10']:8.1f} {r['p90']:8.1f}  {meds}")
    print(f"first-step loss {r0['first_loss']:.4f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
