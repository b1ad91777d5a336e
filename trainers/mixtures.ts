// Trainers that differ from SFT in their data, not their loss (docs/metrics.md "Trainers"):
//   replay:    each batch mixes the current task with a stated fraction of earlier tasks'
//              training data (the rest of the batch is the current task);
//   multitask: every task of the sequence trained jointly in one stage, the upper bound that
//              continual methods are compared with.
// The sequence runner builds the mixed learner from `plan`; on a single task both are SFT.

import { num, onlyKeys } from "./options.ts";
import { parseLabelling, sftLoop } from "./sft.ts";
import type { Trainer } from "./types.ts";

/** Options of the mixture trainers (SFT on the mixture). */
export interface MixtureOptions {
  labelling: string;
  beta: number;
  /** Fraction of each batch drawn from earlier tasks (replay only). */
  fraction: number;
}

/** SFT with replay. Options: `fraction` of each batch from earlier tasks (default 0.25). */
export const replay: Trainer<MixtureOptions> = {
  id: "replay",
  needsReward: false,
  labelling: (o) => o.labelling,
  description: "SFT with replay: a stated fraction of each batch from earlier tasks' data",
  parseOptions(raw, where) {
    onlyKeys(raw, ["labelling", "fraction"], where);
    return {
      labelling: parseLabelling(raw, where),
      beta: 0,
      fraction: num(raw, "fraction", { where, fallback: 0.25, min: 0, max: 1 }),
    };
  },
  plan: (o) => ({ kind: "replay", fraction: o.fraction }),
  train: sftLoop,
};

/** Multi-task SFT on all tasks jointly (one stage): the upper bound. */
export const multitask: Trainer<MixtureOptions> = {
  id: "multitask",
  needsReward: false,
  labelling: (o) => o.labelling,
  description: "multi-task SFT on every task of the sequence jointly (the upper bound)",
  parseOptions(raw, where) {
    onlyKeys(raw, ["labelling"], where);
    return { labelling: parseLabelling(raw, where), beta: 0, fraction: 0 };
  },
  plan: () => ({ kind: "joint" }),
  train: sftLoop,
};
