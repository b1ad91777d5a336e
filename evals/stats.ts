// Summary statistics and confidence intervals for forgetbench reports: the mean ± t-interval
// across seeds, the Wilson interval for a proportion over items, type-7 quantiles, the seeded
// seed × item (cluster) bootstrap with percentile intervals and p-values, the exact binomial tail
// McNemar's test needs, and Holm's adjustment (docs/metrics.md "Uncertainty", "Paired
// comparisons"). Pure float64 code whose only import is lib/rng.ts's seeded generator, so the
// critical values are computed here rather than taken from a table.

import { rng } from "../lib/rng.ts";

/**
 * Arithmetic mean, (1/n) Σ_i xs[i].
 *
 * Returns NaN for an empty array (there is no mean of nothing); a NaN in `xs`
 * propagates to the result.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(mean([1, 2, 6]), 3);
 * ```
 */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/**
 * Sample standard deviation with Bessel's correction:
 * s = sqrt( Σ_i (xs[i] − mean)² / (n − 1) ).
 *
 * Returns NaN for n < 2. Two passes (mean first, then squared deviations) so
 * that values with a large common offset do not cancel catastrophically.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7));
 * ```
 */
export function sampleStd(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (n - 1));
}

/**
 * Two-sided critical value t* of Student's t distribution with `df` degrees of
 * freedom: P(|T| ≤ t*) = level (default 0.95). It is the quantile
 * t_{df, 1 − (1 − level)/2} used by `meanCI` for mean ± t*·s/√n.
 *
 * `df` may be any real ≥ 1; `Infinity` gives the normal critical value z.
 * Computed by bisection on the two-sided tail
 * P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2) (regularised incomplete beta, by
 * continued fraction); above df = 1000 the Cornish–Fisher expansion
 * (Abramowitz & Stegun 26.7.5) is used instead, where it is the more accurate
 * of the two. Relative error below 1e-11 for levels up to 1 − 1e-6 (checked
 * against a 30-digit mpmath solve).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * ok(Math.abs(tCritical(4) - 2.776445) < 1e-6);
 * ok(Math.abs(tCritical(10, { level: 0.99 }) - 3.169273) < 1e-6);
 * ```
 */
export function tCritical(df: number, opts: { level?: number } = {}): number {
  const level = checkLevel(opts.level);
  if (typeof df !== "number" || Number.isNaN(df) || df < 1) {
    throw new RangeError(`tCritical: df must be a number ≥ 1, got ${df}`);
  }
  const alpha = 1 - level;
  // Φ⁻¹ of the upper tail α/2 directly: forming 1 − α/2 first would round away
  // digits of α when the level is close to 1.
  const z = -normalQuantile(alpha / 2);
  if (df === Infinity) return z;
  if (df > 1000) return cornishFisherT(z, df);

  // Bracket the root of tail(t) = alpha, then bisect until the bracket
  // stops shrinking (tail is strictly decreasing in t).
  let lo = 0;
  let hi = Math.max(2 * z, 1);
  while (twoSidedTail(hi, df) > alpha) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (twoSidedTail(mid, df) > alpha) lo = mid;
    else hi = mid;
    if (hi - lo <= 1e-15 * hi) break;
  }
  return 0.5 * (lo + hi);
}

/**
 * Mean with a two-sided Student-t confidence interval, the across-seeds
 * summary of docs/metrics.md: mean ± t_{n−1}·s/√n, with s = `sampleStd(xs)` and
 * t_{n−1} = `tCritical(n − 1, { level })` (level default 0.95).
 *
 * With n < 2 there is no spread to estimate: `lo` and `hi` are NaN (and `mean`
 * is NaN too when n = 0).
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * const ci = meanCI([0.70, 0.74, 0.72]); // s = 0.02, t_2 = 4.302653
 * equal(ci.n, 3);
 * ok(Math.abs(ci.hi - (0.72 + 4.302653 * 0.02 / Math.sqrt(3))) < 1e-6);
 * ```
 */
export function meanCI(
  xs: readonly number[],
  opts: { level?: number } = {},
): { mean: number; lo: number; hi: number; n: number } {
  const level = checkLevel(opts.level);
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { mean: m, lo: NaN, hi: NaN, n };
  const half = tCritical(n - 1, { level }) * sampleStd(xs) / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n };
}

