// The MLP's training and inference engine: onnxruntime-node running the 785→256→256→10 classifier
// (models/mlp.ts's architecture) with the parameters of R models stacked as one flat matrix
// [R, P], so that R runs of a grid take one step as one program (batched GEMMs), and one run is
// R = 1 of the same program. Chosen by measurement (README "Performance"): jax-js's per-kernel
// dispatch makes a ParityMNIST step 23 ms (PyTorch 2.1–2.5 ms on one thread) and its vmapped
// batched matmul is slower per run than one run alone (36 runs: 102 ms per run), while here one
// run's step takes about 1.2 ms and a stack of 36 runs about 2.4 ms per run. The pipeline
// therefore trains one run per program on the CPU (its state stays in cache); the stacked form is
// measured by bench/mlp_step.ts --groups.
//
// Two graphs per layer shape, compiled once per process:
//   forward:  params [R, P], x [R, N, D] → hidden activations and logits [R, N, C]
//   gradient: x, activations, dL/dlogits [R, N, C], params → the gradient [R, P] (backward by
//             hand: the MLP's gradients are a few per-member matmuls)
// and AdamW (PyTorch's, no weight decay, no clipping, as models/optim.ts) in place on the host in
// one WebAssembly SIMD pass (models/adamw_wasm.ts), where the state of the group lives: as 13
// onnxruntime elementwise passes plus copies of the state in and out, the update cost as much per
// run as the rest of the step.
// The losses' gradients with respect to the logits are computed on the host in float64
// (softGrad, pgGrad: the soft-target and clipped policy-gradient losses of models/mlp.ts), so
// every trainer drives the same update program. The jax-js functions of models/mlp.ts stay the
// reference the tests hold this engine to.
//
// Determinism: one intra-op thread (the bench's parallelism is its processes, `--jobs`), and
// every kernel computes each member's slice on its own, so a member's numbers do not depend on
// which other runs share its group (tested: slices of R = 3 equal R = 1 bit for bit).

import * as ort from "onnxruntime-node";
import {
  DataType,
  encodeModel,
  floatTensor,
  int64Tensor,
  type NodeProto,
  type ValueInfoProto,
} from "./onnx/proto.ts";
import type { MlpConfig } from "./mlp.ts";
import { ADAM, AdamArena } from "./adamw_wasm.ts";

export { AdamArena };

/** Where each layer's weight (in × out, row-major) and bias sit in the flat parameter vector. */
export interface MlpLayout {
  readonly sizes: readonly number[];
  readonly layers: readonly { w: number; b: number; fanIn: number; fanOut: number }[];
  /** Parameters per model (P). */
  readonly total: number;
}

/** The flat layout w0, b0, w1, b1, … of an MLP's parameters. */
export function layoutOf(config: MlpConfig): MlpLayout {
  const sizes = [config.inputDim, ...config.hidden, config.classes];
  const layers: MlpLayout["layers"][number][] = [];
  let at = 0;
  for (let l = 0; l < sizes.length - 1; l++) {
    const fanIn = sizes[l], fanOut = sizes[l + 1];
    layers.push({ w: at, b: at + fanIn * fanOut, fanIn, fanOut });
    at += fanIn * fanOut + fanOut;
  }
  return { sizes, layers, total: at };
}

/** A float32 scalar initializer. */
const scalar = (name: string, v: number) => floatTensor(name, [], new Float32Array([v]));

