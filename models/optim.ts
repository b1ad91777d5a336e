// The one optimiser of every trainable family (the MLP, the Llama, the benchmark transformer):
// AdamW as PyTorch computes it, compiled with the loss and its gradient into one jitted program
// per loss and batch shape, with optional global-norm gradient clipping. The learning rate is an
// input of every step, so schedules never recompile.

import { jit, type JsTree, numpy as np, tree, valueAndGrad } from "@jax-js/jax";

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

/** A jitted AdamW step for one loss. */
export interface TrainStep<P, B, A> {
  /** One update at learning rate `lr`; consumes `state` and `batch`. */
  step(state: TrainState<P>, batch: B, opts: { lr: number }): Promise<StepResult<P, A>>;
  /** Frees the compiled program. */
  dispose(): void;
}

/**
 * Compiles loss, gradient, optional global-norm clipping and the AdamW update into one jitted
 * program (one compilation per batch shape). AdamW as PyTorch: p ← p·(1 − lr·λ) (matrices only),
 * then p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε).
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
  const wd = opts.weightDecay ?? 0, clip = opts.clipNorm;
  type Scalars = { stepSize: np.Array; bc2Sqrt: np.Array; keep: np.Array };
  const compiled = jit((p: P, m: P, v: P, batch: B, s: Scalars) => {
    const vg = valueAndGrad(loss as never, { hasAux: true }) as unknown as (
      p: P,
      b: B,
    ) => [[np.Array, A], P];
    const [[value, aux], g0] = vg(tree.ref(p), batch);
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
    return { params: p2, m: m2, v: v2, loss: value, aux, gradNorm };
  });
  return {
    async step(state, batch, o) {
      const t = state.t + 1, lr = o.lr;
      const run = compiled as unknown as (p: P, m: P, v: P, b: B, s: Scalars) => unknown;
      const out = run(state.params, state.m, state.v, batch, {
        stepSize: np.array(lr / (1 - b1 ** t)),
        bc2Sqrt: np.array(Math.sqrt(1 - b2 ** t)),
        keep: np.array(1 - lr * wd),
      }) as unknown as { params: P; m: P; v: P; loss: np.Array; aux: A; gradNorm: np.Array };
      return {
        state: { params: out.params, m: out.m, v: out.v, t },
        loss: (await out.loss.data())[0],
        aux: out.aux,
        gradNorm: (await out.gradNorm.data())[0],
      };
    },
    dispose: () => compiled.dispose(),
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