/**
 * Wilson score interval for a proportion p̂ = successes/n (docs/metrics.md, "over
 * items"), with z = Φ⁻¹(1 − (1 − level)/2) (level default 0.95):
 * centre = (p̂ + z²/(2n)) / (1 + z²/n),
 * half = z/(1 + z²/n) · sqrt( p̂(1 − p̂)/n + z²/(4n²) ),
 * [lo, hi] = centre ∓ half. Unlike the normal approximation it stays inside
 * [0, 1] and is not degenerate at 0 or n successes (lo is exactly 0 when
 * successes = 0, hi exactly 1 when successes = n).
 *
 * `successes` and `n` must be integers with 0 ≤ successes ≤ n; n = 0 gives NaN
 * for p, lo and hi.
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * const w = wilson(8, 10);
 * equal(w.p, 0.8);
 * ok(Math.abs(w.lo - 0.4901624) < 1e-6 && Math.abs(w.hi - 0.9433178) < 1e-6);
 * ```
 */
export function wilson(
  successes: number,
  n: number,
  opts: { level?: number } = {},
): { p: number; lo: number; hi: number } {
  const level = checkLevel(opts.level);
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`wilson: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilson: successes must be an integer in [0, ${n}], got ${successes}`);
  }
  if (n === 0) return { p: NaN, lo: NaN, hi: NaN };
  const p = successes / n;
  const z = -normalQuantile((1 - level) / 2);
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt(p * (1 - p) / n + z2n / (4 * n));
  const lo = successes === 0 ? 0 : Math.max(0, centre - half);
  const hi = successes === n ? 1 : Math.min(1, centre + half);
  return { p, lo, hi };
}

function checkLevel(level: number | undefined): number {
  if (level === undefined) return 0.95;
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new RangeError(`level must be a number strictly between 0 and 1, got ${level}`);
  }
  return level;
}

// Standard normal quantile Φ⁻¹(p), Wichura's AS241 (PPND16), relative
// accuracy about 1e-16. Coefficients as in CPython's statistics module,
// lowest power first.
const AS241_CENTRAL_NUM = [
  3.3871328727963666080e+0,
  1.3314166789178437745e+2,
  1.9715909503065514427e+3,
  1.3731693765509461125e+4,
  4.5921953931549871457e+4,
  6.7265770927008700853e+4,
  3.3430575583588128105e+4,
  2.5090809287301226727e+3,
];
const AS241_CENTRAL_DEN = [
  1.0,
  4.2313330701600911252e+1,
  6.8718700749205790830e+2,
  5.3941960214247511077e+3,
  2.1213794301586595867e+4,
  3.9307895800092710610e+4,
  2.8729085735721942674e+4,
  5.2264952788528545610e+3,
];
const AS241_NEAR_NUM = [
  1.42343711074968357734e+0,
  4.63033784615654529590e+0,
  5.76949722146069140550e+0,
  3.64784832476320460504e+0,
  1.27045825245236838258e+0,
  2.41780725177450611770e-1,
  2.27238449892691845833e-2,
  7.74545014278341407640e-4,
];
const AS241_NEAR_DEN = [
  1.0,
  2.05319162663775882187e+0,
  1.67638483018380384940e+0,
  6.89767334985100004550e-1,
  1.48103976427480074590e-1,
  1.51986665636164571966e-2,
  5.47593808499534494600e-4,
  1.05075007164441684324e-9,
];
const AS241_FAR_NUM = [
  6.65790464350110377720e+0,
  5.46378491116411436990e+0,
  1.78482653991729133580e+0,
  2.96560571828504891230e-1,
  2.65321895265761230930e-2,
  1.24266094738807843860e-3,
  2.71155556874348757815e-5,
  2.01033439929228813265e-7,
];
const AS241_FAR_DEN = [
  1.0,
  5.99832206555887937690e-1,
  1.36929880922735805310e-1,
  1.48753612908506148525e-2,
  7.86869131145613259100e-4,
  1.84631831751005468180e-5,
  1.42151175831644588870e-7,
  2.04426310338993978564e-15,
];

