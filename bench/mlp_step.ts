/**
 * Times the ParityMNIST MLP's train steps through the production code (models/mlp_learner.ts
 * sessions over models/mlp.ts and the AdamW of models/optim.ts): one SFT step of the soft-target
 * loss and one clipped policy-gradient step (GRPO, G = 8 samples per input) on fixed rollouts, at
 * batch 32 (the default recipe's) and 64.
 *
 *   deno run --allow-read --allow-env bench/mlp_step.ts [--device wasm|webgpu|cpu] [--steps 30]
 *
 * Protocol as bench/train_step.ts: 5 untimed warm-up steps (the first compiles), then --steps
 * timed steps, each from dispatch until the loss and new parameters are read back; median,
 * p10 and p90 in ms.
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
  },
}).values;
const device = parseDevice(args.device!);
const steps = Number(args.steps);
await startEngine(device);

const config = { inputDim: 785, hidden: [256, 256], classes: 10 };

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function time(label: string, step: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 5; i++) await step();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
  }
  const f = (v: number) => v.toFixed(1).padStart(7);
  console.log(
    `${label.padEnd(34)} ${f(quantile(ms, 0.5))} ${f(quantile(ms, 0.1))} ${f(quantile(ms, 0.9))}`,
  );
}

console.log(
  `MLP 785→256→256→10 (${
    (785 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10).toLocaleString("en")
  } params), AdamW, float32, device ${device}`,
);
console.log(`${"step".padEnd(34)}  median     p10     p90  (ms)`);
const r = rng(1);
for (const batch of [32, 64]) {
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
  await time(
    `SFT step, batch ${batch}`,
    () => session.sft(idx, { labelling: "sft1", beta: 0, lr: 1e-4 }),
  );
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
  await time(`GRPO step, batch ${batch} × G ${g}`, () => session.pg(ro, update));
  const x = new Float32Array(batch * 785).map(() => r.next());
  await time(`forward (logProbs), batch ${batch}`, () => policy.logProbs(x, { batch }));
  session.dispose();
  await policy.dispose();
  await reference.dispose();
}
Deno.exit(0);
