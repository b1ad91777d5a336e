// Tests for evals/fit.ts: exact recovery of known polynomials, least-squares
// fits worked by hand (closed-form simple regression and 2×2 normal
// equations), the R² convention through the origin, and input errors.

import { equal, ok, throws } from "node:assert/strict";
import { fitPolynomial } from "./fit.ts";

function close(actual: number, expected: number, tol: number, what = "value"): void {
  ok(
    Math.abs(actual - expected) <= tol,
    `${what}: expected ${expected} ± ${tol}, got ${actual}`,
  );
}

Deno.test("fitPolynomial: recovers an exact quadratic with R² = 1", () => {
  // y = 0.5 − 1.25x + 0.75x² sampled on [0, 5].
  const x = [0, 0.5, 1, 1.5, 2, 3, 4, 5];
  const y = x.map((v) => 0.5 - 1.25 * v + 0.75 * v * v);
  const fit = fitPolynomial(x, y, { degree: 2, intercept: true });
  close(fit.coefficients[0], 0.5, 1e-12, "c0");
  close(fit.coefficients[1], -1.25, 1e-12, "c1");
  close(fit.coefficients[2], 0.75, 1e-12, "c2");
  close(fit.r2, 1, 1e-14, "r2");
  equal(fit.n, 8);
  equal(fit.coefficients.length, 3);
});

Deno.test("fitPolynomial: recovers the forgetting law through the origin", () => {
  // forgetting = 0.3·KL + 0.2·KL², KL in [0, 5]; c0 is exactly 0.
  const kl = [0.05, 0.2, 0.7, 1.3, 2.2, 3.1, 4.4, 5];
  const forgetting = kl.map((v) => 0.3 * v + 0.2 * v * v);
  const fit = fitPolynomial(kl, forgetting, { degree: 2, intercept: false });
  equal(fit.coefficients[0], 0);
  close(fit.coefficients[1], 0.3, 1e-12, "c1");
  close(fit.coefficients[2], 0.2, 1e-12, "c2");
  close(fit.r2, 1, 1e-14, "r2");
});

Deno.test("fitPolynomial: hand-computed noisy line", () => {
  // x̄ = 2, ȳ = 25/5 = 5; Sxy = (−2)(−3.9) + (−1)(−2.1) + 0 + (1)(1.8) + (2)(4) = 19.7;
  // Sxx = 10 → c1 = 1.97, c0 = 5 − 1.97·2 = 1.06.
  // Residuals 0.04, −0.13, 0.2, −0.17, 0.06 → SS_res = 0.091;
  // SS_tot = 15.21 + 4.41 + 0.04 + 3.24 + 16 = 38.9 → R² = 1 − 0.091/38.9.
  const fit = fitPolynomial([0, 1, 2, 3, 4], [1.1, 2.9, 5.2, 6.8, 9.0], {
    degree: 1,
    intercept: true,
  });
  close(fit.coefficients[0], 1.06, 1e-12, "c0");
  close(fit.coefficients[1], 1.97, 1e-12, "c1");
  close(fit.r2, 0.9976606683804627, 1e-12, "r2");
  equal(fit.n, 5);
});

Deno.test("fitPolynomial: hand-computed noisy quadratic through the origin", () => {
  // Normal equations for y ≈ a·x + b·x² on x = 1..4, y = 1, 3, 7, 12:
  // [Σx² Σx³; Σx³ Σx⁴] = [30 100; 100 354], [Σxy; Σx²y] = [76; 268], det = 620;
  // a = (76·354 − 100·268)/620 = 104/620 = 26/155, b = (30·268 − 100·76)/620 = 22/31.
  // ŷ·155 = 136, 492, 1068, 1864 → residuals·155 = 19, −27, 17, −4 → SS_res = 9/155;
  // ȳ = 5.75, SS_tot = 70.75 → R² = 1 − (9/155)/70.75.
  const fit = fitPolynomial([1, 2, 3, 4], [1, 3, 7, 12], { degree: 2, intercept: false });
  close(fit.coefficients[1], 26 / 155, 1e-12, "a");
  close(fit.coefficients[2], 22 / 31, 1e-12, "b");
  close(fit.r2, 0.9991793001253847, 1e-12, "r2");
});

