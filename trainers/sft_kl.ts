// SFT+KL (docs/metrics.md "Trainers"): cross-entropy on the targets + β·KL(π0‖π) on the same inputs,
// the supervised way to stay close to the base model.

import { num, onlyKeys } from "./options.ts";
import { parseLabelling, sftLoop } from "./sft.ts";
import type { Trainer } from "./types.ts";

/** SFT plus β·KL(π0‖π). Options: `labelling` (default sft1), `beta` (default 1). */
export const sftKl: Trainer<{ labelling: string; beta: number }> = {
  id: "sft_kl",
  needsReward: false,
  labelling: (o) => o.labelling,
  description: "SFT with a forward-KL penalty β·KL(π0‖π) to the base model",
  parseOptions(raw, where) {
    onlyKeys(raw, ["labelling", "beta"], where);
    return {
      labelling: parseLabelling(raw, where),
      beta: num(raw, "beta", { where, fallback: 1, min: 0 }),
    };
  },
  train: sftLoop,
};
