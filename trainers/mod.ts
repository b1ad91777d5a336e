// The trainer registry: every trainer listed explicitly by id.

import { UsageError } from "../lib/errors.ts";
import { grpo } from "./grpo.ts";
import { multitask, replay } from "./mixtures.ts";
import { reinforce10 } from "./reinforce10.ts";
import { rifRft } from "./rif_rft.ts";
import { sft } from "./sft.ts";
import { sftKl } from "./sft_kl.ts";
import type { Trainer } from "./types.ts";

export type { DataPlan, Learner, StepLog, Trainer, TrainOptions } from "./types.ts";

/** Every registered trainer, by id. */
export const TRAINERS: Readonly<Record<string, Trainer>> = Object.freeze(
  Object.fromEntries(
    ([sft, sftKl, grpo, reinforce10, rifRft, replay, multitask] as Trainer[]).map((t) => [t.id, t]),
  ),
);

/** The data plan of a trainer with parsed options (default: the current stage's task). */
export function planOf(trainer: Trainer, options: unknown) {
  return trainer.plan?.(options) ?? { kind: "stage" as const };
}

/** Looks a trainer up; an unknown id is a usage error listing the known ones. */
export function getTrainer(id: string, where: string): Trainer {
  const t = TRAINERS[id];
  if (!t) {
    throw new UsageError(
      `${where}: unknown trainer '${id}'; known trainers: ${Object.keys(TRAINERS).join(", ")}`,
    );
  }
  return t;
}
