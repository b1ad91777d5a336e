// Supervised fine-tuning on a labelling of the new task (docs/metrics.md "Trainers"): the learner
// maps a labelling to targets (the classifier's sft1 / sft2 / oracle, the LM task's canonical
// answer as "sft1"). Also the loop behind sft_kl (β·KL(π0‖π) on the same inputs), replay and
// multitask (the same loss on a different data plan).

import { ValidationError } from "../lib/errors.ts";
import { batchOrder } from "./batches.ts";
import { onlyKeys } from "./options.ts";
import { lrAt } from "./schedule.ts";
import type { Learner, Trainer, TrainOptions } from "./types.ts";

/** The learner's batch order, or epoch-wise shuffling. */
export function batchesOf(learner: Learner, batch: number, seed: number): () => number[] {
  return learner.batches?.(batch, seed) ?? batchOrder(learner.n, batch, seed);
}

/** The SFT loop: cross-entropy on the labelling's targets, plus β·KL(π0‖π) when β > 0. */
export async function sftLoop(
  learner: Learner,
  opts: TrainOptions<{ labelling: string; beta: number }>,
): Promise<void> {
  const { labelling, beta } = opts.options;
  if (!learner.hasLabelling(labelling)) {
    throw new ValidationError(
      "trainer options.labelling",
      `the task has no labelling '${labelling}'`,
    );
  }
  const next = batchesOf(learner, opts.batch, opts.seed);
  const session = learner.begin({ seed: opts.seed });
  const last = Math.max(...opts.checkpoints);
  try {
    for (let step = 1; step <= last; step++) {
      const lr = lrAt(step, { lr: opts.lr, steps: last, schedule: opts.schedule });
      const idx = next();
      const r = await session.sft(idx, { labelling, beta, lr });
      opts.onStep?.({ step, lr, loss: r.loss, kl: r.kl, seen: idx.length });
      if (opts.checkpoints.includes(step)) await opts.onCheckpoint?.(step);
    }
  } finally {
    session.dispose();
  }
}

/** Parses `labelling` (sft1, sft2, oracle, or any labelling the task declares). */
export function parseLabelling(raw: Readonly<Record<string, unknown>>, where: string): string {
  const v = raw.labelling ?? "sft1";
  if (typeof v !== "string" || v === "") {
    throw new ValidationError(`${where}.labelling`, "must be a labelling name");
  }
  return v;
}

/** Plain SFT. Options: `labelling` ("sft1" default, "sft2", "oracle"). */
export const sft: Trainer<{ labelling: string; beta: number }> = {
  id: "sft",
  needsReward: false,
  labelling: (o) => o.labelling,
  description:
    "supervised fine-tuning on a labelling (sft1, sft2, or oracle = π0 renormalised over correct outputs)",
  parseOptions(raw, where) {
    onlyKeys(raw, ["labelling"], where);
    return { labelling: parseLabelling(raw, where), beta: 0 };
  },
  train: sftLoop,
};
