// The one optimiser of every trainable family (the MLP, the Llama, the benchmark transformer):
// AdamW as PyTorch computes it, compiled with the loss and its gradient into one jitted program
// per loss and batch shape, with optional global-norm gradient clipping. The learning rate is an
// input of every step, so schedules never recompile. Gradient accumulation sums weighted
// micro-batch gradients before one update (clipping applies to the sum).

import { jit, type JsTree, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";

/** AdamW hyperparameters (PyTorch's defaults; the learning rate comes with each step). */
export interface AdamWOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay λ (default 0), applied to matrices only, not to norms or biases. */
  readonly weightDecay?: number;
  /** Clip the gradient to this global L2 norm before the update (default: no clipping). */
  readonly clipNorm?: number;
}

/** Parameters (any tree of arrays) with AdamW's moments and step count. */
export interface TrainState<P> {
  readonly params: P;
  readonly m: P;
  readonly v: P;
  readonly t: number;
}

/** A fresh optimiser state around `params` (takes ownership of them). */
export function initTrainState<P extends JsTree<np.Array>>(params: P): TrainState<P> {
  const zeros = (a: np.Array) => np.zerosLike(a.ref);
  return { params, m: tree.map(zeros, params) as P, v: tree.map(zeros, params) as P, t: 0 };
}

/** Frees a state's arrays. */
export function disposeTrainState<P extends JsTree<np.Array>>(state: TrainState<P>): void {
  tree.dispose([state.params, state.m, state.v]);
}

/** A loss of (params, batch): its value and an auxiliary tree of arrays. Consumes its arguments. */
export type LossFn<P, B, A> = (params: P, batch: B) => [np.Array, A];

/** The outcome of one step: the new state, and the loss and aux before the update. */
export interface StepResult<P, A> {
  readonly state: TrainState<P>;
  readonly loss: number;
  /** The loss's auxiliary output, computed from the parameters before the update. */
  readonly aux: A;
  /** Global L2 norm of the gradient before clipping. */
  readonly gradNorm: number;
}

/** The outcome of an accumulated step: as {@link StepResult}, with one aux per micro-batch. */
export interface AccumulatedResult<P, A> extends Omit<StepResult<P, A>, "aux"> {
  /** Each micro-batch's auxiliary output, in order (before the update). */
  readonly aux: readonly A[];
}

/** A jitted AdamW step for one loss. */
export interface TrainStep<P, B, A> {
  /** One update at learning rate `lr`; consumes `state` and `batch`. */
  step(state: TrainState<P>, batch: B, opts: { lr: number }): Promise<StepResult<P, A>>;
  /**
   * One update from the gradient Σ_k w_k ∇L(p; micro[k]) of several micro-batches (gradient
   * accumulation), weights w_k by default 1/k (the mean). Clipping applies to that accumulated
   * gradient; the loss reported is Σ_k w_k L_k. With weights that sum to 1 and are each
   * micro-batch's share of a mean's denominator, the update equals one {@link step} on the whole
   * batch up to float rounding. One micro-batch of weight 1 is exactly {@link step}.
   * Consumes `state` and every micro-batch. A micro-batch may be given as a function that makes
   * it, called just before its gradient, so that only one micro-batch's inputs (a reference's
   * log-probabilities, say) are alive at a time.
   */
  accumulate(
    state: TrainState<P>,
    micro: readonly (B | (() => B))[],
    opts: { lr: number; weights?: readonly number[] },
  ): Promise<AccumulatedResult<P, A>>;
  /** Frees the compiled programs. */
  dispose(): void;
}

/** Per-step scalars of the AdamW update (host-computed from t and lr, so nothing recompiles). */
type Scalars = { stepSize: np.Array; bc2Sqrt: np.Array; keep: np.Array };

/**
 * Global norm, optional clipping and the AdamW update from a gradient `g0`, traced inside a jitted
 * program. The fused step and the apply half of accumulation share it, so both trace the same
 * operations. Consumes its arguments.
 */
export function adamwUpdate<P extends JsTree<np.Array>>(
  state: { p: P; m: P; v: P; g0: P; s: Scalars },
  opts: { b1: number; b2: number; eps: number; wd: number; clip: number | undefined },
): { params: P; m: P; v: P; gradNorm: np.Array } {
  const { p, m, v, g0, s } = state, { b1, b2, eps, wd, clip } = opts;
  const sq = tree.leaves(g0).map((g: np.Array) => np.square(g.ref).sum());
  const gradNorm = np.sqrt(sq.reduce((a, b) => a.add(b)));
  let g = g0;
  if (clip !== undefined) {
    const scale = np.minimum(np.reciprocal(gradNorm.ref.add(1e-6)).mul(clip), 1);
    g = tree.map((gi: np.Array) => gi.mul(scale.ref), g0) as P;
    scale.dispose();
  }
  const m2 = tree.map(
    (mi: np.Array, gi: np.Array) => mi.mul(b1).add(gi.mul(1 - b1)),
    m,
    tree.ref(g),
  );
  const v2 = tree.map(
    (vi: np.Array, gi: np.Array) => vi.mul(b2).add(np.square(gi).mul(1 - b2)),
    v,
    g,
  );
  const p2 = tree.map(
    (pi: np.Array, mi: np.Array, vi: np.Array) => {
      const decayed = wd > 0 && pi.ndim >= 2 ? pi.mul(s.keep.ref) : pi;
      return decayed.sub(mi.mul(s.stepSize.ref).div(np.sqrt(vi).div(s.bc2Sqrt.ref).add(eps)));
    },
    p,
    tree.ref(m2),
    tree.ref(v2),
  );
  tree.dispose(s);
  return { params: p2, m: m2, v: v2, gradNorm };
}

