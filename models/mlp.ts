// The MLP classifier policy of the ParityMNIST experiment (785 → 256 → 256 → 10: pixels plus a
// task-indicator input, one shared 10-way head), on @jax-js/jax. Every trainer drives it through
// two differentiable losses, both jitted once per batch shape together with an Adam update:
//
//   soft: −(1/B) Σ_i Σ_y q_i(y) log π(y|x_i) + β (1/B) Σ_i KL(π0(·|x_i) ‖ π(·|x_i))
//         (SFT with hard or soft targets; SFT+KL, METRICS.md "SFT+KL")
//   pg:   (1/N) Σ_(i,g) m_ig [ −min(ρ A, clip(ρ, 1−ε, 1+ε) A) + β k3 ],  ρ = π(o|x)/π_old(o|x),
//         k3 = π_ref/π − log(π_ref/π) − 1   (GRPO / REINFORCE / RIF-RFT, METRICS.md "Trainers")
//
// so that trainers/ hold only the logic of each method (what to sample, which advantages, which
// instances to keep) in plain TypeScript.

import { jit, nn, numpy as np, random, tree, valueAndGrad } from "@jax-js/jax";

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

/**
 * Soft-target cross-entropy plus β·KL(π0‖π), averaged over the batch; returns the loss and,
 * as auxiliary output, the log-probabilities it was computed from.
 */
