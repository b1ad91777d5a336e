// RIF-RFT, rollout-based instance filtering (docs/metrics.md "Trainers"): GRPO that rolls out G
// samples per instance and drops instances without learning signal before the update (all
// rollouts wrong; with `filter: "no_signal"` also all right). The loss averages over kept
// instances only; train_log.jsonl records instances kept / seen per step.

import { onlyKeys } from "./options.ts";
import { parsePgOptions, type PgOptions, policyGradientLoop } from "./policy_gradient.ts";
import type { Trainer } from "./types.ts";

/** Defaults as grpo, with `filter: "all_fail"`. */
export const rifRft: Trainer<PgOptions> = {
  id: "rif_rft",
  needsReward: true,
  description:
    "RIF-RFT: GRPO on instances whose rollouts give a learning signal (all-fail filtered)",
  parseOptions(raw, where) {
    onlyKeys(raw, ["group", "mu", "clip", "beta", "drGrpo", "filter"], where);
    return parsePgOptions(raw, where, {
      group: 8,
      mu: 2,
      clip: 0.2,
      beta: 0,
      advantage: "grpo",
      filter: "all_fail",
    });
  },
  train: policyGradientLoop,
};
