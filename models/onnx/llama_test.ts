// Tests for models/onnx/llama.ts on onnxruntime-node directly: logits match the float64
// reference (with and without GQA, tied or separate lm_head), the KV cache reproduces a full
// recomputation, left and right padding leave the real positions unchanged, and bad weights fail;
// the inputs_embeds decoder and the embed_tokens graph compose to the token graph; Qwen2's q/k/v
// biases and Llama-3's RoPE rescaling match the reference out to position 300.

import { deepEqual, ok, throws } from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { ValidationError } from "../../lib/errors.ts";
import { llamaLogits, llamaLogitsFromEmbeds } from "../llama_ref.ts";
import { randomLlamaWeights } from "../tiny_llama.ts";
import { rng } from "../../lib/rng.ts";
import { embedTokensOnnx, type LlamaConfig, llamaOnnx, resolveLlamaConfig } from "./llama.ts";

const BASE: LlamaConfig = {
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  rms_norm_eps: 1e-6,
  rope_theta: 500,
  max_position_embeddings: 64,
};

/** Runs the exported graph on a padded batch, with an optional cache from an earlier call. */
async function run(
  session: ort.InferenceSession,
  config: LlamaConfig,
  batch: {
    ids: number[][];
    mask: number[][];
    positions: number[][];
    past?: ort.InferenceSession.OnnxValueMapType;
  },
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const c = resolveLlamaConfig(config);
  const B = batch.ids.length, S = batch.ids[0].length, T = batch.mask[0].length;
  const i64 = (rows: number[][], cols: number) =>
    new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, cols]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(batch.ids, S),
    attention_mask: i64(batch.mask, T),
    position_ids: i64(batch.positions, S),
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    for (const kind of ["key", "value"]) {
      feeds[`past_key_values.${l}.${kind}`] =
        (batch.past?.[`present.${l}.${kind}`] as ort.Tensor) ??
          new ort.Tensor("float32", new Float32Array(0), [B, c.num_key_value_heads, 0, c.head_dim]);
    }
  }
  return await session.run(feeds);
}

