// Gradient accumulation through the Llama learner (models/llama_learner.ts): one micro-batch is
// the plain fused AdamW step bit for bit (existing results do not move), and k micro-batches
// give the same update as the whole batch, for SFT (a mean over target tokens of unequal
// lengths) and for the clipped policy-gradient step (a sum normalised over the kept rollouts,
// some filtered), with full fine-tuning and with LoRA.

import { deepEqual, ok, rejects, throws } from "node:assert/strict";
import { numpy as np, tree } from "@jax-js/jax";
import { TINY_LM_CONFIG } from "../tests/tiny_lm.ts";
import { startEngine } from "./engine.ts";
import type { LearnerOptions, TrainInstance } from "./learner.ts";
import { type LlamaModelConfig, type LlamaParams, weightsOf } from "./llama.ts";
import { referenceLogProbs, type SftBatch, sftBatch, sftLoss } from "./llama_losses.ts";
import { LlamaPolicy } from "./llama_policy.ts";
import { initTrainState, makeTrainStep } from "./optim.ts";
import { CHAR_TOKENIZER, promptIds } from "./tokenizer.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const CONFIG: LlamaModelConfig = { ...TINY_LM_CONFIG, max_position_embeddings: 48 };

/** Prompts of different lengths with answers of different lengths (unequal token counts). */
function instances(): TrainInstance[] {
  return Array.from({ length: 12 }, (_, i) => ({
    request: {
      kind: "generate",
      prompt: `q${"x".repeat(i % 4)}:${i}=`,
      until: ["\n"],
      maxTokens: 4,
    },
    targets: (name: string) => (name === "sft1" ? ["9".repeat(1 + (i % 3))] : undefined),
    reward: (y) => (String(y).startsWith("9") ? 1 : 0),
  }));
}

