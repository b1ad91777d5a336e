// Test helpers for the generated LM tasks' tests (tasks/lm/*_test.ts): load a task's splits and
// grade one text output through the Task interface. Only tests import this file.

import type { Output, Task } from "../task.ts";
import type { LmItem } from "./items.ts";

/** A generate output holding one generation. */
export function generation(text: string): Output {
  return { kind: "generate", outputs: [text] };
}

/** The `acc` metric a task gives one generated text. */
export async function accOf<I extends LmItem>(task: Task<I>, item: I, text: string) {
  return (await task.score(item, generation(text), {})).metrics.acc;
}

/** The RL reward a task gives one generated text. */
export function rewardOf<I extends LmItem>(task: Task<I>, item: I, text: string): number {
  return task.train!.reward!(item, text);
}

/** `n` train and `n` test items of a task for `seed`, and both together. */
export async function splitsOf<I extends LmItem>(task: Task<I>, opts: { seed: number; n: number }) {
  const { splits } = await task.load({ seed: opts.seed, sizes: { train: opts.n, test: opts.n } });
  const train = splits.train as I[], test = splits.test as I[];
  return { train, test, all: [...train, ...test] };
}
