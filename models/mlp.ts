// The MLP classifier of the ParityMNIST experiment (785 → 256 → 256 → 10: pixels plus a
// task-indicator input, one shared 10-way head), on @jax-js/jax: parameters, forward pass and
// the two differentiable losses every trainer drives it through, each jitted once per batch
// shape together with the AdamW update of models/optim.ts:
//
//   soft: −(1/B) Σ_i Σ_y q_i(y) log π(y|x_i) + β (1/B) Σ_i KL(π0(·|x_i) ‖ π(·|x_i))
//         (SFT with hard or soft targets; SFT+KL, docs/metrics.md "Trainers" (SFT+KL))
//   pg:   (1/N) Σ_(i,g) m_ig [ −min(ρ A, clip(ρ, 1−ε, 1+ε) A) + β k3 ],  ρ = π(o|x)/π_old(o|x),
//         k3 = π_ref/π − log(π_ref/π) − 1   (GRPO / REINFORCE / RIF-RFT, docs/metrics.md "Trainers")
//
// so that trainers/ hold only the logic of each method (what to sample, which advantages, which
// instances to keep) in plain TypeScript. models/mlp_policy.ts wraps it as a Policy.

import { jit, nn, numpy as np, random, tree } from "@jax-js/jax";
import { makeTrainStep, type TrainStep } from "./optim.ts";

/** Layer sizes of an MLP classifier. */
export interface MlpConfig {
  readonly inputDim: number;
  readonly hidden: readonly number[];
  readonly classes: number;
}

/** Parameters as a jax-js tree: weight matrices `w[l]` (in × out) and biases `b[l]`. */
export type MlpParams = { w: np.Array[]; b: np.Array[] };

/** Deterministic He-normal initialisation from a seed (zero biases). */
export function initMlp(config: MlpConfig, seed: number, opts?: { dtype?: np.DType }): MlpParams {
  const sizes = [config.inputDim, ...config.hidden, config.classes];
  const dtype = opts?.dtype ?? np.float32;
  const keys = random.split(random.key(seed), sizes.length - 1);
  const w: np.Array[] = [], b: np.Array[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const k = keys.ref.slice(l);
    w.push(random.normal(k, [sizes[l], sizes[l + 1]]).mul(Math.sqrt(2 / sizes[l])).astype(dtype));
    b.push(np.zeros([sizes[l + 1]], { dtype }));
  }
  keys.dispose();
  return { w, b };
}

/** Logits of a batch `x` (B × inputDim). Consumes `p` and `x`. */
export function mlpLogits(p: MlpParams, x: np.Array): np.Array {
  let h = x;
  for (let l = 0; l < p.w.length; l++) {
    h = np.matmul(h, p.w[l]).add(p.b[l]);
    if (l < p.w.length - 1) h = nn.relu(h);
  }
  return h;
}

/** A soft-target batch: inputs, target distributions q, π0's log-probabilities, and β. */
export type SoftBatch = { x: np.Array; q: np.Array; lp0: np.Array; beta: np.Array };

/**
 * Soft-target cross-entropy plus β·KL(π0‖π), averaged over the batch; returns the loss and,
 * as auxiliary output, the log-probabilities it was computed from.
 */
export function softLoss(p: MlpParams, b: SoftBatch): [np.Array, np.Array] {
  const { x, q, lp0, beta } = b;
  const n = x.shape[0];
  const lp = nn.logSoftmax(mlpLogits(p, x), -1);
  const ce = lp.ref.mul(q).sum().mul(-1 / n);
  const kl = np.exp(lp0.ref).mul(lp0.sub(lp.ref)).sum().mul(1 / n);
  return [ce.add(kl.mul(beta)), lp];
}

/** Inputs of the clipped policy-gradient loss for B inputs × G sampled outputs. */
export type PgInputs = {
  /** Sampled outputs, one-hot: B × G × classes. */
  act: np.Array;
  /** Advantages A (B × G). */
  adv: np.Array;
  /** log π_old of each sample (B × G): the policy that sampled. */
  lpOld: np.Array;
  /** log π_ref of each sample (B × G), for the k3 KL penalty. */
  lpRef: np.Array;
  /** 1 for samples that count, 0 for filtered ones (B × G). */
  mask: np.Array;
  /** Scalars: 1 − ε, 1 + ε, β, 1 / (number of unmasked samples). */
  lo: np.Array;
  hi: np.Array;
  beta: np.Array;
  invCount: np.Array;
};

/** A policy-gradient batch: inputs and the per-sample arrays. */
export type PgBatch = { x: np.Array; a: PgInputs };

/** Clipped-ratio policy-gradient loss with a k3 KL penalty; aux = log-probabilities (B × C). */
export function pgLoss(p: MlpParams, b: PgBatch): [np.Array, np.Array] {
  const { x, a } = b;
  const n = a.adv.shape[0];
  const lp = nn.logSoftmax(mlpLogits(p, x), -1);
  const lpa = a.act.mul(lp.ref.reshape([n, 1, -1])).sum(-1); // log π(o_ig | x_i): B × G
  const ratio = np.exp(lpa.ref.sub(a.lpOld));
  const obj = np.minimum(ratio.ref.mul(a.adv.ref), np.clip(ratio, a.lo, a.hi).mul(a.adv));
  const d = a.lpRef.sub(lpa); // log(π_ref / π)
  const k3 = np.exp(d.ref).sub(d).sub(1);
  const per = k3.mul(a.beta).sub(obj);
  return [per.mul(a.mask).sum().mul(a.invCount), lp];
}

let soft: TrainStep<MlpParams, SoftBatch, np.Array> | undefined;
let pg: TrainStep<MlpParams, PgBatch, np.Array> | undefined;

/** The jitted soft-target AdamW step (shared by every MLP of the process). */
export function softStep(): TrainStep<MlpParams, SoftBatch, np.Array> {
  return soft ??= makeTrainStep(softLoss);
}

/** The jitted clipped policy-gradient AdamW step (shared by every MLP of the process). */
export function pgStep(): TrainStep<MlpParams, PgBatch, np.Array> {
  return pg ??= makeTrainStep(pgLoss);
}

const logProbsJit = jit((p: MlpParams, x: np.Array) => nn.logSoftmax(mlpLogits(p, x), -1));

/** Rows of a row-major matrix as a jax-js array. */
export function matrix(data: Float32Array, cols: number): np.Array {
  return np.array(data as Float32Array<ArrayBuffer>).reshape([data.length / cols, cols]);
}

/**
 * Log-probabilities (n × classes, row-major) of n inputs (n × inputDim), in fixed-size batches
 * padded so that jit compiles one program. Borrows `params`.
 */
export async function mlpLogProbs(
  params: MlpParams,
  x: Float32Array,
  opts: { config: MlpConfig; batch?: number },
): Promise<Float32Array> {
  const d = opts.config.inputDim, c = opts.config.classes, n = x.length / d;
  const batch = opts.batch ?? 256;
  const out = new Float32Array(n * c);
  for (let s = 0; s < n; s += batch) {
    const chunk = new Float32Array(batch * d);
    chunk.set(x.subarray(s * d, Math.min(n, s + batch) * d));
    const lp = (await logProbsJit(tree.ref(params), matrix(chunk, d)).data()) as Float32Array;
    out.set(lp.subarray(0, (Math.min(n, s + batch) - s) * c), s * c);
  }
  return out;
}
