// Scoring a classifier's greedy outputs with a task's own scorer.

import type { ClassifierTask as AnyTask } from "../tasks/mod.ts";
import type { Item } from "../tasks/types.ts";

/** Index of the largest of `classes` values starting at `offset` (first wins ties). */
export function argmaxRow(
  lp: ArrayLike<number>,
  opts: { offset: number; classes: number },
): number {
  let best = 0;
  for (let k = 1; k < opts.classes; k++) if (lp[opts.offset + k] > lp[opts.offset + best]) best = k;
  return best;
}

/**
 * Mean task score of the greedy (argmax) outputs: the accuracy for 0/1 scorers.
 *
 * @example
 * accuracy(task, items, logProbs, { classes: 10 }); // 0.87
 */
export function accuracy(
  task: AnyTask,
  items: readonly Item[],
  lp: ArrayLike<number>,
  opts: { classes: number },
): number {
  if (items.length === 0) return NaN;
  let s = 0;
  items.forEach((
    it,
    i,
  ) => (s += task.score(it, argmaxRow(lp, { offset: i * opts.classes, classes: opts.classes }))));
  return s / items.length;
}
