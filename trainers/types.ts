// The one trainer interface: train(learner, options) → log. A trainer sees a policy and its
// training set only through a Learner: instance indices, rewards, and four optimiser-level
// operations (SFT step, rollouts, clipped policy-gradient step, dispose). It never knows which
// task or model is behind them, so the same trainers (and tests/trainer_suite_test.ts) drive the
// ParityMNIST MLP (trainers/mlp_learner.ts: outputs are class indices) and the Llama-layout LM
// (runs/lm_learner.ts: outputs are generated strings).

/** One optimiser step's record (a line of train_log.jsonl). */
export interface StepLog {
  step: number;
  loss: number;
  /** Exact KL(π0‖π) on the batch's inputs before the update (π0: the learner's reference). */
  kl: number;
  /** Mean reward of the sampled outputs (RL trainers). */
  reward?: number;
  /** Instances in the batch and those kept after filtering (RIF-RFT; all kept otherwise). */
  seen?: number;
  kept?: number;
}

/** Rollouts of a batch: `outputs[k]` are the G samples for instance `idx[k]`. */
export interface Rollouts<Y> {
  readonly idx: readonly number[];
  readonly outputs: readonly (readonly Y[])[];
  /** Exact KL(π0‖π) on the batch's inputs, before any update on them. */
  readonly kl: number;
  /** What the learner keeps to score the rollouts again (π_old and π0 log-probabilities). */
  readonly internal: unknown;
}

/** A clipped policy-gradient update on rollouts (METRICS.md "Trainers"). */
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
}

/** An optimiser attached to a learner's policy (created per training run). */
export interface Session<Y> {
  /**
   * One SFT step on instances `idx` with the targets of `labelling` (`beta` > 0 adds
   * β·KL(π0‖π) on the same inputs). Returns the loss and the pre-update KL.
   */
  sft(idx: readonly number[], opts: { labelling: string; beta: number }): Promise<{
    loss: number;
    kl: number;
  }>;
  /** Samples `group` outputs per instance from the current policy (seeded by the session). */
  rollout(idx: readonly number[], group: number): Promise<Rollouts<Y>>;
  /** One clipped-ratio step on earlier rollouts (π_old fixed at their sampling). */
  pg(rollouts: Rollouts<Y>, update: PgUpdate): Promise<{ loss: number }>;
  /** Frees the optimiser state (the policy itself stays with its owner). */
  dispose(): void;
}

/** A policy and its training set, as every trainer sees them. */
export interface Learner<Y = unknown> {
  /** Training instances, indexed 0..n−1. */
  readonly n: number;
  /** Reward of output y for instance i, in [0, 1]. */
  reward(i: number, y: Y): number;
  /** Whether the learner has SFT targets under a labelling (e.g. sft1, sft2, oracle). */
  hasLabelling(name: string): boolean;
  /**
   * The batch order: `batch` instance indices per call, deterministic in `seed`. Learners over a
   * mixture of tasks (replay) decide their own composition; otherwise epoch-wise shuffling.
   */
  batches?(batch: number, seed: number): () => number[];
  /** Starts an optimiser on the policy; `seed` seeds sampling and label draws. */
  begin(opts: { lr: number; seed: number }): Session<Y>;
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
  parseOptions(raw: Readonly<Record<string, unknown>>, where: string): O;
  /** The data plan for task sequences (default: the current stage's task). */
  plan?(options: O): DataPlan;
  train(learner: Learner, opts: TrainOptions<O>): Promise<void>;
}