Deno.test("fitPolynomial: R² about the mean can be negative through the origin", () => {
  // Falling data forced through 0: c1 = Σxy/Σx² = (3 + 4 + 3)/14 = 5/7;
  // residuals 16/7, 4/7, −8/7 → SS_res = 336/49 = 48/7; SS_tot = 1 + 0 + 1 = 2;
  // R² = 1 − 24/7 = −17/7.
  const fit = fitPolynomial([1, 2, 3], [3, 2, 1], { degree: 1, intercept: false });
  close(fit.coefficients[1], 5 / 7, 1e-14, "c1");
  close(fit.r2, -17 / 7, 1e-12, "r2");
});

Deno.test("fitPolynomial: R² is NaN when y is constant", () => {
  const fit = fitPolynomial([0, 1, 2], [4, 4, 4], { degree: 1, intercept: true });
  close(fit.coefficients[0], 4, 1e-12, "c0");
  close(fit.coefficients[1], 0, 1e-12, "c1");
  ok(Number.isNaN(fit.r2));
});

Deno.test("fitPolynomial: stays accurate at degree 5 on [0, 5]", () => {
  const coeffs = [1, -2, 0.5, 0.25, -0.125, 0.0625];
  const x = Array.from({ length: 21 }, (_, i) => i / 4); // 0, 0.25, ..., 5
  const y = x.map((v) => coeffs.reduceRight((acc, c) => acc * v + c, 0));
  const fit = fitPolynomial(x, y, { degree: 5, intercept: true });
  fit.coefficients.forEach((c, k) => close(c, coeffs[k], 1e-9, `c${k}`));
});

Deno.test("fitPolynomial: form names the model", () => {
  const x = [0, 1, 2, 3];
  const y = [0, 1, 4, 9];
  equal(
    fitPolynomial(x, y, { degree: 2, intercept: true, names: { x: "KL", y: "forgetting" } }).form,
    "forgetting = c0 + c1*KL + c2*KL^2",
  );
  equal(
    fitPolynomial(x, y, { degree: 2, intercept: false, names: { x: "KL", y: "forgetting" } })
      .form,
    "forgetting = c1*KL + c2*KL^2",
  );
  equal(fitPolynomial(x, y, { degree: 1, intercept: true }).form, "y = c0 + c1*x");
  equal(fitPolynomial(x, y, { degree: 0, intercept: true }).form, "y = c0");
});

Deno.test("fitPolynomial: rejects bad inputs with RangeError", () => {
  const quad = { degree: 2, intercept: true };
  throws(() => fitPolynomial([1, 2, 3], [1, 2], quad), RangeError, "length mismatch");
  throws(() => fitPolynomial([1, 2], [1, 2], quad), RangeError, "2 points, 3 parameters");
  throws(() => fitPolynomial([1, NaN, 3], [1, 2, 3], quad), RangeError, "NaN in x");
  throws(() => fitPolynomial([1, 2, 3], [1, Infinity, 3], quad), RangeError, "∞ in y");
  throws(() => fitPolynomial([1, 2, 3], [1, 2, 3], { degree: 1.5, intercept: true }), RangeError);
  throws(() => fitPolynomial([1, 2, 3], [1, 2, 3], { degree: 0, intercept: false }), RangeError);
  // Three points but only two distinct x values cannot pin down a quadratic.
  throws(() => fitPolynomial([1, 1, 2], [1, 2, 3], quad), /too few distinct values for degree 2/);
  throws(
    () => fitPolynomial([0, 0], [1, 2], { degree: 1, intercept: false }),
    /too few distinct values for degree 1 through the origin/,
  );
});

Deno.test("fitPolynomial: error messages say what was wrong", () => {
  throws(
    () => fitPolynomial([1, 2, 3], [1, 2], { degree: 1, intercept: true }),
    /x has 3 values but y has 2/,
  );
  throws(
    () => fitPolynomial([1, 2, NaN], [1, 2, 3], { degree: 1, intercept: true }),
    /x\[2\] is NaN/,
  );
  throws(
    () => fitPolynomial([1, 2], [1, 2], { degree: 2, intercept: true }),
    /3 parameters need at least 3 points, got 2/,
  );
});
