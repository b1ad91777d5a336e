/**
 * Times the ParityMNIST MLP's train steps through the production code (models/mlp.ts): one
 * jitted Adam step of the soft-target loss (SFT) and of the clipped policy-gradient loss
 * (GRPO, G = 8 samples per input), at batch 32 (the default recipe's) and 64.
 *
 *   deno run --allow-read --allow-env bench/mlp_step.ts [--device wasm|webgpu|cpu] [--steps 30]
 *
 * Protocol as bench/train_step.ts: 5 untimed warm-up steps (the first compiles), then --steps
 * timed steps, each from dispatch until the loss and new parameters are read back; median,
 * p10 and p90 in ms.
 */
import { parseArgs } from "node:util";
import { parseDevice, startEngine } from "../models/engine.ts";
import { MlpPolicy } from "../models/mlp.ts";
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
  } params), Adam, float32, device ${device}`,
);
console.log(`${"step".padEnd(34)}  median     p10     p90  (ms)`);
const r = rng(1);
for (const batch of [32, 64]) {
  const policy = MlpPolicy.init(config, 0);
  const adam = policy.adam({ lr: 1e-4 });
  const x = Float32Array.from({ length: batch * 785 }, () => r.next());
  const q = new Float32Array(batch * 10).map((_, i) => (i % 10 === 3 ? 1 : 0));
  const lp0 = await policy.logProbs(x, { batch });
  await time(`SFT step, batch ${batch}`, () => adam.soft(x, { q, lp0, beta: 0 }));
  const g = 8, n = batch * g;
  const actions = Int32Array.from({ length: n }, () => r.int(10));
  const adv = Float32Array.from({ length: n }, () => r.next() - 0.5);
  const lpOld = new Float32Array(n).fill(-2.3), mask = new Float32Array(n).fill(1);
  const pg = { actions, adv, lpOld, lpRef: lpOld, mask, group: g, clip: 0.2, beta: 0.1 };
  await time(`GRPO step, batch ${batch} × G ${g}`, () => adam.pg(x, pg));
  await time(`forward (logProbs), batch ${batch}`, () => policy.logProbs(x, { batch }));
  adam.dispose();
  policy.dispose();
}
Deno.exit(0);
