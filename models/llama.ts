// A decoder-only transformer in the Llama layout (RMSNorm, RoPE in HF's rotate_half convention
// with Llama-3's optional frequency rescaling, grouped-query causal attention, SwiGLU MLP,
// optional tied head, optional Qwen2 q/k/v biases) on @jax-js/jax, for training LMs in-process.
// Parameters are keyed by Hugging Face tensor names. Scoring lives here too; KV-cached sampling is models/sampling.ts, built on the exported layers.

import { jit, nn, numpy as np, tree } from "@jax-js/jax";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { hashString, rng } from "../lib/rng.ts";
import {
  type LlamaConfig,
  llamaWeightShapes,
  resolveLlamaConfig,
  ropeInverseFrequencies,
  type RopeScaling,
} from "./onnx/llama.ts";

/**
 * A Llama or Qwen2 architecture: the HF config fields of {@link LlamaConfig} plus which family
 * it is and whether q/k/v projections carry biases (always for qwen2; `attention_bias` for llama).
 */
export interface LlamaModelConfig extends LlamaConfig {
  readonly model_type?: "llama" | "qwen2";
  readonly attention_bias?: boolean;
}

/** Parameters by Hugging Face tensor name; Linear weights are [out, in] as in HF checkpoints. */
export type LlamaParams = { [name: string]: np.Array };

/**
 * Token ids [B, T] (int32), optionally a padding mask [B, T] (1 = real token, 0 = pad; padded
 * keys are never attended) and position ids [B, T] (int32; default 0..T−1 in every row, which is
 * right for right padding; left padding needs positions counted from each row's first real token).
 */
export type TokenBatch = { tokens: np.Array; attnMask?: np.Array; positions?: np.Array };

/** Options naming the architecture, shared by the pure functions below. */
export interface ConfigOption {
  readonly config: LlamaModelConfig;
}

/** Whether q/k/v projections have biases (Qwen2, or Llama with attention_bias). */
export function hasAttentionBias(config: LlamaModelConfig): boolean {
  return config.model_type === "qwen2" || config.attention_bias === true;
}

/** Every parameter's HF name → shape (the ONNX exporter's list plus q/k/v biases when present). */
export function llamaParamShapes(config: LlamaModelConfig): Map<string, number[]> {
  const c = resolveLlamaConfig(config);
  const shapes = llamaWeightShapes(c);
  if (hasAttentionBias(config)) {
    const q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const p = `model.layers.${i}.self_attn`;
      shapes.set(`${p}.q_proj.bias`, [q]);
      shapes.set(`${p}.k_proj.bias`, [kv]);
      shapes.set(`${p}.v_proj.bias`, [kv]);
    }
  }
  return shapes;
}

/**
 * Deterministic initialisation as HF's LlamaPreTrainedModel does it: N(0, std²) for embeddings
 * and Linear weights (std = initializer_range, 0.02 by default), norm gains 1, biases 0. Drawn in
 * JavaScript from `seed` (one stream per tensor name), so every device gets the same weights.
 *
 * @example
 * const params = initLlama(config, { seed: 0 });
 */
export function initLlama(
  config: LlamaModelConfig,
  opts: { seed: number; std?: number; dtype?: np.DType },
): LlamaParams {
  const std = opts.std ?? 0.02;
  const params: LlamaParams = {};
  for (const [name, shape] of llamaParamShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(n);
    if (shape.length === 1) data.fill(name.endsWith(".bias") ? 0 : 1);
    else {
      const r = rng(opts.seed, hashString(name));
      for (let i = 0; i < n; i += 2) {
        // Box–Muller: two normals per pair of uniforms (1 − u keeps the log finite).
        const rad = Math.sqrt(-2 * Math.log(1 - r.next())), th = 2 * Math.PI * r.next();
        data[i] = std * rad * Math.cos(th);
        if (i + 1 < n) data[i + 1] = std * rad * Math.sin(th);
      }
    }
    params[name] = arrayOf(data, { shape, dtype: opts.dtype ?? np.float32 });
  }
  return params;
}