function normalQuantile(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_CENTRAL_NUM, r)) / horner(AS241_CENTRAL_DEN, r);
  }
  const r = Math.sqrt(-Math.log(q <= 0 ? p : 1 - p));
  const x = r <= 5
    ? horner(AS241_NEAR_NUM, r - 1.6) / horner(AS241_NEAR_DEN, r - 1.6)
    : horner(AS241_FAR_NUM, r - 5) / horner(AS241_FAR_DEN, r - 5);
  return q < 0 ? -x : x;
}

// Σ_k coeffs[k]·r^k by Horner's rule.
function horner(coeffs: readonly number[], r: number): number {
  let acc = 0;
  for (let k = coeffs.length - 1; k >= 0; k--) acc = acc * r + coeffs[k];
  return acc;
}

// Cornish–Fisher expansion of the t quantile in powers of 1/df around the
// normal quantile z (Abramowitz & Stegun 26.7.5).
function cornishFisherT(z: number, df: number): number {
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

// P(|T| > t) for Student's t with df degrees of freedom:
// I_x(df/2, 1/2) with x = df/(df+t²). 1 − x = t²/(df+t²) is passed
// separately so that it keeps full precision when t² ≪ df.
function twoSidedTail(t: number, df: number): number {
  const s = df + t * t;
  return regIncBeta(df / 2, 0.5, df / s, (t * t) / s);
}

// Regularised incomplete beta I_x(a, b), given x and y = 1 − x, by the
// continued fraction (Numerical Recipes §6.4), using the symmetry
// I_x(a, b) = 1 − I_y(b, a) where the fraction converges faster.
function regIncBeta(a: number, b: number, x: number, y: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(y);
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, y)) / b;
}

// Modified Lentz evaluation of the incomplete-beta continued fraction.
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

// ln Γ(x) for x ≥ 0.5 (all this file needs: a = df/2 ≥ 0.5, b = 1/2),
// Lanczos approximation (g = 7, n = 9), relative error about 1e-15.
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

function lnGamma(x: number): number {
  const xm1 = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (xm1 + i);
  const t = xm1 + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (xm1 + 0.5) * Math.log(t) - t + Math.log(sum);
}

// ---- Resampling and exact tests (docs/metrics.md "Uncertainty", "Paired comparisons") ----

/**
 * The q-quantile of `xs` by linear interpolation between order statistics (Hyndman & Fan's type
 * 7, the default of numpy.quantile and R's quantile): with x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎ and h = (n − 1)·q,
 * Q(q) = x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
 *
 * `xs` need not be sorted (a sorted copy is made); NaN for an empty input. Throws on a NaN value
 * or q outside [0, 1].
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(quantile([4, 1, 3, 2], 0.5), 2.5); // h = 1.5: 2 + 0.5·(3 − 2)
 * ```
 */
export function quantile(xs: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const s = Float64Array.from(xs);
  for (const x of s) {
    if (Number.isNaN(x)) throw new RangeError("quantile: a value is NaN");
  }
  s.sort();
  return sortedQuantile(s, q);
}

