// The task registry: every task module is listed here explicitly (no registration by import
// side effect). tasks/mod_test.ts checks that every task file is registered and ids are unique.

import { UsageError } from "../lib/errors.ts";
import { fashionMnist } from "./fashion_mnist.ts";
import { hellaswag } from "./hellaswag.ts";
import { humaneval } from "./humaneval.ts";
import { mmluPro } from "./mmlu_pro.ts";
import { mmmu } from "./mmmu.ts";
import { parityMnist } from "./parity_mnist.ts";
import { truthfulqaMc1Task, truthfulqaMc2Task } from "./truthfulqa.ts";
import type { TaskSpec, TextTaskSpec } from "./types.ts";

export type { TaskSpec, TextTaskSpec } from "./types.ts";

/**
 * A task of any item and output type. The registry holds tasks of different types (images now,
 * text later), and each caller narrows by what it runs, so `any` is the honest type here.
 */
// deno-lint-ignore no-explicit-any
export type ClassifierTask = TaskSpec<any, any>;
/** A text benchmark of any document type. */
// deno-lint-ignore no-explicit-any
export type TextTask = TextTaskSpec<any>;
/** Either kind of registered task. */
export type AnyTask = ClassifierTask | TextTask;

/** Every registered task in one list: the only place a task module is wired in. */
export const TASK_LIST: readonly AnyTask[] = [
  parityMnist,
  fashionMnist,
  mmluPro,
  hellaswag,
  truthfulqaMc1Task,
  truthfulqaMc2Task,
  humaneval,
  mmmu,
];

/** Every registered task, by id. */
export const TASKS: Readonly<Record<string, AnyTask>> = Object.freeze(
  Object.fromEntries(TASK_LIST.map((t) => [t.id, t])),
);

/** Whether a task is a text benchmark (it builds model requests) rather than a classifier task. */
export function isTextTask(t: AnyTask): t is TextTask {
  return "request" in t;
}

/** Looks a task up by id; an unknown id is a usage error listing the known ones. */
export function getTask(id: string): AnyTask {
  const t = TASKS[id];
  if (!t) {
    throw new UsageError(`unknown task '${id}'; known tasks: ${Object.keys(TASKS).join(", ")}`);
  }
  return t;
}

/** A classifier task (image tasks trained in-process) by id. */
export function getClassifierTask(id: string): ClassifierTask {
  const t = getTask(id);
  if (isTextTask(t)) {
    throw new UsageError(`task '${id}' is a text benchmark; this needs a classifier task`);
  }
  return t;
}

/** A text benchmark by id; `eval` and `score` take only these. */
export function getTextTask(id: string): TextTask {
  const t = getTask(id);
  if (!isTextTask(t)) {
    const text = TASK_LIST.filter(isTextTask).map((x) => x.id);
    throw new UsageError(
      `task '${id}' is a classifier task, not a text benchmark; text benchmarks: ${
        text.join(", ")
      }`,
    );
  }
  return t;
}