/** Builds the forward and gradient graphs of an MLP layout (R and N symbolic). */
function graphs(lay: MlpLayout): { forward: Uint8Array; gradient: Uint8Array } {
  const F = DataType.FLOAT, L = lay.layers.length;
  const nodes: NodeProto[] = [];
  const op = (
    opType: string,
    inputs: string[],
    out: string,
    attributes?: NodeProto["attributes"],
  ) => {
    nodes.push({ opType, inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  };
  const inits = [
    int64Tensor("axis1", [1], [1]),
    scalar("zero", 0),
    int64Tensor("flat_shape", [2], [0, -1]),
  ];
  // Each layer's weight and bias as views of the flat parameters: Slice along axis 1, Reshape.
  const views = (src: string) =>
    lay.layers.forEach((ly, l) => {
      for (
        const [k, from, shape] of [
          ["w", ly.w, [0, ly.fanIn, ly.fanOut]],
          ["b", ly.b, [0, 1, ly.fanOut]],
        ] as const
      ) {
        const len = k === "w" ? ly.fanIn * ly.fanOut : ly.fanOut;
        inits.push(
          int64Tensor(`${k}${l}_start`, [1], [from]),
          int64Tensor(`${k}${l}_end`, [1], [from + len]),
          int64Tensor(`${k}${l}_shape`, [3], [...shape]),
        );
        const flat = op("Slice", [src, `${k}${l}_start`, `${k}${l}_end`, "axis1"], `${k}${l}_flat`);
        op("Reshape", [flat, `${k}${l}_shape`], `${k}${l}`);
      }
    });
  views("params");
  let h = "x";
  for (let l = 0; l < L; l++) {
    const z = op(
      "Add",
      [op("MatMul", [h, `w${l}`], `xw${l}`), `b${l}`],
      l === L - 1 ? "logits" : `z${l}`,
    );
    if (l < L - 1) h = op("Relu", [z], `h${l + 1}`);
  }
  const io = (name: string, shape: (number | string)[]): ValueInfoProto => ({
    name,
    elemType: F,
    shape,
  });
  const x = io("x", ["r", "n", lay.sizes[0]]), params = io("params", ["r", lay.total]);
  const hidden = lay.layers.slice(0, -1).map((ly, l) => io(`h${l + 1}`, ["r", "n", ly.fanOut]));
  const forward = encodeModel({
    graph: {
      name: "mlp_forward",
      nodes: nodes.splice(0),
      initializers: inits.slice(),
      inputs: [params, x],
      outputs: [...hidden, io("logits", ["r", "n", lay.sizes[L]])],
    },
  });
  // Gradient: weights again from the flat parameters, then the backward pass from dL/dlogits.
  inits.length = 3;
  views("params");
  let d = "dlogits";
  for (let l = L - 1; l >= 0; l--) {
    const input = l === 0 ? "x" : `h${l}`;
    const perm = [{ name: "perm", ints: [0, 2, 1] }];
    const gw = op("MatMul", [op("Transpose", [input], `${input}_t`, perm), d], `gw${l}`);
    // Σ over the batch as a product with ones: a per-member GEMM like the others (ReduceSum's
    // summation order changes with R, which would make a member's bits depend on its group).
    const gb = op("MatMul", ["ones", d], `gb${l}`);
    op("Reshape", [gw, "flat_shape"], `gw${l}_flat`);
    op("Reshape", [gb, "flat_shape"], `gb${l}_flat`);
    if (l > 0) {
      const back = op("MatMul", [d, op("Transpose", [`w${l}`], `w${l}_t`, perm)], `back${l}`);
      const live = op("Cast", [op("Greater", [input, "zero"], `${input}_pos`)], `${input}_live`, [
        { name: "to", i: F },
      ]);
      d = op("Mul", [back, live], `d${l}`);
    }
  }
  // The gradient in the flat layout's order w0, b0, w1, b1, ….
  const ordered: string[] = [];
  for (let l = 0; l < L; l++) ordered.push(`gw${l}_flat`, `gb${l}_flat`);
  op("Concat", ordered, "grad", [{ name: "axis", i: 1 }]);
  const gradient = encodeModel({
    graph: {
      name: "mlp_gradient",
      nodes,
      initializers: inits,
      inputs: [
        params,
        x,
        ...hidden,
        io("dlogits", ["r", "n", lay.sizes[L]]),
        io("ones", [1, 1, "n"]),
      ],
      outputs: [io("grad", ["r", lay.total])],
    },
  });
  return { forward, gradient };
}

/** What a forward pass of R stacked models keeps for their update. */
export interface Activations {
  /** Logits [R, N, C]. */
  readonly logits: Float32Array;
  readonly tensors: Record<string, ort.Tensor>;
  readonly members: number;
  readonly n: number;
}

/** Compiled programs of one MLP shape. */
export class MlpEngine {
  readonly layout: MlpLayout;
  private constructor(
    readonly config: MlpConfig,
    private readonly fwd: ort.InferenceSession,
    private readonly grad: ort.InferenceSession,
  ) {
    this.layout = layoutOf(config);
  }

  static #cache = new Map<string, Promise<MlpEngine>>();

  /** The engine of an MLP shape (compiled on first use, then shared by the process). */
  static for(config: MlpConfig): Promise<MlpEngine> {
    const key = JSON.stringify([config.inputDim, config.hidden, config.classes]);
    let e = MlpEngine.#cache.get(key);
    if (!e) {
      const { forward, gradient } = graphs(layoutOf(config));
      const opts: ort.InferenceSession.SessionOptions = {
        executionProviders: ["cpu"],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      };
      e = Promise.all([
        ort.InferenceSession.create(forward, opts),
        ort.InferenceSession.create(gradient, opts),
      ]).then(([f, u]) => new MlpEngine(config, f, u));
      MlpEngine.#cache.set(key, e);
    }
    return e;
  }

  /**
   * Forward pass of R stacked models: `params` [R, P], `x` [R, N, D] → logits [R, N, C], and with
   * `keep` the activations an update needs.
   */
  async forward(
    params: Float32Array,
    x: Float32Array,
    opts: { members: number; keep?: boolean },
  ): Promise<Activations> {
    const r = opts.members, d = this.layout.sizes[0], P = this.layout.total;
    const n = x.length / (r * d);
    if (params.length !== r * P || !Number.isInteger(n)) {
      throw new RangeError(
        `mlp engine: ${params.length} parameters / ${x.length} inputs for ${r} members`,
      );
    }
    const feeds = {
      params: new ort.Tensor("float32", params, [r, P]),
      x: new ort.Tensor("float32", x, [r, n, d]),
    };
    const hidden = this.layout.layers.slice(0, -1).map((_, l) => `h${l + 1}`);
    const out = await this.fwd.run(feeds, opts.keep ? [...hidden, "logits"] : ["logits"]);
    const tensors: Record<string, ort.Tensor> = { x: feeds.x };
    for (const h of hidden) if (out[h]) tensors[h] = out[h];
    return { logits: out.logits.data as Float32Array, tensors, members: r, n };
  }

  /**
   * One AdamW step of every member of `state` from the gradient of its loss with respect to its
   * logits (`dlogits` [R, N, C], the forward pass `act` of `state.params` kept): the gradient
   * [R, P] by onnxruntime, the update in place by the arena's SIMD loop. `stepSize[r]` =
   * lr_r / (1 − β1ᵗ) and `bc2Sqrt[r]` = √(1 − β2ᵗ) per member, so members may differ in learning
   * rate and step count.
   */
  async update(
    state: AdamArena,
    act: Activations,
    dlogits: Float32Array,
    scalars: { stepSize: ArrayLike<number>; bc2Sqrt: ArrayLike<number> },
  ): Promise<void> {
    const r = act.members, P = this.layout.total, C = this.layout.sizes.at(-1)!;
    if (state.members !== r || state.size !== P) {
      throw new RangeError(
        `mlp engine: a state of ${state.members} × ${state.size} for ${r} × ${P}`,
      );
    }
    const t = (a: Float32Array, dims: number[]) => new ort.Tensor("float32", a, dims);
    const out = await this.grad.run({
      ...act.tensors,
      params: t(state.params, [r, P]),
      dlogits: t(dlogits, [r, act.n, C]),
      ones: t(new Float32Array(act.n).fill(1), [1, 1, act.n]),
    });
    state.grad.set(out.grad.data as Float32Array);
    state.step(scalars.stepSize, scalars.bc2Sqrt);
  }
}

/** AdamW's per-step scalars at step t (1-based) and learning rate lr (as models/optim.ts). */
export function adamScalars(t: number, lr: number): { stepSize: number; bc2Sqrt: number } {
  return { stepSize: lr / (1 - ADAM.beta1 ** t), bc2Sqrt: Math.sqrt(1 - ADAM.beta2 ** t) };
}

/** log_softmax of each row of `logits` (n × c), in float64. */
export function logSoftmaxRows(logits: ArrayLike<number>, c: number): Float64Array {
  const n = logits.length / c, out = new Float64Array(logits.length);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, logits[i * c + k]);
    let z = 0;
    for (let k = 0; k < c; k++) z += Math.exp(logits[i * c + k] - max);
    const lz = max + Math.log(z);
    for (let k = 0; k < c; k++) out[i * c + k] = logits[i * c + k] - lz;
  }
  return out;
}

