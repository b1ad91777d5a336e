// Weights in and out for models/llama.ts: Hugging Face Llama / Llama-3 / Qwen2 / Qwen2.5
// checkpoints (config.json checked field by field, F32, BF16 or F16 safetensors, single or
// sharded, from a folder or a hub id through models/checkpoint.ts) loaded with no renaming and
// saved back in the layout they came in; and an ONNX export (models/onnx/folder.ts) that
// transformers.js runs.

import type { numpy as np } from "@jax-js/jax";
import { writeBytesAtomic } from "../lib/atomic.ts";
import { ValidationError } from "../lib/errors.ts";
import {
  type CheckpointOrigin,
  type RawCheckpoint,
  readCheckpoint,
  type SourceOptions,
  writeCheckpoint,
} from "./checkpoint.ts";
import {
  type LlamaModelConfig,
  type LlamaParams,
  llamaParamShapes,
  paramsFromWeights,
  weightsOf,
} from "./llama.ts";
import { writeOnnxFolder } from "./onnx/folder.ts";
import { llamaArchitectureJson, resolveLlamaConfig, type RopeScaling } from "./onnx/llama.ts";
import { encodeSafetensors, type NamedWeights, type SafetensorsDtype } from "./safetensors.ts";
import type { TokenizerFiles } from "./tokenizer_files.ts";

const POSITIVE_INTS = [
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "max_position_embeddings",
] as const;

/** config.json's `architectures` entry of each model_type. */
const ARCHITECTURES = { llama: "LlamaForCausalLM", qwen2: "Qwen2ForCausalLM" } as const;

/** config.json's torch_dtype name of each stored dtype. */
export const TORCH_DTYPES: Readonly<Record<SafetensorsDtype, string>> = {
  F32: "float32",
  BF16: "bfloat16",
  F16: "float16",
};

/**
 * Reads the fields models/llama.ts uses from a parsed config.json, checking each; `where` names
 * the file in errors. Accepts Llama (with Llama-3's `rope_scaling` of rope_type "llama3") and
 * Qwen2/Qwen2.5 (q/k/v biases; `use_sliding_window` false), and transformers v5's
 * `rope_parameters` in place of rope_theta/rope_scaling; rejects what the model does not
 * implement (other architectures and rope_scaling types, sliding windows, activations other than
 * SiLU, MLP biases).
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
    fail(
      "model_type",
      `must be "llama" or "qwen2" (Llama, Llama-3, Qwen2, Qwen2.5), got ${
        JSON.stringify(j.model_type)
      }`,
    );
  }
  const modelType = j.model_type as "llama" | "qwen2";
  if (j.architectures !== undefined && j.architectures !== null) {
    const want = ARCHITECTURES[modelType];
    const a = j.architectures;
    if (!Array.isArray(a) || a.length === 0 || !a.every((x) => x === want)) {
      fail(
        "architectures",
        `must be ["${want}"] for model_type ${modelType}, got ${JSON.stringify(a)}`,
      );
    }
  }
  const int = (k: string, optional = false) => {
    if (optional && (j[k] === undefined || j[k] === null)) return undefined;
    const v = j[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      return fail(k, `must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const flag = (k: string) => {
    if (j[k] !== undefined && typeof j[k] !== "boolean") fail(k, "must be true or false");
    return j[k] as boolean | undefined;
  };
  for (
    const [k, ok] of [
      ["hidden_act", j.hidden_act === undefined || j.hidden_act === "silu"],
      ["mlp_bias", j.mlp_bias === undefined || j.mlp_bias === false],
      ["use_sliding_window", j.use_sliding_window === undefined || j.use_sliding_window === false],
    ] as const
  ) {
    if (!ok) fail(k, `has ${JSON.stringify(j[k])}, which models/llama.ts does not implement`);
  }
  const rope = parseRope(j, fail);
  const pos = (k: string) => {
    const v = j[k];
    if (typeof v !== "number" || !(v > 0)) {
      fail(k, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const [vocab, hidden, inter, layers, heads, maxPos] = POSITIVE_INTS.map((k) => int(k)!);
  const config: LlamaModelConfig = {
    model_type: modelType,
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    max_position_embeddings: maxPos,
    num_key_value_heads: int("num_key_value_heads", true),
    head_dim: int("head_dim", true),
    rms_norm_eps: pos("rms_norm_eps"),
    rope_theta: rope.theta,
    tie_word_embeddings: flag("tie_word_embeddings") ?? false,
    attention_bias: modelType === "qwen2" ? true : flag("attention_bias") ?? false,
    // Only when set, so configs without it keep their shape (and cache keys).
    ...(rope.scaling ? { rope_scaling: rope.scaling } : {}),
  };
  try {
    resolveLlamaConfig(config);
  } catch (e) {
    throw new ValidationError(where, (e as Error).message.replace(/^llama config: /, ""));
  }
  return config;
}

/**
 * rope_theta and rope_scaling (or transformers v5's rope_parameters holding both): none, HF's
 * "default", or Llama-3's "llama3" with its four fields; anything else fails naming the field.
 */