function sortedQuantile(s: Float64Array, q: number): number {
  const n = s.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  if (lo >= n - 1) return s[n - 1];
  return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

/**
 * The percentile interval of bootstrap replicates at `level` (default 0.95): the type-7
 * quantiles (`quantile`) at (1 − level)/2 and 1 − (1 − level)/2 (Efron & Tibshirani 1993, §13.3).
 */
export function percentileInterval(
  replicates: ArrayLike<number>,
  opts: { level?: number } = {},
): { lo: number; hi: number } {
  const level = checkLevel(opts.level);
  const s = Float64Array.from(replicates).sort();
  const a = (1 - level) / 2;
  return { lo: sortedQuantile(s, a), hi: sortedQuantile(s, 1 - a) };
}

/**
 * Two-sided bootstrap p-value of "the statistic is `nullValue`" (default 0) from R replicates
 * θ*₁..θ*_R: p = min(1, 2·min(1 + #{θ* ≤ null}, 1 + #{θ* ≥ null}) / (R + 1)).
 *
 * It inverts the percentile interval (the smallest α at which the (1 − α) percentile interval
 * leaves out the null value), with the +1 of Davison & Hinkley (1997, §4.4.1) so that p is never
 * 0 and a null value at either edge counts as reached; replicates equal to the null value count
 * on both sides, so a statistic whose every replicate is the null value has p = 1. The smallest
 * p a run of R replicates can show is 2/(R + 1). NaN for no replicates.
 */
export function bootstrapPValue(replicates: ArrayLike<number>, nullValue = 0): number {
  const r = replicates.length;
  if (r === 0) return NaN;
  let le = 0, ge = 0;
  for (let k = 0; k < r; k++) {
    const x = replicates[k];
    if (Number.isNaN(x)) throw new RangeError("bootstrapPValue: a replicate is NaN");
    if (x <= nullValue) le++;
    if (x >= nullValue) ge++;
  }
  return Math.min(1, (2 * Math.min(1 + le, 1 + ge)) / (r + 1));
}

/**
 * Holm's step-down adjusted p-values (Holm 1979): with the m finite p-values sorted ascending,
 * p₍₁₎ ≤ … ≤ p₍ₘ₎, adj₍ⱼ₎ = max_{k ≤ j} min(1, (m − k + 1)·p₍ₖ₎), returned in the input's order.
 * Rejecting every hypothesis whose adjusted p is ≤ α controls the family-wise error rate at α
 * under any dependence. NaN entries (comparisons not made) stay NaN and do not count in m; ties
 * keep their input order (which does not change the adjusted values).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * // sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 → running max
 * deepEqual(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02]);
 * ```
 */
export function holm(ps: readonly number[]): number[] {
  const idx: number[] = [];
  ps.forEach((p, i) => {
    if (Number.isNaN(p)) return;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`holm: p-values must be in [0, 1], got ${p}`);
    idx.push(i);
  });
  idx.sort((a, b) => ps[a] - ps[b] || a - b);
  const out = ps.map(() => NaN);
  const m = idx.length;
  let running = 0;
  idx.forEach((i, j) => {
    running = Math.max(running, Math.min(1, (m - j) * ps[i]));
    out[i] = running;
  });
  return out;
}

/**
 * P(X ≤ k) for X ~ Binomial(n, 1/2), exactly: Σ_{j ≤ k} C(n, j) summed in integers (BigInt) and
 * divided by 2ⁿ once, so the only rounding is the final conversion to a float (relative error
 * about 1e-16; values below about 1e-308 underflow towards 0).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(binomCdfHalf(1, 4), 5 / 16); // (1 + 4) / 2⁴
 * ```
 */
