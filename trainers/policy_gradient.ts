// The on-policy loop behind grpo, reinforce10 and rif_rft (docs/metrics.md "Trainers"): for each
// input in a batch, sample G outputs from the current policy π_old, reward them, turn rewards
// into advantages, optionally drop instances with no learning signal, then take μ clipped-ratio
// steps with an optional k3 KL penalty to the base policy.

import { bool, num, oneOf } from "./options.ts";
import { lrAt } from "./schedule.ts";
import { batchesOf } from "./sft.ts";
import type { Learner, TrainOptions } from "./types.ts";

/** How rewards become advantages. */
export type AdvantageKind = "grpo" | "dr_grpo" | "reward";

/** Which instances to drop before the update (RIF-RFT). */
export type FilterKind = "none" | "all_fail" | "no_signal";

export interface PgOptions {
  group: number;
  mu: number;
  clip: number;
  beta: number;
  advantage: AdvantageKind;
  filter: FilterKind;
}

/**
 * Advantages of one group of rewards (docs/metrics.md "Trainers"):
 * grpo: A_i = (r_i − mean r) / (std r + ε) with the population std and ε = 1e-6;
 * dr_grpo: A_i = r_i − mean r (no std division);
 * reward: A_i = r_i (1-0 REINFORCE: no baseline).
 */
export function advantages(r: readonly number[], kind: AdvantageKind): number[] {
  if (kind === "reward") return [...r];
  const m = r.reduce((a, b) => a + b, 0) / r.length;
  if (kind === "dr_grpo") return r.map((x) => x - m);
  const sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / r.length);
  return r.map((x) => (x - m) / (sd + 1e-6));
}

/**
 * Whether an instance is kept (RIF-RFT): `all_fail` drops instances whose G rollouts are all
 * wrong (zero GRPO advantage, no signal); `no_signal` also drops all-correct ones.
 */
export function keepInstance(r: readonly number[], filter: FilterKind): boolean {
  if (filter === "none") return true;
  const wins = r.filter((x) => x > 0).length;
  if (wins === 0) return false;
  return filter === "all_fail" || wins < r.length;
}

/** Parses the options shared by the policy-gradient trainers (defaults per trainer). */
export function parsePgOptions(
  raw: Readonly<Record<string, unknown>>,
  where: string,
  defaults: PgOptions,
): PgOptions {
  return {
    group: num(raw, "group", { where, fallback: defaults.group, min: 1, max: 1024, integer: true }),
    mu: num(raw, "mu", { where, fallback: defaults.mu, min: 1, max: 64, integer: true }),
    clip: num(raw, "clip", { where, fallback: defaults.clip, min: 0, max: 10 }),
    beta: num(raw, "beta", { where, fallback: defaults.beta, min: 0 }),
    advantage: bool(raw, "drGrpo", { where, fallback: defaults.advantage === "dr_grpo" })
      ? "dr_grpo"
      : defaults.advantage,
    filter: oneOf(raw, "filter", {
      where,
      values: ["none", "all_fail", "no_signal"],
      fallback: defaults.filter,
    }),
  };
}

/**
 * The policy-gradient loop: per step, G rollouts per instance from the current policy, rewards,
 * advantages, the instance filter, then μ clipped steps with π_old fixed at the rollouts. Dr. GRPO
 * also drops the per-sequence length normalisation (a constant divisor instead).
 */
export async function policyGradientLoop(
  learner: Learner,
  opts: TrainOptions<PgOptions>,
): Promise<void> {
  const o = opts.options, g = o.group;
  const next = batchesOf(learner, opts.batch, opts.seed);
  const session = learner.begin({ seed: opts.seed });
  const last = Math.max(...opts.checkpoints);
  try {
    for (let step = 1; step <= last; step++) {
      const lr = lrAt(step, { lr: opts.lr, steps: last, schedule: opts.schedule });
      // μ = 1 is on-policy: the one step runs at the sampling weights (π_old = π).
      const ro = await session.rollout(next(), g, { onPolicy: o.mu === 1 });
      let kl = ro.kl;
      const n = ro.idx.length;
      const adv = new Float32Array(n * g), mask = new Float32Array(n * g);
      let rewardSum = 0, kept = 0;
      ro.idx.forEach((i, k) => {
        const r = ro.outputs[k].map((y) => learner.reward(i, y));
        rewardSum += r.reduce((a, b) => a + b, 0);
        const keep = keepInstance(r, o.filter);
        if (keep) kept++;
        adv.set(advantages(r, o.advantage), k * g);
        mask.fill(keep ? 1 : 0, k * g, (k + 1) * g);
      });
      let loss = 0;
      if (kept > 0) {
        for (let it = 0; it < o.mu; it++) {
          const r = await session.pg(ro, {
            adv,
            mask,
            clip: o.clip,
            beta: o.beta,
            normalization: o.advantage === "dr_grpo" ? "constant" : "sequence-mean",
            lr,
          });
          if (it === 0) {
            loss = r.loss;
            if (ro.klPending) kl = r.kl!;
          }
        }
      } else if (ro.klPending) kl = await session.rolloutKl!(ro);
      opts.onStep?.({ step, lr, loss, kl, seen: n, kept, reward: rewardSum / (n * g) });
      if (opts.checkpoints.includes(step)) await opts.onCheckpoint?.(step);
    }
  } finally {
    session.dispose();
  }
}