/**
 * Compiles loss, gradient, optional global-norm clipping and the AdamW update into one jitted
 * program (one compilation per batch shape). AdamW as PyTorch: p ← p·(1 − lr·λ) (matrices only),
 * then p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε). Gradient accumulation
 * ({@link TrainStep.accumulate}) compiles the same update as two more programs: the gradient of
 * one micro-batch added into a running sum, and the update from that sum.
 *
 * @example
 * const sft = makeTrainStep((p, b: SftBatch) => sftLoss(p, b, { config }), { clipNorm: 1 });
 * let state = initTrainState(initLlama(config, { seed: 0 }));
 * const r = await sft.step(state, sftBatch(examples), { lr: 1e-3 });
 * state = r.state;
 */
export function makeTrainStep<
  P extends JsTree<np.Array>,
  B extends JsTree<np.Array>,
  A extends JsTree<np.Array>,
>(
  loss: LossFn<P, B, A>,
  opts: AdamWOptions = {},
): TrainStep<P, B, A> {
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8;
  const hyper = { b1, b2, eps, wd: opts.weightDecay ?? 0, clip: opts.clipNorm };
  const vg = () =>
    valueAndGrad(loss as never, { hasAux: true }) as unknown as (
      p: P,
      b: B,
    ) => [[np.Array, A], P];
  const compiled = jit((p: P, m: P, v: P, batch: B, s: Scalars) => {
    const [[value, aux], g0] = vg()(tree.ref(p), batch);
    return { ...adamwUpdate({ p, m, v, g0, s }, hyper), loss: value, aux };
  });
  // Accumulation: acc + w·∇L(p; batch) per micro-batch, then the update from the sum.
  const gradInto = jit((p: P, batch: B, w: np.Array, acc: P) => {
    const [[value, aux], g] = vg()(p, batch);
    const sum = tree.map((a: np.Array, gi: np.Array) => a.add(gi.mul(w.ref)), acc, g) as P;
    w.dispose();
    return { acc: sum, loss: value, aux };
  });
  const apply = jit((p: P, m: P, v: P, g0: P, s: Scalars) =>
    adamwUpdate({ p, m, v, g0, s }, hyper)
  );
  const scalars = (t: number, lr: number): Scalars => ({
    stepSize: np.array(lr / (1 - b1 ** t)),
    bc2Sqrt: np.array(Math.sqrt(1 - b2 ** t)),
    keep: np.array(1 - lr * hyper.wd),
  });
  const step: TrainStep<P, B, A>["step"] = async (state, batch, o) => {
    const t = state.t + 1;
    const run = compiled as unknown as (p: P, m: P, v: P, b: B, s: Scalars) => unknown;
    const out = run(state.params, state.m, state.v, batch, scalars(t, o.lr)) as unknown as {
      params: P;
      m: P;
      v: P;
      loss: np.Array;
      aux: A;
      gradNorm: np.Array;
    };
    return {
      state: { params: out.params, m: out.m, v: out.v, t },
      loss: (await out.loss.data())[0],
      aux: out.aux,
      gradNorm: (await out.gradNorm.data())[0],
    };
  };
  return {
    step,
    async accumulate(state, micro, o) {
      const k = micro.length;
      const weights = o.weights ?? micro.map(() => 1 / k);
      if (k === 0 || weights.length !== k || !weights.every(Number.isFinite)) {
        throw new UsageError(
          `accumulate: ${k} micro-batches with ${weights.length} finite weights; give one per micro-batch`,
        );
      }
      const make = (m: B | (() => B)) => (typeof m === "function" ? (m as () => B)() : m);
      if (k === 1 && weights[0] === 1) {
        const r = await step(state, make(micro[0]), o);
        return { ...r, aux: [r.aux] };
      }
      const into = gradInto as unknown as (p: P, b: B, w: np.Array, acc: P) => {
        acc: P;
        loss: np.Array;
        aux: A;
      };
      let acc = tree.map((a: np.Array) => np.zerosLike(a.ref), state.params) as P;
      let loss = 0;
      const aux: A[] = [];
      for (const [i, b] of micro.entries()) {
        const r = into(tree.ref(state.params), make(b), np.array(weights[i]), acc);
        acc = r.acc;
        loss += weights[i] * (await r.loss.data())[0];
        aux.push(r.aux);
      }
      const t = state.t + 1;
      const run = apply as unknown as (p: P, m: P, v: P, g: P, s: Scalars) => {
        params: P;
        m: P;
        v: P;
        gradNorm: np.Array;
      };
      const out = run(state.params, state.m, state.v, acc, scalars(t, o.lr));
      return {
        state: { params: out.params, m: out.m, v: out.v, t },
        loss,
        aux,
        gradNorm: (await out.gradNorm.data())[0],
      };
    },
    dispose: () => {
      compiled.dispose();
      gradInto.dispose();
      apply.dispose();
    },
  };
}

/** Reads a record of scalar arrays (a loss's metrics) into numbers; consumes the arrays. */
export async function readScalars(
  metrics: Readonly<Record<string, np.Array>>,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, a] of Object.entries(metrics)) out[k] = (await a.data())[0];
  return out;
}
