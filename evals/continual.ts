// Continual-learning metrics as pure functions of the accuracy matrix
// R[stage][task] (docs/metrics.md, "Continual metrics"). Nothing here knows about
// models or trainers: callers fill R, these functions only do arithmetic.
//
// Indexing. docs/metrics.md numbers tasks 1..T; arrays here number them 0..T−1.
// Rows are stages and need no translation: R[0] is the base model and R[i]
// (i = 1..T) is the model after training task i. Columns shift by one: task j
// of the formulas is column j − 1. So the formula's R[j][j] ("task j just after
// training it") is `R[j][j − 1]` in code, or `R[c + 1][c]` for column c.

/**
 * Check that `R` is an accuracy matrix for T ≥ 1 tasks — T + 1 rows (stage 0 =
 * base model, stage i = after training task i) of T finite values in [0, 1] —
 * and return T. Every metric below calls this first.
 */
function tasksOf(R: readonly (readonly number[])[]): number {
  if (!Array.isArray(R)) throw new TypeError("R must be an array of rows (one per stage)");
  const T = R.length - 1;
  if (T < 1) {
    throw new RangeError(
      `R has ${R.length} row(s); it needs T + 1 ≥ 2 (base model plus one per trained task)`,
    );
  }
  R.forEach((row, i) => {
    if (!Array.isArray(row)) throw new TypeError(`R row ${i} is not an array`);
    if (row.length !== T) {
      throw new RangeError(
        `R row ${i} has ${row.length} column(s); R has ${T + 1} rows, so every row needs T = ${T}`,
      );
    }
    row.forEach((v, j) => {
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
        throw new RangeError(`R[${i}][${j}] is ${v}; accuracies must be finite numbers in [0, 1]`);
      }
    });
  });
  return T;
}

/**
 * Average accuracy after the last stage: AA = (1/T) Σ_j R[T][j] (mean of the
 * last row). Higher is better.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(averageAccuracy([[0.1, 0.2], [0.9, 0.3], [0.7, 0.9]]), 0.8); // (0.7 + 0.9)/2
 * ```
 */
export function averageAccuracy(R: readonly (readonly number[])[]): number {
  const T = tasksOf(R);
  let sum = 0;
  for (let c = 0; c < T; c++) sum += R[T][c];
  return sum / T;
}

/**
 * Plasticity, accuracy on each task just after training it:
 * (1/T) Σ_{j=1..T} R[j][j], i.e. mean of `R[c + 1][c]` over columns c. Higher is
 * better.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(plasticity([[0.1, 0.2], [0.9, 0.3], [0.7, 0.9]]), 0.9); // (0.9 + 0.9)/2
 * ```
 */
export function plasticity(R: readonly (readonly number[])[]): number {
  const T = tasksOf(R);
  let sum = 0;
  for (let c = 0; c < T; c++) sum += R[c + 1][c];
  return sum / T;
}

/**
 * Forgetting (Chaudhry et al. 2018):
 * F = (1/(T−1)) Σ_{j=1..T−1} ( max_{l∈{1..T−1}} R[l][j] − R[T][j] ),
 * the drop of each earlier task from its best accuracy at any intermediate
 * stage (stages 1..T−1, including those before task j was trained; never the
 * base model) to its accuracy at the end. The last task is excluded.
 * Higher = more forgetting; ≥ 0 in practice, negative when tasks ended above
 * their intermediate best. NaN when T = 1 (no earlier task).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * // Task 1: max(R[1][1]) − R[2][1] = 0.9 − 0.7.
 * ok(Math.abs(forgetting([[0.1, 0.2], [0.9, 0.3], [0.7, 0.9]]) - 0.2) < 1e-12);
 * ```
 */
export function forgetting(R: readonly (readonly number[])[]): number {
  const T = tasksOf(R);
  if (T === 1) return NaN;
  let sum = 0;
  for (let c = 0; c < T - 1; c++) {
    let best = -Infinity;
    for (let l = 1; l <= T - 1; l++) best = Math.max(best, R[l][c]);
    sum += best - R[T][c];
  }
  return sum / (T - 1);
}

/**
 * Backward transfer (Lopez-Paz & Ranzato 2017):
 * BWT = (1/(T−1)) Σ_{j=1..T−1} ( R[T][j] − R[j][j] ),
 * the change of each earlier task from just after training it to the end, in
 * code `R[T][c] − R[c + 1][c]`. Negative = forgetting, positive = later
 * tasks helped. NaN when T = 1.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * // Task 1: R[2][1] − R[1][1] = 0.7 − 0.9.
 * ok(Math.abs(backwardTransfer([[0.1, 0.2], [0.9, 0.3], [0.7, 0.9]]) + 0.2) < 1e-12);
 * ```
 */
export function backwardTransfer(R: readonly (readonly number[])[]): number {
  const T = tasksOf(R);
  if (T === 1) return NaN;
  let sum = 0;
  for (let c = 0; c < T - 1; c++) sum += R[T][c] - R[c + 1][c];
  return sum / (T - 1);
}

/**
 * Forward transfer: FWT = (1/(T−1)) Σ_{j=2..T} ( R[j−1][j] − R[0][j] ),
 * accuracy on each later task just before training it, relative to the base
 * model; in code `R[c][c] − R[0][c]` for columns c = 1..T−1. Positive =
 * earlier tasks helped. NaN when T = 1.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * // Task 2: R[1][2] − R[0][2] = 0.3 − 0.2.
 * ok(Math.abs(forwardTransfer([[0.1, 0.2], [0.9, 0.3], [0.7, 0.9]]) - 0.1) < 1e-12);
 * ```
 */
export function forwardTransfer(R: readonly (readonly number[])[]): number {
  const T = tasksOf(R);
  if (T === 1) return NaN;
  let sum = 0;
  for (let c = 1; c < T; c++) sum += R[c][c] - R[0][c];
  return sum / (T - 1);
}

/**
 * General drift: panel accuracy after stage T − panel accuracy of the base
 * model, on a fixed panel of general benchmarks outside the trained tasks.
 * Negative = general capability lost. Both accuracies must be finite and in
 * [0, 1].
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * ok(Math.abs(generalDrift(0.62, 0.55) + 0.07) < 1e-12); // 0.55 − 0.62
 * ```
 */
export function generalDrift(panelBase: number, panelAfter: number): number {
  for (const [name, v] of [["panelBase", panelBase], ["panelAfter", panelAfter]] as const) {
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new RangeError(`generalDrift: ${name} is ${v}; it must be an accuracy in [0, 1]`);
    }
  }
  return panelAfter - panelBase;
}

/**
 * Forgetting so far at stage k = R.length − 1 of a sequence, over the tasks trained before it
 * (columns `done`): the mean of max_{1 ≤ l < k} R[l][c] − R[k][c], as F but ending at stage k.
 * NaN when no task was trained before.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * ok(Math.abs(forgettingSoFar([[0, 0], [0.9, 0.1], [0.6, 0.7]], [0]) - 0.3) < 1e-12);
 * ```
 */
export function forgettingSoFar(
  R: readonly (readonly number[])[],
  done: readonly number[],
): number {
  if (done.length === 0) return NaN;
  const now = R[R.length - 1], before = R.slice(1, -1);
  if (before.length === 0) throw new RangeError("forgettingSoFar: no stage before the last");
  return done.reduce((a, c) => a + Math.max(...before.map((r) => r[c])) - now[c], 0) / done.length;
}