/** Logits row (batch b, position s) as a plain array. */
function row(out: ort.InferenceSession.OnnxValueMapType, b: number, s: number): Float32Array {
  const t = out.logits as ort.Tensor;
  const [, S, V] = t.dims as number[];
  return (t.data as Float32Array).slice((b * S + s) * V, (b * S + s + 1) * V);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function session(config: LlamaConfig, seed: number) {
  const weights = randomLlamaWeights(config, seed);
  if (config.tie_word_embeddings) weights.delete("lm_head.weight");
  const s = await ort.InferenceSession.create(llamaOnnx(weights, config));
  return { s, weights };
}

const seq = [3, 17, 42, 8, 0, 49, 21, 5];
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

for (
  const [label, config] of [
    ["GQA", BASE],
    ["MHA, tied lm_head", { ...BASE, num_key_value_heads: 4, tie_word_embeddings: true }],
    ["MQA, head_dim from hidden_size", { ...BASE, num_key_value_heads: 1, head_dim: undefined }],
  ] as const
) {
  Deno.test(`llamaOnnx: logits match the float64 reference (${label})`, async () => {
    const { s, weights } = await session(config, 7);
    try {
      const out = await run(s, config, {
        ids: [seq],
        mask: [seq.map(() => 1)],
        positions: [range(seq.length)],
      });
      const ref = llamaLogits(weights, config, seq);
      for (let t = 0; t < seq.length; t++) {
        ok(maxDiff(row(out, 0, t), ref[t]) < 1e-4, `position ${t}`);
      }
    } finally {
      await s.release();
    }
  });
}

Deno.test("llamaOnnx: the KV cache reproduces a full recomputation", async () => {
  const { s } = await session(BASE, 3);
  try {
    const full = await run(s, BASE, {
      ids: [seq],
      mask: [seq.map(() => 1)],
      positions: [range(seq.length)],
    });
    const k = 5;
    const prefix = await run(s, BASE, {
      ids: [seq.slice(0, k)],
      mask: [range(k).map(() => 1)],
      positions: [range(k)],
    });
    deepEqual((prefix["present.1.key"] as ort.Tensor).dims, [1, 2, k, 8]);
    // Feed the rest in one go (several new tokens) and then one token at a time.
    const rest = await run(s, BASE, {
      ids: [seq.slice(k)],
      mask: [seq.map(() => 1)],
      positions: [range(seq.length - k, k)],
      past: prefix,
    });
    for (let t = k; t < seq.length; t++) ok(maxDiff(row(rest, 0, t - k), row(full, 0, t)) < 1e-5);
    let past = prefix;
    for (let t = k; t < seq.length; t++) {
      past = await run(s, BASE, {
        ids: [[seq[t]]],
        mask: [range(t + 1).map(() => 1)],
        positions: [[t]],
        past,
      });
      ok(maxDiff(row(past, 0, 0), row(full, 0, t)) < 1e-5, `step ${t}`);
    }
  } finally {
    await s.release();
  }
});

Deno.test("llamaOnnx: left and right padding leave real positions unchanged, with and without cache", async () => {
  const { s } = await session(BASE, 5);
  try {
    const short = seq.slice(0, 5), n = seq.length, pad = n - short.length;
    const alone = await run(s, BASE, {
      ids: [short],
      mask: [short.map(() => 1)],
      positions: [range(5)],
    });
    const full = await run(s, BASE, {
      ids: [seq],
      mask: [seq.map(() => 1)],
      positions: [range(n)],
    });
    // Right padding (scoring layout).
    const right = await run(s, BASE, {
      ids: [seq, [...short, ...Array(pad).fill(1)]],
      mask: [seq.map(() => 1), [...short.map(() => 1), ...Array(pad).fill(0)]],
      positions: [range(n), [...range(5), ...Array(pad).fill(1)]],
    });
    // Left padding (generation layout), positions from the cumulative mask as transformers.js does.
    const leftMask = [...Array(pad).fill(0), ...short.map(() => 1)];
    const left = await run(s, BASE, {
      ids: [seq, [...Array(pad).fill(1), ...short]],
      mask: [seq.map(() => 1), leftMask],
      positions: [range(n), [...Array(pad).fill(1), ...range(5)]],
    });
    for (let t = 0; t < n; t++) {
      ok(maxDiff(row(right, 0, t), row(full, 0, t)) < 1e-5);
      ok(maxDiff(row(left, 0, t), row(full, 0, t)) < 1e-5);
    }
    for (let t = 0; t < 5; t++) {
      ok(maxDiff(row(right, 1, t), row(alone, 0, t)) < 1e-5, `right-padded position ${t}`);
      ok(maxDiff(row(left, 1, pad + t), row(alone, 0, t)) < 1e-5, `left-padded position ${t}`);
    }
    // One cached step after the left-padded batch matches the unpadded sequence's next position.
    const next = 30;
    const step = await run(s, BASE, {
      ids: [[next], [next]],
      mask: [[...seq.map(() => 1), 1], [...leftMask, 1]],
      positions: [[n], [5]],
      past: left,
    });
    const aloneNext = await run(s, BASE, {
      ids: [[...short, next]],
      mask: [range(6).map(() => 1)],
      positions: [range(6)],
    });
    ok(maxDiff(row(step, 1, 0), row(aloneNext, 0, 5)) < 1e-5);
  } finally {
    await s.release();
  }
});

Deno.test("llamaOnnx: same weights give the same bytes", () => {
  const w = randomLlamaWeights(BASE, 1);
  deepEqual(llamaOnnx(w, BASE), llamaOnnx(new Map(w), BASE));
  deepEqual(llamaOnnx(Object.fromEntries(w), BASE), llamaOnnx(w, BASE));
});

Deno.test("llamaOnnx: missing or mis-sized weights and bad head counts are ValidationErrors", () => {
  const w = randomLlamaWeights(BASE, 1);
  const missing = new Map(w);
  missing.delete("model.layers.1.mlp.up_proj.weight");
  throws(
    () => llamaOnnx(missing, BASE),
    (e: Error) =>
      e instanceof ValidationError &&
      /missing model\.layers\.1\.mlp\.up_proj\.weight/.test(e.message),
  );
  const short = new Map(w).set("model.norm.weight", new Float32Array(3));
  throws(() => llamaOnnx(short, BASE), /model\.norm\.weight has 3 values, want \[32\]/);
  throws(() => llamaOnnx(w, { ...BASE, num_key_value_heads: 3 }), ValidationError);
  throws(() => llamaOnnx(w, { ...BASE, head_dim: 7 }), ValidationError);
});

Deno.test("llamaOnnx inputsEmbeds: embed_tokens then the embeds decoder equals the token graph, and any embeddings match the reference", async () => {
  const weights = randomLlamaWeights(BASE, 9);
  const c = resolveLlamaConfig(BASE);
  const tokens = await ort.InferenceSession.create(llamaOnnx(weights, BASE));
  const embed = await ort.InferenceSession.create(embedTokensOnnx(weights, BASE));
  const decoder = await ort.InferenceSession.create(
    llamaOnnx(weights, BASE, { inputsEmbeds: true }),
  );
  try {
    deepEqual(decoder.inputNames.slice(0, 3), ["inputs_embeds", "attention_mask", "position_ids"]);
    deepEqual(embed.outputNames, ["inputs_embeds"]);
    const n = seq.length;
    const i64 = (xs: number[]) =>
      new ort.Tensor("int64", BigInt64Array.from(xs.map(BigInt)), [1, n]);
    const emptyPast = () => {
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < c.num_hidden_layers; l++) {
        for (const kind of ["key", "value"]) {
          feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor(
            "float32",
            new Float32Array(0),
            [1, c.num_key_value_heads, 0, c.head_dim],
          );
        }
      }
      return feeds;
    };
    const rest = () => ({
      attention_mask: i64(seq.map(() => 1)),
      position_ids: i64(range(n)),
      ...emptyPast(),
    });
    const { inputs_embeds } = await embed.run({ input_ids: i64(seq) });
    deepEqual(inputs_embeds.dims, [1, n, c.hidden_size]);
    const viaEmbeds = await decoder.run({ inputs_embeds, ...rest() });
    const viaTokens = await tokens.run({ input_ids: i64(seq), ...rest() });
    for (let t = 0; t < n; t++) ok(maxDiff(row(viaEmbeds, 0, t), row(viaTokens, 0, t)) < 1e-6);

    // Embeddings no token has (as image features are) go through the same layers.
    const r = rng(4);
    const rows = seq.map(() =>
      Float64Array.from({ length: c.hidden_size }, () => 2 * r.next() - 1)
    );
    const free = await decoder.run({
      inputs_embeds: new ort.Tensor(
        "float32",
        Float32Array.from(rows.flatMap((x) => [...x])),
        [1, n, c.hidden_size],
      ),
      ...rest(),
    });
    const ref = llamaLogitsFromEmbeds(weights, BASE, rows);
    for (let t = 0; t < n; t++) ok(maxDiff(row(free, 0, t), ref[t]) < 1e-4, `position ${t}`);
  } finally {
    await Promise.all([tokens.release(), embed.release(), decoder.release()]);
  }
});