/** Parameters from named float32 tensors (as read from safetensors), checked against the config. */
export function paramsFromWeights(
  weights: ReadonlyMap<string, Float32Array | Float64Array>,
  opts: ConfigOption & { dtype?: np.DType },
): LlamaParams {
  const params: LlamaParams = {};
  for (const [name, shape] of llamaParamShapes(opts.config)) {
    const w = weights.get(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!w || w.length !== n) {
      tree.dispose(params);
      throw new ValidationError(
        "llama weights",
        `${name} ${w ? `has ${w.length} values, want [${shape}]` : "is missing"}`,
      );
    }
    params[name] = arrayOf(w, { shape, dtype: opts.dtype ?? np.float32 });
  }
  return params;
}

/** Copies the parameters out as float32 tensors by HF name (does not consume `params`). */
export async function weightsOf(params: LlamaParams): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const name of Object.keys(params).sort()) {
    const d = await params[name].ref.data();
    out.set(name, d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>));
  }
  return out;
}

/** Number of parameters (tied embeddings counted once). */
export function countParams(config: LlamaModelConfig): number {
  let n = 0;
  for (const s of llamaParamShapes(config).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

function arrayOf(data: ArrayLike<number>, o: { shape: number[]; dtype: np.DType }): np.Array {
  const { shape, dtype } = o;
  const typed = dtype === np.float64 ? Float64Array.from(data) : Float32Array.from(data);
  return np.array(typed as Float32Array<ArrayBuffer>, { dtype }).reshape(shape);
}

// ---- the forward pass (pure functions: they consume their Array arguments) ----

/**
 * cos/sin of the RoPE angles pos·f_k, f_k = θ^(−2k/D) for k < D/2 (rescaled for Llama-3's
 * rope_scaling), duplicated to width D (HF's layout).
 */
const ropeCache = new Map<string, { cos: Float64Array; sin: Float64Array }>();

/** RoPE tables [n, D] computed in float64 on the host: wasm's sin/cos err by ~2e-5 at pos ~300. */
function ropeTables(o: { n: number; d: number; theta: number; scaling?: RopeScaling | null }) {
  const { n, d, theta } = o;
  const key = `${n}:${d}:${theta}:${JSON.stringify(o.scaling ?? null)}`;
  let t = ropeCache.get(key);
  if (!t) {
    const inv = ropeInverseFrequencies({ head_dim: d, rope_theta: theta, rope_scaling: o.scaling });
    const cos = new Float64Array(n * d), sin = new Float64Array(n * d);
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < d / 2; k++) {
        const a = p * inv[k];
        cos[p * d + k] = cos[p * d + k + d / 2] = Math.cos(a);
        sin[p * d + k] = sin[p * d + k + d / 2] = Math.sin(a);
      }
    }
    t = { cos, sin };
    ropeCache.set(key, t);
  }
  return t;
}

/** One-hot rows [..., n] of int32 ids [...], in `dtype`. Consumes `ids`. */
export function oneHot(ids: np.Array, o: { n: number; dtype: np.DType }): np.Array {
  return ids.reshape([...ids.shape, 1]).equal(np.arange(o.n, undefined, 1, { dtype: np.int32 }))
    .astype(o.dtype);
}

/**
 * cos and sin [Bc, T, 1, D] for positions [B, T] (one-hot rows of an n-row table: exact, works
 * under jit on every device), or for 0..T−1 when `positions` is absent (Bc = 1). `scaling` is the
 * config's rope_scaling (Llama-3's frequency rescaling); callers must pass it for such configs.
 * Consumes `positions`.
 */
export function ropeFor(
  positions: np.Array | undefined,
  dims: {
    n: number;
    t: number;
    d: number;
    theta: number;
    /** The config's rope_scaling (null without); required so no caller can forget it. */
    scaling: RopeScaling | null | undefined;
    dtype: np.DType;
  },
): [np.Array, np.Array] {
  const { n, t, d, dtype } = dims;
  const tab = ropeTables({ n, d, theta: dims.theta, scaling: dims.scaling });
  const cos = arrayOf(tab.cos, { shape: [n, d], dtype });
  const sin = arrayOf(tab.sin, { shape: [n, d], dtype });
  if (!positions) {
    return [cos.slice([0, t]).reshape([1, t, 1, d]), sin.slice([0, t]).reshape([1, t, 1, d])];
  }
  const b = positions.shape[0];
  const oh = oneHot(positions.reshape([b * t]), { n, dtype });
  return [
    np.matmul(oh.ref, cos).reshape([b, t, 1, d]),
    np.matmul(oh, sin).reshape([b, t, 1, d]),
  ];
}

