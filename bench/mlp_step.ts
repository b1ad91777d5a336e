/**
 * Times the ParityMNIST MLP's train steps through the production code (models/mlp_learner.ts
 * sessions on the onnxruntime engine of models/mlp_engine.ts): one SFT step of the soft-target
 * loss and one clipped policy-gradient step (GRPO, G = 8 samples per input) on fixed rollouts, at
 * batch 32 (the default recipe's) and 64; and one SFT step of R runs stacked as one program
 * (`--groups`, each run its own weights, batch, learning rate and AdamW state), whose throughput
 * per run is the group step's time / R.
 *
 *   deno run --allow-read --allow-env --allow-ffi --allow-sys bench/mlp_step.ts [--steps 30]
 *     [--warmup 5] [--batches 32,64] [--groups 9,36,72] [--only REGEX] [--json FILE] [--dump FILE]
 *
 * Protocol as bench/train_step.ts: --warmup untimed steps (the first compiles), then --steps
 * timed steps, each from dispatch until the loss and new parameters are read back; median,
 * p10 and p90 in ms (percentiles interpolated as numpy, as the PyTorch scripts). --only times
 * only the pieces whose name matches; --json writes the figures; --dump writes the SFT batch-32
 * session's initial weights, inputs and warm-up losses for bench/mlp_torch_reference.py --check.
 */
import { parseArgs } from "node:util";
import { parseDevice, startEngine } from "../models/engine.ts";
import type { TrainInstance } from "../models/learner.ts";
import { MlpPolicy } from "../models/mlp_policy.ts";
import {
  AdamArena,
  adamScalars,
  logSoftmaxRows,
  MlpEngine,
  softGrad,
} from "../models/mlp_engine.ts";
import { rng } from "../lib/rng.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    device: { type: "string", default: "wasm" },
    steps: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    batches: { type: "string", default: "32,64" },
    groups: { type: "string", default: "9,36,72" },
    only: { type: "string" },
    json: { type: "string" },
    dump: { type: "string" },
  },
}).values;
const device = parseDevice(args.device!);
const steps = Number(args.steps), warmup = Number(args.warmup);
const only = args.only === undefined ? undefined : new RegExp(args.only);
await startEngine(device);

const config = { inputDim: 785, hidden: [256, 256], classes: 10 };

/** Linear interpolation between closest ranks (numpy's default); same as the PyTorch scripts. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const results: {
  name: string;
  batch: number;
  members?: number;
  median: number;
  p10: number;
  p90: number;
}[] = [];

async function time(
  label: string,
  batch: number,
  step: () => Promise<unknown>,
): Promise<unknown[]> {
  if (only && !only.test(label)) return [];
  const warm: unknown[] = [];
  for (let i = 0; i < warmup; i++) warm.push(await step());
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
  }
  const f = (v: number) => v.toFixed(1).padStart(7);
  const [median, p10, p90] = [quantile(ms, 0.5), quantile(ms, 0.1), quantile(ms, 0.9)];
  results.push({ name: label, batch, median, p10, p90 });
  console.log(`${label.padEnd(34)} ${f(median)} ${f(p10)} ${f(p90)}`);
  return warm;
}

console.log(
  `MLP 785→256→256→10 (${
    (785 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10).toLocaleString("en")
  } params), AdamW, float32, device ${device}`,
);
console.log(`${"step".padEnd(34)}  median     p10     p90  (ms)`);
const r = rng(1);
for (const batch of args.batches!.split(",").map(Number)) {
  const policy = MlpPolicy.init(config, 0), reference = policy.clone();
  const instances: TrainInstance[] = Array.from({ length: batch }, () => ({
    request: {
      kind: "classify",
      x: Float32Array.from({ length: 785 }, () => r.next()),
      classes: 10,
    },
    targets: () => [3],
    reward: (y) => (y === 3 ? 1 : 0),
  }));
  const session = policy.learner(instances, { reference }).begin({ seed: 0 });
  const idx = instances.map((_, i) => i);
  const initial = args.dump && batch === 32 ? await policy.weights() : undefined;
  const warm = await time(
    `SFT step, batch ${batch}`,
    batch,
    () => session.sft(idx, { labelling: "sft1", beta: 0, lr: 1e-4 }),
  );
  if (initial && warm.length) {
    const dump: Record<string, unknown> = {
      losses: warm.map((w) => (w as { loss: number }).loss),
      x: instances.flatMap((inst) => [...(inst.request as { x: Float32Array }).x]),
    };
    for (const [k, t] of initial) dump[k] = [...t.data];
    Deno.writeTextFileSync(args.dump!, JSON.stringify(dump));
  }
  const g = 8, n = batch * g;
  const ro = await session.rollout(idx, g);
  const update = {
    adv: Float32Array.from({ length: n }, () => r.next() - 0.5),
    mask: new Float32Array(n).fill(1),
    clip: 0.2,
    beta: 0.1,
    normalization: "sequence-mean" as const,
    lr: 1e-4,
  };
  await time(`GRPO step, batch ${batch} × G ${g}`, batch, () => session.pg(ro, update));
  const x = new Float32Array(batch * 785).map(() => r.next());
  await time(`forward (logProbs), batch ${batch}`, batch, () => policy.logProbs(x, { batch }));
  session.dispose();
  await policy.dispose();
  await reference.dispose();
}
// Groups: R runs' SFT steps as one stacked program, each member with its own data, targets,
// learning rate and AdamW state (what a group session does per step: one forward, the losses'
// gradients on the host, one backward + AdamW).
const engine = await MlpEngine.for(config);
for (const R of args.groups!.split(",").filter((g) => g !== "").map(Number)) {
  const label = `SFT group step, ${R} runs × batch 32`;
  if (only && !only.test(label)) continue;
  const B = 32, P = engine.layout.total, c = 10;
  const state = new AdamArena(R, P);
  for (let m = 0; m < R; m++) state.params.set(MlpPolicy.init(config, m).params, m * P);
  const x = Float32Array.from({ length: R * B * 785 }, () => r.next());
  const q = new Float32Array(B * c);
  for (let i = 0; i < B; i++) q[i * c + (i % c)] = 1;
  const lp0 = new Float32Array(B * c).fill(Math.log(0.1));
  const lrs = Array.from({ length: R }, (_, m) => [1e-4, 3e-4, 1e-3][m % 3]);
  let t = 0;
  await time(label, B, async () => {
    t++;
    const act = await engine.forward(state.params, x, { members: R, keep: true });
    const dl = new Float32Array(act.logits.length);
    for (let m = 0; m < R; m++) {
      const lp = logSoftmaxRows(act.logits.subarray(m * B * c, (m + 1) * B * c), c);
      dl.set(softGrad(lp, { q, lp0, beta: 0, classes: c }).dlogits, m * B * c);
    }
    const ks = lrs.map((lr) => adamScalars(t, lr));
    await engine.update(state, act, dl, {
      stepSize: ks.map((k) => k.stepSize),
      bc2Sqrt: ks.map((k) => k.bc2Sqrt),
    });
  });
  const g = results[results.length - 1];
  g.members = R;
  console.log(
    `${"  per run in the group".padEnd(34)} ${(g.median / R).toFixed(2).padStart(7)} ms, ` +
      `${Math.round((R * B * 1000) / g.median)} examples/s summed`,
  );
}
if (args.json) {
  const out = { device, config, optimizer: "AdamW lr 1e-4", warmup, steps, results };
  Deno.writeTextFileSync(args.json, JSON.stringify(out, null, 2) + "\n");
}
Deno.exit(0);
