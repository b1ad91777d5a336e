// KV-cached sampling from the Llama-layout models of models/llama.ts: a jitted prefill over the
// prompts, then one jitted decoding step per new token; tokens are drawn on the host in float64
// (greedy, temperature, top-p) from per-row seeded streams, so a seed fixes the completions.

import { numpy as np, tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { rng, sampleIndex } from "../lib/rng.ts";
import {
  bucket,
  configKey,
  type ConfigOption,
  decoder,
  dtypeOf,
  embed,
  head,
  type LlamaModelConfig,
  type LlamaParams,
  padBatch,
  program,
  ropeFor,
} from "./llama.ts";
import { resolveLlamaConfig } from "./onnx/llama.ts";

/** Options of {@link sample}. */
export interface SampleOptions extends ConfigOption {
  /** Most new tokens per prompt. */
  readonly maxTokens: number;
  /** Softmax temperature; 0 (default) = greedy (first maximum on ties). */
  readonly temperature?: number;
  /** Nucleus sampling: keep the most probable tokens up to this cumulative mass (default 1). */
  readonly topP?: number;
  /** Seed of the draws (default 0); row i draws from its own stream, whatever the other rows do. */
  readonly seed?: number;
  /**
   * Row i draws from stream `rowOffset + i` (default 0): a batch sampled in parts with the
   * offsets of its rows draws what the whole batch would.
   */
  readonly rowOffset?: number;
  /** A row stops after emitting this token (which is kept in its completion). */
  readonly stopToken?: number;
  /**
   * Called on the host after each new token of a row, with the row's index and its new tokens so
   * far (the just-drawn one last; a live view, copy it to keep it); returning true stops the row
   * as {@link stopToken} does: the token just drawn is kept and `stopped[row]` is true. Use it
   * for stop conditions a single id cannot express, e.g. a multi-token stop string.
   *
   * @example
   * // Stop a row once its completion ends with the two tokens [5, 6].
   * const out = await sample(params, prompts, {
   *   config,
   *   maxTokens: 32,
   *   stopWhen: (_row, t) => t.at(-2) === 5 && t.at(-1) === 6,
   * });
   */
  readonly stopWhen?: (row: number, tokens: readonly number[]) => boolean;
}

/** Completions from {@link sample}. */
export interface Samples {
  /** New token ids per prompt (ending with the token that stopped the row, if one did). */
  readonly tokens: number[][];
  /**
   * log π(token | prefix) per new token, under the temperature-scaled policy
   * log_softmax(logits / T) (T = 1 when greedy), before top-p truncation: the π_old of a
   * clipped policy-gradient ratio. Equal to the sampling distribution when topP = 1.
   */
  readonly logProbs: number[][];
  /** Whether each row stopped at stopToken or by stopWhen (else it ran out of maxTokens). */
  readonly stopped: boolean[];
}

/**
 * Samples completions with a KV cache: one prefill over the right-padded prompts writes every
 * layer's keys and values into fixed-size caches [B, KV, S, D], then each step embeds one token
 * per row, writes its key/value at that row's position and attends over the cache (later slots
 * masked). Both programs are jitted; S and the prompt width are rounded up to multiples of 16 so
 * that calls of similar sizes reuse them. Deterministic for a seed. Borrows `params`.
 *
 * @example
 * const out = await sample(params, [[1, 5, 6]], { config, maxTokens: 8, temperature: 1, seed: 0 });
 */
export async function sample(
  params: LlamaParams,
  prompts: readonly (readonly number[])[],
  opts: SampleOptions,
): Promise<Samples> {
  const c = resolveLlamaConfig(opts.config);
  const V = c.vocab_size, B = prompts.length, temp = opts.temperature ?? 0;
  const topP = opts.topP ?? 1;
  if (B === 0) return { tokens: [], logProbs: [], stopped: [] };
  checkSampleArguments(prompts, opts);
  const lens = prompts.map((p) => p.length);
  const P = bucket(Math.max(...lens), 16);
  const S = bucket(Math.max(...lens) + opts.maxTokens, 16);
  const key = configKey(opts.config);
  const prefill = program(`prefill:${key}:${S}`, () => prefillProgram(opts.config, S));
  const step = program(`decode:${key}:${S}`, () => decodeProgram(opts.config, S));

  const last = new Float32Array(B * P);
  lens.forEach((n, i) => (last[i * P + n - 1] = 1));
  const padded = padBatch(prompts, { length: P });
  padded.attnMask?.dispose();
  let { logits, k, v } = prefill(tree.ref(params), padded.tokens, np.array(last).reshape([B, P]));
  const tokens: number[][] = prompts.map(() => []), logProbs: number[][] = prompts.map(() => []);
  const done = prompts.map(() => false), stopped = prompts.map(() => false);
  const rngs = prompts.map((_, i) => rng(opts.seed ?? 0, (opts.rowOffset ?? 0) + i));
  const stopWhen = (row: number, t: readonly number[]) => {
    try {
      return opts.stopWhen?.(row, t) ?? false;
    } catch (e) {
      tree.dispose([k, v]); // a throwing callback ends the loop: free the caches first
      throw e;
    }
  };
  for (let s = 0; s < opts.maxTokens; s++) {
    const z = (await logits.data()) as Float32Array;
    const next = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      if (done[i]) {
        next[i] = prompts[i][0]; // any id: the row's output is no longer read
        continue;
      }
      const [tok, lp] = drawToken(z.subarray(i * V, (i + 1) * V), { temp, topP, r: rngs[i] });
      tokens[i].push(tok);
      logProbs[i].push(lp);
      next[i] = tok;
      if (tok === opts.stopToken || stopWhen(i, tokens[i])) {
        done[i] = stopped[i] = true;
      } else if (tokens[i].length === opts.maxTokens) done[i] = true;
    }
    if (done.every(Boolean)) {
      tree.dispose([k, v]);
      break;
    }
    const pos = Int32Array.from(lens, (n, i) => n + tokens[i].length - 1);
    ({ logits, k, v } = step(
      tree.ref(params),
      { k, v },
      np.array(next, { dtype: np.int32 }),
      np.array(pos, { dtype: np.int32 }),
    ));
  }
  return { tokens, logProbs, stopped };
}

