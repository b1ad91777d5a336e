/**
 * A small GPT-2 style transformer language model in jax-js, used only as a
 * performance benchmark for the training engine (see bench/train_step.ts and
 * docs/benchmarks.md). It mirrors bench/torch_reference.py op for op so that the
 * time per Adam train step can be compared with PyTorch on CPU.
 *
 * Block: pre-LayerNorm, causal multi-head self-attention, tanh-GELU MLP,
 * learned positional embedding, untied output head without bias. Init is
 * GPT-2's: N(0, 0.02) weights, zero biases, LayerNorm gain 1 / bias 0.
 *
 * Memory model: every function here consumes (disposes) its Array arguments,
 * following jax-js's reference-counting convention.
 */
import { nn, numpy as np, random, tree } from "@jax-js/jax";
import {
  initTrainState as initOptimState,
  makeTrainStep as makeOptimStep,
  type TrainState as OptimState,
} from "../models/optim.ts";

export type TransformerConfig = {
  vocab: number;
  seqLen: number;
  dModel: number;
  nHeads: number;
  dHidden: number;
  nLayers: number;
};

/** The reference configuration of docs/benchmarks.md (~417k parameters). */
export const REFERENCE_CONFIG: TransformerConfig = {
  vocab: 64,
  seqLen: 32,
  dModel: 128,
  nHeads: 4,
  dHidden: 512,
  nLayers: 2,
};

/**
 * Formulation switches, used for profiling. None was measurably faster than
 * the default (fused QKV, attention written out); see docs/benchmarks.md.
 * - qkv: "fused" = one [D, 3D] projection; "separate" = three [D, D] ones.
 * - attention: "manual" = matmul/mask/softmax written out here;
 *   "sdpa" = nn.dotProductAttention(..., { isCausal: true }).
 *
 * Token embedding is one-hot(tokens) @ table: it works on every device, and the
 * gradient of np.take (a scatter) cannot be jitted in jax-js 0.1.25
 * ("jit: routine primitive scatter input is not imm").
 */
export type Variant = {
  qkv: "fused" | "separate";
  attention: "manual" | "sdpa";
};

export const DEFAULT_VARIANT: Variant = { qkv: "fused", attention: "manual" };

export type Block = Record<string, np.Array>;
export type Params = {
  wte: np.Array; // [vocab, d]
  wpe: np.Array; // [seqLen, d]
  blocks: Block[];
  lnfG: np.Array;
  lnfB: np.Array;
  head: np.Array; // [d, vocab], no bias
};

/** Parameter count from the config alone (same for both qkv layouts). */
export function paramCountFormula(c: TransformerConfig): number {
  const d = c.dModel, h = c.dHidden;
  const perBlock = 2 * d + // ln1
    (3 * d * d + 3 * d) + // q, k, v projections
    (d * d + d) + // attention output projection
    2 * d + // ln2
    (d * h + h) + (h * d + d); // MLP
  return c.vocab * d + c.seqLen * d + c.nLayers * perBlock + 2 * d + d * c.vocab;
}

export function countParams(params: Params): number {
  return tree.leaves(params).reduce((n, x) => n + x.size, 0);
}

/** Initialize parameters deterministically from `seed` with jax-js `random`. */
export function initTransformer(
  c: TransformerConfig,
  seed: number,
  variant: Partial<Variant> = {},
): Params {
  const v = { ...DEFAULT_VARIANT, ...variant };
  const d = c.dModel, h = c.dHidden;
  const keys = random.split(random.key(seed), 3 + 6 * c.nLayers);
  let k = 0;
  const w = (shape: number[]) => random.normal(keys.ref.slice(k++), shape).mul(0.02);
  const zeros = (n: number) => np.zeros([n]);
  const ones = (n: number) => np.ones([n]);
  const blocks: Block[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const attn: Block = v.qkv === "fused"
      ? { wqkv: np.concatenate([w([d, d]), w([d, d]), w([d, d])], 1), bqkv: zeros(3 * d) }
      : { wq: w([d, d]), bq: zeros(d), wk: w([d, d]), bk: zeros(d), wv: w([d, d]), bv: zeros(d) };
    blocks.push({
      ln1G: ones(d),
      ln1B: zeros(d),
      ...attn,
      wo: w([d, d]),
      bo: zeros(d),
      ln2G: ones(d),
      ln2B: zeros(d),
      w1: w([d, h]),
      b1: zeros(h),
      w2: w([h, d]),
      b2: zeros(d),
    });
  }
  const params: Params = {
    wte: w([c.vocab, d]),
    wpe: w([c.seqLen, d]),
    blocks,
    lnfG: ones(d),
    lnfB: zeros(d),
    head: w([d, c.vocab]),
  };
  keys.dispose();
  return params;
}

function layerNorm(x: np.Array, g: np.Array, b: np.Array): np.Array {
  const mu = x.ref.mean(-1, { keepdims: true });
  const xc = x.sub(mu);
  const variance = xc.ref.mul(xc.ref).mean(-1, { keepdims: true });
  return xc.div(np.sqrt(variance.add(1e-5))).mul(g).add(b);
}

/** x: [n, in] @ w: [in, out] + b. */
function linear(x: np.Array, w: np.Array, b: np.Array): np.Array {
  return np.matmul(x, w).add(b);
}

function oneHot(tokens: np.Array, n: number): np.Array {
  return tokens.reshape([...tokens.shape, 1]).equal(np.arange(n, undefined, 1, { dtype: np.int32 }))
    .astype(np.float32);
}

