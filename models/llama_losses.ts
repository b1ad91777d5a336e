// Training losses of models/llama.ts: the teacher-forced SFT loss (+ β·KL(π0‖π)), the clipped
// policy-gradient loss of GRPO / Dr. GRPO (+ β·k3 to a reference), and the host-side batch
// builders. The optimiser that minimises them is models/optim.ts.

import { jit, lax, numpy as np, tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import {
  type ConfigOption,
  type LlamaParams,
  nextTokenLogProbs,
  oneHot,
  padBatch,
  type TokenBatch,
  tokenLogProbs,
} from "./llama.ts";

/** Scalar diagnostics a loss reports next to its value. */
export type Metrics = { [name: string]: np.Array };

/**
 * Teacher-forced batch: tokens (prompt + target), `targetsMask` [B, T] = 1 on the tokens to
 * predict, and for SFT+KL the base model's `refLogProbs` [B, T, V] (from {@link referenceLogProbs})
 * with the weight `beta` (scalar; 1 when absent).
 */
export type SftBatch = TokenBatch & {
  targetsMask: np.Array;
  refLogProbs?: np.Array;
  beta?: np.Array;
};

/**
 * SFT loss, docs/metrics.md "Trainers" (SFT+KL): mean over target tokens of −log π(y_t | y_<t), plus
 * β · mean over the same tokens of the exact KL(π0(·|y_<t) ‖ π(·|y_<t)) when `refLogProbs` is
 * given. Returns the loss and metrics {ce, kl}. Consumes `params` and `batch`.
 */
export function sftLoss(
  params: LlamaParams,
  batch: SftBatch,
  opts: ConfigOption,
): [np.Array, Metrics] {
  const { targetsMask, refLogProbs, beta, ...tb } = batch;
  const tokens = tb.tokens.ref;
  const lp = nextTokenLogProbs(params, tb, opts);
  const inv = np.reciprocal(targetsMask.ref.sum());
  const nll = lp.ref.mul(oneHot(tokens, { n: opts.config.vocab_size, dtype: lp.dtype })).sum(-1)
    .neg();
  const ce = nll.mul(targetsMask.ref).sum().mul(inv.ref);
  if (!refLogProbs) {
    lp.dispose();
    targetsMask.dispose();
    inv.dispose();
    beta?.dispose();
    return [ce.ref, { ce, kl: np.zerosLike(ce.ref) }];
  }
  const kl = np.exp(refLogProbs.ref).mul(refLogProbs.sub(lp)).sum(-1)
    .mul(targetsMask).sum().mul(inv);
  const loss = ce.ref.add(beta ? kl.ref.mul(beta) : kl.ref);
  return [loss, { ce, kl }];
}

/**
 * Clipped policy-gradient batch over N sampled sequences (prompt + completion): `weights` [N, T]
 * per-token loss weights (0 outside completions; the normalisation is folded in, see
 * {@link grpoWeights}), `lpOld` [N, T] the sampling policy's log-probabilities of the tokens,
 * `adv` [N] one advantage per sequence, `clipLo`/`clipHi` = 1 ∓ ε, and optionally the reference
 * policy's `lpRef` [N, T] with the k3 weight `beta` (scalar; 1 when absent).
 *
 * On-policy steps (μ = 1, π_old = π at the update) leave out `lpOld`: the loss then takes π_old
 * from its own forward with the gradient stopped (ratio 1 in value, ∇ρ = ∇log π), as TRL does
 * for num_iterations = 1, and no separate π_old pass is needed. Such a batch may carry π0's
 * next-token log-probabilities `refNext` [N, T, V] with `klMask` [N, T] (1 on every sampled
 * completion token, filtered rows included): the metric `refKl` is then the rollouts' exact
 * KL(π0‖π) summed over each row's completion and averaged over the N rows (the rollout's KL
 * column, read from the step's forward, gradient stopped).
 */
export type GrpoBatch = TokenBatch & {
  weights: np.Array;
  lpOld?: np.Array;
  adv: np.Array;
  clipLo: np.Array;
  clipHi: np.Array;
  lpRef?: np.Array;
  beta?: np.Array;
  refNext?: np.Array;
  klMask?: np.Array;
};

/**
 * GRPO loss, docs/metrics.md "Trainers": Σ_(i,t) w_it [ −min(ρ A_i, clip(ρ, 1−ε, 1+ε) A_i) + β k3 ],
 * ρ = π(o_t|·)/π_old(o_t|·), k3 = π_ref/π − log(π_ref/π) − 1. Log-probabilities are of
 * logits / `temperature` (default 1), matching how the samples were drawn. Metrics (means over
 * tokens with w > 0): kl (k3), clipFrac (ρ outside the clip range), ratio. Consumes its arguments.
 */
export function grpoLoss(
  params: LlamaParams,
  batch: GrpoBatch,
  opts: ConfigOption & { temperature?: number },
): [np.Array, Metrics] {
  const { weights, lpOld, adv, clipLo, clipHi, lpRef, beta, refNext, klMask, ...tb } = batch;
  const n = adv.shape[0];
  let lp: np.Array, refKl: np.Array | undefined;
  if (refNext && klMask) {
    const tokens = tb.tokens.ref;
    const all = nextTokenLogProbs(params, tb, opts);
    const q = lax.stopGradient(all.ref);
    refKl = np.exp(refNext.ref).mul(refNext.sub(q)).sum(-1).mul(klMask).sum().mul(1 / n);
    lp = all.mul(oneHot(tokens, { n: opts.config.vocab_size, dtype: all.dtype })).sum(-1);
  } else {
    refNext?.dispose();
    klMask?.dispose();
    lp = tokenLogProbs(params, tb, opts);
  }
  const on = weights.ref.greater(0);
  const count = np.reciprocal(on.ref.astype(lp.dtype).sum());
  // Off-completion entries are set to 0 before exp, so no stray value can overflow to inf·0.
  const old = lpOld ?? lax.stopGradient(lp.ref);
  const logRatio = np.where(on.ref, lp.ref.sub(old), 0);
  const ratio = np.exp(logRatio);
  const a = adv.reshape([n, 1]);
  const clipped = np.clip(ratio.ref, clipLo.ref, clipHi.ref);
  const obj = np.minimum(ratio.ref.mul(a.ref), clipped.mul(a));
  const outside = np.logicalOr(ratio.ref.less(clipLo), ratio.ref.greater(clipHi));
  const mean = (x: np.Array) => x.mul(on.ref.astype(lp.dtype)).sum().mul(count.ref);
  let per = obj.neg();
  let kl: np.Array;
  if (lpRef) {
    const d = np.where(on.ref, lpRef.sub(lp), 0); // log(π_ref / π)
    const k3 = np.exp(d.ref).sub(d).sub(1);
    per = per.add(beta ? k3.ref.mul(beta) : k3.ref);
    kl = mean(k3);
  } else {
    lp.dispose();
    beta?.dispose();
    kl = np.zeros([], { dtype: ratio.dtype });
  }
  const loss = per.mul(weights).sum();
  const metrics: Metrics = {
    kl,
    clipFrac: mean(outside.astype(ratio.dtype)),
    ratio: mean(ratio),
    ...(refKl ? { refKl } : {}),
  };
  on.dispose();
  count.dispose();
  return [loss, metrics];
}

/** How a GRPO loss averages over tokens. */
export type Normalization = "sequence-mean" | "token-mean" | "constant";

/**
 * Per-token weights [N·T] for {@link grpoLoss} from a completion mask [N·T] (row-major):
 * `sequence-mean` (GRPO, docs/metrics.md): 1/(N·|o_i|), the mean over each sample's tokens then over
 * samples; `token-mean` (DAPO): 1/Σ|o_i|; `constant` (Dr. GRPO): 1/(N·constant), e.g. constant =
 * the generation budget, so no sample's tokens weigh more for being short. Rows without tokens
 * get 0 and still count in N unless `samples` (default `rows`) says how many rows N counts:
 * RIF-RFT zeroes filtered instances' rows and averages over the kept ones.
 */
export function grpoWeights(
  mask: Float32Array,
  opts: { rows: number; normalization: Normalization; constant?: number; samples?: number },
): Float32Array {
  const T = mask.length / opts.rows, N = opts.samples ?? opts.rows;
  const w = new Float32Array(mask.length);
  let total = 0;
  for (const m of mask) total += m;
  if (opts.normalization === "constant" && !(opts.constant! > 0)) {
    throw new UsageError("grpoWeights: normalization 'constant' needs constant > 0");
  }
  for (let i = 0; i < opts.rows; i++) {
    let len = 0;
    for (let t = 0; t < T; t++) len += mask[i * T + t];
    const scale = opts.normalization === "sequence-mean"
      ? 1 / (N * Math.max(len, 1))
      : opts.normalization === "token-mean"
      ? 1 / Math.max(total, 1)
      : 1 / (N * opts.constant!);
    for (let t = 0; t < T; t++) w[i * T + t] = mask[i * T + t] * scale;
  }
  return w;
}

/** A prompt and its target or sampled continuation, as token ids. */
export interface Example {
  readonly prompt: readonly number[];
  readonly completion: readonly number[];
}

function floats(a: Float32Array, shape: number[]): np.Array {
  return np.array(a as Float32Array<ArrayBuffer>).reshape(shape);
}

/** Shared padding of prompt + completion rows; returns the batch and the completion mask. */
function packExamples(
  examples: readonly Example[],
  opts: { length?: number; padId?: number },
): { tb: TokenBatch; mask: Float32Array; T: number } {
  const seqs = examples.map((e) => [...e.prompt, ...e.completion]);
  const tb = padBatch(seqs, opts);
  const T = tb.tokens.shape[1], mask = new Float32Array(examples.length * T);
  examples.forEach((e, i) => {
    if (e.prompt.length === 0) throw new UsageError(`example ${i}: empty prompt`);
    mask.fill(1, i * T + e.prompt.length, i * T + e.prompt.length + e.completion.length);
  });
  return { tb, mask, T };
}

/**
 * An SFT batch: each row is prompt + completion, right-padded to `length` (default: longest,
 * rounded up to 8), with the completion tokens as targets. Add `refLogProbs` and `beta` for
 * SFT+KL.
 */
export function sftBatch(
  examples: readonly Example[],
  opts: { length?: number; padId?: number } = {},
): SftBatch {
  const { tb, mask, T } = packExamples(examples, opts);
  if (!mask.some((m) => m > 0)) throw new UsageError("sftBatch: no completion tokens to train on");
  return { ...tb, targetsMask: floats(mask, [examples.length, T]) };
}

/** A sampled sequence with what GRPO needs to weigh it. */
export interface Rollout extends Example {
  /** log π_old of each completion token (Samples.logProbs). */
  readonly logProbs: readonly number[];
  /** The sequence's advantage A_i. */
  readonly advantage: number;
  /** log π_ref of each completion token, for the k3 penalty. */
  readonly refLogProbs?: readonly number[];
}

/**
 * A GRPO batch from rollouts (all with or all without refLogProbs): ε = `clip`, k3 weight `beta`
 * (default 0), token weights by `normalization` (see {@link grpoWeights}). Rows with
 * `keep[i] === false` get zero weight and the mean runs over the kept rows (RIF-RFT).
 * `onPolicy` (μ = 1) leaves `lpOld` out (the rollouts' logProbs are not read) and gives the
 * completion mask as `klMask` instead, for {@link grpoLoss}'s on-policy step.
 */
export function grpoBatch(
  rollouts: readonly Rollout[],
  opts: {
    clip: number;
    beta?: number;
    normalization: Normalization;
    constant?: number;
    length?: number;
    padId?: number;
    keep?: readonly boolean[];
    onPolicy?: boolean;
  },
): GrpoBatch {
  const { tb, mask, T } = packExamples(rollouts, opts);
  const N = rollouts.length;
  const completions = opts.onPolicy ? { klMask: floats(mask.slice(), [N, T]) } : {};
  opts.keep?.forEach((k, i) => k || mask.fill(0, i * T, (i + 1) * T));
  const samples = opts.keep ? Math.max(1, opts.keep.filter((k) => k).length) : N;
  const withRef = rollouts.every((r) => r.refLogProbs);
  if (!withRef && rollouts.some((r) => r.refLogProbs)) {
    throw new UsageError("grpoBatch: either every rollout has refLogProbs or none has");
  }
  const lpOld = new Float32Array(N * T), lpRef = new Float32Array(N * T);
  rollouts.forEach((r, i) => {
    const at = i * T + r.prompt.length;
    if (!opts.onPolicy && r.logProbs.length !== r.completion.length) {
      throw new UsageError(
        `grpoBatch: rollout ${i} has ${r.logProbs.length} logProbs for ${r.completion.length} tokens`,
      );
    }
    if (!opts.onPolicy) lpOld.set(r.logProbs, at);
    if (r.refLogProbs) lpRef.set(r.refLogProbs, at);
  });
  const m = (a: Float32Array) => floats(a, [N, T]);
  return {
    ...tb,
    weights: m(grpoWeights(mask, { ...opts, rows: N, samples })),
    ...(opts.onPolicy ? completions : { lpOld: m(lpOld) }),
    adv: floats(Float32Array.from(rollouts, (r) => r.advantage), [N]),
    clipLo: np.array(1 - opts.clip),
    clipHi: np.array(1 + opts.clip),
    ...(withRef ? { lpRef: m(lpRef), beta: np.array(opts.beta ?? 0) } : {}),
  };
}

const refPrograms = new Map<string, (p: LlamaParams, b: TokenBatch) => np.Array>();

/**
 * The frozen base model's next-token log-probabilities [B, T, V] on a batch's tokens, for the
 * KL term of {@link sftLoss}. Borrows `ref` and the batch.
 */
export function referenceLogProbs(
  ref: LlamaParams,
  batch: TokenBatch,
  opts: ConfigOption,
): np.Array {
  const key = JSON.stringify(opts.config);
  let f = refPrograms.get(key);
  if (!f) {
    f = jit((p: LlamaParams, b: TokenBatch) => nextTokenLogProbs(p, b, opts));
    refPrograms.set(key, f);
  }
  return f(tree.ref(ref), tree.ref(batch));
}
