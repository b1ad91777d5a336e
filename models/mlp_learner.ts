// The Learner of an MLP policy (models/learner.ts) on classify instances: outputs are class
// indices; π0 is the learner's reference policy, whose log-probabilities on the training inputs
// are computed once; KL(π0‖π) is exact over the classes (evals/kl.ts).

import { ValidationError } from "../lib/errors.ts";
import { hashString, rng, sampleIndex } from "../lib/rng.ts";
import { meanKL } from "../evals/kl.ts";
import type { LearnerOptions, Rollouts, Session, TrainInstance } from "./learner.ts";
import type { Learner } from "./learner.ts";
import {
  AdamArena,
  adamScalars,
  logSoftmaxRows,
  MlpEngine,
  pgGrad,
  softGrad,
} from "./mlp_engine.ts";
import { asMlp, type MlpPolicy, stackInputs } from "./mlp_policy.ts";
import type { ClassifyRequest } from "./policy.ts";

/** The labelling every classify instance has besides its task's: the KL-minimal correct policy. */
const ORACLE = "oracle";

/** Rows `idx` of a row-major matrix with `cols` columns. */
export function gather(m: Float32Array, idx: readonly number[], cols: number): Float32Array {
  const out = new Float32Array(idx.length * cols);
  idx.forEach((i, k) => out.set(m.subarray(i * cols, (i + 1) * cols), k * cols));
  return out;
}

/**
 * Target distributions q (n × classes) for a labelling (docs/metrics.md "Trainers"):
 *   a task labelling (sft1, sft2, ...): one target per item, drawn once from the seed where the
 *                the labelling allows several (a dataset annotated once);
 *   oracle:      target = π0 restricted to the correct outputs and renormalised, the
 *                KL-minimal correct policy ("Oracle SFT (ParityMNIST)").
 */
export function sftTargets(
  instances: readonly TrainInstance[],
  opts: { labelling: string; seed: number; classes: number; lp0: Float32Array },
): Float32Array {
  const c = opts.classes, n = instances.length, q = new Float32Array(n * c);
  if (opts.labelling === ORACLE) {
    instances.forEach((inst, i) => {
      const ok = (inst.correct?.() ?? []) as number[];
      let z = 0;
      for (const y of ok) z += Math.exp(opts.lp0[i * c + y]);
      for (const y of ok) q[i * c + y] = Math.exp(opts.lp0[i * c + y]) / z;
    });
    return q;
  }
  const r = rng(opts.seed, hashString(`labels:${opts.labelling}`));
  instances.forEach((inst, i) => {
    const ys = inst.targets(opts.labelling);
    if (!ys?.length) {
      throw new ValidationError(
        "trainer options.labelling",
        `the task has no labelling '${opts.labelling}'`,
      );
    }
    q[i * c + (ys[ys.length === 1 ? 0 : r.int(ys.length)] as number)] = 1;
  });
  return q;
}

/** What an MLP rollout keeps for its clipped steps. */
interface MlpRolloutState {
  x: Float32Array;
  actions: Int32Array;
  lpOld: Float32Array;
  lpRef: Float32Array;
}

/** The classify requests of the instances, or a one-line error. */
function requestsOf(instances: readonly TrainInstance[]): ClassifyRequest[] {
  return instances.map((inst, i) => {
    if (inst.request.kind !== "classify") {
      throw new ValidationError(`training instance ${i}`, "an MLP learns classify requests only");
    }
    return inst.request;
  });
}

