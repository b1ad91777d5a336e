// What a trainer sees of a policy and its training data: a Learner (Policy.learner makes one).
// Instance indices, rewards, SFT labellings, and four optimiser-level operations (SFT step, G
// rollouts, clipped policy-gradient step, dispose). Trainers never know which task or model
// is behind them, so the same trainers (trainers/, tests/trainer_suite_test.ts) drive the MLP
// (models/mlp_learner.ts: outputs are class indices) and the Llama (models/llama_learner.ts:
// outputs are generated strings).

import type { LoraOptions } from "./lora.ts";
import type { Request } from "./policy.ts";

/** An output a learner produces or is taught: a class index, or generated text. */
export type Target = number | string;

/**
 * One training instance as a family sees it: the request the task builds for the item, its
 * allowed SFT targets under each labelling, its RL reward and, for finite output spaces, every
 * correct output (oracle SFT).
 */
export interface TrainInstance {
  readonly request: Request;
  /** The item's allowed targets under a labelling (sft1, sft2, ...), undefined if it has none. */
  targets(labelling: string): readonly Target[] | undefined;
  /** Reward of one output in [0, 1]; absent when the task declares none (SFT only). */
  readonly reward?: (output: Target) => number;
  /** Every correct output, where the set is finite (classify tasks). */
  readonly correct?: () => readonly Target[];
}

/** A batch order: `batch` instance indices per call, deterministic in `seed`. */
export type BatchOrder = (batch: number, seed: number) => () => number[];

/** Options of Policy.learner. */
export interface LearnerOptions {
  /**
   * π0 of the KL terms and of the β penalties (same family; borrowed). Without one, β must be 0
   * and the step logs carry no KL.
   */
  readonly reference?: unknown;
  /** A custom batch order (replay mixtures); default epoch-wise shuffling. */
  readonly batches?: BatchOrder;
  /** Gradient clipping to this global norm (default: the family's). */
  readonly clipNorm?: number;
  /**
   * Train a LoRA adapter instead of every weight (models/lora.ts): the policy keeps the frozen
   * base apart, the optimiser state covers the adapter only. Families without LoRA refuse it.
   */
  readonly lora?: LoraOptions;
  /**
   * Gradient accumulation: each step's batch is split into this many micro-batches whose
   * gradients are combined before one optimiser update (default 1). Families without it refuse
   * values above 1.
   */
  readonly accumulate?: number;
}

/** Rollouts of a batch: `outputs[k]` are the G samples for instance `idx[k]`. */
export interface Rollouts<Y> {
  readonly idx: readonly number[];
  readonly outputs: readonly (readonly Y[])[];
  /**
   * KL(π0‖π) on the batch's inputs before any update on them (NaN without a reference). NaN
   * with `klPending` when an on-policy rollout leaves it to its step: then {@link Session.pg}
   * returns it, or {@link Session.rolloutKl} when no step runs.
   */
  readonly kl: number;
  readonly klPending?: boolean;
  /** What the learner keeps to score the rollouts again (π_old and π0 log-probabilities). */
  readonly internal: unknown;
}

/** A clipped policy-gradient update on rollouts (docs/metrics.md "Trainers"). */
export interface PgUpdate {
  /** One advantage per rollout, row-major (instance × G). */
  readonly adv: Float32Array;
  /** 1 for rollouts of kept instances, 0 for filtered ones (same layout). */
  readonly mask: Float32Array;
  readonly clip: number;
  /** Weight of the k3 estimate of KL(π0‖π) in the loss. */
  readonly beta: number;
  /** Token-level loss normalisation for sequence outputs (Dr. GRPO: "constant"). */
  readonly normalization: "sequence-mean" | "constant";
  /** Learning rate of this step. */
  readonly lr: number;
}

/** An optimiser attached to a learner's policy (created per training run). */
export interface Session<Y> {
  /**
   * One SFT step on instances `idx` with the targets of `labelling` (`beta` > 0 adds
   * β·KL(π0‖π) on the same inputs). Returns the loss and the pre-update KL (NaN without a
   * reference).
   */
  sft(idx: readonly number[], opts: { labelling: string; beta: number; lr: number }): Promise<{
    loss: number;
    kl: number;
  }>;
  /**
   * Samples `group` outputs per instance from the current policy (seeded by the session).
   * `onPolicy`: the rollouts get at most one {@link pg} step, at the weights they were sampled
   * with (μ = 1), so the learner may take π_old (and the KL) from that step's own forward.
   */
  rollout(
    idx: readonly number[],
    group: number,
    opts?: { onPolicy?: boolean },
  ): Promise<Rollouts<Y>>;
  /**
   * One clipped-ratio step on earlier rollouts (π_old fixed at their sampling). `kl` is the
   * rollouts' KL(π0‖π) when the rollout left it pending.
   */
  pg(rollouts: Rollouts<Y>, update: PgUpdate): Promise<{ loss: number; kl?: number }>;
  /** The KL(π0‖π) a rollout left pending, when no step on it runs. */
  rolloutKl?(rollouts: Rollouts<Y>): Promise<number>;
  /** Frees the optimiser state (the policy itself stays with its owner). */
  dispose(): void;
}

/** A policy and its training set, as every trainer sees them. */
export interface Learner<Y = Target> {
  /** Training instances, indexed 0..n−1. */
  readonly n: number;
  /** Reward of output y for instance i, in [0, 1]. */
  reward(i: number, y: Y): number;
  /** Whether every instance has a reward (RL trainers need one). */
  readonly rewarded: boolean;
  /** Whether the learner has SFT targets under a labelling (e.g. sft1, sft2, oracle). */
  hasLabelling(name: string): boolean;
  /** The batch order (replay mixtures decide their own composition); default epoch shuffles. */
  batches?(batch: number, seed: number): () => number[];
  /** Starts an optimiser on the policy; `seed` seeds sampling and label draws. */
  begin(opts: { seed: number }): Session<Y>;
}
