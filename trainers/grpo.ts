// GRPO (docs/metrics.md "Trainers"): G sampled outputs per input, group-normalised advantages,
// clipped importance ratio over μ inner iterations, optional β·k3 KL penalty to the base model.
// `drGrpo: true` drops the std division (Dr. GRPO).

import { onlyKeys } from "./options.ts";
import { parsePgOptions, type PgOptions, policyGradientLoop } from "./policy_gradient.ts";
import type { Trainer } from "./types.ts";

/** Defaults: G = 8, μ = 2, ε = 0.2, β = 0. */
export const grpo: Trainer<PgOptions> = {
  id: "grpo",
  needsReward: true,
  description:
    "GRPO: group-normalised advantages, clipped ratio, μ inner steps, optional KL penalty β",
  parseOptions(raw, where) {
    onlyKeys(raw, ["group", "mu", "clip", "beta", "drGrpo"], where);
    return parsePgOptions(raw, where, {
      group: 8,
      mu: 2,
      clip: 0.2,
      beta: 0,
      advantage: "grpo",
      filter: "none",
    });
  },
  train: policyGradientLoop,
};