/**
 * Throws a UsageError unless maxTokens ≥ 1, temperature ≥ 0, 0 < topP ≤ 1, every prompt is a
 * non-empty list of ids below vocab_size and prompt + maxTokens fits max_position_embeddings
 * (the checks of {@link sample}, shared with models/ort_sampling.ts).
 */
export function checkSampleArguments(
  prompts: readonly (readonly number[])[],
  opts: SampleOptions,
): void {
  const c = resolveLlamaConfig(opts.config);
  const V = c.vocab_size, temp = opts.temperature ?? 0, topP = opts.topP ?? 1;
  if (!(opts.maxTokens >= 1) || !(temp >= 0) || !(topP > 0 && topP <= 1)) {
    throw new UsageError(
      `sample: need maxTokens ≥ 1, temperature ≥ 0, 0 < topP ≤ 1 (got ${opts.maxTokens}, ${temp}, ${topP})`,
    );
  }
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new UsageError(`sample: prompt ${i} is empty`);
    if (p.some((t) => !Number.isInteger(t) || t < 0 || t >= V)) {
      throw new UsageError(`sample: prompt ${i} has a token id outside [0, ${V})`);
    }
  });
  const longest = Math.max(...prompts.map((p) => p.length));
  if (longest + opts.maxTokens > c.max_position_embeddings) {
    throw new UsageError(
      `sample: prompt + maxTokens = ${
        longest + opts.maxTokens
      } exceeds max_position_embeddings ${c.max_position_embeddings}`,
    );
  }
}

/**
 * Draws one token from float32 logits on the host (float64 arithmetic); returns [id, log π].
 * Shared with models/ort_sampling.ts, so equal logits draw equal tokens on either engine.
 */
