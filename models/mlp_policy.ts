// The MLP classifier (models/mlp.ts) as a Policy: classify requests answered by the argmax label,
// exact KL over the classes (docs/metrics.md "KL", classifier), a Learner for the trainers
// (models/mlp_learner.ts), and a folder layout of its own (config.json + model.safetensors).
// Parameters live on the host as one flat float32 vector (models/mlp_engine.ts's layout), run by
// onnxruntime; a step replaces the vector, never writes into it, so clones may share it.

import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { ValidationError } from "../lib/errors.ts";
import { meanKL } from "../evals/kl.ts";
import type { Learner, LearnerOptions, Target, TrainInstance } from "./learner.ts";
import { initMlp, type MlpConfig } from "./mlp.ts";
import { layoutOf, logSoftmaxRows, MlpEngine } from "./mlp_engine.ts";
import { mlpLearner } from "./mlp_learner.ts";
import type { ClassifyRequest, KlResult, Output, Policy, Request } from "./policy.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "./safetensors.ts";

/** Rows per forward pass when answering requests. */
const EVAL_BATCH = 512;

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
  /**
   * The live parameters, flat in models/mlp_engine.ts's layout (w0, b0, w1, …); never written
   * in place (learners' sessions replace the vector), so callers may keep a reference.
   */
  params: Float32Array;
  /** Log-probabilities per parameter set and request list (a step replaces the parameters). */
  readonly #memo = new WeakMap<Float32Array, WeakMap<readonly Request[], Promise<Float32Array>>>();

  constructor(readonly config: MlpConfig, params: Float32Array, readonly id: string) {
    const want = layoutOf(config).total;
    if (params.length !== want) {
      throw new RangeError(`mlp: ${params.length} parameters, the shape needs ${want}`);
    }
    this.params = params;
  }

  /** A freshly initialised policy (He initialisation from `seed`, models/mlp.ts's initMlp). */
  static init(config: MlpConfig, seed: number): MlpPolicy {
    const p = initMlp(config, seed), lay = layoutOf(config);
    const flat = new Float32Array(lay.total);
    lay.layers.forEach((ly, l) => {
      flat.set(p.w[l].dataSync() as Float32Array, ly.w);
      flat.set(p.b[l].dataSync() as Float32Array, ly.b);
    });
    return new MlpPolicy(config, flat, `initialised from seed ${seed}`);
  }

  /** Log-probabilities (n × classes, row-major) of n inputs. */
  async logProbs(x: Float32Array, opts: { batch?: number } = {}): Promise<Float32Array> {
    const d = this.config.inputDim, c = this.config.classes, n = x.length / d;
    const batch = opts.batch ?? EVAL_BATCH, engine = await MlpEngine.for(this.config);
    const out = new Float32Array(n * c);
    for (let s = 0; s < n; s += batch) {
      const e = Math.min(n, s + batch);
      const { logits } = await engine.forward(this.params, x.subarray(s * d, e * d), {
        members: 1,
      });
      out.set(logSoftmaxRows(logits, c), s * c);
    }
    return out;
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
    return new MlpPolicy(this.config, this.params, this.id);
  }

  /** Copies the weights out by name (`w0`, `b0`, …). */
  weights(): Promise<NamedWeights> {
    const out: NamedWeights = new Map();
    for (const [l, ly] of layoutOf(this.config).layers.entries()) {
      const w = this.params.slice(ly.w, ly.w + ly.fanIn * ly.fanOut);
      out.set(`w${l}`, { shape: [ly.fanIn, ly.fanOut], data: w });
      out.set(`b${l}`, { shape: [ly.fanOut], data: this.params.slice(ly.b, ly.b + ly.fanOut) });
    }
    return Promise.resolve(out);
  }

  snapshot(): Promise<NamedWeights> {
    return this.weights();
  }

  restore(weights: NamedWeights, where: string): Promise<void> {
    this.params = flatten(this.config, weights, where);
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
    return Promise.resolve();
  }
}

/** Named weights (`w0`, `b0`, …) as a flat parameter vector; a missing or misshapen one names `where`. */
function flatten(config: MlpConfig, weights: NamedWeights, where: string): Float32Array {
  const lay = layoutOf(config), flat = new Float32Array(lay.total);
  for (const [l, ly] of lay.layers.entries()) {
    for (
      const [name, shape, at] of [
        [`w${l}`, [ly.fanIn, ly.fanOut], ly.w],
        [`b${l}`, [ly.fanOut], ly.b],
      ] as const
    ) {
      const t = weights.get(name);
      if (!t || t.shape.join() !== shape.join()) {
        throw new ValidationError(where, `tensor '${name}' must have shape [${shape}]`);
      }
      flat.set(t.data, at);
    }
  }
  return flat;
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
  return new MlpPolicy(config, flatten(config, weights, stPath), dir);
}