/**
 * The soft-target loss of models/mlp.ts's softLoss, −(1/B) Σ q·log π + β (1/B) Σ KL(π0‖π), and its
 * gradient with respect to the logits, ((Σq + βΣπ0)·π − q − β π0) / B, from log-probabilities
 * `lp` (B × C).
 */
export function softGrad(
  lp: Float64Array,
  b: { q: Float32Array; lp0: Float32Array; beta: number; classes: number },
): { loss: number; dlogits: Float32Array } {
  const c = b.classes, n = lp.length / c, dl = new Float32Array(lp.length);
  let ce = 0, kl = 0;
  for (let i = 0; i < n; i++) {
    let sq = 0, sp0 = 0;
    for (let k = 0; k < c; k++) {
      const j = i * c + k, p0 = Math.exp(b.lp0[j]);
      ce -= b.q[j] * lp[j];
      if (b.beta !== 0) kl += p0 * (b.lp0[j] - lp[j]);
      sq += b.q[j];
      sp0 += p0;
    }
    const mass = sq + b.beta * sp0;
    for (let k = 0; k < c; k++) {
      const j = i * c + k;
      dl[j] = (mass * Math.exp(lp[j]) - b.q[j] - b.beta * Math.exp(b.lp0[j])) / n;
    }
  }
  return { loss: (ce + b.beta * kl) / n, dlogits: dl };
}