/** x·cos + rotate_half(x)·sin on [B, T, heads, D], rotate_half(x) = [−x2, x1]. */
function rope(x: np.Array, t: { cos: np.Array; sin: np.Array }): np.Array {
  const d = x.shape[3], half = d / 2;
  const x1 = x.ref.slice([], [], [], [0, half]), x2 = x.ref.slice([], [], [], [half, d]);
  return x.mul(t.cos).add(np.concatenate([x2.neg(), x1], -1).mul(t.sin));
}

/** x / sqrt(mean(x²) + eps) · w over the last axis. */
function rmsNorm(x: np.Array, n: { w: np.Array; eps: number }): np.Array {
  const ms = x.ref.mul(x.ref).mean(-1, { keepdims: true });
  return x.div(np.sqrt(ms.add(n.eps))).mul(n.w);
}

/** x [n, in] @ W[out, in]ᵀ: HF's layout needs no transposed copy (measured as fast as [in, out]). */
function linear(x: np.Array, w: np.Array): np.Array {
  return np.matmul(x, w.transpose());
}

/** What the layers need besides the weights; `cache` switches on one-token decoding. */
export interface LayerInputs {
  config: LlamaModelConfig;
  b: number;
  t: number;
  /** Key positions attended over: T without a cache, the cache length with one. */
  s: number;
  cos: np.Array;
  sin: np.Array;
  /** Which keys each query may see: bool, broadcastable to [B, KV, G, T, S]. */
  allowed: np.Array;
  /** Decoding: per-layer K/V caches [B, KV, S, D] and where to write this step, [B, 1, S, 1]. */
  cache?: { k: np.Array[]; v: np.Array[]; write: np.Array };
  /** Mix each layer's head outputs with counterfactual ones before o_proj (see {@link HeadPatch}). */
  patch?: HeadPatch;
  /** Also return each layer's (unpatched) head outputs [B·T, NH·D] as `heads`. */
  captureHeads?: boolean;
}

/**
 * Per-head activation patching, for circuit discovery (evals/circuits.ts): in layer l the
 * attention's head outputs a [B·T, NH·D] (the concatenated heads o_proj reads) become
 * (1 − m[l, h])·cf[l] + m[l, h]·a for each head h, so m = 1 keeps the clean head, m = 0
 * substitutes the counterfactual (or mean) activation; differentiable in `mask`.
 */
export interface HeadPatch {
  /** m [layers, NH] in [0, 1]. */
  mask: np.Array;
  /** Per layer, the replacement head outputs [B·T, NH·D] (e.g. captured on corrupted tokens). */
  cf: np.Array[];
}

/** (1 − m)·cf + m·a per head: a and cf [n, NH·D], m [NH]. Consumes its arguments. */
function patchHeads(a: np.Array, o: { cf: np.Array; m: np.Array }): np.Array {
  const [n, width] = a.shape, nh = o.m.shape[0];
  const m = o.m.reshape([1, nh, 1]);
  const mixed = o.cf.reshape([n, nh, width / nh]).mul(m.ref.neg().add(1))
    .add(a.reshape([n, nh, width / nh]).mul(m));
  return mixed.reshape([n, width]);
}

/**
 * The decoder stack up to the final norm: hidden states [B·T, H], and each layer's keys and
 * values [B, KV, S, D] after RoPE (the updated caches when decoding). Consumes `x` and the
 * arrays in `io`; borrows `params`.
 */