/** `policy` learning `instances`; sessions update the policy in place. */
export function mlpLearner(
  policy: MlpPolicy,
  instances: readonly TrainInstance[],
  opts: LearnerOptions,
): Learner<number> {
  if (instances.length === 0) throw new ValidationError("mlp learner", "no training instances");
  if (opts.lora) throw new ValidationError("lora", "the mlp family has no LoRA (llama has)");
  if ((opts.accumulate ?? 1) !== 1) {
    throw new ValidationError(
      "accumulate",
      `the mlp family trains whole batches only, got ${opts.accumulate} (llama accumulates)`,
    );
  }
  const c = policy.config.classes, dim = policy.config.inputDim;
  const x = stackInputs(requestsOf(instances), dim);
  const ref = opts.reference === undefined ? undefined : asMlp(opts.reference, "reference");
  // π0 on the training inputs, computed once (zeros, unused, without a reference).
  let lp0: Promise<Float32Array> | undefined;
  const refLogProbs = () => lp0 ??= ref ? ref.logProbs(x) : Promise.resolve(new Float32Array(0));
  const klOf = (lpRef: Float32Array, lp: Float32Array) =>
    ref ? meanKL(lpRef, lp, { classes: c }) : NaN;
  return {
    n: instances.length,
    rewarded: instances.every((inst) => inst.reward !== undefined),
    hasLabelling: (name) =>
      name === ORACLE
        ? instances.every((inst) => inst.correct !== undefined) && ref !== undefined
        : instances.every((inst) => (inst.targets(name)?.length ?? 0) > 0),
    reward: (i, y) => instances[i].reward!(y),
    batches: opts.batches,
    begin({ seed }): Session<number> {
      // The optimiser state in WebAssembly memory, updated in place; the policy gets a copy of
      // the parameters after each step (its vectors are never written, clones share them).
      const state = new AdamArena(1, policy.params.length);
      state.params.set(policy.params);
      let t = 0;
      const engine = MlpEngine.for(policy.config);
      /** One AdamW step on the inputs `xs` from the loss's gradient at the logits. */
      const step = async (
        xs: Float32Array,
        lr: number,
        grad: (lp: Float64Array) => { loss: number; dlogits: Float32Array },
      ) => {
        const e = await engine;
        const act = await e.forward(state.params, xs, { members: 1, keep: true });
        const lp = logSoftmaxRows(act.logits, c);
        const { loss, dlogits } = grad(lp);
        const k = adamScalars(++t, lr);
        await e.update(state, act, dlogits, { stepSize: [k.stepSize], bc2Sqrt: [k.bc2Sqrt] });
        policy.params = state.params.slice();
        return { loss, lp: Float32Array.from(lp) };
      };
      const sampler = rng(seed, 0x5a3b1e);
      const targets = new Map<string, Float32Array>();
      return {
        async sft(idx, { labelling, beta, lr }) {
          if (beta > 0 && !ref) {
            throw new ValidationError("sft", "β > 0 needs a reference policy");
          }
          const lpAll = await refLogProbs();
          let q = targets.get(labelling);
          if (!q) {
            q = sftTargets(instances, { labelling, seed, classes: c, lp0: lpAll });
            targets.set(labelling, q);
          }
          const lpRef = ref ? gather(lpAll, idx, c) : new Float32Array(idx.length * c);
          const qb = gather(q, idx, c);
          const r = await step(
            gather(x, idx, dim),
            lr,
            (lp) => softGrad(lp, { q: qb, lp0: lpRef, beta, classes: c }),
          );
          return { loss: r.loss, kl: klOf(lpRef, r.lp) };
        },
        async rollout(idx, g): Promise<Rollouts<number>> {
          const xs = gather(x, idx, dim);
          const lpAll = await refLogProbs();
          const lpRefRows = ref ? gather(lpAll, idx, c) : new Float32Array(idx.length * c);
          const lp = await policy.logProbs(xs, { batch: idx.length });
          const probs = lp.map(Math.exp);
          const actions = new Int32Array(idx.length * g);
          const lpOld = new Float32Array(idx.length * g), lpRef = new Float32Array(idx.length * g);
          const outputs = idx.map((_, k) =>
            Array.from({ length: g }, (_, j) => {
              const y = sampleIndex(probs, sampler, { offset: k * c, length: c });
              actions[k * g + j] = y;
              lpOld[k * g + j] = lp[k * c + y];
              lpRef[k * g + j] = lpRefRows[k * c + y];
              return y;
            })
          );
          const internal: MlpRolloutState = { x: xs, actions, lpOld, lpRef };
          return { idx, outputs, kl: klOf(lpRefRows, lp), internal };
        },
        async pg(ro, u) {
          if (u.beta > 0 && !ref) throw new ValidationError("pg", "β > 0 needs a reference policy");
          const s = ro.internal as MlpRolloutState;
          const group = ro.outputs[0]?.length ?? 0;
          let kept = 0;
          for (const w of u.mask) kept += w;
          const r = await step(s.x, u.lr, (lp) =>
            pgGrad(lp, {
              actions: s.actions,
              adv: u.adv,
              lpOld: s.lpOld,
              lpRef: s.lpRef,
              mask: u.mask,
              clip: u.clip,
              beta: u.beta,
              invCount: 1 / Math.max(kept, 1),
              classes: c,
              group,
            }));
          return { loss: r.loss };
        },
        dispose() {},
      };
    },
  };
}
