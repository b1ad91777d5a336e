// A generation engine for the jax-js Llama (models/llama.ts) on onnxruntime-node's CPU execution
// provider, as RL libraries pair a trainer with a separate inference engine: the weights are
// exported with models/onnx/llama.ts (optimum layout: input_ids, attention_mask, position_ids,
// past_key_values.{i}.key|value → logits, present.{i}.*), the prompts are prefilled once and each
// new token is one run that feeds `present` back as `past`. Tokens are drawn on the host with
// models/sampling.ts's own drawToken from the same per-row seeded streams, so the options and
// outputs are exactly those of `sample()`: equal logits draw equal tokens (the two engines' float32
// logits differ by rounding, ~1e-6).
//
// Weights reach the graph in one of two ways (OrtSamplerOptions.weights):
//   "initializers" (default): the weights are baked into the graph; new weights rebuild the
//     session (encode the protobuf, let onnxruntime optimise it and pre-pack the MatMul
//     weights), lazily on the next call;
//   "inputs": one session per architecture whose weights are graph inputs, fed on every run;
//     new weights cost only their copy out of jax-js and the transposes to [in, out].
// Measured on the ~1M-parameter bench model (bench/llama_step.ts, 32 prompts × 48 new tokens,
// one thread): a rebuild costs ~40 ms more than feeding inputs, but pre-packed weights decode
// ~60 ms faster per call, so "initializers" wins even at one sample call per optimiser update.
//
// Determinism: intra-op threads are fixed (default 1), inter-op 1, sequential execution, so a
// seed gives byte-identical completions on every rerun on a machine whatever its core count.

import * as ort from "onnxruntime-node";
import { ValidationError } from "../lib/errors.ts";
import { rng } from "../lib/rng.ts";
import { configKey, countParams, type LlamaModelConfig, type LlamaParams } from "./llama.ts";
import { llamaOnnx, llamaOnnxWeights, resolveLlamaConfig } from "./onnx/llama.ts";
import { checkSampleArguments, drawToken, type SampleOptions, type Samples } from "./sampling.ts";

/** How new weights reach the graph: fed as inputs (one session) or baked in (a new session). */
export type OrtWeightMode = "inputs" | "initializers";

/** Options of {@link OrtSampler}. */
export interface OrtSamplerOptions {
  /** onnxruntime intra-op threads (default 1); inter-op is always 1, execution sequential. */
  readonly threads?: number;
  /** See {@link OrtWeightMode} (default "initializers"). */
  readonly weights?: OrtWeightMode;
}

/** Which sampler a model's generation runs on. */
export type GenerationEngine = "auto" | "jax" | "onnxruntime";

/** protobuf's hard limit on one message: a graph with its weights inside must stay below it. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/**
 * The engine `auto` stands for: onnxruntime when the model's float32 weights fit in one ONNX
 * protobuf (under 2 GiB, with 64 MiB left for the graph), so that either weight mode can export
 * it, else jax (the jax-js sampler of models/sampling.ts). On the bench model onnxruntime
 * samples ~9× faster than jax-js on wasm (bench/llama_step.ts: 14k vs 1.5k tokens/s, one
 * thread); large models, which would not fit, are the ones a GPU device runs better under
 * jax-js anyway.
 */
export function resolveEngine(
  engine: GenerationEngine,
  config: LlamaModelConfig,
): "jax" | "onnxruntime" {
  if (engine !== "auto") return engine;
  return countParams(config) * 4 < PROTOBUF_LIMIT - 64 * 2 ** 20 ? "onnxruntime" : "jax";
}

/** Sizes of one architecture the loop needs. */
interface Dims {
  readonly layers: number;
  readonly kv: number;
  readonly d: number;
  readonly vocab: number;
}

/**
 * KV-cached sampling of a jax-js Llama's weights on onnxruntime (see the file comment). Call
 * {@link sample} with the current parameters: the engine copies them out (and, with
 * "initializers", rebuilds its session) whenever any parameter array differs from the ones it
 * last loaded, so a training loop just passes `policy.params` after every update. Release it
 * with {@link release}.
 *
 * @example
 * const engine = new OrtSampler(config);
 * const out = await engine.sample(params, [[1, 5, 6]], { config, maxTokens: 8, temperature: 1 });
 * await engine.release();
 */
export class OrtSampler {
  readonly config: LlamaModelConfig;
  readonly threads: number;
  readonly mode: OrtWeightMode;
  /** Milliseconds spent loading weights (copy out, transposes, session builds) so far. */
  refreshMs = 0;
  /** Weight loads so far. */
  refreshes = 0;
  #dims: Dims;
  #key: string;
  #session: ort.InferenceSession | null = null;
  #weightFeeds: Record<string, ort.Tensor> = {};
  #loaded: LlamaParams | null = null;
  #loadedArrays: unknown[] = [];
  #pending: Map<string, Float32Array> | null = null;

