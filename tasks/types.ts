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

/**
 * Declares a task: validates the declaration at load time so that a broken task module fails
 * loudly with its id and field, never silently.
 *
 * @example
 * export const myTask = defineTask({ id: "my_task", version: "1", kind: "downstream", ... });
 */
export function defineTask<I extends Item, O>(spec: TaskSpec<I, O>): TaskSpec<I, O> {
  const where = `task '${spec.id}'`;
  if (typeof spec.id !== "string" || !ID.test(spec.id)) {
    throw new ValidationError(`task '${String(spec.id)}'`, "id must match /^[a-z][a-z0-9_]*$/");
  }
  if (!/^\d+(\.\d+)*$/.test(spec.version)) {
    throw new ValidationError(where, `version '${spec.version}' must look like 1 or 1.2`);
  }
  if (spec.kind !== "downstream" && spec.kind !== "general") {
    throw new ValidationError(where, `kind must be 'downstream' or 'general', got '${spec.kind}'`);
  }
  for (const f of spec.source.files) {
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) {
      throw new ValidationError(where, `source file ${f.path} needs a 64-hex-digit sha256`);
    }
  }
  return Object.freeze(spec);
}