async function base(): Promise<LlamaPolicy> {
  await startEngine("wasm");
  return LlamaPolicy.init(CONFIG, { seed: 3, tokenizer: CHAR_TOKENIZER });
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let m = 0;
  for (const [n, x] of a) {
    const y = b.get(n)!;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

const IDX = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [3, 8, 1, 10, 5, 0]];

/** Weights after SFT steps on IDX (and, with `pg`, one rollout + clipped step) at `o`. */
async function train(
  p: LlamaPolicy,
  o: LearnerOptions & { pg?: boolean },
): Promise<{ weights: Map<string, Float32Array>; losses: number[] }> {
  const policy = p.clone();
  const session = policy.learner(instances(), { reference: p, ...o }).begin({ seed: 4 });
  const losses: number[] = [];
  for (const idx of IDX) {
    const r = await session.sft(idx, { labelling: "sft1", beta: o.pg ? 0 : 0.1, lr: 0.01 });
    losses.push(r.loss);
  }
  if (o.pg) {
    const ro = await session.rollout([0, 1, 2, 3], 3);
    const adv = Float32Array.from({ length: 12 }, (_, k) => (k % 3) - 1);
    // The second instance is filtered (RIF-RFT): its rollouts weigh 0.
    const mask = Float32Array.from({ length: 12 }, (_, k) => (k >= 3 && k < 6 ? 0 : 1));
    const r = await session.pg(ro, {
      adv,
      mask,
      clip: 0.2,
      beta: 0.05,
      normalization: "sequence-mean",
      lr: 0.01,
    });
    losses.push(r.loss);
  }
  session.dispose();
  const weights = await weightsOf(policy.params);
  await policy.dispose();
  return { weights, losses };
}

Deno.test(
  "accumulate 1: the learner's SFT step is the plain fused step bit for bit",
  opts,
  async () => {
    const p = await base();
    const { weights } = await train(p, { accumulate: 1 });
    // The same three steps by hand, through makeTrainStep's step() as before accumulation existed.
    const step = makeTrainStep((q: LlamaParams, b: SftBatch) => sftLoss(q, b, { config: CONFIG }), {
      clipNorm: 1,
    });
    let state = initTrainState(tree.ref(p.params));
    const insts = instances();
    const enc = (i: number) => {
      const r = insts[i].request as { prompt: string };
      const prompt = promptIds(CHAR_TOKENIZER, r.prompt);
      const completion = CHAR_TOKENIZER.encode(r.prompt + insts[i].targets("sft1")![0] + "\n")
        .slice(CHAR_TOKENIZER.encode(r.prompt).length);
      return { prompt, completion };
    };
    const all = insts.map((_, i) => enc(i));
    const length =
      Math.ceil(Math.max(...all.map((e) => e.prompt.length + e.completion.length)) / 8) * 8;
    for (const idx of IDX) {
      const batch = sftBatch(idx.map((i) => all[i]), { length, padId: CHAR_TOKENIZER.padId });
      batch.refLogProbs = referenceLogProbs(p.params, batch, { config: CONFIG });
      batch.beta = np.array(0.1);
      const r = await step.step(state, batch, { lr: 0.01 });
      state = r.state;
      tree.dispose(r.aux);
    }
    deepEqual(await weightsOf(state.params), weights);
    tree.dispose([state.params, state.m, state.v]);
    step.dispose();
    await p.dispose();
  },
);

Deno.test(
  "accumulate k: SFT(+KL) and a filtered GRPO step equal the whole batch",
  opts,
  async () => {
    const p = await base();
    for (
      const lora of [undefined, { rank: 4, alpha: 16, targets: ["q_proj", "v_proj", "down_proj"] }]
    ) {
      const one = await train(p, { accumulate: 1, lora, pg: true });
      for (const k of [2, 3]) {
        const many = await train(p, { accumulate: k, lora, pg: true });
        const d = maxDiff(many.weights, one.weights);
        const moved = maxDiff(one.weights, await weightsOf(p.params));
        // Float rounding of the summed gradient, which Adam's m/√v magnifies where a gradient
        // coordinate is near 0: a bound relative to how far the weights moved.
        ok(d < 5e-4 * moved, `${lora ? "lora" : "full"} k=${k}: max |Δweight| ${d} of ${moved}`);
        many.losses.forEach((l, i) =>
          ok(Math.abs(l - one.losses[i]) < 1e-5, `k=${k} loss ${i}: ${l} vs ${one.losses[i]}`)
        );
      }
    }
    throws(
      () => p.learner(instances(), { accumulate: 0 }),
      /accumulate: must be a positive integer, got 0$/,
    );
    await p.dispose();
  },
);

Deno.test(
  "rollouts: onnxruntime and jax-js sample the same tokens, π_old from jax-js, reproducible",
  opts,
  async () => {
    const p = await base();
    const run = async (sampler: "jax" | "onnxruntime") => {
      const policy = p.clone();
      policy.sampler = sampler;
      const session = policy.learner(instances(), { reference: p }).begin({ seed: 4 });
      const ro = await session.rollout([0, 1, 2, 3], 3);
      const rows = (ro.internal as { rows: { completion: number[]; logProbs: number[] }[] }).rows;
      session.dispose();
      await policy.dispose();
      return { outputs: ro.outputs, rows };
    };
    const [ort, ort2, jax] = [await run("onnxruntime"), await run("onnxruntime"), await run("jax")];
    deepEqual(ort2, ort, "same seed, byte-identical rollouts");
    deepEqual(ort.outputs, jax.outputs);
    ort.rows.forEach((r, k) => {
      deepEqual(r.completion, jax.rows[k].completion);
      const d = Math.max(0, ...r.logProbs.map((v, t) => Math.abs(v - jax.rows[k].logProbs[t])));
      ok(d < 1e-4, `row ${k}: π_old differs by ${d}`);
    });
    await p.dispose();
  },
);

Deno.test(
  "on-policy rollouts (μ = 1): the step's π_old and the KL equal the π_old pass's, one step only",
  opts,
  async () => {
    const p = await base();
    const adv = Float32Array.from({ length: 12 }, (_, k) => (k % 3) - 1);
    const mask = Float32Array.from({ length: 12 }, (_, k) => (k >= 3 && k < 6 ? 0 : 1));
    const u = { adv, mask, clip: 0.2, beta: 0, normalization: "sequence-mean" as const, lr: 0.01 };
    const run = async (onPolicy: boolean, sampler: "jax" | "onnxruntime") => {
      const policy = p.clone();
      policy.sampler = sampler;
      const session = policy.learner(instances(), { reference: p }).begin({ seed: 4 });
      // One SFT step first: π ≠ π0, a KL above 0.
      await session.sft([0, 1, 2, 3, 4, 5], { labelling: "sft1", beta: 0, lr: 0.05 });
      const ro = await session.rollout([0, 1, 2, 3], 3, { onPolicy });
      const pending = ro.klPending ? await session.rolloutKl!(ro) : NaN;
      const r = await session.pg(ro, u);
      if (onPolicy) await rejects(() => session.pg(ro, u), /on-policy rollouts take one step/);
      await rejects(() => session.rolloutKl!(ro), /only for a pending KL/);
      const weights = await weightsOf(policy.params);
      session.dispose();
      await policy.dispose();
      return { ro, pending, r, weights };
    };
    const old = await run(false, "onnxruntime");
    ok(old.ro.klPending === undefined && old.ro.kl > 1e-3, `KL ${old.ro.kl}`);
    // onnxruntime: the KL is onnxruntime's π0 against π, at the rollout.
    const ort = await run(true, "onnxruntime");
    ok(ort.ro.klPending === undefined, "onnxruntime: no pending KL");
    ok(Math.abs(ort.ro.kl - old.ro.kl) < 1e-5, `onnxruntime KL ${ort.ro.kl} vs ${old.ro.kl}`);
    // jax-js: the KL is pending, read from the step's forward (or rolloutKl before it).
    const jax = await run(true, "jax");
    ok(jax.ro.klPending && Number.isNaN(jax.ro.kl), "jax-js: KL pending");
    ok(Math.abs(jax.pending - old.ro.kl) < 1e-5, `rolloutKl ${jax.pending} vs ${old.ro.kl}`);
    ok(Math.abs(jax.r.kl! - old.ro.kl) < 1e-4, `step's KL ${jax.r.kl} vs ${old.ro.kl}`);
    for (const now of [ort, jax]) {
      deepEqual(now.ro.outputs, old.ro.outputs, "same samples");
      ok(Math.abs(now.r.loss - old.r.loss) < 1e-5, `loss ${now.r.loss} vs ${old.r.loss}`);
      ok(maxDiff(now.weights, old.weights) < 1e-5, "same update up to float rounding");
    }
    await p.dispose();
  },
);
