// The task registry: every task module is listed here explicitly (no registration by import
// side effect). tasks/mod_test.ts checks that every task file is registered and ids are unique.

import { UsageError } from "../lib/errors.ts";
import { fashionMnist } from "./fashion_mnist.ts";
import { parityMnist } from "./parity_mnist.ts";
import type { TaskSpec } from "./types.ts";

export type { TaskSpec } from "./types.ts";

/**
 * A task of any item and output type. The registry holds tasks of different types (images now,
 * text later), and each caller narrows by what it runs, so `any` is the honest type here.
 */
// deno-lint-ignore no-explicit-any
export type AnyTask = TaskSpec<any, any>;

/** Every registered task in one list: the only place a task module is wired in. */
export const TASK_LIST: readonly AnyTask[] = [parityMnist, fashionMnist];

/** Every registered task, by id. */
export const TASKS: Readonly<Record<string, AnyTask>> = Object.freeze(
  Object.fromEntries(TASK_LIST.map((t) => [t.id, t])),
);

/** Looks a task up by id; an unknown id is a usage error listing the known ones. */
export function getTask(id: string): AnyTask {
  const t = TASKS[id];
  if (!t) {
    throw new UsageError(`unknown task '${id}'; known tasks: ${Object.keys(TASKS).join(", ")}`);
  }
  return t;
}
