// The MLP classifier (models/mlp.ts) as a Policy: classify requests answered by the argmax label,
// exact KL over the classes (docs/metrics.md "KL", classifier), a Learner for the trainers
// (models/mlp_learner.ts), and a folder layout of its own (config.json + model.safetensors).

import { numpy as np, tree } from "@jax-js/jax";
import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { ValidationError } from "../lib/errors.ts";
import { meanKL } from "../evals/kl.ts";
import type { Learner, LearnerOptions, Target, TrainInstance } from "./learner.ts";
import { initMlp, type MlpConfig, mlpLogProbs, type MlpParams } from "./mlp.ts";
import { mlpLearner } from "./mlp_learner.ts";
import type { ClassifyRequest, KlResult, Output, Policy, Request } from "./policy.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "./safetensors.ts";

/** Rows per forward pass when answering requests (fixed, so jit compiles one program). */
const EVAL_BATCH = 500;

/** config.json's model_type for an MLP folder. */
const MODEL_TYPE = "forgetbench_mlp";

/** Index of the largest of `classes` values starting at `offset` (first wins ties). */
export function argmaxRow(
  lp: ArrayLike<number>,
  opts: { offset: number; classes: number },
): number {
  let best = 0;
  for (let k = 1; k < opts.classes; k++) if (lp[opts.offset + k] > lp[opts.offset + best]) best = k;
  return best;
}

/** The classify requests of a batch, or a one-line error naming the first other one. */
function classifyOnly(requests: readonly Request[], classes: number, dim: number) {
  return requests.map((r, i) => {
    if (r.kind !== "classify") {
      throw new ValidationError(`request ${i}`, `an MLP answers classify requests, not ${r.kind}`);
    }
    if (r.classes !== classes || r.x.length !== dim) {
      throw new ValidationError(
        `request ${i}`,
        `has ${r.x.length} inputs and ${r.classes} classes; this MLP takes ${dim} and ${classes}`,
      );
    }
    return r;
  });
}

/** Concatenated inputs (n × dim, row-major) of classify requests. */
export function stackInputs(requests: readonly ClassifyRequest[], dim: number): Float32Array {
  const x = new Float32Array(requests.length * dim);
  requests.forEach((r, i) => x.set(r.x, i * dim));
  return x;
}

/** An MLP classifier policy. Sessions of its learners replace `params` after every step. */
export class MlpPolicy implements Policy {
  readonly family = "mlp";
  readonly kinds = ["classify"] as const;
  /** The live parameters (borrowed by callers; learners' sessions replace them). */
  params: MlpParams;
  /** Log-probabilities per parameter set and request list (a step replaces the parameters). */
  readonly #memo = new WeakMap<MlpParams, WeakMap<readonly Request[], Promise<Float32Array>>>();

  constructor(readonly config: MlpConfig, params: MlpParams, readonly id: string) {
    this.params = params;
  }

  /** A freshly initialised policy (He initialisation from `seed`). */
  static init(config: MlpConfig, seed: number): MlpPolicy {
    return new MlpPolicy(config, initMlp(config, seed), `initialised from seed ${seed}`);
  }

  /** Log-probabilities (n × classes, row-major) of n inputs. */
  logProbs(x: Float32Array, opts: { batch?: number } = {}): Promise<Float32Array> {
    return mlpLogProbs(this.params, x, { config: this.config, batch: opts.batch ?? EVAL_BATCH });
  }

  /**
   * Log-probabilities of classify requests, computed once per parameter set and request list
   * (evaluation and KL at a checkpoint share them; π0's are computed once per recipe).
   */
  requestLogProbs(requests: readonly Request[]): Promise<Float32Array> {
    let byRequests = this.#memo.get(this.params);
    if (!byRequests) this.#memo.set(this.params, byRequests = new WeakMap());
    let lp = byRequests.get(requests);
    if (!lp) {
      const { inputDim, classes } = this.config;
      lp = this.logProbs(stackInputs(classifyOnly(requests, classes, inputDim), inputDim));
      byRequests.set(requests, lp);
    }
    return lp;
  }

  async run(requests: readonly Request[]): Promise<Output[]> {
    const lp = await this.requestLogProbs(requests), c = this.config.classes;
    return requests.map((_, i) => ({
      kind: "classify",
      label: argmaxRow(lp, { offset: i * c, classes: c }),
    }));
  }

  /** Exact KL over the classes, forward and reverse, averaged over the requests. */
  async kl(reference: Policy, requests: readonly Request[]): Promise<KlResult> {
    const ref = asMlp(reference, "kl reference");
    const [p, q] = [await ref.requestLogProbs(requests), await this.requestLogProbs(requests)];
    const classes = this.config.classes;
    return { forward: meanKL(p, q, { classes }), reverse: meanKL(q, p, { classes }) };
  }