export function decoder(
  params: LlamaParams,
  x: np.Array,
  io: LayerInputs,
): { h: np.Array; k: np.Array[]; v: np.Array[]; heads?: np.Array[] } {
  const c = resolveLlamaConfig(io.config), eps = c.rms_norm_eps;
  const D = c.head_dim, NH = c.num_attention_heads, KV = c.num_key_value_heads, G = NH / KV;
  const { b: B, t: T, s: S } = io;
  const w = (name: string) => params[name].ref;
  const rt = () => ({ cos: io.cos.ref, sin: io.sin.ref });
  const ks: np.Array[] = [], vs: np.Array[] = [], heads: np.Array[] = [];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const xn = rmsNorm(x.ref, { w: w(`${p}.input_layernorm.weight`), eps });
    const proj = (n: string, heads: number) => {
      const y = linear(xn.ref, w(`${p}.self_attn.${n}.weight`));
      const b = params[`${p}.self_attn.${n}.bias`]; // Qwen2
      return (b ? y.add(b.ref) : y).reshape([B, T, heads, D]);
    };
    const q = rope(proj("q_proj", NH), rt());
    let k = rope(proj("k_proj", KV), rt()).transpose([0, 2, 1, 3]);
    let v = proj("v_proj", KV).transpose([0, 2, 1, 3]); // [B, KV, T, D]
    xn.dispose();
    if (io.cache) {
      // Write this step's key/value into each row's slot; the caches keep a fixed shape.
      k = np.where(io.cache.write.ref, k, io.cache.k[l]);
      v = np.where(io.cache.write.ref, v, io.cache.v[l]);
    }
    ks.push(k.ref);
    vs.push(v.ref);
    // Query head h uses kv head ⌊h/G⌋: split NH into (KV, G) and broadcast K/V over G.
    const qh = q.transpose([0, 2, 1, 3]).reshape([B, KV, G, T, D]).mul(1 / Math.sqrt(D));
    const scores = np.matmul(qh, k.transpose([0, 1, 3, 2]).reshape([B, KV, 1, D, S]));
    const probs = nn.softmax(np.where(io.allowed.ref, scores, -1e9), -1);
    const att5 = np.matmul(probs, v.reshape([B, KV, 1, S, D])); // [B, KV, G, T, D]
    // Heads back to [B·T, NH·D]: this transposed view read straight by the o_proj matmul makes
    // jax-js 0.1.25 index it like a gather (no SIMD; 0.4 GFLOP/s, 150 ms per layer in a forward
    // pass), so copy it to a contiguous buffer first; −(−x) is an exact copy jax-js does not
    // simplify away.
    let att = np.negative(np.negative(
      att5.reshape([B, NH, T, D]).transpose([0, 2, 1, 3]).reshape([B * T, NH * D]),
    ));
    if (io.captureHeads) heads.push(att.ref);
    if (io.patch) {
      const m = io.patch.mask.ref.slice([l, l + 1]).reshape([NH]);
      att = patchHeads(att, { cf: io.patch.cf[l], m });
    }
    x = x.add(linear(att, w(`${p}.self_attn.o_proj.weight`)));
    const hn = rmsNorm(x.ref, { w: w(`${p}.post_attention_layernorm.weight`), eps });
    const gate = linear(hn.ref, w(`${p}.mlp.gate_proj.weight`));
    const up = linear(hn, w(`${p}.mlp.up_proj.weight`));
    const act = gate.ref.mul(nn.sigmoid(gate)).mul(up); // SiLU(gate) · up
    x = x.add(linear(act, w(`${p}.mlp.down_proj.weight`)));
  }
  io.cos.dispose();
  io.sin.dispose();
  io.allowed.dispose();
  io.cache?.write.dispose();
  io.patch?.mask.dispose();
  const h = rmsNorm(x, { w: w("model.norm.weight"), eps });
  return io.captureHeads ? { h, k: ks, v: vs, heads } : { h, k: ks, v: vs };
}

/**
 * Token embeddings [n, H] of ids [n]: one-hot × table (jax-js cannot jit the gradient of take).
 * The pad + slice is a no-op forward; backward it turns into a pad of the embedding's gradient,
 * which jax-js 0.1.25 must materialise. Without it the table's gradient (onehotᵀ · dx) fuses the
 * whole RMSNorm backward into its reduction loop and runs ~50× slower than a matmul (0.9 s of a
 * 1.4 s step at 1M parameters, 32 × 64 tokens).
 */
