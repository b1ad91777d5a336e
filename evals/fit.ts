// Least-squares polynomial fits for the forgetting law of docs/metrics.md
// ("forgetting ≈ a·KL + b·KL² (+ c)", fitted across all runs of a recipe and
// reported with R² and n). Solved by Householder QR on unit-norm columns, so
// the fit stays accurate where the normal equations would square the
// condition number of the Vandermonde matrix.

/**
 * Least-squares fit of y ≈ Σ_k c_k·x^k for k = 0..degree (k = 1..degree when
 * `intercept` is false, which fixes c_0 = 0 and fits through the origin),
 * minimising SS_res = Σ_i (y_i − ŷ_i)². The forgetting law of docs/metrics.md is
 * `fitPolynomial(kl, forgetting, { degree: 2, intercept: false })`
 * (forgetting = a·KL + b·KL²), or `intercept: true` for the "+ c" variant.
 *
 * R² = 1 − SS_res/SS_tot with SS_tot = Σ_i (y_i − ȳ)² about the mean of y, the
 * same definition with or without an intercept. Higher is better and 1 is a
 * perfect fit. Without an intercept the fit is not compared against the
 * best constant, so R² can be negative (the fit is worse than predicting ȳ).
 * R² is NaN when all y are equal (SS_tot = 0).
 *
 * Returns `coefficients` (`coefficients[k]` multiplies x^k, length degree + 1;
 * `coefficients[0]` is the intercept, exactly 0 when `intercept` is false),
 * `r2`, `n` (points fitted) and `form`, the model in words with c_k standing for
 * `coefficients[k]`, e.g. `"forgetting = c1*KL + c2*KL^2"`; `opts.names` names
 * its variables (default `{ x: "x", y: "y" }`).
 *
 * Throws RangeError when x and y differ in length, a value is not finite,
 * degree is not a non-negative integer, there are fewer points than
 * parameters, or x has too few distinct values for the degree; TypeError when
 * `intercept` is not a boolean.
 *
 * @example
 * ```ts
 * import { deepEqual, ok } from "node:assert/strict";
 * const fit = fitPolynomial([1, 2, 3], [2, 4, 6], { degree: 1, intercept: false });
 * ok(Math.abs(fit.coefficients[1] - 2) < 1e-12);
 * deepEqual([fit.coefficients[0], fit.n, fit.form], [0, 3, "y = c1*x"]);
 * ```
 */
export function fitPolynomial(
  x: readonly number[],
  y: readonly number[],
  opts: { degree: number; intercept: boolean; names?: { x: string; y: string } },
): { coefficients: number[]; r2: number; n: number; form: string } {
  const { degree, intercept } = opts;
  if (!Number.isInteger(degree) || degree < 0) {
    throw new RangeError(`fitPolynomial: degree must be a non-negative integer, got ${degree}`);
  }
  if (typeof intercept !== "boolean") {
    throw new TypeError(`fitPolynomial: intercept must be true or false, got ${intercept}`);
  }
  if (x.length !== y.length) {
    throw new RangeError(
      `fitPolynomial: x has ${x.length} values but y has ${y.length}; they must pair up`,
    );
  }
  checkFinite(x, "x");
  checkFinite(y, "y");
  const powers: number[] = [];
  for (let k = intercept ? 0 : 1; k <= degree; k++) powers.push(k);
  const n = x.length;
  const p = powers.length;
  if (p === 0) {
    throw new RangeError("fitPolynomial: degree 0 without an intercept has no parameters to fit");
  }
  if (n < p) {
    throw new RangeError(
      `fitPolynomial: ${p} parameters need at least ${p} points, got ${n}`,
    );
  }

  const solved = solveLeastSquares(powers.map((k) => x.map((xi) => xi ** k)), y);
  if (solved === undefined) {
    throw new RangeError(
      `fitPolynomial: x has too few distinct values for degree ${degree}` +
        (intercept ? "" : " through the origin") + " (the design matrix is rank-deficient)",
    );
  }
  const coefficients = new Array<number>(degree + 1).fill(0);
  powers.forEach((k, i) => coefficients[k] = solved[i]);

  const yBar = y.reduce((s, v) => s + v, 0) / n;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    let yHat = 0;
    for (let k = degree; k >= 0; k--) yHat = yHat * x[i] + coefficients[k];
    ssRes += (y[i] - yHat) ** 2;
    ssTot += (y[i] - yBar) ** 2;
  }
  const r2 = ssTot === 0 ? NaN : 1 - ssRes / ssTot;

  const names = opts.names ?? { x: "x", y: "y" };
  const terms = powers.map((k) =>
    k === 0 ? "c0" : k === 1 ? `c1*${names.x}` : `c${k}*${names.x}^${k}`
  );
  return { coefficients, r2, n, form: `${names.y} = ${terms.join(" + ")}` };
}

function checkFinite(values: readonly number[], name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== "number" || !Number.isFinite(values[i])) {
      throw new RangeError(
        `fitPolynomial: ${name}[${i}] is ${values[i]}; all values must be finite`,
      );
    }
  }
}

// Minimise ‖A·b − y‖₂ for A given as columns, by Householder QR. Each column is
// scaled to unit norm first (and b unscaled after), which equilibrates x^0,
// x^1, x^2 when x spans [0, 5]. Returns undefined when A is rank-deficient.
function solveLeastSquares(
  columns: readonly number[][],
  y: readonly number[],
): number[] | undefined {
  const n = y.length;
  const p = columns.length;
  const scale = columns.map((col) => Math.sqrt(col.reduce((s, v) => s + v * v, 0)));
  if (scale.some((s) => s === 0)) return undefined;
  const a = columns.map((col, j) => Float64Array.from(col, (v) => v / scale[j]));
  const qty = Float64Array.from(y);
  const diag = new Float64Array(p);

  for (let k = 0; k < p; k++) {
    const v = a[k];
    let norm = 0;
    for (let i = k; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    // Columns have unit norm, so a tiny remaining norm means column k is
    // (numerically) a combination of the earlier ones.
    if (norm <= 1e-10) return undefined;
    const alpha = v[k] > 0 ? -norm : norm;
    v[k] -= alpha; // v now holds the Householder vector for rows k..n−1
    let vv = 0;
    for (let i = k; i < n; i++) vv += v[i] * v[i];
    for (const target of [...a.slice(k + 1), qty]) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i] * target[i];
      const f = (2 * dot) / vv;
      for (let i = k; i < n; i++) target[i] -= f * v[i];
    }
    diag[k] = alpha;
  }

  // Back-substitute R·b = Qᵀy; R[k][j] (j > k) sits in a[j][k].
  const b = new Array<number>(p).fill(0);
  for (let k = p - 1; k >= 0; k--) {
    let s = qty[k];
    for (let j = k + 1; j < p; j++) s -= a[j][k] * b[j];
    b[k] = s / diag[k];
  }
  return b.map((bk, j) => bk / scale[j]);
}