  learner(instances: readonly TrainInstance[], opts: LearnerOptions): Learner<Target> {
    return mlpLearner(this, instances, opts) as Learner<Target>;
  }

  clone(): MlpPolicy {
    return new MlpPolicy(this.config, tree.ref(this.params), this.id);
  }

  /** Copies the weights out by name (`w0`, `b0`, …). */
  async weights(): Promise<NamedWeights> {
    const out: NamedWeights = new Map();
    for (const [k, list] of [["w", this.params.w], ["b", this.params.b]] as const) {
      for (const [l, a] of list.entries()) {
        out.set(`${k}${l}`, { shape: [...a.shape], data: (await a.ref.data()) as Float32Array });
      }
    }
    return out;
  }

  snapshot(): Promise<NamedWeights> {
    return this.weights();
  }

  restore(weights: NamedWeights, where: string): Promise<void> {
    const take = (name: string, like: np.Array) => {
      const t = weights.get(name);
      if (!t || t.shape.join() !== like.shape.join()) {
        throw new ValidationError(where, `tensor '${name}' must have shape [${like.shape}]`);
      }
      return np.array(t.data as Float32Array<ArrayBuffer>).reshape([...like.shape]);
    };
    const next: MlpParams = {
      w: this.params.w.map((a, l) => take(`w${l}`, a)),
      b: this.params.b.map((a, l) => take(`b${l}`, a)),
    };
    tree.dispose(this.params);
    this.params = next;
    return Promise.resolve();
  }

  /** Writes `dir`/config.json and `dir`/model.safetensors (creates `dir`). */
  async save(dir: string): Promise<void> {
    const c = this.config;
    await Deno.mkdir(dir, { recursive: true });
    const config = {
      model_type: MODEL_TYPE,
      input_dim: c.inputDim,
      hidden: c.hidden,
      classes: c.classes,
    };
    await writeBytesAtomic(`${dir}/model.safetensors`, encodeSafetensors(await this.weights()));
    await writeTextAtomic(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  }

  dispose(): Promise<void> {
    tree.dispose(this.params);
    return Promise.resolve();
  }
}

/** `p` as an MLP, or a one-line error naming what needed one. */
export function asMlp(p: unknown, what: string): MlpPolicy {
  if (!(p instanceof MlpPolicy)) throw new ValidationError(what, "must be an MLP policy");
  return p;
}

/** Reads a folder written by MlpPolicy.save; every problem names the file. */
export async function loadMlp(dir: string): Promise<MlpPolicy> {
  const cfgPath = `${dir}/config.json`, stPath = `${dir}/model.safetensors`;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(cfgPath));
  } catch (e) {
    throw new ValidationError(cfgPath, `cannot read it as JSON (${(e as Error).message})`);
  }
  if (json?.model_type !== MODEL_TYPE) {
    throw new ValidationError(cfgPath, `model_type must be "${MODEL_TYPE}"`);
  }
  const ints = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x > 0);
  if (!ints([json.input_dim, json.classes]) || !ints(json.hidden)) {
    throw new ValidationError(cfgPath, "input_dim, classes and hidden must be positive integers");
  }
  const config: MlpConfig = {
    inputDim: json.input_dim as number,
    hidden: json.hidden as number[],
    classes: json.classes as number,
  };
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(stPath);
  } catch (e) {
    throw new ValidationError(stPath, `cannot read (${(e as Error).message})`);
  }
  const { weights } = decodeSafetensors(bytes, stPath);
  const sizes = [config.inputDim, ...config.hidden, config.classes];
  const get = (name: string, shape: number[]) => {
    const t = weights.get(name);
    if (!t || t.shape.join() !== shape.join()) {
      throw new ValidationError(stPath, `tensor '${name}' must have shape [${shape}]`);
    }
    return t.data;
  };
  const layers = sizes.length - 1;
  const w = Array.from({ length: layers }, (_, l) => get(`w${l}`, [sizes[l], sizes[l + 1]]));
  const b = Array.from({ length: layers }, (_, l) => get(`b${l}`, [sizes[l + 1]]));
  const arr = (d: Float32Array, shape: number[]) =>
    np.array(d as Float32Array<ArrayBuffer>).reshape(shape);
  return new MlpPolicy(config, {
    w: w.map((d, l) => arr(d, [sizes[l], sizes[l + 1]])),
    b: b.map((d, l) => arr(d, [sizes[l + 1]])),
  }, dir);
}