export function embed(params: LlamaParams, ids: np.Array): np.Array {
  const table = params["model.embed_tokens.weight"];
  const oh = oneHot(ids, { n: table.shape[0], dtype: table.dtype });
  const n = oh.shape[0];
  return np.pad(np.matmul(oh, table.ref), [[0, 1], [0, 0]]).slice([0, n]);
}

/** Logits [n, V] of final hidden states [n, H] (the embedding table when tied). Consumes `h`. */
export function head(params: LlamaParams, h: np.Array): np.Array {
  return linear(h, (params["lm_head.weight"] ?? params["model.embed_tokens.weight"]).ref);
}

/** The parameters' float dtype (that of the embedding table). */
export function dtypeOf(params: LlamaParams): np.DType {
  return params["model.embed_tokens.weight"].dtype;
}

/**
 * Runs the stack on a batch; returns final hidden states [B·T, H] (and the head outputs when
 * `captureHeads`). Consumes the batch and `patch`.
 */
function hiddenStates(
  params: LlamaParams,
  batch: TokenBatch,
  opts: ConfigOption & { patch?: HeadPatch; captureHeads?: boolean },
): { h: np.Array; heads?: np.Array[] } {
  const config = opts.config, c = resolveLlamaConfig(config);
  const [B, T] = batch.tokens.shape;
  if (T > c.max_position_embeddings) {
    throw new UsageError(
      `llama: ${T} tokens exceed max_position_embeddings ${c.max_position_embeddings}`,
    );
  }
  const dtype = dtypeOf(params);
  const [cos, sin] = ropeFor(batch.positions, {
    n: T,
    t: T,
    d: c.head_dim,
    theta: c.rope_theta,
    scaling: c.rope_scaling,
    dtype,
  });
  let allowed = np.tri(T, T, 0, { dtype: np.bool }).reshape([1, 1, 1, T, T]);
  if (batch.attnMask) {
    allowed = np.logicalAnd(allowed, batch.attnMask.reshape([B, 1, 1, 1, T]).greater(0));
  }
  const x = embed(params, batch.tokens.reshape([B * T]));
  const { patch, captureHeads } = opts;
  const out = decoder(params, x, {
    config,
    b: B,
    t: T,
    s: T,
    cos,
    sin,
    allowed,
    patch,
    captureHeads,
  });
  for (const a of [...out.k, ...out.v]) a.dispose();
  return { h: out.h, heads: out.heads };
}

/**
 * Logits [B, T, V]: position t scores the token after tokens[:, ≤t]. Consumes `params` and
 * `batch` (pass `tree.ref(params)` to keep them).
 */
export function llamaForward(params: LlamaParams, batch: TokenBatch, opts: ConfigOption): np.Array {
  const [B, T] = batch.tokens.shape;
  const logits = head(params, hiddenStates(params, batch, { config: opts.config }).h);
  tree.dispose(params);
  return logits.reshape([B, T, opts.config.vocab_size]);
}

/**
 * {@link llamaForward} with per-head patching and capture: logits [B, T, V] computed with the
 * head outputs of `patch` mixed in (see {@link HeadPatch}), and with `capture`, every layer's
 * clean head outputs [B·T, NH·D] before patching (a forward on counterfactual tokens with
 * `capture` and no `patch` gives the `cf` of a later patch). Without `patch` the logits are
 * llamaForward's. Consumes `params`, `batch` and `patch`.
 */
export function llamaForwardHeads(
  params: LlamaParams,
  batch: TokenBatch,
  opts: ConfigOption & { patch?: HeadPatch; capture?: boolean },
): { logits: np.Array; heads: np.Array[] } {
  const [B, T] = batch.tokens.shape;
  const out = hiddenStates(params, batch, {
    config: opts.config,
    patch: opts.patch,
    captureHeads: opts.capture,
  });
  const logits = head(params, out.h);
  tree.dispose(params);
  return { logits: logits.reshape([B, T, opts.config.vocab_size]), heads: out.heads ?? [] };
}

