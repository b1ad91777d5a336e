// A tiny random Llama as a complete Hugging Face model folder (config, generation config,
// byte-level tokenizer, onnx/model.onnx, written by models/onnx/folder.ts): the offline fixture
// for the ONNX LM stack, and, with a bigger config, the benchmark model. Same seed and config →
// byte-identical files. Also the small architectures and helpers models/llama*_test.ts share.

import { hashString, rng } from "../lib/rng.ts";
import type { LlamaModelConfig } from "./llama.ts";
import { writeOnnxFolder } from "./onnx/folder.ts";
import { type LlamaConfig, llamaWeightShapes, resolveLlamaConfig } from "./onnx/llama.ts";
import { type ByteLevelTokenizer, byteLevelTokenizer } from "./tokenizer_files.ts";

/** The fixture's architecture: 2 layers, 4 query heads sharing 2 kv heads (GQA), ~125k weights. */
export function tinyLlamaConfig(vocabSize: number): LlamaConfig {
  return {
    vocab_size: vocabSize,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 2048,
    tie_word_embeddings: false,
  };
}

/** A random Llama: its config, weights in HF names, and tokenizer. */
export interface RandomLlama {
  readonly config: LlamaConfig;
  readonly weights: Map<string, Float32Array>;
  readonly tokenizer: ByteLevelTokenizer;
}

/**
 * Draws weights from `seed` so that activations stay O(1) through the layers and logits have a
 * spread of a few nats (peaked enough that argmax is never a near-tie between float32 and
 * float64). Uniform draws, not Gaussian, so no transcendental functions touch the bits.
 */
export function randomLlamaWeights(config: LlamaConfig, seed: number): Map<string, Float32Array> {
  const c = resolveLlamaConfig(config);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of llamaWeightShapes(c)) {
    const r = rng(seed, hashString(name));
    const n = shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    if (shape.length === 1) {
      // Norm gains near 1, as after training.
      for (let i = 0; i < n; i++) w[i] = 1 + 0.2 * (r.next() - 0.5);
    } else {
      const fanIn = shape[1];
      const std = name === "model.embed_tokens.weight"
        ? 1
        : name === "lm_head.weight"
        ? 2.5 / Math.sqrt(fanIn)
        : 1 / Math.sqrt(fanIn);
      const halfWidth = std * Math.sqrt(3); // uniform(-a, a) has std a/√3
      for (let i = 0; i < n; i++) w[i] = halfWidth * (2 * r.next() - 1);
    }
    weights.set(name, w);
  }
  return weights;
}

/** The tiny fixture model for `seed` (the default tokenizer, config from tinyLlamaConfig). */
export function tinyLlama(opts: { seed: number }): RandomLlama {
  const tokenizer = byteLevelTokenizer({ modelMaxLength: 2048 });
  const config = tinyLlamaConfig(tokenizer.vocabSize);
  return { config, weights: randomLlamaWeights(config, opts.seed), tokenizer };
}

/**
 * Writes the tiny fixture folder for `seed` into `dir` and returns the model (for reference
 * computations in tests).
 */
export async function writeTinyLlama(dir: string, opts: { seed: number }): Promise<RandomLlama> {
  const model = tinyLlama(opts);
  await writeOnnxFolder(dir, model);
  return model;
}

// ---- shared by the jax-js model tests (models/llama_test.ts, sampling_test.ts, ...) ----

/** 4 query heads sharing 2 kv heads, untied head, vocab 40. */
export const GQA_CONFIG: LlamaModelConfig = {
  vocab_size: 40,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
};

/** Tied head, no GQA, head_dim 16 with 2 heads over hidden 24 (q width ≠ hidden). */
export const TIED_CONFIG: LlamaModelConfig = {
  ...GQA_CONFIG,
  hidden_size: 24,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  head_dim: 16,
  rope_theta: 500,
  tie_word_embeddings: true,
};

/** `n` token ids below `vocab` drawn from `seed` (a fixed stream per seed). */
export function randomTokens(n: number, seed: number, vocab = 40): number[] {
  const r = rng(seed, 0x70c);
  return Array.from({ length: n }, () => r.int(vocab));
}

/** max |a[i] − b[i]| over a's indices. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
