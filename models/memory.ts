// The memory model of training a Llama-layout model (docs/metrics.md "Memory model"): an
// estimate, in bytes, of what one training run holds at its peak, counted the way forgetbench
// trains on jax-js (every tensor in the weights' dtype; autodiff keeps every forward
// intermediate; LoRA merges W + (alpha/r)·B·A in the forward pass). The runner compares it with
// the `--memory` budget, or with what the jax-js device reports, before any work starts
// (runs/resolve.ts checkMemory). Also the byte sizes a flag can name.

import { UsageError } from "../lib/errors.ts";
import { countParams, type LlamaModelConfig } from "./llama.ts";
import { loraModules, loraParamCount } from "./lora.ts";
import { resolveLlamaConfig } from "./onnx/llama.ts";

/** Dtypes weights may be held in. forgetbench trains in float32. */
export type WeightDtype = "float32" | "bfloat16" | "float16";

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<WeightDtype, number>> = {
  float32: 4,
  bfloat16: 2,
  float16: 2,
};

/** What one training phase (a variant's steps, or base pretraining) runs. */
export interface TrainingShape {
  readonly config: LlamaModelConfig;
  /** dtype of weights, gradients, moments and activations (default float32). */
  readonly dtype?: WeightDtype;
  /** A LoRA adapter instead of full fine-tuning. */
  readonly lora?: { readonly rank: number; readonly targets: readonly string[] } | null;
  /** Rows of one micro-batch: the step's batch / accumulate (RL: its prompts / accumulate × G). */
  readonly microBatch: number;
  /** Micro-batches per step (gradient accumulation); above 1 a gradient sum is held (default 1). */
  readonly accumulate?: number;
  /** Tokens per training row (prompt + target, or prompt + generation budget). */
  readonly seqLen: number;
  /**
   * SFT with a reference (every stage of a recipe: the KL to the stage's start, and SFT+KL's
   * penalty): its forward pass and log-probabilities [rows, T, V] come with every micro-batch.
   */
  readonly klTarget?: boolean;
  /**
   * RL: rows sampled at once (prompts × G), their length (prompt + generation budget) and their
   * prompt length (the prefill; default `length`).
   */
  readonly sampling?:
    | { readonly rows: number; readonly length: number; readonly prompt?: number }
    | null;
  /**
   * Parameter sets held besides the trained one: π0 and the stage's start (the KL reference).
   * 0 for base pretraining, 1 for a one-stage run, 2 from a second stage on.
   */
  readonly references?: number;
}

/** An estimate, in bytes unless said otherwise. */
export interface MemoryEstimate {
  /** Parameters of the model (tied embeddings counted once). */
  readonly parameters: number;
  /** Parameters the optimiser updates (all, or the adapter's Σ r·(in + out)). */
  readonly trainable: number;
  /** Activation bytes kept per token of a training row ({@link activationsPerToken}). */
  readonly perToken: number;
  readonly bytes: {
    /** The live weights (LoRA: frozen base + a merged copy of the targeted weights + adapter). */
    readonly weights: number;
    /** The other parameter sets held (π0, the stage's start). */
    readonly references: number;
    readonly gradients: number;
    /** AdamW's m and v. */
    readonly moments: number;
    /** What the backward pass needs of one micro-batch's forward. */
    readonly activations: number;
    /** RL sampling: the KV cache and the prefill's attention (not held during the step). */
    readonly sampling: number;
    /** weights + references + moments + max(gradients + activations, sampling). */
    readonly total: number;
  };
  /** The largest single tensor (a device's per-buffer limit applies to it). */
  readonly largestTensor: number;
}

