// The one trainer interface: train(policy, data, options) → log. A trainer knows the data only
// through ClassificationData (inputs, base log-probabilities, reward, correct sets, labellings),
// never which task it is, and drives the model only through its optimiser steps.

import type { MlpPolicy } from "../models/mlp.ts";

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

/** One optimiser step's record (a line of train_log.jsonl). */
export interface StepLog {
  step: number;
  loss: number;
  /** Exact KL(π0‖π) over classes, averaged over the batch, before the update. */
  kl: number;
  /** Mean reward of the sampled outputs (RL trainers). */
  reward?: number;
  /** Instances in the batch and those kept after filtering (RIF-RFT; all kept otherwise). */
  seen?: number;
  kept?: number;
}

/** What every trainer is given besides its own options. */
export interface TrainOptions<O> {
  readonly lr: number;
  /** Step budgets to stop at for evaluation; training runs to the largest. */
  readonly checkpoints: readonly number[];
  readonly batch: number;
  readonly seed: number;
  readonly options: O;
  onStep?(log: StepLog): void;
  /** Called after the step numbers in `checkpoints`, with the policy as it is then. */
  onCheckpoint?(step: number): Promise<void>;
}

/** A fine-tuning method. `parseOptions` validates a recipe's raw options up front. */
export interface Trainer<O = unknown> {
  readonly id: string;
  readonly description: string;
  parseOptions(raw: Readonly<Record<string, unknown>>, where: string): O;
  train(policy: MlpPolicy, data: ClassificationData, opts: TrainOptions<O>): Promise<void>;
}
