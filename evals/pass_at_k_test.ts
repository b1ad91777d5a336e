// Tests for evals/pass_at_k.ts: values worked by hand from the binomial form, agreement with
// exact BigInt binomials for larger n, the edge cases c = 0, c = n and n − c < k, the errors,
// and the mean over problems.

import { equal, ok, throws } from "node:assert/strict";
import { meanPassAtK, passAtK } from "./pass_at_k.ts";

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
}

/** C(n, k) exactly, to check the stable product against the textbook formula. */
function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let result = 1n;
  for (let i = 1; i <= k; i++) result = (result * BigInt(n - k + i)) / BigInt(i);
  return result;
}

/** 1 − C(n−c, k)/C(n, k) from exact binomials (fine for n up to a few hundred). */
function exactPassAtK(n: number, c: number, k: number): number {
  const num = binomial(n - c, k);
  const den = binomial(n, k);
  // Scale before dividing so the ratio keeps ~15 significant digits.
  const scale = 10n ** 18n;
  return 1 - Number((num * scale) / den) / 1e18;
}

Deno.test("passAtK: hand-worked values", () => {
  // k = 1 is the pass fraction: 3 of 10.
  close(passAtK(10, 3, 1), 0.3, "n=10 c=3 k=1");
  // 1 − C(2,2)/C(4,2) = 1 − 1/6.
  close(passAtK(4, 2, 2), 5 / 6, "n=4 c=2 k=2");
  // 1 − C(7,5)/C(10,5) = 1 − 21/252 = 11/12.
  close(passAtK(10, 3, 5), 11 / 12, "n=10 c=3 k=5");
  // 1 − C(3,2)/C(5,2) = 1 − 3/10.
  close(passAtK(5, 2, 2), 0.7, "n=5 c=2 k=2");
});

Deno.test("passAtK: no passes gives 0, and n − c < k gives exactly 1", () => {
  equal(passAtK(5, 0, 1), 0);
  equal(passAtK(5, 0, 5), 0);
  equal(passAtK(5, 5, 1), 1);
  // Only one failing sample: every pair includes a pass.
  equal(passAtK(5, 4, 2), 1);
  // k = n with one pass: the draw is all samples.
  equal(passAtK(3, 1, 3), 1);
});

Deno.test("passAtK: matches exact binomials for larger n", () => {
  for (const [n, c, k] of [[200, 37, 10], [200, 1, 100], [150, 75, 1], [100, 3, 50]]) {
    close(passAtK(n, c, k), exactPassAtK(n, c, k), `n=${n} c=${c} k=${k}`, 1e-12);
  }
});

Deno.test("passAtK: large n stays finite where C(n, k) overflows float64", () => {
  // C(10000, 1000) ≈ 10^1410 is far beyond float64; the product form never forms it.
  // P(no pass) = Π_{i=0..9} (9000 − i)/(10000 − i) = 0.34850402787925533 (exact fractions).
  close(passAtK(10000, 10, 1000), 1 - 0.34850402787925533, "n=10000 c=10 k=1000", 1e-12);
});

Deno.test("passAtK: rejects n < k and counts out of range", () => {
  throws(() => passAtK(3, 1, 5), /k must not exceed n/);
  throws(() => passAtK(5, 6, 1), /c must be an integer in \[0, n\]/);
  throws(() => passAtK(5, -1, 1), /c must be/);
  throws(() => passAtK(0, 0, 1), /n must be an integer/);
  throws(() => passAtK(5, 1, 0), /k must be an integer/);
  throws(() => passAtK(5, 1.5, 1), /c must be/);
  throws(() => passAtK(5, 1, 2.5), /k must be/);
});

Deno.test("meanPassAtK: mean over problems, NaN when empty, error names the problem", () => {
  // pass@1: 0.5 and 1 → 0.75.
  equal(meanPassAtK([{ n: 2, c: 1 }, { n: 2, c: 2 }], 1), 0.75);
  // pass@2: 5/6 (n=4, c=2), 0 (n=4, c=0), 1 (n=4, c=3) → (5/6 + 1)/3 = 11/18.
  close(meanPassAtK([{ n: 4, c: 2 }, { n: 4, c: 0 }, { n: 4, c: 3 }], 2), 11 / 18, "mean");
  ok(Number.isNaN(meanPassAtK([], 1)));
  throws(
    () => meanPassAtK([{ n: 5, c: 1 }, { n: 1, c: 0 }], 2),
    /problem 1: .*k must not exceed n/,
  );
});