export function drawToken(
  z: Float32Array,
  o: { temp: number; topP: number; r: ReturnType<typeof rng> },
): [number, number] {
  // Plain loops (no closures or iterator helpers: this runs once per row and token), the same
  // float64 operations in the same order as ever, so the draws are unchanged.
  const t = o.temp > 0 ? o.temp : 1, V = z.length;
  let max = -Infinity, best = 0;
  for (let j = 0; j < V; j++) {
    if (z[j] > max) {
      max = z[j];
      best = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp((z[j] - max) / t);
  const lse = Math.log(sum);
  if (o.temp === 0) return [best, (z[best] - max) / t - lse];
  const probs = new Float64Array(V);
  for (let j = 0; j < V; j++) probs[j] = Math.exp((z[j] - max) / t - lse);
  if (o.topP < 1) {
    // Keep the smallest most-probable set whose mass reaches topP (ties by id), zero the rest.
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
    let mass = 0, kept = 0;
    while (kept < order.length && mass < o.topP) mass += probs[order[kept++]];
    for (const j of order.slice(kept)) probs[j] = 0;
  }
  const tok = sampleIndex(probs, o.r);
  return [tok, (z[tok] - max) / t - lse];
}

type Cache = { k: np.Array[]; v: np.Array[] };

/** Prompt pass: logits [B, V] at each row's last prompt token, caches padded to S slots. */
function prefillProgram(config: LlamaModelConfig, S: number) {
  return (p: LlamaParams, tokens: np.Array, last: np.Array): Cache & { logits: np.Array } => {
    const c = resolveLlamaConfig(config);
    const [B, T] = tokens.shape;
    const [cos, sin] = ropeFor(undefined, {
      n: T,
      t: T,
      d: c.head_dim,
      theta: c.rope_theta,
      scaling: c.rope_scaling,
      dtype: dtypeOf(p),
    });
    // Right padding: real queries only see earlier (real) keys, so causality is the whole mask.
    const allowed = np.tri(T, T, 0, { dtype: np.bool }).reshape([1, 1, 1, T, T]);
    const x = embed(p, tokens.reshape([B * T]));
    const out = decoder(p, x, { config, b: B, t: T, s: T, cos, sin, allowed });
    const h = out.h.reshape([B, T, -1]).mul(last.reshape([B, T, 1])).sum(1);
    const logits = head(p, h);
    const pad = (a: np.Array) =>
      np.concatenate([
        a,
        np.zeros([B, c.num_key_value_heads, S - T, c.head_dim], { dtype: a.dtype }),
      ], 2);
    tree.dispose(p);
    return { logits, k: out.k.map(pad), v: out.v.map(pad) };
  };
}

/** One decoding step: token [B] at position pos [B] → logits [B, V] and the updated caches. */
function decodeProgram(config: LlamaModelConfig, S: number) {
  return (
    p: LlamaParams,
    cache: Cache,
    token: np.Array,
    pos: np.Array,
  ): Cache & { logits: np.Array } => {
    const c = resolveLlamaConfig(config);
    const B = token.shape[0];
    const [cos, sin] = ropeFor(pos.ref.reshape([B, 1]), {
      n: S,
      t: 1,
      d: c.head_dim,
      theta: c.rope_theta,
      scaling: c.rope_scaling,
      dtype: dtypeOf(p),
    });
    const slots = np.arange(S, undefined, 1, { dtype: np.int32 }).reshape([1, S]);
    const at = pos.reshape([B, 1]);
    const write = slots.ref.equal(at.ref).reshape([B, 1, S, 1]);
    const allowed = slots.lessEqual(at).reshape([B, 1, 1, 1, S]);
    const x = embed(p, token);
    const out = decoder(p, x, {
      config,
      b: B,
      t: 1,
      s: S,
      cos,
      sin,
      allowed,
      cache: { k: cache.k, v: cache.v, write },
    });
    const logits = head(p, out.h);
    tree.dispose(p);
    return { logits, k: out.k, v: out.v };
  };
}
