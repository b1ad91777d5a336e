/**
 * Times the ParityMNIST MLP's train steps through the production code (models/mlp_learner.ts
 * sessions over models/mlp.ts and the AdamW of models/optim.ts): one SFT step of the soft-target
 * loss and one clipped policy-gradient step (GRPO, G = 8 samples per input) on fixed rollouts, at
 * batch 32 (the default recipe's) and 64.
 *
 *   deno run --allow-read --allow-env bench/mlp_step.ts [--device wasm|webgpu|cpu] [--steps 30]
 *     [--warmup 5] [--batches 32,64] [--only REGEX] [--json FILE] [--dump FILE]
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
import { rng } from "../lib/rng.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    device: { type: "string", default: "wasm" },
    steps: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    batches: { type: "string", default: "32,64" },
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

const results: { name: string; batch: number; median: number; p10: number; p90: number }[] = [];

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
if (args.json) {
  const out = { device, config, optimizer: "AdamW lr 1e-4", warmup, steps, results };
  Deno.writeTextFileSync(args.json, JSON.stringify(out, null, 2) + "\n");
}
Deno.exit(0);
