// The Learner of the classifier tasks (ParityMNIST): an MlpPolicy on ClassificationData. Outputs
// are class indices; π0 is the base model whose log-probabilities the data carries; KL(π0‖π) is
// exact over the classes (evals/kl.ts).

import { ValidationError } from "../lib/errors.ts";
import { hashString, rng, sampleIndex } from "../lib/rng.ts";
import { meanKL } from "../evals/kl.ts";
import type { MlpPolicy } from "../models/mlp.ts";
import { gather } from "./batches.ts";
import type { Learner, Rollouts, Session } from "./types.ts";

/** Fine-tuning data: n inputs with the base model's log-probabilities on them. */
export interface ClassificationData {
  /** Inputs, n × dim, row-major. */
  readonly x: Float32Array;
  readonly n: number;
  readonly dim: number;
  readonly classes: number;
  /** log π0(y | x_i), n × classes: the base (reference) policy on the same inputs. */
  readonly lp0: Float32Array;
  /** Reward of output y for input i (RL). */
  reward(i: number, y: number): number;
  /** Every correct output for input i (oracle SFT). */
  correct(i: number): readonly number[];
  /** Allowed SFT targets for input i under a named labelling, or undefined if unknown. */
  labelling(name: string): ((i: number) => readonly number[]) | undefined;
}

/** Labellings every classification task has besides its own: the KL-minimal correct policy. */
const ORACLE = "oracle";

/**
 * Target distributions q (n × classes) for a labelling (METRICS.md "Trainers"):
 *   sft1 / sft2: the task's fixed labellings (one target per item, drawn once from the seed
 *                where the labelling allows several: a dataset annotated once);
 *   oracle:      target = π0 restricted to the correct outputs and renormalised, the
 *                KL-minimal correct policy ("Oracle SFT (ParityMNIST)").
 */
export function sftTargets(
  data: ClassificationData,
  labelling: string,
  seed: number,
): Float32Array {
  const c = data.classes, q = new Float32Array(data.n * c);
  if (labelling === ORACLE) {
    for (let i = 0; i < data.n; i++) {
      const ok = data.correct(i);
      let z = 0;
      for (const y of ok) z += Math.exp(data.lp0[i * c + y]);
      for (const y of ok) q[i * c + y] = Math.exp(data.lp0[i * c + y]) / z;
    }
    return q;
  }
  const allowed = data.labelling(labelling);
  if (!allowed) {
    throw new ValidationError(
      "trainer options.labelling",
      `the task has no labelling '${labelling}'`,
    );
  }
  const r = rng(seed, hashString(`labels:${labelling}`));
  for (let i = 0; i < data.n; i++) {
    const ys = allowed(i);
    q[i * c + ys[ys.length === 1 ? 0 : r.int(ys.length)]] = 1;
  }
  return q;
}

/** What an MLP rollout keeps for its clipped steps. */
interface MlpRolloutState {
  x: Float32Array;
  actions: Int32Array;
  lpOld: Float32Array;
  lpRef: Float32Array;
}

/** The MLP policy `policy` (updated in place by sessions) learning `data`. */
export function mlpLearner(policy: MlpPolicy, data: ClassificationData): Learner<number> {
  const c = data.classes;
  return {
    n: data.n,
    hasLabelling: (name) => name === ORACLE || data.labelling(name) !== undefined,
    reward: (i, y) => data.reward(i, y),
    begin({ lr, seed }): Session<number> {
      const adam = policy.adam({ lr });
      const sampler = rng(seed, 0x5a3b1e);
      const targets = new Map<string, Float32Array>();
      return {
        async sft(idx, { labelling, beta }) {
          let q = targets.get(labelling);
          if (!q) targets.set(labelling, q = sftTargets(data, labelling, seed));
          const lp0 = gather(data.lp0, idx, c);
          const r = await adam.soft(gather(data.x, idx, data.dim), {
            q: gather(q, idx, c),
            lp0,
            beta,
          });
          return { loss: r.loss, kl: meanKL(lp0, r.logProbs, { classes: c }) };
        },
        async rollout(idx, g): Promise<Rollouts<number>> {
          const x = gather(data.x, idx, data.dim);
          const lp0 = gather(data.lp0, idx, c);
          const lp = await policy.logProbs(x, { batch: idx.length });
          const probs = lp.map(Math.exp);
          const actions = new Int32Array(idx.length * g);
          const lpOld = new Float32Array(idx.length * g), lpRef = new Float32Array(idx.length * g);
          const outputs = idx.map((_, k) =>
            Array.from({ length: g }, (_, j) => {
              const y = sampleIndex(probs, sampler, { offset: k * c, length: c });
              actions[k * g + j] = y;
              lpOld[k * g + j] = lp[k * c + y];
              lpRef[k * g + j] = lp0[k * c + y];
              return y;
            })
          );
          const internal: MlpRolloutState = { x, actions, lpOld, lpRef };
          return { idx, outputs, kl: meanKL(lp0, lp, { classes: c }), internal };
        },
        async pg(ro, u) {
          const s = ro.internal as MlpRolloutState;
          const r = await adam.pg(s.x, {
            actions: s.actions,
            adv: u.adv,
            lpOld: s.lpOld,
            lpRef: s.lpRef,
            mask: u.mask,
            group: ro.outputs[0]?.length ?? 0,
            clip: u.clip,
            beta: u.beta,
          });
          return { loss: r.loss };
        },
        dispose: () => adam.dispose(),
      };
    },
  };
}
