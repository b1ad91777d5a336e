// The one trainer interface: train(learner, options) → step logs. A trainer sees a policy and its
// training set only through a Learner (models/learner.ts), so the same trainers drive every
// trainable model family. A trainer that differs from SFT in its data rather than its loss
// declares a data plan; the pipeline composes the stage's data from it (runs/stages.ts).

export type {
  BatchOrder,
  Learner,
  PgUpdate,
  Rollouts,
  Session,
  Target,
  TrainInstance,
} from "../models/learner.ts";
import type { Learner } from "../models/learner.ts";

/** One optimiser step's record (a `step` line of records.jsonl). */
export interface StepLog {
  step: number;
  /** Learning rate of this step (after the schedule). */
  lr: number;
  loss: number;
  /** KL(π0‖π) on the batch's inputs before the update (π0: the learner's reference; NaN without). */
  kl: number;
  /** Instances in the batch. */
  seen: number;
  /** Instances kept after filtering (RL trainers; equals `seen` where nothing is filtered). */
  kept?: number;
  /** Mean reward of the sampled outputs (RL trainers). */
  reward?: number;
}

/**
 * A learning-rate schedule over a run's steps: linear warmup over the first `warmup` fraction of
 * the steps (at least one step when > 0), then constant, or cosine from lr down to `floor`·lr.
 */
export interface Schedule {
  readonly warmup: number;
  readonly decay: "constant" | "cosine";
  /** Final fraction of lr for cosine decay (default 0.1). */
  readonly floor?: number;
}

/** What every trainer is given besides its own options. */
export interface TrainOptions<O> {
  /** Peak learning rate. */
  readonly lr: number;
  /** The schedule (default: constant lr, no warmup). */
  readonly schedule?: Schedule;
  /** Step budgets to stop at for evaluation; training runs to the largest. */
  readonly checkpoints: readonly number[];
  readonly batch: number;
  readonly seed: number;
  readonly options: O;
  onStep?(log: StepLog): void;
  /** Called after the step numbers in `checkpoints`, with the policy as it is then. */
  onCheckpoint?(step: number): Promise<void>;
}

/**
 * Which data a trainer trains on in a task sequence: the current stage's task only, the current
 * task mixed with a stated fraction of earlier tasks' training data (replay), or every task of
 * the sequence at once (the multi-task upper bound, one joint stage).
 */
export type DataPlan =
  | { readonly kind: "stage" }
  | { readonly kind: "replay"; readonly fraction: number }
  | { readonly kind: "joint" };

/** A fine-tuning method. `parseOptions` validates a recipe's raw options up front. */
export interface Trainer<O = unknown> {
  readonly id: string;
  readonly description: string;
  /** Whether it samples outputs and needs the task's reward (RL trainers). */
  readonly needsReward: boolean;
  parseOptions(raw: Readonly<Record<string, unknown>>, where: string): O;
  /** The data plan for task sequences (default: the current stage's task). */
  plan?(options: O): DataPlan;
  /** The SFT labelling it trains on, where it does (checked against the tasks up front). */
  labelling?(options: O): string | undefined;
  train(learner: Learner, opts: TrainOptions<O>): Promise<void>;
}
