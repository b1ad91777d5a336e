// The one task interface. A task is declared as data with defineTask({...}): where its data
// lives (with checksums), how it splits, how an item renders into a model input, how an output
// is scored, and optionally the reward (RL) and target labellings (SFT). The same module feeds
// pretraining, SFT, RL and evaluation, so the three can never disagree about the task.

import { ValidationError } from "../lib/errors.ts";

/** `downstream` tasks are trained on; `general` tasks only measure what is kept. */
export type TaskKind = "downstream" | "general";

/** One data file: a module specifier or path, and its pinned sha256. */
export interface DataFile {
  readonly path: string;
  readonly sha256: string;
}

/** Where a task's data comes from, for the manifest and the README. */
export interface TaskSource {
  readonly description: string;
  readonly url: string;
  readonly license: string;
  readonly files: readonly DataFile[];
}

/** Every item has a stable id (unique within the task). */
export interface Item {
  readonly id: string;
}

/** Named splits of a task's items, fixed by the data seed. */
export type Splits<I extends Item> = Readonly<Record<string, readonly I[]>>;

/** A loaded task: its items and the checksums actually read. */
export interface LoadedData<I extends Item> {
  readonly items: readonly I[];
  readonly checksums: Readonly<Record<string, string>>;
  /** Records in the files that are not items (documented packaging artefacts). */
  readonly skipped?: number;
}

/**
 * A task, declared as data. `Output` is what a model produces for one item (a class index for
 * the image tasks, text for language tasks).
 */
export interface TaskSpec<I extends Item = Item, Output = unknown> {
  /** Lower-case identifier, unique in the registry (`parity_mnist`). */
  readonly id: string;
  /** Bumped whenever data, rendering or scoring change, so old results are never mixed in. */
  readonly version: string;
  readonly kind: TaskKind;
  readonly description: string;
  readonly source: TaskSource;
  /** Reads every item, verifying each file's checksum. */
  load(): Promise<LoadedData<I>>;
  /** Deterministic splits from the data seed; `sizes` overrides the task's defaults. */
  split(
    data: LoadedData<I>,
    opts: { seed: number; sizes?: Readonly<Record<string, number>> },
  ): Splits<I>;
  /** The model input for one item. */
  render(item: I): Float32Array;
  /** 1 if `output` is a correct answer for `item`, else 0 (or partial credit in [0, 1]). */
  score(item: I, output: Output): number;
  /** Reward for RL; defaults to `score` where absent. */
  reward?(item: I, output: Output): number;
  /** Every correct output for an item, where the set is finite (used by oracle SFT). */
  correct?(item: I): readonly Output[];
  /** Named SFT labellings: the allowed target outputs of an item under each one. */
  readonly labellings?: Readonly<Record<string, (item: I) => readonly Output[]>>;
  /** The supervised label used to pretrain the base model on this task. */
  pretrainTarget?(item: I): Output;
}

const ID = /^[a-z][a-z0-9_]*$/;

/** Checks what every task declares (id, version, kind); returns the error prefix `task 'id'`. */
function checkIdentity(spec: { id: string; version: string; kind: TaskKind }): string {
  if (typeof spec.id !== "string" || !ID.test(spec.id)) {
    throw new ValidationError(`task '${String(spec.id)}'`, "id must match /^[a-z][a-z0-9_]*$/");
  }
  const where = `task '${spec.id}'`;
  if (!/^\d+(\.\d+)*$/.test(spec.version)) {
    throw new ValidationError(where, `version '${spec.version}' must look like 1 or 1.2`);
  }
  if (spec.kind !== "downstream" && spec.kind !== "general") {
    throw new ValidationError(where, `kind must be 'downstream' or 'general', got '${spec.kind}'`);
  }
  return where;
}

/**
 * Declares a task: validates the declaration at load time so that a broken task module fails
 * loudly with its id and field, never silently.
 *
 * @example
 * export const myTask = defineTask({ id: "my_task", version: "1", kind: "downstream", ... });
 */
export function defineTask<I extends Item, O>(spec: TaskSpec<I, O>): TaskSpec<I, O> {
  const where = checkIdentity(spec);
  for (const f of spec.source.files) {
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) {
      throw new ValidationError(where, `source file ${f.path} needs a 64-hex-digit sha256`);
    }
  }
  return Object.freeze(spec);
}

// ---------------------------------------------------------------------------------------------
// Text benchmarks. A text task is the same idea declared for language models: where the data is
// published, how one record is validated, which request the model gets (log-likelihood choices
// or a generation), and how the answer is scored the way the benchmark's reference code does it.
// Loading files, batching requests and aggregating metrics belong to runs/ and evals/, not here.

/** One data file as published on the Hugging Face hub (`datasets/<repo>/resolve/<revision>/<path>`). */
export interface HubFile {
  readonly repo: string;
  readonly revision: string;
  readonly path: string;
  /** Pinned sha256 where known; otherwise the hash read is recorded in the manifest. */
  readonly sha256?: string;
}

/** Where a text benchmark's data is published. */
export interface TextSource {
  readonly description: string;
  readonly url: string;
  readonly license: string;
  /** Files per split. `test` is scored; other splits only feed few-shot examples. */
  readonly splits: Readonly<Record<string, readonly HubFile[]>>;
}

/** An image given to a vision-language model. */
export interface TaskImage {
  readonly bytes: Uint8Array;
}