/**
 * Next-token log-probabilities [B, T, V] aligned with the tokens: row t is log π(· | tokens[<t])
 * (the distribution token t was drawn from), computed from logits / temperature; row 0 is 0.
 * Consumes `params` and `batch`.
 */
export function nextTokenLogProbs(
  params: LlamaParams,
  batch: TokenBatch,
  opts: ConfigOption & { temperature?: number },
): np.Array {
  const logits = llamaForward(params, batch, opts);
  const [B, T, V] = logits.shape;
  const scaled = opts.temperature && opts.temperature !== 1
    ? logits.mul(1 / opts.temperature)
    : logits;
  const lp = nn.logSoftmax(scaled.slice([], [0, T - 1]), -1);
  return np.concatenate([np.zeros([B, 1, V], { dtype: lp.dtype }), lp], 1);
}

/**
 * Per-token log-probabilities [B, T]: entry t = log π(tokens[t] | tokens[<t]) for t ≥ 1, 0 at
 * t = 0, multiplied by `targetsMask` [B, T] when given. Consumes its Array arguments.
 */
export function tokenLogProbs(
  params: LlamaParams,
  batch: TokenBatch,
  opts: ConfigOption & { targetsMask?: np.Array; temperature?: number },
): np.Array {
  const tokens = batch.tokens.ref;
  const lp = nextTokenLogProbs(params, batch, opts);
  const picked = lp.mul(oneHot(tokens, { n: opts.config.vocab_size, dtype: lp.dtype })).sum(-1);
  return opts.targetsMask ? picked.mul(opts.targetsMask) : picked;
}

/**
 * Exact per-token KL(P‖Q) [B, T] between two models on the same tokens: entry t =
 * Σ_v P(v | tokens[<t]) (log P − log Q)(v | tokens[<t]) for t ≥ 1, 0 at t = 0, times
 * `targetsMask` when given. Summed over a completion's positions this is docs/metrics.md's sequence
 * KL(π0‖π) for one sample y ∼ π0 (pass π0 as P). Consumes its Array arguments.
 */
export function exactKlPerToken(
  pair: readonly [LlamaParams, LlamaParams],
  batch: TokenBatch,
  opts: ConfigOption & { targetsMask?: np.Array },
): np.Array {
  const lpP = nextTokenLogProbs(pair[0], tree.ref(batch), opts);
  const lpQ = nextTokenLogProbs(pair[1], batch, opts);
  const kl = np.exp(lpP.ref).mul(lpP.sub(lpQ)).sum(-1);
  return opts.targetsMask ? kl.mul(opts.targetsMask) : kl;
}

// ---- host-side helpers: padding, compiled programs, scoring ----

/**
 * The padded length of `n` tokens, so that varying lengths share a few compiled programs and
 * buffer sizes: up to 256, a multiple of `m` (8 or 16); beyond, the next of 384, 512, 768, 1024,
 * 1536, 2048, … (powers of two and 1.5 times them; at most 50% padding). Few distinct long
 * shapes matter on wasm, whose allocator reuses a freed buffer only for the same size.
 */
export function bucket(n: number, m: number): number {
  if (n <= 256) return Math.ceil(n / m) * m;
  for (let p = 256;; p *= 2) {
    if (n <= p * 1.5) return p * 1.5;
    if (n <= p * 2) return p * 2;
  }
}

/**
 * Right-pads token lists into a TokenBatch of `length` columns (default: the longest, rounded up
 * to a multiple of 8) with `padId` (default 0) and the matching padding mask; `rows` (default:
 * one per list) adds all-padding rows so that a last, short chunk keeps the compiled shape.
 */
export function padBatch(
  seqs: readonly (readonly number[])[],
  opts: { length?: number; padId?: number; rows?: number } = {},
): TokenBatch {
  const T = opts.length ?? bucket(Math.max(1, ...seqs.map((s) => s.length)), 8);
  const B = opts.rows ?? seqs.length;
  const tokens = new Int32Array(B * T).fill(opts.padId ?? 0), mask = new Float32Array(B * T);
  seqs.forEach((s, i) => {
    if (s.length > T) throw new UsageError(`padBatch: sequence ${i} has ${s.length} > ${T} tokens`);
    tokens.set(s, i * T);
    mask.fill(1, i * T, i * T + s.length);
  });
  return {
    tokens: np.array(tokens, { dtype: np.int32 }).reshape([B, T]),
    attnMask: np.array(mask).reshape([B, T]),
  };
}