export function softLoss(
  p: MlpParams,
  x: np.Array,
  q: np.Array,
  lp0: np.Array,
  beta: np.Array,
): [np.Array, np.Array] {
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

/** Clipped-ratio policy-gradient loss with a k3 KL penalty; aux = log-probabilities (B × C). */
export function pgLoss(p: MlpParams, x: np.Array, a: PgInputs): [np.Array, np.Array] {
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

const B1 = 0.9, B2 = 0.999;

/** One Adam update (bias correction folded into `lrT` and `epsT`). Consumes its arguments. */
function adam(
  p: MlpParams,
  g: MlpParams,
  m: MlpParams,
  v: MlpParams,
  lrT: np.Array,
  epsT: np.Array,
) {
  const m2 = tree.map(
    (mi: np.Array, gi: np.Array) => mi.mul(B1).add(gi.mul(1 - B1)),
    m,
    tree.ref(g),
  );
  const v2 = tree.map(
    (vi: np.Array, gi: np.Array) => vi.mul(B2).add(np.square(gi).mul(1 - B2)),
    v,
    g,
  );
  const p2 = tree.map(
    (pi: np.Array, mi: np.Array, vi: np.Array) =>
      pi.sub(mi.mul(lrT.ref).div(np.sqrt(vi).add(epsT.ref))),
    p,
    tree.ref(m2),
    tree.ref(v2),
  );
  lrT.dispose();
  epsT.dispose();
  return [p2, m2, v2] as [MlpParams, MlpParams, MlpParams];
}

const softStep = jit(
  (
    p: MlpParams,
    m: MlpParams,
    v: MlpParams,
    x: np.Array,
    q: np.Array,
    lp0: np.Array,
    beta: np.Array,
    lrT: np.Array,
    epsT: np.Array,
  ) => {
    const [[loss, lp], g] = valueAndGrad(softLoss, { hasAux: true })(tree.ref(p), x, q, lp0, beta);
    return [loss, lp, ...adam(p, g, m, v, lrT, epsT)];
  },
);

const pgStep = jit(
  (
    p: MlpParams,
    m: MlpParams,
    v: MlpParams,
    x: np.Array,
    a: PgInputs,
    lrT: np.Array,
    epsT: np.Array,
  ) => {
    const [[loss, lp], g] = valueAndGrad(pgLoss, { hasAux: true })(tree.ref(p), x, a);
    return [loss, lp, ...adam(p, g, m, v, lrT, epsT)];
  },
);

const logProbsJit = jit((p: MlpParams, x: np.Array) => nn.logSoftmax(mlpLogits(p, x), -1));

/** Rows of a row-major matrix as a jax-js array. */
function matrix(data: Float32Array, cols: number): np.Array {
  return np.array(data as Float32Array<ArrayBuffer>).reshape([data.length / cols, cols]);
}

/** Result of one optimiser step: the loss and the pre-update log-probabilities (B × C). */
export interface StepResult {
  loss: number;
  logProbs: Float32Array;
}

/** Adam on an MlpPolicy: keeps the moments and step count; each call updates the policy. */
export class Adam {
  #m: MlpParams;
  #v: MlpParams;
  #t = 0;
  constructor(
    private readonly policy: MlpPolicy,
    private readonly opts: { lr: number; eps?: number },
  ) {
    this.#m = tree.map((a: np.Array) => np.zerosLike(a.ref), policy.params) as MlpParams;
    this.#v = tree.map((a: np.Array) => np.zerosLike(a.ref), policy.params) as MlpParams;
  }

  #scalars(): [np.Array, np.Array] {
    this.#t++;
    const c1 = 1 - B1 ** this.#t, c2 = 1 - B2 ** this.#t;
    return [
      np.array(this.opts.lr * Math.sqrt(c2) / c1),
      np.array((this.opts.eps ?? 1e-8) * Math.sqrt(c2)),
    ];
  }

  async #finish(out: np.Array[]): Promise<StepResult> {
    const [loss, lp, p2, m2, v2] = out as unknown as [
      np.Array,
      np.Array,
      MlpParams,
      MlpParams,
      MlpParams,
    ];
    this.policy.replace(p2);
    this.#m = m2;
    this.#v = v2;
    return { loss: (await loss.data())[0], logProbs: (await lp.data()) as Float32Array };
  }

  /** Soft-target step: `q` and `lp0` are B × C row-major; `beta` weights KL(π0‖π). */
  soft(
    x: Float32Array,
    b: { q: Float32Array; lp0: Float32Array; beta: number },
  ): Promise<StepResult> {
    const c = this.policy.config.classes;
    const [lrT, epsT] = this.#scalars();
    const out = softStep(
      tree.ref(this.policy.params),
      this.#m,
      this.#v,
      matrix(x, this.policy.config.inputDim),
      matrix(b.q, c),
      matrix(b.lp0, c),
      np.array(b.beta),
      lrT,
      epsT,
    ) as unknown as np.Array[];
    return this.#finish(out);
  }

  /** Clipped policy-gradient step over B inputs × G samples (row-major B × G arrays). */
  pg(x: Float32Array, b: {
    actions: Int32Array;
    adv: Float32Array;
    lpOld: Float32Array;
    lpRef: Float32Array;
    mask: Float32Array;
    group: number;
    clip: number;
    beta: number;
  }): Promise<StepResult> {
    const c = this.policy.config.classes, n = b.adv.length / b.group;
    const act = new Float32Array(b.actions.length * c);
    b.actions.forEach((y, k) => (act[k * c + y] = 1));
    let kept = 0;
    for (const w of b.mask) kept += w;
    const [lrT, epsT] = this.#scalars();
    const inputs: PgInputs = {
      act: np.array(act).reshape([n, b.group, c]),
      adv: matrix(b.adv, b.group),
      lpOld: matrix(b.lpOld, b.group),
      lpRef: matrix(b.lpRef, b.group),
      mask: matrix(b.mask, b.group),
      lo: np.array(1 - b.clip),
      hi: np.array(1 + b.clip),
      beta: np.array(b.beta),
      invCount: np.array(1 / Math.max(kept, 1)),
    };
    const out = pgStep(
      tree.ref(this.policy.params),
      this.#m,
      this.#v,
      matrix(x, this.policy.config.inputDim),
      inputs,
      lrT,
      epsT,
    ) as unknown as np.Array[];
    return this.#finish(out);
  }

  dispose(): void {
    tree.dispose(this.#m);
    tree.dispose(this.#v);
  }
}

/** Weights by name (`w0`, `b0`, …), row-major float32, for safetensors and hashing. */
export type NamedWeights = Map<string, { shape: number[]; data: Float32Array }>;

/** An MLP classifier: log-probabilities over classes, cloning, weights in and out. */
export class MlpPolicy {
  #params: MlpParams;
  constructor(readonly config: MlpConfig, params: MlpParams) {
    this.#params = params;
  }

  /** A freshly initialised policy. */
  static init(config: MlpConfig, seed: number): MlpPolicy {
    return new MlpPolicy(config, initMlp(config, seed));
  }

  /** A policy from named weights (as written by `weights()`). */
  static fromWeights(config: MlpConfig, weights: NamedWeights): MlpPolicy {
    const layers = config.hidden.length + 1;
    const get = (name: string) => {
      const t = weights.get(name);
      if (!t) throw new Error(`weights lack tensor '${name}'`);
      return np.array(t.data as Float32Array<ArrayBuffer>).reshape(t.shape);
    };
    return new MlpPolicy(config, {
      w: Array.from({ length: layers }, (_, l) => get(`w${l}`)),
      b: Array.from({ length: layers }, (_, l) => get(`b${l}`)),
    });
  }

  /** The live parameter tree (borrowed: callers take `tree.ref` before consuming it). */
  get params(): MlpParams {
    return this.#params;
  }

  /** Swaps in new parameters, releasing the old ones. */
  replace(p: MlpParams): void {
    tree.dispose(this.#params);
    this.#params = p;
  }

  /** Log-probabilities (n × classes, row-major) for n inputs, in fixed-size batches. */
  async logProbs(x: Float32Array, opts?: { batch?: number }): Promise<Float32Array> {
    const d = this.config.inputDim, c = this.config.classes, n = x.length / d;
    const batch = opts?.batch ?? 256;
    const out = new Float32Array(n * c);
    for (let s = 0; s < n; s += batch) {
      // Pad the last batch to the fixed size so jit compiles one program.
      const chunk = new Float32Array(batch * d);
      chunk.set(x.subarray(s * d, Math.min(n, s + batch) * d));
      const lp =
        (await logProbsJit(tree.ref(this.#params), matrix(chunk, d)).data()) as Float32Array;
      out.set(lp.subarray(0, (Math.min(n, s + batch) - s) * c), s * c);
    }
    return out;
  }

  /** An independent copy sharing no mutable state (arrays are immutable; updates replace them). */
  clone(): MlpPolicy {
    return new MlpPolicy(this.config, tree.ref(this.#params));
  }

  /** Starts Adam on this policy. */
  adam(opts: { lr: number; eps?: number }): Adam {
    return new Adam(this, opts);
  }

  /** Copies the weights out. */
  async weights(): Promise<NamedWeights> {
    const out: NamedWeights = new Map();
    for (const [k, list] of [["w", this.#params.w], ["b", this.#params.b]] as const) {
      for (const [l, a] of list.entries()) {
        out.set(`${k}${l}`, { shape: [...a.shape], data: (await a.ref.data()) as Float32Array });
      }
    }
    return out;
  }

  dispose(): void {
    tree.dispose(this.#params);
  }
}