/**
 * Activation elements held per token at the peak of a training step (forward intermediates kept
 * for the backward pass, and the backward's own cotangents), as measured on jax-js: per layer
 * 32H + 32·nH·D + 12·nKV·D + 8·nH·T + 16I, over L layers, plus 8H + 16V; with a reference
 * (SFT in a stage computes the KL to the stage's start: the reference's forward pass and its
 * log-probabilities) 11V + 4.5·L·nH·T more. A count of what autodiff keeps (4H + 4·nH·D + 3·nKV·D + 2·nH·T + 4I
 * per layer, 4V) is about a quarter of the measured peak in every term; the coefficients are
 * fitted to the peak live bytes of jax-js's wasm allocator over one SFT step, varying T, H, I, nH,
 * L and V one at a time (`deno task perf` runs bench/memory.ts; within ±5%, docs/metrics.md
 * "Memory model").
 */
export function activationsPerToken(
  config: LlamaModelConfig,
  opts: { seqLen: number; klTarget?: boolean },
): number {
  const c = resolveLlamaConfig(config);
  const H = c.hidden_size, I = c.intermediate_size, D = c.head_dim, T = opts.seqLen;
  const nH = c.num_attention_heads, nKV = c.num_key_value_heads, V = c.vocab_size;
  const L = c.num_hidden_layers;
  const layer = 32 * H + 32 * nH * D + 12 * nKV * D + 8 * nH * T + 16 * I;
  const reference = opts.klTarget ? 11 * V + 4.5 * L * nH * T : 0;
  return L * layer + 8 * H + 16 * V + reference;
}

/**
 * Bytes one chunk of RL sampling may take by the sampling estimate (KV cache, prefill, logits):
 * 1 GiB on the CPU devices (wasm's 4 GiB is shared with everything else), 16 GiB on a GPU.
 */
export function samplingBudget(device: string): number {
  return device === "webgpu" ? 16 * 2 ** 30 : 2 ** 30;
}

/**
 * Rows an RL step samples at once: all `rows` of the step, or as many as keep the sampling
 * estimate of {@link estimateMemory} (KV cache of `length` tokens, prefill over `prompt`) within
 * `budget` ({@link samplingBudget} of the device); at least one. Each row draws from its own random
 * stream, so the chunking never changes the samples.
 */
export function samplingRows(
  config: LlamaModelConfig,
  s: { rows: number; length: number; prompt: number },
  budget: number,
): number {
  const c = resolveLlamaConfig(config);
  const perRow = 4 * (2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim * s.length +
    9 * c.num_attention_heads * s.prompt ** 2 +
    s.prompt * (16 * c.hidden_size + 8 * c.intermediate_size) + 2 * c.vocab_size);
  return Math.max(1, Math.min(s.rows, Math.floor(budget / perRow)));
}

/**
 * The training memory of one phase (docs/metrics.md "Memory model"), w = bytes per element:
 *
 *   full fine-tuning: weights P·w, references refs·P·w, gradients P·w (2·P·w when accumulating:
 *   the sum and the micro-batch's), moments 2·P·w;
 *   LoRA (P_A = Σ r·(in + out), P_W = Σ out·in over the targeted layers): weights
 *   (P + P_W + P_A)·w (the frozen base, one merged copy of the targeted weights: the live model's
 *   between steps, the one the step's forward builds during a step, and the adapter),
 *   references (refs − 1)·P_W·w, gradients and moments of P_A only;
 *   activations b·T·a(T)·w ({@link activationsPerToken});
 *   sampling (RL) 2·L·nKV·D·S·R·w (the KV cache of R rows of S tokens) + 9·R·nH·Sp²·w (the
 *   prefill's attention over Sp prompt tokens, as measured) + R·Sp·(16H + 8I)·w (its other
 *   intermediates) + 2·R·V·w (logits and probabilities);
 *   total = weights + references + moments + max(gradients + activations, sampling).
 *
 * @example
 * estimateMemory({ config, microBatch: 1, seqLen: 1024 }).bytes.total;
 */
