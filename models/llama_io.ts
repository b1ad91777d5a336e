// Weights in and out for models/llama.ts: a Hugging Face folder (config.json with Llama/Qwen2
// fields + model.safetensors under HF tensor names) that loads back with no renaming, and an ONNX
// export (models/onnx/folder.ts) that transformers.js runs.

import type { numpy as np } from "@jax-js/jax";
import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { ValidationError } from "../lib/errors.ts";
import {
  hasAttentionBias,
  type LlamaModelConfig,
  type LlamaParams,
  llamaParamShapes,
  paramsFromWeights,
  weightsOf,
} from "./llama.ts";
import { writeOnnxFolder } from "./onnx/folder.ts";
import { llamaArchitectureJson, resolveLlamaConfig } from "./onnx/llama.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "./safetensors.ts";
import type { TokenizerFiles } from "./tokenizer_files.ts";

const POSITIVE_INTS = [
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "max_position_embeddings",
] as const;

/**
 * Reads the fields models/llama.ts uses from a parsed config.json, checking each; `where` names
 * the file in errors. Rejects what the model does not implement (rope_scaling, sliding windows,
 * activations other than SiLU, MLP biases).
 */
export function parseLlamaConfig(json: unknown, where: string): LlamaModelConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ValidationError(where, "config is not a JSON object");
  }
  const j = json as Record<string, unknown>;
  const fail = (field: string, problem: string): never => {
    throw new ValidationError(where, `field '${field}' ${problem}`);
  };
  if (j.model_type !== "llama" && j.model_type !== "qwen2") {
    fail("model_type", `must be "llama" or "qwen2", got ${JSON.stringify(j.model_type)}`);
  }
  const int = (k: string, optional = false) => {
    if (optional && (j[k] === undefined || j[k] === null)) return undefined;
    const v = j[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      return fail(k, `must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const pos = (k: string) => {
    const v = j[k];
    if (typeof v !== "number" || !(v > 0)) {
      fail(k, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const flag = (k: string) => {
    if (j[k] !== undefined && typeof j[k] !== "boolean") fail(k, "must be true or false");
    return j[k] as boolean | undefined;
  };
  for (
    const [k, ok] of [
      ["rope_scaling", j.rope_scaling === undefined || j.rope_scaling === null],
      ["hidden_act", j.hidden_act === undefined || j.hidden_act === "silu"],
      ["mlp_bias", j.mlp_bias === undefined || j.mlp_bias === false],
      ["use_sliding_window", j.use_sliding_window === undefined || j.use_sliding_window === false],
    ] as const
  ) {
    if (!ok) fail(k, `has ${JSON.stringify(j[k])}, which models/llama.ts does not implement`);
  }
  const [vocab, hidden, inter, layers, heads, maxPos] = POSITIVE_INTS.map((k) => int(k)!);
  const config: LlamaModelConfig = {
    model_type: j.model_type as "llama" | "qwen2",
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    max_position_embeddings: maxPos,
    num_key_value_heads: int("num_key_value_heads", true),
    head_dim: int("head_dim", true),
    rms_norm_eps: pos("rms_norm_eps"),
    rope_theta: pos("rope_theta"),
    tie_word_embeddings: flag("tie_word_embeddings") ?? false,
    attention_bias: j.model_type === "qwen2" ? true : flag("attention_bias") ?? false,
  };
  try {
    resolveLlamaConfig(config);
  } catch (e) {
    throw new ValidationError(where, (e as Error).message.replace(/^llama config: /, ""));
  }
  return config;
}

/** config.json for a model: HF field names, with Llama's or Qwen2's architecture name. */
function configJson(config: LlamaModelConfig, extra: Record<string, unknown>) {
  const c = resolveLlamaConfig(config);
  const qwen = config.model_type === "qwen2";
  return {
    architectures: [qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
    model_type: qwen ? "qwen2" : "llama",
    ...llamaArchitectureJson(c),
    ...(qwen ? {} : { attention_bias: hasAttentionBias(config), mlp_bias: false }),
    torch_dtype: "float32",
    ...extra,
  };
}

/**
 * Writes `dir`/config.json and `dir`/model.safetensors (float32, HF names; creates `dir`).
 * `extra` adds config.json fields such as bos_token_id / eos_token_id.
 *
 * @example
 * await saveLlama("runs/tiny", { config, params });
 * const { params: back } = await loadLlama("runs/tiny");
 */
export async function saveLlama(
  dir: string,
  model: { config: LlamaModelConfig; params: LlamaParams; extra?: Record<string, unknown> },
): Promise<void> {
  const shapes = llamaParamShapes(model.config);
  const names = Object.keys(model.params);
  const stray = names.find((n) => !shapes.has(n));
  if (stray) {
    throw new ValidationError(
      `${dir}/model.safetensors`,
      `'${stray}' is not a parameter of this config`,
    );
  }
  const weights: NamedWeights = new Map();
  for (const [name, data] of await weightsOf(model.params)) {
    weights.set(name, { shape: shapes.get(name)!, data });
  }
  await Deno.mkdir(dir, { recursive: true });
  const json = configJson(model.config, model.extra ?? {});
  await writeTextAtomic(`${dir}/config.json`, JSON.stringify(json, null, 2) + "\n");
  await writeBytesAtomic(`${dir}/model.safetensors`, encodeSafetensors(weights, { format: "pt" }));
}

/**
 * Reads a folder written by {@link saveLlama} (or a HF Llama/Qwen2 checkpoint with float32
 * safetensors). Every tensor must be expected by the config, present, and of the expected shape,
 * else a one-line ValidationError names the file and the tensor.
 */
export async function loadLlama(
  dir: string,
  opts: { dtype?: np.DType } = {},
): Promise<{ config: LlamaModelConfig; params: LlamaParams }> {
  const cfgPath = `${dir}/config.json`, stPath = `${dir}/model.safetensors`;
  let text: string, bytes: Uint8Array;
  try {
    text = await Deno.readTextFile(cfgPath);
  } catch (e) {
    throw new ValidationError(cfgPath, `cannot read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(cfgPath, `not JSON (${(e as Error).message})`);
  }
  const config = parseLlamaConfig(json, cfgPath);
  try {
    bytes = await Deno.readFile(stPath);
  } catch (e) {
    throw new ValidationError(stPath, `cannot read (${(e as Error).message})`);
  }
  const { weights } = decodeSafetensors(bytes, stPath);
  const shapes = llamaParamShapes(config);
  for (const [name, t] of weights) {
    const want = shapes.get(name);
    if (!want) {
      const hint = name === "lm_head.weight" ? " (tie_word_embeddings is true)" : "";
      throw new ValidationError(stPath, `unexpected tensor '${name}'${hint}`);
    }
    if (want.join() !== t.shape.join()) {
      throw new ValidationError(
        stPath,
        `tensor '${name}' has shape [${t.shape}], config.json implies [${want}]`,
      );
    }
  }
  const missing = [...shapes.keys()].find((n) => !weights.has(n));
  if (missing) throw new ValidationError(stPath, `missing tensor '${missing}'`);
  const data = new Map([...weights].map(([n, t]) => [n, t.data]));
  return { config, params: paramsFromWeights(data, { config, dtype: opts.dtype }) };
}

/**
 * Writes a transformers.js model folder (config.json, generation_config.json, `tokenizer`'s
 * files, onnx/model.onnx via models/onnx/folder.ts) plus model.safetensors, so the same folder
 * loads with loadOnnxLm and with {@link loadLlama}. Any {@link TokenizerFiles} will do (the
 * byte-level BPE of models/tokenizer_files.ts, the character tokenizer of
 * models/char_tokenizer.ts) as long as its ids fit in vocab_size. The ONNX graph has no bias
 * inputs, so Qwen2 / attention_bias models are refused.
 *
 * @example
 * await exportOnnx("out/char-lm", { config, params, tokenizer: charTokenizerFiles() });
 */
export async function exportOnnx(
  dir: string,
  model: { config: LlamaModelConfig; params: LlamaParams; tokenizer: TokenizerFiles },
): Promise<void> {
  const { config, tokenizer } = model;
  if (hasAttentionBias(config)) {
    throw new ValidationError(
      `${dir}/onnx/model.onnx`,
      "q/k/v biases (qwen2 / attention_bias) cannot be exported: models/onnx/llama.ts has no bias terms",
    );
  }
  if (tokenizer.vocabSize > config.vocab_size) {
    throw new ValidationError(
      `${dir}/tokenizer.json`,
      `tokenizer has ${tokenizer.vocabSize} ids but vocab_size is ${config.vocab_size}`,
    );
  }
  const weights = await weightsOf(model.params);
  await writeOnnxFolder(dir, { config, weights, tokenizer });
  const shapes = llamaParamShapes(config), named: NamedWeights = new Map();
  for (const [name, data] of weights) named.set(name, { shape: shapes.get(name)!, data });
  await writeBytesAtomic(`${dir}/model.safetensors`, encodeSafetensors(named, { format: "pt" }));
}
