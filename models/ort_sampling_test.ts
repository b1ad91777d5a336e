// Tests for models/ort_sampling.ts: the onnxruntime engine against the jax-js sampler of
// models/sampling.ts on small random Llamas (GQA, tied head, Qwen2 biases): logits, greedy and
// seeded completions, log-probabilities, stopToken / stopWhen / rowOffset, reruns, new weights,
// both weight modes and thread counts; and the engine choice rule.

import { deepEqual, equal, notDeepEqual, ok, rejects } from "node:assert/strict";
import { tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { rng } from "../lib/rng.ts";
import { startEngine } from "./engine.ts";
import {
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  padBatch,
  paramsFromWeights,
} from "./llama.ts";
import { OrtSampler, resolveEngine } from "./ort_sampling.ts";
import { sample, type SampleOptions } from "./sampling.ts";
import {
  GQA_CONFIG as GQA,
  maxAbsDiff,
  randomLlamaWeights,
  randomTokens as tokens,
  TIED_CONFIG as TIED,
} from "./tiny_llama.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const QWEN: LlamaModelConfig = { ...GQA, model_type: "qwen2" };

function model(config: LlamaModelConfig, seed: number): LlamaParams {
  const weights = randomLlamaWeights(config, seed);
  if (config.tie_word_embeddings) weights.delete("lm_head.weight");
  if (config.model_type === "qwen2") {
    // q/k/v biases of a few tenths, so that a graph without them would be visibly off.
    const r = rng(seed, 0xb1a5);
    for (let i = 0; i < config.num_hidden_layers; i++) {
      for (const [n, w] of [["q", 32], ["k", 16], ["v", 16]] as const) {
        weights.set(
          `model.layers.${i}.self_attn.${n}_proj.bias`,
          Float32Array.from({ length: w }, () => r.next() - 0.5),
        );
      }
    }
  }
  return paramsFromWeights(weights, { config });
}

const PROMPTS = [tokens(1, 21), tokens(6, 22), tokens(17, 23), tokens(3, 24)];

/** Both engines on the same call: tokens and stops equal, log-probabilities within 1e-5. */
async function agree(
  engine: OrtSampler,
  params: LlamaParams,
  prompts: readonly (readonly number[])[],
  o: SampleOptions,
) {
  const [a, b] = [await engine.sample(params, prompts, o), await sample(params, prompts, o)];
  deepEqual(a.tokens, b.tokens);
  deepEqual(a.stopped, b.stopped);
  a.logProbs.forEach((lp, i) => ok(maxAbsDiff(lp, b.logProbs[i]) < 1e-5, `row ${i} log-probs`));
  return a;
}

Deno.test(
  "OrtSampler: logits equal the jax-js forward's (GQA, tied, Qwen2 biases)",
  opts,
  async () => {
    await startEngine("wasm");
    for (const config of [GQA, TIED, QWEN]) {
      const params = model(config, 3);
      const engine = new OrtSampler(config);
      const seqs = [tokens(5, 41), tokens(12, 42)];
      const got = await engine.logits(params, seqs);
      const T = 16, V = config.vocab_size;
      const want = await llamaForward(tree.ref(params), padBatch(seqs, { length: T }), { config })
        .data();
      seqs.forEach((s, i) => {
        const d = maxAbsDiff(got[i], want.subarray(i * T * V, (i * T + s.length) * V));
        ok(d < 1e-4, `${config.model_type ?? "llama"} row ${i}: max |Δ| ${d}`);
      });
      await engine.release();
      tree.dispose(params);
    }
  },
);

Deno.test("OrtSampler: greedy and seeded completions equal jax-js sample()'s", opts, async () => {
  await startEngine("wasm");
  for (const config of [GQA, TIED, QWEN]) {
    const params = model(config, 11);
    for (const weights of ["inputs", "initializers"] as const) {
      const engine = new OrtSampler(config, { weights });
      await agree(engine, params, PROMPTS, { config, maxTokens: 20 });
      await agree(engine, params, PROMPTS, { config, maxTokens: 20, temperature: 1, seed: 7 });
      await agree(engine, params, PROMPTS, {
        config,
        maxTokens: 16,
        temperature: 0.7,
        topP: 0.8,
        seed: 9,
      });
      await engine.release();
    }
    tree.dispose(params);
  }
});

Deno.test(
  "OrtSampler: a seed gives byte-identical samples on reruns and thread counts",
  opts,
  async () => {
    await startEngine("wasm");
    const params = model(GQA, 12);
    const o = { config: GQA, maxTokens: 24, temperature: 1, seed: 5 };
    const one = new OrtSampler(GQA, { threads: 1 }), two = new OrtSampler(GQA, { threads: 2 });
    const a = await one.sample(params, PROMPTS, o);
    const json = JSON.stringify(a);
    equal(JSON.stringify(await one.sample(params, PROMPTS, o)), json);
    equal(JSON.stringify(await two.sample(params, PROMPTS, o)), json);
    notDeepEqual((await one.sample(params, PROMPTS, { ...o, seed: 6 })).tokens, a.tokens);
    await Promise.all([one.release(), two.release()]);
    tree.dispose(params);
  },
);

Deno.test("OrtSampler: new parameters are loaded on the next call", opts, async () => {
  await startEngine("wasm");
  for (const weights of ["inputs", "initializers"] as const) {
    const engine = new OrtSampler(GQA, { weights });
    const o = { config: GQA, maxTokens: 12 };
    const p1 = model(GQA, 1), p2 = model(GQA, 2);
    const a = await agree(engine, p1, PROMPTS, o);
    equal(engine.refreshes, 1);
    await agree(engine, p1, PROMPTS, o);
    equal(engine.refreshes, 1, "same arrays: no reload");
    const b = await agree(engine, p2, PROMPTS, o);
    equal(engine.refreshes, 2);
    notDeepEqual(b.tokens, a.tokens);
    // One array replaced (as an optimiser step does to every one) is enough to reload.
    const name = "model.layers.0.mlp.up_proj.weight";
    const p3 = { ...p1, [name]: p2[name].ref };
    await agree(engine, p3, PROMPTS, o);
    equal(engine.refreshes, 3);
    await engine.release();
    p2[name].dispose();
    tree.dispose([p1, p2]);
  }
});

Deno.test("OrtSampler: stopToken, stopWhen and rowOffset as in sample()", opts, async () => {
  await startEngine("wasm");
  const params = model(GQA, 13);
  const engine = new OrtSampler(GQA);
  const base = { config: GQA, maxTokens: 20, temperature: 1, seed: 3 };
  const full = await engine.sample(params, PROMPTS, base);
  const stop = full.tokens[1][4];
  const cut = await agree(engine, params, PROMPTS, { ...base, stopToken: stop });
  PROMPTS.forEach((_, i) => {
    const at = full.tokens[i].indexOf(stop);
    deepEqual(cut.tokens[i], at < 0 ? full.tokens[i] : full.tokens[i].slice(0, at + 1));
    equal(cut.stopped[i], at >= 0);
  });
  // stopWhen sees each row's tokens so far; rows stop at different steps.
  const seen: number[][] = [];
  const when = await agree(engine, params, PROMPTS, {
    ...base,
    stopWhen: (row, t) => {
      if (row === 0) seen.push([...t]);
      return t.length === row + 2;
    },
  });
  deepEqual(when.tokens.map((t) => t.length), [2, 3, 4, 5]);
  deepEqual(when.stopped, [true, true, true, true]);
  const row0 = [full.tokens[0].slice(0, 1), full.tokens[0].slice(0, 2)];
  deepEqual(seen, [...row0, ...row0], "row 0's calls, from each engine");
  // Sampling the batch in two parts with their row offsets draws what the whole batch does.
  const head = await engine.sample(params, PROMPTS.slice(0, 2), base);
  const tail = await engine.sample(params, PROMPTS.slice(2), { ...base, rowOffset: 2 });
  deepEqual([...head.tokens, ...tail.tokens], full.tokens);
  // A throwing stopWhen propagates; the engine stays usable.
  await rejects(
    engine.sample(params, PROMPTS, {
      ...base,
      stopWhen: () => {
        throw new Error("boom");
      },
    }),
    /boom/,
  );
  await rejects(engine.sample(params, [[]], base), UsageError);
  await rejects(engine.sample(params, [[1]], { ...base, maxTokens: 200 }), UsageError);
  await rejects(engine.sample(params, [[1]], { ...base, config: TIED }), /architecture/);
  deepEqual(await engine.sample(params, [], base), { tokens: [], logProbs: [], stopped: [] });
  deepEqual((await engine.sample(params, PROMPTS, base)).tokens, full.tokens);
  await engine.release();
  tree.dispose(params);
});

Deno.test("resolveEngine: onnxruntime while the float32 weights fit one protobuf", () => {
  equal(resolveEngine("auto", GQA), "onnxruntime");
  equal(resolveEngine("jax", GQA), "jax");
  const big = { ...GQA, vocab_size: 150_000, hidden_size: 4096, num_hidden_layers: 1 };
  equal(resolveEngine("auto", big), "jax"); // 2 × 150k × 4096 × 4 bytes > 2 GiB
  equal(resolveEngine("onnxruntime", big), "onnxruntime");
});