/** Causal self-attention on x: [B*T, D] (already layer-normed). */
function attention(
  x: np.Array,
  p: Block,
  c: TransformerConfig,
  batch: number,
  v: Variant,
): np.Array {
  const T = c.seqLen, N = c.nHeads, Dh = c.dModel / c.nHeads;
  let q: np.Array, k: np.Array, val: np.Array;
  if (v.qkv === "fused") {
    // [B*T, 3D] -> [B, T, 3, N, Dh]; split on axis 2
    const qkv = linear(x, p.wqkv.ref, p.bqkv.ref).reshape([batch, T, 3, N, Dh]);
    [q, k, val] = [0, 1, 2].map((i) => qkv.ref.slice([], [], i));
    qkv.dispose();
  } else {
    const proj = (w: np.Array, b: np.Array) => linear(x.ref, w, b).reshape([batch, T, N, Dh]);
    [q, k, val] = [proj(p.wq.ref, p.bq.ref), proj(p.wk.ref, p.bk.ref), proj(p.wv.ref, p.bv.ref)];
    x.dispose();
  }
  let out: np.Array; // [B, T, N, Dh]
  if (v.attention === "sdpa") {
    out = nn.dotProductAttention(q, k, val, { isCausal: true });
  } else {
    const qh = q.transpose([0, 2, 1, 3]); // [B, N, T, Dh]
    const kt = k.transpose([0, 2, 3, 1]); // [B, N, Dh, T]
    const vh = val.transpose([0, 2, 1, 3]); // [B, N, T, Dh]
    const scores = np.matmul(qh, kt).mul(1 / Math.sqrt(Dh));
    const causal = np.tri(T, T, 0, { dtype: np.bool });
    const att = nn.softmax(np.where(causal, scores, -Infinity), -1);
    out = np.matmul(att, vh).transpose([0, 2, 1, 3]);
  }
  return out.reshape([batch * T, c.dModel]);
}

/** Logits [B*T, vocab] for tokens [B, T] (int32). */
export function transformerForward(
  p: Params,
  tokens: np.Array,
  c: TransformerConfig,
  variant: Partial<Variant> = {},
): np.Array {
  const v = { ...DEFAULT_VARIANT, ...variant };
  const [B, T] = tokens.shape;
  const tok = np.matmul(oneHot(tokens.reshape([B * T]), c.vocab), p.wte.ref);
  // Add positional embedding by broadcasting over the batch.
  let x = tok.reshape([B, T, c.dModel]).add(p.wpe.ref.slice([0, T])).reshape([B * T, c.dModel]);
  for (const blk of p.blocks) {
    const a = attention(layerNorm(x.ref, blk.ln1G.ref, blk.ln1B.ref), blk, c, B, v);
    x = x.add(linear(a, blk.wo.ref, blk.bo.ref));
    const hdn = nn.gelu(
      linear(layerNorm(x.ref, blk.ln2G.ref, blk.ln2B.ref), blk.w1.ref, blk.b1.ref),
    );
    x = x.add(linear(hdn, blk.w2.ref, blk.b2.ref));
  }
  const logits = np.matmul(layerNorm(x, p.lnfG.ref, p.lnfB.ref), p.head.ref);
  tree.dispose(p);
  return logits;
}

/** Mean next-token cross-entropy; tokens and targets are int32 [B, T]. */
export function transformerLoss(
  p: Params,
  tokens: np.Array,
  targets: np.Array,
  c: TransformerConfig = REFERENCE_CONFIG,
  variant: Partial<Variant> = {},
): np.Array {
  const logp = nn.logSoftmax(transformerForward(p, tokens, c, variant), -1);
  const [B, T] = targets.shape;
  const picked = logp.mul(oneHot(targets.reshape([B * T]), c.vocab)).sum(-1);
  return picked.mean().neg();
}

/** The benchmark's optimiser state: models/optim.ts's AdamW state over the parameters. */
export type TrainState = OptimState<Params>;

/** A fresh AdamW state around `params` (models/optim.ts). */
export const initTrainState = (params: Params): TrainState => initOptimState(params);

/**
 * A jitted train step: loss, gradient and the AdamW update of models/optim.ts (the one optimiser
 * of every trainable family, here without weight decay: PyTorch's Adam) in one compiled program.
 * `step(state, tokens, targets, { lr })` consumes state, tokens and targets and returns the new
 * state and the loss (before the update).
 */
export function makeTrainStep(
  c: TransformerConfig = REFERENCE_CONFIG,
  opts: { variant?: Partial<Variant> } = {},
) {
  const lossFn = (p: Params, x: np.Array, y: np.Array) => transformerLoss(p, x, y, c, opts.variant);
  const train = makeOptimStep(
    (p: Params, b: { x: np.Array; y: np.Array }): [np.Array, Record<string, np.Array>] => [
      lossFn(p, b.x, b.y),
      {},
    ],
  );
  const step = (s: TrainState, tokens: np.Array, targets: np.Array, o: { lr: number }) =>
    train.step(s, { x: tokens, y: targets }, o);
  return { step, lossFn };
}

/** Random token batch [B, T+1] from a fixed seed, split into inputs and next-token targets. */
export function randomBatch(
  c: TransformerConfig,
  batch: number,
  seed: number,
): { tokens: np.Array; targets: np.Array } {
  const seq = random.randint(random.key(seed), {
    minval: 0,
    maxval: c.vocab,
    shape: [batch, c.seqLen + 1],
    dtype: np.int32,
  });
  return {
    tokens: seq.ref.slice([], [0, c.seqLen]),
    targets: seq.slice([], [1, c.seqLen + 1]),
  };
}
