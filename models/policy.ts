// The one model interface (docs/metrics.md, README "How a run flows"): every model family, the
// ParityMNIST MLP, the jax-js Llama and the ONNX language models, answers the same three kinds of
// request, measures its KL divergence to a reference policy, and (where trainable) hands the
// trainers a Learner. Tasks build requests and score outputs; families know nothing of tasks.
// tests/policy_suite_test.ts runs one shared suite over every family.

import type { NamedWeights } from "./safetensors.ts";
import type { Learner, LearnerOptions, Target, TrainInstance } from "./learner.ts";

/** An image passed to a vision-language model: encoded bytes (PNG, JPEG, ...). */
export interface ImageInput {
  readonly bytes: Uint8Array;
}

/** Classify an input vector into one of `classes` labels (the MLP family). */
export interface ClassifyRequest {
  readonly kind: "classify";
  readonly x: Float32Array;
  readonly classes: number;
}

/**
 * Multiple choice by log-likelihood: each continuation is scored as Σ log p(continuation tokens |
 * context), with lm-evaluation-harness's tokenisation rules (models/lm_encoding.ts).
 */
export interface ChoicesRequest {
  readonly kind: "choices";
  /** What every continuation is scored after; with `contexts`, only the prompt shown. */
  readonly context: string;
  readonly continuations: readonly string[];
  /**
   * One context per continuation, scored pairwise: continuation i after contexts[i] (lm-eval's
   * multiple-input tasks, e.g. Winogrande, where each option fills the blank of its own context
   * and the same rest of the sentence is scored after each). Same length as `continuations`.
   */
  readonly contexts?: readonly string[];
}

/**
 * The (context, continuation) pairs a choices request is scored on, in continuation order: every
 * continuation after `context`, or continuation i after `contexts[i]`. Every family scores
 * choices through this, so none can forget per-continuation contexts.
 *
 * Throws RangeError when `contexts` and `continuations` differ in length.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const r = { kind: "choices", context: "_ sat.", contexts: ["A", "B"], continuations: [" sat.", " sat."] } as const;
 * deepEqual(choicePairs(r).map((p) => p.context), ["A", "B"]);
 * ```
 */
export function choicePairs(r: ChoicesRequest): { context: string; continuation: string }[] {
  const { contexts, continuations } = r;
  if (contexts === undefined) {
    return continuations.map((continuation) => ({ context: r.context, continuation }));
  }
  if (contexts.length !== continuations.length) {
    throw new RangeError(
      `choices request: ${contexts.length} contexts for ${continuations.length} continuations`,
    );
  }
  return continuations.map((continuation, i) => ({ context: contexts[i], continuation }));
}

/** Generate after `prompt` until a stop string or `maxTokens` new tokens. */
export interface GenerateRequest {
  readonly kind: "generate";
  readonly prompt: string;
  /** Stop strings: generation ends at the first one, which is cut from the output. */
  readonly until: readonly string[];
  readonly maxTokens: number;
  /** Images for a vision-language model, in the order the prompt refers to them. */
  readonly images?: readonly ImageInput[];
}

/** What a task asks a model for one item. */
export type Request = ClassifyRequest | ChoicesRequest | GenerateRequest;

/** The three request kinds. */
export type RequestKind = Request["kind"];

/** The greedy (argmax) label of a classify request. */
export interface ClassifyOutput {
  readonly kind: "classify";
  readonly label: number;
}

/** Σ log p(continuation | context) per choice, natural log. */
export interface ChoicesOutput {
  readonly kind: "choices";
  readonly logliks: readonly number[];
}

/** One or more generations (several for pass@k), stop string cut off. */
export interface GenerateOutput {
  readonly kind: "generate";
  readonly outputs: readonly string[];
}

/** What a model answered for one request: the same shape from `bench`, `eval` and `score`. */
export type Output = ClassifyOutput | ChoicesOutput | GenerateOutput;

/** How a batch of requests is run. */
export interface RunOptions {
  /** Requests per forward pass (family default where absent). */
  readonly batchSize?: number;
  /** Generations per generate request (pass@k needs n ≥ k); default 1. */
  readonly samples?: number;
  /** Sampling temperature for generation; 0 (default) is greedy. */
  readonly temperature?: number;
  readonly topP?: number;
  /** Seed of sampled generations (default 0). */
  readonly seed?: number;
  /** Called after each batch with (done, total) requests. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How KL is estimated where it cannot be exact. */
export interface KlOptions {
  /** Seed of the reference's samples (sequence outputs); default 0. */
  readonly seed?: number;
  /** Samples y ∼ reference per generate request (default 1). */
  readonly samples?: number;
  readonly batchSize?: number;
}

/**
 * KL divergences between a reference policy π_ref and this policy π, averaged over requests:
 * `forward` = KL(π_ref‖π), `reverse` = KL(π‖π_ref) where the family computes it (null
 * otherwise). Exact over a finite output space (classify); for sequences, Monte Carlo samples
 * y ∼ π_ref with the exact per-token KL summed over the vocabulary (docs/metrics.md "KL").
 */
export interface KlResult {
  readonly forward: number;
  readonly reverse: number | null;
}

/** One file a policy was read from. */
export interface PolicyFile {
  readonly name: string;
  readonly sha256: string;
  readonly source: "local" | "cache" | "download";
  readonly url?: string;
}

/** A model of any family, as tasks, trainers and the pipeline see it. */
export interface Policy {
  /** The family's id (models/families.ts): `mlp`, `llama`, `onnx`. */
  readonly family: string;
  /** Where it came from (folder, hub id or "initialised from seed N"), for manifests. */
  readonly id: string;
  /**
   * The checkpoint files it was read from (name inside the checkpoint, sha256, and whether the
   * folder, the hub cache or a download gave it), for manifests; absent when not from files.
   */
  readonly files?: readonly PolicyFile[];
  /** The request kinds this policy answers. */
  readonly kinds: readonly RequestKind[];
  /** Whether generate requests may carry images. */
  readonly vision?: boolean;
  /** Answers requests in order (batched inside). */
  run(requests: readonly Request[], opts?: RunOptions): Promise<Output[]>;
  /** KL between `reference` and this policy on `requests` (see KlResult); same family only. */
  kl?(reference: Policy, requests: readonly Request[], opts?: KlOptions): Promise<KlResult>;
  /** A trainer's view of this policy learning `instances`; sessions update the policy in place. */
  learner?(instances: readonly TrainInstance[], opts: LearnerOptions): Learner<Target>;
  /** An independent copy (training one never changes the other). */
  clone?(): Policy;
  /** Tokens `text` encodes to, for benchmarks whose prompts must fit the context window. */
  countTokens?(text: string): number;
  /** Writes the policy in its family's folder layout (`family.open` reads it back). */
  save?(dir: string): Promise<void>;
  /**
   * The trained state as named float32 tensors, exactly (a resume snapshot, runs/resume.ts);
   * null while the policy holds state it cannot capture that way (an attached LoRA adapter).
   */
  snapshot?(): Promise<NamedWeights | null>;
  /** Replaces the weights with a snapshot's of the same model (exact; shapes checked). */
  restore?(weights: NamedWeights, where: string): Promise<void>;
  /** Frees weights and native sessions. */
  dispose(): Promise<void>;
}
