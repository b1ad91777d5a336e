// Tiny random checkpoints in the exact layouts real ones are published in, for offline tests and
// recipes: writeTinyQwen2 (Qwen2.5-Instruct: BF16 model.safetensors, q/k/v biases, tied
// embeddings, ChatML byte-level BPE without BOS) and writeTinyLlama3 (Llama-3.1-Instruct: F16
// weights in two shards with model.safetensors.index.json, untied lm_head, rope_scaling "llama3",
// <|begin_of_text|> added by the tokenizer's post-processor). Same seed → byte-identical files.

import { writeTextAtomic } from "../lib/atomic.ts";
import { hashString, rng } from "../lib/rng.ts";
import { writeCheckpoint } from "./checkpoint.ts";
import { type LlamaModelConfig, llamaParamShapes } from "./llama.ts";
import { parseLlamaConfig } from "./llama_io.ts";
import { type NamedWeights, roundToDtype, type SafetensorsDtype } from "./safetensors.ts";
import { randomLlamaWeights } from "./tiny_llama.ts";
import {
  DEFAULT_MERGES,
  llama3TokenizerFiles,
  qwen2TokenizerFiles,
  type TokenizerFiles,
} from "./tokenizer_files.ts";

/** A tiny checkpoint as written: its parsed config, weights as stored (rounded), tokenizer. */
export interface TinyCheckpoint {
  readonly config: LlamaModelConfig;
  /** config.json as written. */
  readonly configJson: Record<string, unknown>;
  /** Every tensor as the files hold it (rounded to the stored dtype), by HF name. */
  readonly weights: Map<string, Float32Array>;
  readonly tokenizer: TokenizerFiles;
  readonly dtype: SafetensorsDtype;
}

/**
 * Writes a tiny Qwen2.5-Instruct-layout checkpoint into `dir` (created if missing): config.json
 * and generation_config.json as Qwen2.5-Instruct publishes them (Qwen2ForCausalLM, bfloat16,
 * rope_theta 1e6, tied embeddings, use_sliding_window false, vocab_size padded past the
 * tokenizer's ids), model.safetensors in BF16 with q/k/v biases and no lm_head, and the
 * tokenizer files (tokenizer.json, tokenizer_config.json, vocab.json, merges.txt) with `merges`
 * (default DEFAULT_MERGES; the recipes' "tiny-qwen2.5" uses TINY_MERGES). 2 layers, hidden 64,
 * 4 query heads over 2 kv heads.
 *
 * @example
 * const ckpt = await writeTinyQwen2("/tmp/qwen", { seed: 0 });
 * const policy = await FAMILIES.llama.open({ family: "llama", source: "/tmp/qwen" }, opts);
 */
export async function writeTinyQwen2(
  dir: string,
  opts: { seed: number; merges?: readonly (readonly [string, string])[] },
): Promise<TinyCheckpoint> {
  const merges = opts.merges ?? DEFAULT_MERGES;
  const tok = qwen2TokenizerFiles({ merges });
  const endoftext = tok.padId, imEnd = tok.eosId;
  const configJson = {
    architectures: ["Qwen2ForCausalLM"],
    attention_dropout: 0.0,
    bos_token_id: endoftext,
    eos_token_id: imEnd,
    hidden_act: "silu",
    hidden_size: 64,
    initializer_range: 0.02,
    intermediate_size: 128,
    max_position_embeddings: 32768,
    max_window_layers: 2,
    model_type: "qwen2",
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    transformers_version: "4.43.1",
    use_cache: true,
    use_sliding_window: false,
    vocab_size: Math.ceil(tok.vocabSize / 64) * 64,
  };
  const generationJson = {
    bos_token_id: endoftext,
    do_sample: true,
    eos_token_id: [imEnd, endoftext],
    pad_token_id: endoftext,
    repetition_penalty: 1.1,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
    transformers_version: "4.37.0",
  };
  const out = await write(dir, {
    configJson,
    generationJson,
    tokenizer: tok,
    dtype: "BF16",
    seed: opts.seed,
    weightMap: null,
  });
  // The slow tokenizer's files, as Qwen2.5 also publishes them.
  const vocab = (tok.tokenizer.model as { vocab: Record<string, number> }).vocab;
  await writeTextAtomic(`${dir}/vocab.json`, JSON.stringify(vocab) + "\n");
  await writeTextAtomic(
    `${dir}/merges.txt`,
    ["#version: 0.2", ...merges.map(([a, b]) => `${a} ${b}`)].join("\n") + "\n",
  );
  return out;
}