/**
 * Bytes of activations one forward pass over a batch may take (attention scores, logits, MLP):
 * evaluation, KL and sampling split their batches to stay within it, so long prompts (a
 * ToolAlpaca API's documentation, MMLU's five shots) do not exhaust memory (wasm has 4 GiB).
 */
export const ACTIVATION_BUDGET = 64 * 2 ** 20;

/**
 * Rows per forward pass of sequences padded to `T` tokens: `wanted`, or fewer (at least 1) so
 * that the per-row estimate, 4 bytes × T × (2·heads·T attention scores and weights + 3·vocab
 * logits and log-probabilities + 4·intermediate + 8·hidden), times the rows fits `budget`.
 */
export function rowsWithin(
  config: LlamaModelConfig,
  T: number,
  wanted: number,
  budget = ACTIVATION_BUDGET,
): number {
  const c = resolveLlamaConfig(config);
  const perRow = 4 * T *
    (2 * c.num_attention_heads * T + 3 * c.vocab_size + 4 * c.intermediate_size +
      8 * c.hidden_size);
  return Math.max(1, Math.min(wanted, Math.floor(budget / perRow)));
}

/** jit-compiled programs per architecture and kind, made on first use and kept. */
const programs = new Map<string, unknown>();

/**
 * The jit-compiled `make()` under `key`, compiled on first use and kept for the process (so the
 * key must name everything the program's shapes and constants depend on; see {@link configKey}).
 */
// deno-lint-ignore no-explicit-any -- jit's own constraint on the functions it compiles
export function program<F extends (...args: any[]) => any>(key: string, make: () => F): F {
  if (!programs.has(key)) programs.set(key, jit(make()));
  return programs.get(key) as F;
}

/** A stable key for an architecture (its resolved config), for {@link program} keys. */
export function configKey(config: LlamaModelConfig): string {
  return JSON.stringify(Object.entries(resolveLlamaConfig(config)).sort());
}

/**
 * log π(seq[t] | seq[<t]) for every sequence and t ≥ 1 (entry 0 is 0), in fixed-size padded
 * batches of `batchSize` (default 16). `temperature` scales the logits as sampling did. Borrows
 * `params`.
 */
export async function scoreTokens(
  params: LlamaParams,
  seqs: readonly (readonly number[])[],
  opts: ConfigOption & { temperature?: number; batchSize?: number },
): Promise<number[][]> {
  const t = opts.temperature ?? 1;
  const f = program(
    `score:${configKey(opts.config)}:${t}`,
    () => (p: LlamaParams, b: TokenBatch) =>
      tokenLogProbs(p, b, { config: opts.config, temperature: t }),
  );
  return await inBatches(
    seqs,
    { size: opts.batchSize ?? 16, config: opts.config },
    async (b) => await f(tree.ref(params), b),
  );
}

/**
 * Exact per-token KL(P‖Q) along each sequence, aligned as {@link scoreTokens} (entry t is the
 * KL of the distributions token t was drawn from). Borrows both parameter sets.
 */
export async function scoreKl(
  pair: readonly [LlamaParams, LlamaParams],
  seqs: readonly (readonly number[])[],
  opts: ConfigOption & { batchSize?: number },
): Promise<number[][]> {
  const f = program(
    `kl:${configKey(opts.config)}`,
    () => (p: LlamaParams, q: LlamaParams, b: TokenBatch) =>
      exactKlPerToken([p, q], b, { config: opts.config }),
  );
  return await inBatches(
    seqs,
    { size: opts.batchSize ?? 16, config: opts.config },
    async (b) => await f(tree.ref(pair[0]), tree.ref(pair[1]), b),
  );
}