/** Llama-3's rope_scaling at this size: head_dim 8, θ 500 → wavelengths 6.3, 30, 140, 664, so
 * with original context 64 (low 1, high 4) one frequency is kept, one blended, two divided. */
const LLAMA3_SCALED: LlamaConfig = {
  ...BASE,
  rope_scaling: {
    rope_type: "llama3",
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 64,
  },
  max_position_embeddings: 512,
};

/** Qwen2's q/k/v biases drawn beside the random weights. */
function withBiases(config: LlamaConfig, seed: number): Map<string, Float32Array> {
  const c = resolveLlamaConfig(config);
  const weights = randomLlamaWeights(config, seed), r = rng(seed, 99);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    for (
      const [n, width] of [["q", c.num_attention_heads], ["k", c.num_key_value_heads], [
        "v",
        c.num_key_value_heads,
      ]] as const
    ) {
      weights.set(
        `model.layers.${l}.self_attn.${n}_proj.bias`,
        Float32Array.from({ length: width * c.head_dim }, () => r.next() - 0.5),
      );
    }
  }
  return weights;
}

Deno.test("llamaOnnx: Qwen2 q/k/v biases and Llama-3 rope scaling match the float64 reference, cache included", async () => {
  for (
    const [label, config, weights] of [
      ["qwen2 biases, tied", { ...BASE, tie_word_embeddings: true }, withBiases(BASE, 4)],
      ["llama3 rope scaling", LLAMA3_SCALED, randomLlamaWeights(LLAMA3_SCALED, 5)],
    ] as const
  ) {
    if (config.tie_word_embeddings) weights.delete("lm_head.weight");
    const s = await ort.InferenceSession.create(llamaOnnx(weights, config));
    try {
      // Positions far enough out (to 300) that the rescaled low frequencies matter.
      const ids = range(12).map((i) => seq[i % seq.length]);
      const positions = range(12, 289);
      const full = llamaLogits(weights, config, [...range(289).map((i) => i % 50), ...ids]);
      const out = await run(s, config, {
        ids: [[...range(289).map((i) => i % 50), ...ids]],
        mask: [range(301).map(() => 1)],
        positions: [range(301)],
      });
      let worst = 0;
      for (const t of [0, 50, 200, 300]) worst = Math.max(worst, maxDiff(row(out, 0, t), full[t]));
      ok(worst < 1e-4, `${label}: max |Δ| ${worst}`);
      // The last 12 positions again through the KV cache of the first 289.
      const prefix = await run(s, config, {
        ids: [range(289).map((i) => i % 50)],
        mask: [range(289).map(() => 1)],
        positions: [range(289)],
      });
      const rest = await run(s, config, {
        ids: [ids],
        mask: [range(301).map(() => 1)],
        positions: [positions],
        past: prefix,
      });
      for (let t = 0; t < 12; t++) {
        ok(maxDiff(row(rest, 0, t), full[289 + t]) < 1e-4, `${label}: cached position ${289 + t}`);
      }
      // Without the scaling (or the biases) the logits differ: the test would notice.
      const plain = llamaLogits(
        new Map([...weights].filter(([n]) => !n.endsWith(".bias"))),
        { ...config, rope_scaling: null },
        [...range(289).map((i) => i % 50), ...ids],
      );
      ok(maxDiff(plain[300], full[300]) > 1e-2, `${label}: reference sensitive to the feature`);
    } finally {
      await s.release();
    }
  }
});