  constructor(config: LlamaModelConfig, opts: OrtSamplerOptions = {}) {
    const c = resolveLlamaConfig(config);
    this.config = config;
    this.threads = opts.threads ?? 1;
    this.mode = opts.weights ?? "initializers";
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new ValidationError("ort sampler threads", `must be ≥ 1, got ${this.threads}`);
    }
    this.#dims = {
      layers: c.num_hidden_layers,
      kv: c.num_key_value_heads,
      d: c.head_dim,
      vocab: c.vocab_size,
    };
    this.#key = configKey(config);
  }

  /**
   * Loads `params` now (copied out of jax-js; borrowed, not consumed), whether or not they are
   * the ones loaded already. {@link sample} calls it when the parameters changed.
   */
  async refresh(params: LlamaParams): Promise<void> {
    const t0 = performance.now();
    const weights = new Map<string, Float32Array>();
    const names = Object.keys(params).sort();
    for (const name of names) {
      const d = await params[name].ref.data();
      weights.set(name, d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>));
    }
    this.#loaded = params;
    this.#loadedArrays = names.map((n) => params[n]);
    if (this.mode === "inputs") {
      this.#weightFeeds = {};
      for (const [name, w] of llamaOnnxWeights(weights, this.config, this.#graphOptions(weights))) {
        this.#weightFeeds[name] = new ort.Tensor("float32", w.data, [...w.dims]);
      }
      if (!this.#session) {
        this.#session = await this.#createSession(
          llamaOnnx(weights, this.config, {
            ...this.#graphOptions(weights),
            weightsAsInputs: true,
          }),
        );
      }
    } else {
      await this.#session?.release();
      this.#session = null;
      this.#pending = weights; // the session is built on the next run
    }
    this.refreshMs += performance.now() - t0;
    this.refreshes++;
  }

  /**
   * Samples completions as models/sampling.ts `sample()` does (same options, same outputs, same
   * per-row streams), with `params` as the weights: loaded first if they are not the last ones
   * loaded (compared array by array; jax-js arrays are immutable).
   */
  async sample(
    params: LlamaParams,
    prompts: readonly (readonly number[])[],
    opts: SampleOptions,
  ): Promise<Samples> {
    if (configKey(opts.config) !== this.#key) {
      throw new ValidationError("ort sampler", "options.config is not the engine's architecture");
    }
    const temp = opts.temperature ?? 0, topP = opts.topP ?? 1;
    const B = prompts.length;
    if (B === 0) return { tokens: [], logProbs: [], stopped: [] };
    checkSampleArguments(prompts, opts);
    if (this.#stale(params)) await this.refresh(params);
    const { layers, vocab: V } = this.#dims;

    // Prefill, left-padded: row i's prompt sits at the end of P columns, its positions counted
    // from its first real token, the padding masked out; so every row's next token comes from
    // column P − 1 and all rows decode in step. The attention mask grows by one column per step.
    const { feeds, mask, width: P } = this.#prefill(prompts);
    let rows = Array.from({ length: B }, (_, i) => i); // the rows still decoding, in batch order
    let masks = rows.map((i) => mask.subarray(i * P, (i + 1) * P));
    let out = await this.#run(feeds);
    let z = lastLogits(out.logits, P, V);

    const tokens: number[][] = prompts.map(() => []), logProbs: number[][] = prompts.map(() => []);
    const stopped = prompts.map(() => false);
    const rngs = prompts.map((_, i) => rng(opts.seed ?? 0, (opts.rowOffset ?? 0) + i));
    for (let s = 0; s < opts.maxTokens; s++) {
      const next: number[] = [], keep: number[] = [];
      rows.forEach((i, a) => {
        const [tok, lp] = drawToken(z.subarray(a * V, (a + 1) * V), { temp, topP, r: rngs[i] });
        tokens[i].push(tok);
        logProbs[i].push(lp);
        if (tok === opts.stopToken || (opts.stopWhen?.(i, tokens[i]) ?? false)) {
          stopped[i] = true;
        } else if (tokens[i].length < opts.maxTokens) {
          keep.push(a);
          next.push(tok);
        }
      });
      if (keep.length === 0) break;
      // Finished rows leave the batch: their caches are dropped, the others' kept in order.
      const past: Record<string, ort.Tensor> = {};
      for (let l = 0; l < layers; l++) {
        for (const kind of ["key", "value"]) {
          const t = out[`present.${l}.${kind}`] as ort.Tensor;
          past[`past_key_values.${l}.${kind}`] = keep.length === rows.length
            ? t
            : gatherRows(t, keep);
        }
      }
      const A = keep.length, T = masks[0].length + 1;
      masks = keep.map((a) => {
        const m = new BigInt64Array(T);
        m.set(masks[a]);
        m[T - 1] = 1n;
        return m;
      });
      rows = keep.map((a) => rows[a]);
      const maskAll = new BigInt64Array(A * T);
      masks.forEach((m, a) => maskAll.set(m, a * T));
      out = await this.#run({
        input_ids: new ort.Tensor("int64", BigInt64Array.from(next, BigInt), [A, 1]),
        attention_mask: new ort.Tensor("int64", maskAll, [A, T]),
        position_ids: new ort.Tensor(
          "int64",
          BigInt64Array.from(rows, (i) => BigInt(prompts[i].length + tokens[i].length - 1)),
          [A, 1],
        ),
        ...past,
      });
      z = lastLogits(out.logits, 1, V);
    }
    return { tokens, logProbs, stopped };
  }

  /**
   * The prefill feeds of sequences, left-padded: row i's tokens sit at the end of `width`
   * columns, positions counted from its first real token, padding masked out, empty caches.
   */
  #prefill(seqs: readonly (readonly number[])[]): {
    feeds: Record<string, ort.Tensor>;
    mask: BigInt64Array;
    width: number;
  } {
    const { layers, kv, d } = this.#dims, B = seqs.length;
    const P = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(B * P), pos = new BigInt64Array(B * P);
    const mask = new BigInt64Array(B * P);
    seqs.forEach((s, i) => {
      const pad = P - s.length;
      s.forEach((t, j) => {
        ids[i * P + pad + j] = BigInt(t);
        pos[i * P + pad + j] = BigInt(j);
        mask[i * P + pad + j] = 1n;
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [B, P]),
      attention_mask: new ort.Tensor("int64", mask, [B, P]),
      position_ids: new ort.Tensor("int64", pos, [B, P]),
    };
    for (let l = 0; l < layers; l++) {
      for (const kind of ["key", "value"]) {
        feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor(
          "float32",
          new Float32Array(0),
          [B, kv, 0, d],
        );
      }
    }
    return { feeds, mask, width: P };
  }

  /**
   * The logits of every position of each sequence ([length × V] row-major per sequence), from
   * one left-padded forward over all of them: for checks against the jax-js model. Loads
   * `params` when they changed.
   */
  async logits(
    params: LlamaParams,
    seqs: readonly (readonly number[])[],
  ): Promise<Float32Array[]> {
    if (this.#stale(params)) await this.refresh(params);
    const V = this.#dims.vocab;
    const { feeds, width: P } = this.#prefill(seqs);
    const z = (await this.#run(feeds)).logits.data as Float32Array;
    return seqs.map((s, i) => z.slice((i * P + P - s.length) * V, (i + 1) * P * V));
  }

  /** Frees the session (the engine can be used again: it rebuilds on the next call). */
  async release(): Promise<void> {
    await this.#session?.release();
    this.#session = null;
    this.#loaded = null;
    this.#loadedArrays = [];
    this.#weightFeeds = {};
    this.#pending = null;
  }

  #stale(params: LlamaParams): boolean {
    if (this.#loaded === null) return true;
    const names = Object.keys(params).sort();
    if (names.length !== this.#loadedArrays.length) return true;
    return names.some((n, k) => params[n] !== this.#loadedArrays[k]);
  }

  #graphOptions(weights: Map<string, Float32Array>) {
    // Tied heads: the exporter reuses embed_tokens when lm_head.weight is absent.
    return { attentionBias: weights.has("model.layers.0.self_attn.q_proj.bias") };
  }

  async #createSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
  }

  async #run(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
    if (!this.#session) {
      if (!this.#pending) throw new ValidationError("ort sampler", "no weights loaded");
      this.#session = await this.#createSession(
        llamaOnnx(this.#pending, this.config, this.#graphOptions(this.#pending)),
      );
      this.#pending = null;
    }
    return await this.#session.run(
      this.mode === "inputs" ? { ...feeds, ...this.#weightFeeds } : feeds,
    );
  }
}

/** The logits at column `at − 1` of every row of a [B, S, V] output, as [B, V]. */
function lastLogits(t: ort.OnnxValue, S: number, V: number): Float32Array {
  const data = (t as ort.Tensor).data as Float32Array;
  if (S === 1) return data;
  const B = data.length / (S * V), out = new Float32Array(B * V);
  for (let b = 0; b < B; b++) out.set(data.subarray((b * S + S - 1) * V, (b * S + S) * V), b * V);
  return out;
}

/** Rows `keep` (in order) of a [B, ...] tensor. */
function gatherRows(t: ort.Tensor, keep: readonly number[]): ort.Tensor {
  const dims = t.dims as readonly number[], data = t.data as Float32Array;
  const per = data.length / dims[0], out = new Float32Array(keep.length * per);
  keep.forEach((b, k) => out.set(data.subarray(b * per, (b + 1) * per), k * per));
  return new ort.Tensor("float32", out, [keep.length, ...dims.slice(1)]);
}