function parseRope(
  j: Record<string, unknown>,
  fail: (field: string, problem: string) => never,
): { theta: number; scaling?: RopeScaling } {
  const params = j.rope_parameters;
  const nested = params !== undefined && params !== null;
  if (nested && (typeof params !== "object" || Array.isArray(params))) {
    fail("rope_parameters", "must be an object");
  }
  const p = (nested ? params : {}) as Record<string, unknown>;
  const thetaField = nested && j.rope_theta === undefined
    ? "rope_parameters.rope_theta"
    : "rope_theta";
  const theta = j.rope_theta ?? p.rope_theta;
  if (typeof theta !== "number" || !(theta > 0)) {
    fail(thetaField, `must be a positive number, got ${JSON.stringify(theta)}`);
  }
  const [field, raw] = j.rope_scaling !== undefined && j.rope_scaling !== null
    ? ["rope_scaling", j.rope_scaling]
    : nested
    ? ["rope_parameters", params]
    : ["rope_scaling", null];
  if (raw === null) return { theta: theta as number };
  if (typeof raw !== "object" || Array.isArray(raw)) fail(field, "must be an object or null");
  const s = raw as Record<string, unknown>;
  const type = s.rope_type ?? s.type;
  if (type === undefined || type === "default") return { theta: theta as number };
  if (type !== "llama3") {
    fail(
      field,
      `has rope_type ${
        JSON.stringify(type)
      }; models/llama.ts implements "llama3" (and "default") only`,
    );
  }
  const num = (k: string, ok: (v: number) => boolean, want: string) => {
    const v = s[k];
    if (typeof v !== "number" || !ok(v)) {
      fail(`${field}.${k}`, `must be ${want}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const positive = (v: number) => v > 0;
  const low = num("low_freq_factor", positive, "a positive number");
  return {
    theta: theta as number,
    scaling: {
      rope_type: "llama3",
      factor: num("factor", positive, "a positive number"),
      low_freq_factor: low,
      high_freq_factor: num("high_freq_factor", (v) => v > low, "a number above low_freq_factor"),
      original_max_position_embeddings: num(
        "original_max_position_embeddings",
        (v) => Number.isInteger(v) && v > 0,
        "a positive integer",
      ),
    },
  };
}

/** config.json for a model: HF field names, with Llama's or Qwen2's architecture name. */
function configJson(
  config: LlamaModelConfig,
  o: { dtype: SafetensorsDtype; extra: Record<string, unknown> },
) {
  const c = resolveLlamaConfig(config);
  const qwen = config.model_type === "qwen2";
  return {
    architectures: [qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
    model_type: qwen ? "qwen2" : "llama",
    ...llamaArchitectureJson(c),
    ...(qwen ? { use_sliding_window: false } : {
      attention_bias: config.attention_bias ?? false,
      mlp_bias: false,
    }),
    torch_dtype: TORCH_DTYPES[o.dtype],
    ...o.extra,
  };
}

/** What {@link saveLlama} writes. */
export interface SavedLlama {
  readonly config: LlamaModelConfig;
  readonly params: LlamaParams;
  /** config.json fields added when there is no origin (bos_token_id, eos_token_id, ...). */
  readonly extra?: Record<string, unknown>;
  /**
   * The checkpoint it was loaded from: config.json and generation_config.json are written as
   * they were (bar the dtype field), tensors in their stored dtypes and the same shards.
   */
  readonly origin?: CheckpointOrigin;
  /** Store every tensor in this dtype instead (F32 on request); default: as loaded, or F32. */
  readonly dtype?: SafetensorsDtype;
  /** Shard above this many bytes of weights (default models/checkpoint.ts MAX_SHARD_BYTES). */
  readonly maxShardBytes?: number;
  /** Tokenizer files to write beside the weights (a loaded checkpoint's, verbatim). */
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Writes a checkpoint folder (creates `dir`): config.json, model.safetensors (or shards with
 * model.safetensors.index.json), and, for a model loaded from a checkpoint, its
 * generation_config.json and tokenizer files, in the layout and dtypes it was loaded in (or
 * `dtype`), so transformers, vLLM and {@link loadLlama} read it back.
 *
 * @example
 * await saveLlama("runs/tiny", { config, params });
 * const { params: back } = await loadLlama("runs/tiny");
 */
export async function saveLlama(dir: string, model: SavedLlama): Promise<void> {
  const shapes = llamaParamShapes(model.config);
  const names = Object.keys(model.params);
  const stray = names.find((n) => !shapes.has(n));
  if (stray) {
    throw new ValidationError(
      `${dir}/model.safetensors`,
      `'${stray}' is not a parameter of this config`,
    );
  }
  const tensors: NamedWeights = new Map();
  for (const [name, data] of await weightsOf(model.params)) {
    tensors.set(name, { shape: shapes.get(name)!, data });
  }
  const origin = model.origin;
  if (!origin) {
    const dtype = model.dtype ?? "F32";
    await writeCheckpoint(dir, {
      configJson: configJson(model.config, { dtype, extra: model.extra ?? {} }),
      tensors,
      dtype,
      maxShardBytes: model.maxShardBytes,
      tokenizerFiles: model.tokenizerFiles,
    });
    return;
  }
  const cfg: Record<string, unknown> = { ...origin.configJson };
  if (model.dtype) {
    // transformers ≤ 4.x writes torch_dtype, v5 writes dtype: update whichever the file has.
    const keys = ["torch_dtype", "dtype"].filter((k) => k in cfg);
    for (const k of keys.length > 0 ? keys : ["torch_dtype"]) cfg[k] = TORCH_DTYPES[model.dtype];
  }
  await writeCheckpoint(dir, {
    configJson: cfg,
    generationJson: origin.generationJson,
    tensors,
    dtype: model.dtype ?? origin.dtypes,
    weightMap: origin.weightMap,
    maxShardBytes: model.maxShardBytes,
    tokenizerFiles: model.tokenizerFiles,
  });
}

/** A checkpoint as {@link loadLlama} returns it: all but the tensors (now the parameters). */
export type LlamaCheckpoint = Omit<RawCheckpoint, "tensors" | "tensorFile">;

/** Tensors HF checkpoints may carry that the model recomputes (old Llama rotary buffers). */
const IGNORED_TENSOR = /\.rotary_emb\.inv_freq$/;

/**
 * Reads a Llama/Qwen2 checkpoint from a folder or hub id (models/checkpoint.ts readCheckpoint;
 * `tokenizer` also reads the tokenizer files): config.json checked by {@link parseLlamaConfig},
 * every tensor expected by the config, present and of the expected shape, else a one-line
 * ValidationError names the file and the tensor. A tied checkpoint may also store lm_head.weight
 * if it equals the embedding table; old rotary inv_freq buffers are ignored, as transformers
 * does. Also returns the checkpoint's layout, generation defaults, tokenizer files and every
 * file read with its sha256.
 */
export async function loadLlama(
  source: string,
  opts: SourceOptions & { dtype?: np.DType; tokenizer?: boolean } = {},
): Promise<{ config: LlamaModelConfig; params: LlamaParams; checkpoint: LlamaCheckpoint }> {
  const { tensors, tensorFile, ...checkpoint } = await readCheckpoint(source, {
    ...opts,
    checkConfig: (json, where) => void parseLlamaConfig(json, where),
  });
  const cfgPath = checkpoint.files.find((f) => f.name === "config.json")!.path;
  const config = parseLlamaConfig(checkpoint.configJson, cfgPath);
  const shapes = llamaParamShapes(config);
  const data = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    const file = tensorFile.get(name)!, want = shapes.get(name);
    if (IGNORED_TENSOR.test(name)) continue;
    if (!want && name === "lm_head.weight" && config.tie_word_embeddings) {
      const embed = tensors.get("model.embed_tokens.weight")?.data;
      if (embed && embed.length === t.data.length && embed.every((v, i) => v === t.data[i])) {
        continue;
      }
      throw new ValidationError(
        file,
        "tensor 'lm_head.weight' differs from model.embed_tokens.weight but config.json has tie_word_embeddings true",
      );
    }
    if (!want) {
      const hint = name.endsWith(".bias") && name.includes("self_attn")
        ? " (q/k/v biases need model_type qwen2 or attention_bias true)"
        : "";
      throw new ValidationError(file, `unexpected tensor '${name}'${hint}`);
    }
    if (want.join() !== t.shape.join()) {
      throw new ValidationError(
        file,
        `tensor '${name}' has shape [${t.shape}], config.json implies [${want}]`,
      );
    }
    data.set(name, t.data);
  }
  const missing = [...shapes.keys()].find((n) => !data.has(n));
  if (missing) {
    throw new ValidationError(checkpoint.weightsPath, `missing tensor '${missing}'`);
  }
  return { config, params: paramsFromWeights(data, { config, dtype: opts.dtype }), checkpoint };
}

/**
 * The stored dtype that stands for a checkpoint's (that of its embedding table; F32 when it
 * has none), as recorded on policies and used for `dtype` defaults.
 */
export function checkpointDtype(dtypes: ReadonlyMap<string, SafetensorsDtype>): SafetensorsDtype {
  return dtypes.get("model.embed_tokens.weight") ?? "F32";
}

/**
 * Writes a transformers.js model folder (config.json, generation_config.json, `tokenizer`'s
 * files, onnx/model.onnx via models/onnx/folder.ts) plus model.safetensors, so the same folder
 * loads with loadOnnxLm and with {@link loadLlama}. Any {@link TokenizerFiles} will do (the
 * byte-level BPE of models/tokenizer_files.ts, the character tokenizer of
 * models/char_tokenizer.ts, a checkpoint's through models/tokenizer.ts tokenizerFilesOf) as long
 * as its ids fit in vocab_size. Qwen2's q/k/v biases and Llama-3's RoPE rescaling are in the
 * graph; config.json names the model_type (llama or qwen2).
 *
 * @example
 * await exportOnnx("out/char-lm", { config, params, tokenizer: charTokenizerFiles() });
 */
export async function exportOnnx(
  dir: string,
  model: { config: LlamaModelConfig; params: LlamaParams; tokenizer: TokenizerFiles },
): Promise<void> {
  const { config, tokenizer } = model;
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