/**
 * The clipped policy-gradient loss of models/mlp.ts's pgLoss for B inputs × G sampled classes,
 * (1/N) Σ m [ −min(ρA, clip(ρ, 1−ε, 1+ε)A) + β k3 ], and its gradient with respect to the logits:
 * per sample c = m/N · (β(1 − π_ref/π) − ∂obj/∂log π(o)), with ∂obj = ρA on the unclipped branch
 * (the smaller, ties included) and on the clipped one while ρ is inside the interval, else 0;
 * then ∂L/∂logits_i = Σ_g c_ig (onehot(o_ig) − π_i).
 */
export function pgGrad(
  lp: Float64Array,
  a: {
    actions: Int32Array;
    adv: Float32Array;
    lpOld: Float32Array;
    lpRef: Float32Array;
    mask: Float32Array;
    clip: number;
    beta: number;
    invCount: number;
    classes: number;
    group: number;
  },
): { loss: number; dlogits: Float32Array } {
  const c = a.classes, g = a.group, n = lp.length / c, dl = new Float32Array(lp.length);
  const lo = 1 - a.clip, hi = 1 + a.clip;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let total = 0;
    const coef = new Float64Array(c);
    for (let s = 0; s < g; s++) {
      const k = i * g + s, y = a.actions[k];
      const lpa = lp[i * c + y], adv = a.adv[k];
      const ratio = Math.exp(lpa - a.lpOld[k]);
      const clipped = Math.min(Math.max(ratio, lo), hi);
      const un = ratio * adv, cl = clipped * adv;
      const obj = Math.min(un, cl);
      const d = a.lpRef[k] - lpa, ed = Math.exp(d);
      const w = a.mask[k] * a.invCount;
      loss += w * (a.beta * (ed - d - 1) - obj);
      const dobj = un <= cl ? un : (ratio > lo && ratio < hi ? un : 0);
      const cg = w * (a.beta * (1 - ed) - dobj);
      coef[y] += cg;
      total += cg;
    }
    for (let k = 0; k < c; k++) dl[i * c + k] = coef[k] - total * Math.exp(lp[i * c + k]);
  }
  return { loss, dlogits: dl };
}