/** What the model is asked for one item. */
export type TextRequest =
  | {
    readonly type: "loglikelihood";
    readonly context: string;
    /** Each choice's continuation, scored as Σ log p(continuation | context). */
    readonly continuations: readonly string[];
  }
  | {
    readonly type: "generation";
    readonly prompt: string;
    readonly until: readonly string[];
    readonly maxTokens: number;
    readonly images?: readonly TaskImage[];
  };

/** What a model answered for one item: the same shape from `eval` and from `score`. */
export type TextOutput =
  | { readonly type: "loglikelihood"; readonly logliks: readonly number[] }
  | { readonly type: "generation"; readonly outputs: readonly string[] };

/** One item's scores. */
export interface ItemScore {
  /** Metric values for this item, e.g. `{ acc: 1, acc_norm: 0 }`; the task's `metrics` keys. */
  readonly metrics: Readonly<Record<string, number>>;
  /** The answer extracted from the generation, where the task extracts one (null: none found). */
  readonly extracted?: string | null;
}

/** A Python program's fate in the sandbox (evals/sandbox.ts). */
export interface ExecutionResult {
  readonly passed: boolean;
  readonly status: string;
}

/** What scoring may use besides the item and the output. */
export interface ScoreContext {
  /** Runs model-written Python in the sandbox; only present with --allow-code-execution. */
  readonly runPython?: (program: string) => Promise<ExecutionResult>;
}

/** Records written in a task's published format, for tests and `eval` on fixtures. */
export interface TextFixture<D> {
  /** Published records per split, field for field as the hub files hold them. */
  readonly records: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  /**
   * The hub path (as in `source.splits`) a record belongs in, for a split published as several
   * files; default: the split's first file.
   */
  fileOf?(record: Readonly<Record<string, unknown>>): string;
  /**
   * Parquet column types where inference from the values would not give the published schema
   * (all-null columns, int32 lists), in tests/fixture_files.ts's ColumnType notation.
   */
  readonly columns?: Readonly<Record<string, unknown>>;
  /** An output that scores 1 on every metric. */
  perfect(doc: D): TextOutput;
  /** An output that scores 0 on every metric. */
  wrong(doc: D): TextOutput;
}

/** What a request may know of the model it is built for (nothing, when `score` rebuilds it). */
export interface RequestContext {
  /** The model's token count of a text, for benchmarks whose prompts must fit its context. */
  readonly countTokens?: (text: string) => number;
}

/** Where a record was read: `where` names file and row or line for errors; `index` is its row. */
export interface RecordAt {
  readonly where: string;
  readonly index: number;
}

/** A text benchmark, declared as data (see README "Add a benchmark"). */
export interface TextTaskSpec<D extends Item = Item> {
  readonly id: string;
  readonly version: string;
  readonly kind: TaskKind;
  readonly description: string;
  readonly source: TextSource;
  /**
   * The record field holding the dataset's own item id (`question_id`, `task_id`, ...); null for
   * datasets published without one (TruthfulQA), whose items are numbered by row from 0.
   */
  readonly idField: string | null;
  /** The request type every item gets. */
  readonly output: TextOutput["type"];
  /** Metric names, in the order results.csv lists them. */
  readonly metrics: readonly string[];
  /** True when scoring runs model-written code (needs --allow-code-execution). */
  readonly executesCode?: boolean;
  /** True when requests carry images (needs a vision-language model). */
  readonly needsImages?: boolean;
  /** Validates one published record; throws a ValidationError naming `at.where` and the field. */
  parse(record: Readonly<Record<string, unknown>>, at: RecordAt): D;
  /** Few-shot examples for `doc`, drawn from the non-test splits (none where absent). */
  fewshot?(doc: D, pools: Readonly<Record<string, readonly D[]>>): readonly D[];
  /** The model request for `doc`, with its few-shot examples. */
  request(doc: D, shots: readonly D[], ctx?: RequestContext): TextRequest;
  /** The reference answer, as samples.jsonl shows it. */
  target(doc: D): string;
  /** Scores one output as the benchmark's reference code does. */
  score(doc: D, output: TextOutput, ctx: ScoreContext): ItemScore | Promise<ItemScore>;
  readonly fixture: TextFixture<D>;
}

/**
 * Declares a text benchmark, validated at load time like defineTask.
 *
 * @example
 * export const hellaswag = defineTextTask({ id: "hellaswag", version: "1", output: "loglikelihood", ... });
 */
export function defineTextTask<D extends Item>(spec: TextTaskSpec<D>): TextTaskSpec<D> {
  const where = checkIdentity(spec);
  if (spec.output !== "loglikelihood" && spec.output !== "generation") {
    throw new ValidationError(where, `output must be 'loglikelihood' or 'generation'`);
  }
  if (!spec.source.splits.test?.length) {
    throw new ValidationError(where, "source.splits.test must list at least one file");
  }
  for (const files of Object.values(spec.source.splits)) {
    for (const f of files) {
      if (!/^[^/\s]+\/[^/\s]+$/.test(f.repo) || !f.revision || !f.path) {
        throw new ValidationError(
          where,
          `hub file ${JSON.stringify(f)} needs repo 'org/name', revision and path`,
        );
      }
      if (f.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(f.sha256)) {
        throw new ValidationError(where, `hub file ${f.path} has a malformed sha256`);
      }
    }
  }
  if (spec.metrics.length === 0) throw new ValidationError(where, "metrics must not be empty");
  if (!spec.fixture.records.test?.length) {
    throw new ValidationError(where, "fixture.records.test must hold at least one record");
  }
  return Object.freeze(spec);
}