/**
 * {@link scoreKl} and the second model's {@link scoreTokens} (temperature 1) from one pass: the
 * KL's forward of Q is the one log Q(seq[t] | seq[<t]) is read from, so an RL rollout gets its
 * KL column and π_old (Q = the policy) for the price of the KL alone. Borrows both parameter sets.
 */
export async function scoreKlAndTokens(
  pair: readonly [LlamaParams, LlamaParams],
  seqs: readonly (readonly number[])[],
  opts: ConfigOption & { batchSize?: number },
): Promise<{ kl: number[][]; logProbs: number[][] }> {
  const V = opts.config.vocab_size;
  const f = program(
    `kl+lp:${configKey(opts.config)}`,
    () => (p: LlamaParams, q: LlamaParams, b: TokenBatch) => {
      const tokens = b.tokens.ref;
      const lpP = nextTokenLogProbs(p, tree.ref(b), opts);
      const lpQ = nextTokenLogProbs(q, b, opts);
      const picked = lpQ.ref.mul(oneHot(tokens, { n: V, dtype: lpQ.dtype })).sum(-1);
      const kl = np.exp(lpP.ref).mul(lpP.sub(lpQ)).sum(-1);
      return np.stack([kl, picked]);
    },
  );
  const both = await inBatches(
    seqs,
    { size: opts.batchSize ?? 16, config: opts.config, outputs: 2 },
    async (b) => await f(tree.ref(pair[0]), tree.ref(pair[1]), b),
  );
  return { kl: both.slice(0, seqs.length), logProbs: both.slice(seqs.length) };
}

/**
 * Runs `fn` on padded chunks of `size` rows (fewer where long sequences would exceed the
 * activation budget) and unpacks its [rows, T] result per sequence.
 */
async function inBatches(
  seqs: readonly (readonly number[])[],
  opts: { size: number; config: LlamaModelConfig; outputs?: number },
  fn: (b: TokenBatch) => Promise<np.Array>,
): Promise<number[][]> {
  // With `outputs` k, fn returns [k, rows, T]: the result is output 0's rows, then output 1's...
  const T = bucket(Math.max(1, ...seqs.map((s) => s.length)), 8), k = opts.outputs ?? 1;
  const out: number[][][] = Array.from({ length: k }, () => []);
  const size = rowsWithin(opts.config, T, opts.size);
  for (let s = 0; s < seqs.length; s += size) {
    const chunk = seqs.slice(s, s + size);
    const d = await (await fn(padBatch(chunk, { length: T, rows: size }))).data();
    for (let o = 0; o < k; o++) {
      chunk.forEach((q, i) => {
        const at = (o * size + i) * T;
        out[o].push(Array.from(d.subarray(at, at + q.length)));
      });
    }
  }
  return out.flat();
}

/**
 * log π(· | prompt) for the token after each prompt: a row of `vocab_size` log-probabilities per
 * prompt, row-major [prompts × V] (what a one-token answer is drawn from). Borrows `params`.
 */
export async function answerLogProbs(
  params: LlamaParams,
  prompts: readonly (readonly number[])[],
  opts: ConfigOption & { batchSize?: number },
): Promise<Float32Array> {
  const V = opts.config.vocab_size;
  const f = program(
    `next:${configKey(opts.config)}`,
    () => (p: LlamaParams, b: TokenBatch) => nextTokenLogProbs(p, b, { config: opts.config }),
  );
  // Append one pad token: the distribution at that position is the one after the prompt.
  const seqs = prompts.map((p) => [...p, 0]);
  const T = bucket(Math.max(1, ...seqs.map((s) => s.length)), 8);
  const size = rowsWithin(opts.config, T, opts.batchSize ?? 16);
  const out = new Float32Array(prompts.length * V);
  for (let s = 0; s < seqs.length; s += size) {
    const chunk = seqs.slice(s, s + size);
    const d = await (await f(tree.ref(params), padBatch(chunk, { length: T, rows: size }))).data();
    chunk.forEach((q, i) => {
      const at = (i * T + q.length - 1) * V;
      out.set(d.subarray(at, at + V), (s + i) * V);
    });
  }
  return out;
}