/**
 * Writes a tiny Llama-3.1-Instruct-layout checkpoint into `dir`: config.json with rope_scaling
 * {rope_type "llama3", factor 8, low_freq_factor 1, high_freq_factor 4,
 * original_max_position_embeddings 8192} and rope_theta 5e5 (so with head_dim 16 the eight RoPE
 * frequencies fall in all three of its regimes), generation_config.json, F16 weights with an
 * untied lm_head in model-00001-of-00002.safetensors and model-00002-of-00002.safetensors
 * (embeddings and layer 0, then layer 1, the final norm and lm_head) listed by
 * model.safetensors.index.json, and tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json. (The published Llama-3 weights are BF16; F16 here exercises that path.)
 */
export async function writeTinyLlama3(
  dir: string,
  opts: { seed: number },
): Promise<TinyCheckpoint> {
  const tok = llama3TokenizerFiles();
  const specials = tok.tokenizer.added_tokens as { id: number; content: string }[];
  const id = (t: string) => specials.find((s) => s.content === t)!.id;
  const eos = [id("<|end_of_text|>"), id("<|eom_id|>"), id("<|eot_id|>")];
  const configJson = {
    architectures: ["LlamaForCausalLM"],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: tok.bosId,
    eos_token_id: eos,
    hidden_act: "silu",
    hidden_size: 64,
    initializer_range: 0.02,
    intermediate_size: 128,
    max_position_embeddings: 131072,
    mlp_bias: false,
    model_type: "llama",
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: {
      factor: 8.0,
      high_freq_factor: 4.0,
      low_freq_factor: 1.0,
      original_max_position_embeddings: 8192,
      rope_type: "llama3",
    },
    rope_theta: 500000.0,
    tie_word_embeddings: false,
    torch_dtype: "float16",
    transformers_version: "4.43.0.dev0",
    use_cache: true,
    vocab_size: tok.vocabSize,
  };
  const generationJson = {
    bos_token_id: tok.bosId,
    do_sample: true,
    eos_token_id: eos,
    temperature: 0.6,
    top_p: 0.9,
    transformers_version: "4.43.0.dev0",
  };
  const config = parseLlamaConfig(configJson, `${dir}/config.json`);
  const weightMap: Record<string, string> = {};
  for (const name of llamaParamShapes(config).keys()) {
    const first = name === "model.embed_tokens.weight" || name.startsWith("model.layers.0.");
    weightMap[name] = `model-0000${first ? 1 : 2}-of-00002.safetensors`;
  }
  const out = await write(dir, {
    configJson,
    generationJson,
    tokenizer: tok,
    dtype: "F16",
    seed: opts.seed,
    weightMap,
  });
  const special = (content: string) => ({
    content,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
  });
  await writeTextAtomic(
    `${dir}/special_tokens_map.json`,
    JSON.stringify(
      { bos_token: special("<|begin_of_text|>"), eos_token: special("<|eot_id|>") },
      null,
      2,
    ) + "\n",
  );
  return out;
}

/** Random weights (and Qwen2's q/k/v biases) for the config, stored in `dtype`. */
async function write(
  dir: string,
  o: {
    configJson: Record<string, unknown>;
    generationJson: Record<string, unknown>;
    tokenizer: TokenizerFiles;
    dtype: SafetensorsDtype;
    seed: number;
    weightMap: Record<string, string> | null;
  },
): Promise<TinyCheckpoint> {
  const config = parseLlamaConfig(o.configJson, `${dir}/config.json`);
  const weights = randomLlamaWeights(config, o.seed);
  for (const [name, shape] of llamaParamShapes(config)) {
    if (!name.endsWith(".bias")) continue;
    // Biases big enough to matter (|b| ≤ 0.5 against projections of O(1)).
    const r = rng(o.seed, hashString(name));
    weights.set(name, Float32Array.from({ length: shape[0] }, () => r.next() - 0.5));
  }
  const tensors: NamedWeights = new Map();
  const shapes = llamaParamShapes(config);
  for (const [name, data] of weights) {
    const stored = roundToDtype(data, o.dtype);
    weights.set(name, stored);
    tensors.set(name, { shape: shapes.get(name)!, data: stored });
  }
  const files = new Map<string, Uint8Array>();
  const text = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");
  files.set("tokenizer.json", text(o.tokenizer.tokenizer));
  files.set("tokenizer_config.json", text(o.tokenizer.config));
  await writeCheckpoint(dir, {
    configJson: o.configJson,
    generationJson: o.generationJson,
    tensors,
    dtype: o.dtype,
    weightMap: o.weightMap,
    tokenizerFiles: files,
  });
  return { config, configJson: o.configJson, weights, tokenizer: o.tokenizer, dtype: o.dtype };
}
