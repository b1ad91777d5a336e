// Tests for evals/multiple_choice.ts: hand-worked acc / acc_norm decisions (including where the
// character count and numpy's first-max tie rule decide), TruthfulQA MC1/MC2 and lm-eval's stderr.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  argmax,
  mcAcc,
  mcAccNorm,
  mcContinuations,
  meanStderr,
  truthfulqaMc1,
  truthfulqaMc2,
} from "./multiple_choice.ts";

function close(actual: number, expected: number, tol: number): void {
  ok(Math.abs(actual - expected) <= tol, `expected ${expected} ± ${tol}, got ${actual}`);
}

Deno.test("mcContinuations: lm-eval's default target_delimiter is one space", () => {
  deepEqual(mcContinuations(["Paris", ", then"]), [" Paris", " , then"]);
  deepEqual(mcContinuations(["a"], { delimiter: "" }), ["a"]);
});

Deno.test("argmax: numpy semantics (first max, first NaN, throws on empty)", () => {
  equal(argmax([-3, -1, -2]), 1);
  equal(argmax([-1, -2, -1]), 0); // tie between 0 and 2: the first
  equal(argmax([-Infinity, -Infinity]), 0);
  equal(argmax([-1, NaN, 5, NaN]), 1); // numpy returns the first NaN
  throws(() => argmax([]), RangeError);
});

Deno.test("mcAcc: argmax of the summed log-likelihoods", () => {
  equal(mcAcc([-5.1, -2.3, -7.0], 1), 1);
  equal(mcAcc([-5.1, -2.3, -7.0], 0), 0);
  // Equal scores: np.argmax picks the lower index, so only gold 0 counts as right.
  equal(mcAcc([-4, -4, -9], 0), 1);
  equal(mcAcc([-4, -4, -9], 1), 0);
  throws(() => mcAcc([-1, -2], 2), RangeError);
  throws(() => mcAcc([-1, -2], -1), RangeError);
  throws(() => mcAcc([-1, -2], 0.5), RangeError);
});

Deno.test("mcAccNorm: divides by len(choice) WITHOUT the leading space", () => {
  // lm-eval: -2/1 = -2 vs -3.5/2 = -1.75, so choice 1. Counting the space of " x" / " yz"
  // would give -2/2 = -1 vs -3.5/3 ≈ -1.167 and pick choice 0 instead.
  equal(mcAccNorm([-2, -3.5], ["x", "yz"], 1), 1);
  equal(mcAccNorm([-2, -3.5], ["x", "yz"], 0), 0);
  // Plain acc picks the other one.
  equal(mcAcc([-2, -3.5], 0), 1);
});

Deno.test("mcAccNorm: length in code points as Python's len", () => {
  // "😀😀" is 2 code points (4 UTF-16 units): -2/2 = -1 < -2.9/3 ≈ -0.967, so choice 1.
  // Dividing by 4 UTF-16 units would give -0.5 and pick choice 0.
  equal(mcAccNorm([-2, -2.9], ["😀😀", "abc"], 1), 1);
});

Deno.test("mcAccNorm: ties go to the first, mismatched lengths throw", () => {
  // -3/3 = -1 and -4/4 = -1 tie: choice 0.
  equal(mcAccNorm([-3, -4], ["abc", "abcd"], 0), 1);
  throws(() => mcAccNorm([-1, -2], ["a"], 0), RangeError);
  throws(() => mcAccNorm([-1, -2], ["a", "b"], 2), RangeError);
});

Deno.test("truthfulqaMc1: right iff the top choice carries the 1 label", () => {
  equal(truthfulqaMc1([-3, -4, -9], [1, 0, 0]), 1);
  equal(truthfulqaMc1([-5, -4, -9], [1, 0, 0]), 0);
  equal(truthfulqaMc1([-5, -4, -9], [0, 1, 0]), 1); // order does not matter
  equal(truthfulqaMc1([-4, -4], [0, 1]), 0); // tie goes to index 0
  throws(() => truthfulqaMc1([-1, -2], [1, 1]), RangeError);
  throws(() => truthfulqaMc1([-1, -2], [0, 0]), RangeError);
  throws(() => truthfulqaMc1([-1, -2], [1]), RangeError);
  throws(() => truthfulqaMc1([], []), RangeError);
});

Deno.test("truthfulqaMc2: normalised probability mass on the true answers", () => {
  const ln = Math.log;
  // p = (0.2, 0.1, 0.3, 0.4), true = first two: 0.3 / 1.0.
  close(truthfulqaMc2([ln(0.2), ln(0.1), ln(0.3), ln(0.4)], [1, 1, 0, 0]), 0.3, 1e-15);
  // Labels need not be sorted (lm-eval PR #2768): true = 0.1 + 0.4.
  close(truthfulqaMc2([ln(0.2), ln(0.1), ln(0.3), ln(0.4)], [0, 1, 0, 1]), 0.5, 1e-15);
  // Unnormalised: exp = (2, 6), 2 / 8.
  close(truthfulqaMc2([ln(2), ln(6)], [1, 0]), 0.25, 1e-15);
  // Far below exp's range: 1 / (1 + e^-1) all the same (plain exp would give 0/0).
  close(truthfulqaMc2([-1000, -1001], [1, 0]), 1 / (1 + Math.exp(-1)), 1e-15);
  equal(truthfulqaMc2([-1, -2], [0, 0]), 0);
  equal(truthfulqaMc2([-1, -2], [1, 1]), 1);
  throws(() => truthfulqaMc2([-1], [1, 0]), RangeError);
  throws(() => truthfulqaMc2([], []), RangeError);
});

Deno.test("meanStderr: sample std (n − 1) / √n, NaN below two values", () => {
  // [1, 0, 1, 1]: mean 0.75, Σ(x − m)² = 3·0.0625 + 0.5625 = 0.75, s² = 0.25, s/√4 = 0.25.
  close(meanStderr([1, 0, 1, 1]), 0.25, 1e-15);
  // Σ(x − 5)² = 32 over 8 values: sqrt(32/7) / sqrt(8) = sqrt(4/7).
  close(meanStderr([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(4 / 7), 1e-15);
  equal(meanStderr([1, 1, 1]), 0);
  ok(Number.isNaN(meanStderr([1])));
  ok(Number.isNaN(meanStderr([])));
});