export function binomCdfHalf(k: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`binomCdfHalf: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(k)) throw new RangeError(`binomCdfHalf: k must be an integer, got ${k}`);
  if (k < 0) return 0;
  if (k >= n) return 1;
  let term = 1n, sum = 1n;
  for (let j = 0; j < k; j++) {
    term = (term * BigInt(n - j)) / BigInt(j + 1); // C(n, j + 1), exact
    sum += term;
  }
  return bigOverPow2(sum, n);
}

/** num / 2ⁿ for a non-negative BigInt, rounded once. */
function bigOverPow2(num: bigint, n: number): number {
  if (num === 0n) return 0;
  const bits = num.toString(2).length;
  const shift = Math.max(0, bits - 64);
  // The top 64 bits carry more precision than a double; the bits shifted out are below it.
  const top = Number(num >> BigInt(shift));
  return (top / 2 ** 64) * 2 ** (shift + 64 - n);
}

/** Per-item scores of one trainer: `[seed][item]`, every seed scored on the same items. */
export type ScoreMatrix = readonly ArrayLike<number>[];

/**
 * One stratum (a task) of a seed × item bootstrap: trainer A's scores and, for a difference,
 * trainer B's on the same items (in the same item order).
 */
export interface BootstrapStratum {
  readonly a: ScoreMatrix;
  readonly b?: ScoreMatrix;
}

/** Options of the seed × item bootstrap. */
export interface SeedItemOptions {
  /** Bootstrap replicates R (default 10,000). */
  readonly replicates?: number;
  /** The generator's seed: `rng(...seed)` from lib/rng.ts (default 0). */
  readonly seed?: number | readonly number[];
  /**
   * Seeds of A and B are paired (row s of `a` and of `b` are runs with the same seed number):
   * resample seed pairs. Otherwise A's and B's seeds are resampled independently.
   */
  readonly pairSeeds?: boolean;
}

/**
 * The seed × item bootstrap's replicates (docs/metrics.md "Uncertainty"): seeds are clusters and
 * items are crossed with them (every seed is scored on the same items), so each replicate
 * resamples both, in two stages:
 *
 * 1. draw S seeds (rows) with replacement from the S seeds of A, and for a difference either
 *    take the same draw for B (`pairSeeds`) or draw B's own seeds independently;
 * 2. per stratum, draw n items with replacement from its n items, one draw shared by every drawn
 *    seed and by A and B (the items are the same for all of them: Owen's pigeonhole bootstrap of
 *    a crossed design, Owen 2007, which keeps the items' between-item variance that a fresh item
 *    draw per seed would average away).
 *
 * A replicate's statistic is, per stratum, the mean of A over the drawn seed × item grid (minus
 * the same mean of B), then the mean over strata (strata weigh equally: the panel's mean
 * accuracy). The draws come from `rng(...seed)` in this order: A's seeds, B's seeds (unpaired
 * only), then each stratum's items; sums are formed in integers where the scores are integers
 * (0/1 correctness), so a replicate that is exactly 0 comes out as 0.
 */
export function seedItemReplicates(
  strata: readonly BootstrapStratum[],
  opts: SeedItemOptions = {},
): Float64Array {
  const R = opts.replicates ?? 10_000;
  if (!Number.isInteger(R) || R < 1) {
    throw new RangeError(`bootstrap: replicates must be a positive integer, got ${R}`);
  }
  const shape = checkStrata(strata, opts.pairSeeds ?? false);
  const seeds = opts.seed ?? 0;
  const r = rng(...(typeof seeds === "number" ? [seeds] : seeds));
  const { sa, sb, paired, rows } = shape;
  const cntA = new Float64Array(sa);
  const cntB = new Float64Array(sb);
  const c = rows.map((s) => new Float64Array(s.n));
  const out = new Float64Array(R);
  for (let rep = 0; rep < R; rep++) {
    cntA.fill(0);
    for (let k = 0; k < sa; k++) cntA[r.int(sa)]++;
    if (sb > 0 && !paired) {
      cntB.fill(0);
      for (let k = 0; k < sb; k++) cntB[r.int(sb)]++;
    }
    let total = 0;
    for (let k = 0; k < rows.length; k++) {
      const s = rows[k];
      const ck = c[k];
      ck.fill(0);
      // Numerator of each item's seed mean, over the common denominator s.den per item.
      for (let j = 0; j < s.x.length; j++) {
        const w = cntA[j] * s.xw;
        if (w === 0) continue;
        const row = s.x[j];
        for (let i = 0; i < s.n; i++) ck[i] += w * row[i];
      }
      for (let j = 0; j < s.y.length; j++) {
        const w = cntB[j] * s.yw;
        if (w === 0) continue;
        const row = s.y[j];
        for (let i = 0; i < s.n; i++) ck[i] -= w * row[i];
      }
      let sum = 0;
      for (let i = 0; i < s.n; i++) sum += ck[r.int(s.n)];
      total += sum / (s.den * s.n);
    }
    out[rep] = total / rows.length;
  }
  return out;
}

/**
 * The full-sample statistic the bootstrap resamples: per stratum, mean of A over all seeds and
 * items (minus B's), then the mean over strata.
 */
export function seedItemMean(strata: readonly BootstrapStratum[], pairSeeds = false): number {
  const { rows } = checkStrata(strata, pairSeeds);
  let total = 0;
  for (const s of rows) {
    let num = 0;
    for (let i = 0; i < s.n; i++) {
      let ci = 0;
      for (const row of s.x) ci += s.xw * row[i];
      for (const row of s.y) ci -= s.yw * row[i];
      num += ci;
    }
    total += num / (s.den * s.n);
  }
  return total / rows.length;
}

interface PreparedStratum {
  n: number;
  /** Rows added with weight xw·count (A, or A − B per seed pair when paired). */
  x: Float64Array[];
  xw: number;
  /** Rows subtracted with weight yw·count (B, unpaired only). */
  y: Float64Array[];
  yw: number;
  /** Common denominator of the weights: S (one side or paired) or Sa·Sb (unpaired). */
  den: number;
}

function checkStrata(
  strata: readonly BootstrapStratum[],
  pairSeeds: boolean,
): { sa: number; sb: number; paired: boolean; rows: PreparedStratum[] } {
  if (strata.length === 0) throw new RangeError("bootstrap: no strata");
  const sa = strata[0].a.length;
  const hasB = strata[0].b !== undefined;
  const sb = hasB ? strata[0].b!.length : 0;
  if (sa === 0 || (hasB && sb === 0)) throw new RangeError("bootstrap: a side has no seeds");
  if (pairSeeds && hasB && sa !== sb) {
    throw new RangeError(`bootstrap: paired seeds need as many seeds on both sides (${sa}, ${sb})`);
  }
  const paired = pairSeeds && hasB;
  const rows = strata.map((st, k): PreparedStratum => {
    if (st.a.length !== sa || (st.b !== undefined) !== hasB || (hasB && st.b!.length !== sb)) {
      throw new RangeError(`bootstrap: stratum ${k} has another number of seeds than stratum 0`);
    }
    const n = st.a[0].length;
    if (n === 0) throw new RangeError(`bootstrap: stratum ${k} has no items`);
    const rowsOf = (m: ScoreMatrix) =>
      m.map((row) => {
        if (row.length !== n) {
          throw new RangeError(`bootstrap: stratum ${k}: rows of different lengths`);
        }
        const f = Float64Array.from(row);
        for (const v of f) {
          if (!Number.isFinite(v)) throw new RangeError(`bootstrap: stratum ${k}: a score is ${v}`);
        }
        return f;
      });
    const a = rowsOf(st.a);
    if (!hasB) return { n, x: a, xw: 1, y: [], yw: 0, den: sa };
    const b = rowsOf(st.b!);
    if (paired) {
      return {
        n,
        x: a.map((row, s) => row.map((v, i) => v - b[s][i])),
        xw: 1,
        y: [],
        yw: 0,
        den: sa,
      };
    }
    return { n, x: a, xw: sb, y: b, yw: sa, den: sa * sb };
  });
  return { sa, sb, paired, rows };
}

/** One trainer's per-item scores: one task (`[seed][item]`) or several tasks as strata. */
export type Scores = ScoreMatrix | { readonly strata: readonly ScoreMatrix[] };

function strataOf(s: Scores): readonly ScoreMatrix[] {
  return "strata" in s ? s.strata : [s as ScoreMatrix];
}

/**
 * Mean of per-item scores over seeds and items with a seeded two-stage (seed × item) bootstrap
 * percentile interval (`seedItemReplicates`; level default 0.95, 10,000 replicates, seed 0). With
 * `{ strata }` the mean is the unweighted mean over strata (tasks) of each one's seed × item mean.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const ci = clusterBootstrap([[1, 1], [1, 1]], { replicates: 100 });
 * deepEqual([ci.mean, ci.lo, ci.hi], [1, 1, 1]);
 * ```
 */
export function clusterBootstrap(
  scores: Scores,
  opts: { level?: number; replicates?: number; seed?: number | readonly number[] } = {},
): { mean: number; lo: number; hi: number; seeds: number; replicates: number } {
  const strata = strataOf(scores).map((a) => ({ a }));
  const reps = seedItemReplicates(strata, opts);
  const { lo, hi } = percentileInterval(reps, opts);
  return { mean: seedItemMean(strata), lo, hi, seeds: strata[0].a.length, replicates: reps.length };
}

/**
 * A's and B's scores as the strata of a difference (`seedItemReplicates`): stratum k holds A's
 * and B's matrices of task k, which must have the same number of items.
 */
export function pairStrata(a: Scores, b: Scores): BootstrapStratum[] {
  const sa = strataOf(a), sb = strataOf(b);
  if (sa.length !== sb.length) {
    throw new RangeError(`bootstrap: ${sa.length} strata for A but ${sb.length} for B`);
  }
  return sa.map((m, k) => {
    if (m[0]?.length !== sb[k][0]?.length) {
      throw new RangeError(`bootstrap: stratum ${k} has other items for A than for B`);
    }
    return { a: m, b: sb[k] };
  });
}
