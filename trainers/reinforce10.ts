// 1-0 REINFORCE (docs/metrics.md "Trainers"): advantage = reward (1 if correct else 0), no baseline,
// one on-policy step per batch.

import { onlyKeys } from "./options.ts";
import { parsePgOptions, type PgOptions, policyGradientLoop } from "./policy_gradient.ts";
import type { Trainer } from "./types.ts";

/** Defaults: G = 8 samples per input, μ = 1, no KL penalty. */
export const reinforce10: Trainer<PgOptions> = {
  id: "reinforce10",
  needsReward: true,
  description: "1-0 REINFORCE: advantage = reward, no baseline, one step per batch",
  parseOptions(raw, where) {
    onlyKeys(raw, ["group"], where);
    return parsePgOptions(raw, where, {
      group: 8,
      mu: 1,
      clip: 0.2,
      beta: 0,
      advantage: "reward",
      filter: "none",
    });
  },
  train: policyGradientLoop,
};