export function estimateMemory(shape: TrainingShape): MemoryEstimate {
  const c = resolveLlamaConfig(shape.config), w = BYTES_PER_ELEMENT[shape.dtype ?? "float32"];
  const P = countParams(shape.config), refs = shape.references ?? 0;
  const L = c.num_hidden_layers, nKV = c.num_key_value_heads, nH = c.num_attention_heads;
  const D = c.head_dim, V = c.vocab_size, H = c.hidden_size, b = shape.microBatch;
  const T = shape.seqLen;
  let trainable = P, weights = P, references = refs * P;
  if (shape.lora) {
    const modules = loraModules(shape.config, { targets: shape.lora.targets, where: "lora" });
    const targeted = modules.reduce((a, m) => a + m.out * m.in, 0);
    trainable = loraParamCount(modules, shape.lora.rank);
    weights = P + targeted + trainable;
    references = Math.max(0, refs - 1) * targeted;
  }
  const gradients = ((shape.accumulate ?? 1) > 1 ? 2 : 1) * trainable * w;
  const moments = 2 * trainable * w;
  const perToken = activationsPerToken(shape.config, { seqLen: T, klTarget: shape.klTarget }) * w;
  const activations = b * T * perToken;
  const s = shape.sampling;
  const sp = s?.prompt ?? s?.length ?? 0;
  const sampling = s
    ? (2 * L * nKV * D * s.length * s.rows + 9 * s.rows * nH * sp ** 2 +
      s.rows * sp * (16 * H + 8 * c.intermediate_size) + 2 * s.rows * V) * w
    : 0;
  const largestTensor = w * Math.max(
    V * H,
    c.intermediate_size * H,
    b * T * V,
    b * nH * T * T,
    s ? s.rows * nH * sp ** 2 : 0,
    s ? s.rows * nKV * s.length * D : 0,
  );
  const bytes = {
    weights: weights * w,
    references: references * w,
    gradients,
    moments,
    activations,
    sampling,
    total: (weights + references) * w + moments + Math.max(gradients + activations, sampling),
  };
  return { parameters: P, trainable, perToken, bytes, largestTensor };
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes of a size such as `16GiB`, `512MiB`, `1.5 TB` (decimal units KB, MB, GB, TB; binary
 * KiB, MiB, GiB, TiB; B; case ignored). Anything else is a one-line error naming `flag`.
 *
 * @example
 * parseBytes("16GiB", "--memory"); // 17179869184
 */
export function parseBytes(text: string, flag: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)$/i);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(
      `${flag}: '${text}' is not a size; write a number and a unit, e.g. 16GiB, 512MiB or 80GB`,
    );
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) {
    throw new UsageError(`${flag}: '${text}' must be a positive size below 8 PiB`);
  }
  return bytes;
}

/** A byte count for people: GiB, MiB or KiB with one decimal, else bytes. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (n >= size) return `${(n / size).toFixed(1)} ${unit}`;
  }
  return `${n} B`;
}

/** Limits the jax-js device reports or implies, where it has them. */
export interface DeviceLimits {
  /** Bytes every array together may use (null: not reported). */
  readonly total: number | null;
  /** Bytes one array may use (null: not reported). */
  readonly buffer: number | null;
  /** Where the limits come from, for messages. */
  readonly source: string;
}

/**
 * What a device limits: `wasm` keeps every array in one 32-bit WebAssembly memory (jax-js
 * 0.1.25 declares at most 65,536 pages of 64 KiB: 4 GiB); `webgpu` reports
 * maxStorageBufferBindingSize per buffer once started (a total is not part of WebGPU); `cpu`
 * reports nothing.
 */
export function deviceLimits(
  device: string,
  opts: { webgpuDevice?: () => { limits: { maxStorageBufferBindingSize: number } } } = {},
): DeviceLimits {
  if (device === "wasm") {
    return { total: 2 ** 32, buffer: null, source: "the wasm device's 4 GiB (32-bit memory)" };
  }
  if (device === "webgpu" && opts.webgpuDevice) {
    try {
      const buffer = opts.webgpuDevice().limits.maxStorageBufferBindingSize;
      return { total: null, buffer, source: "the WebGPU adapter's maxStorageBufferBindingSize" };
    } catch {
      // Not started yet: nothing reported.
    }
  }
  return { total: null, buffer: null, source: `the ${device} device` };
}
