// Tests for evals/stats.ts: hand-worked means and spreads, t critical values
// against closed forms (df = 1, 2) and published tables, Wilson intervals
// worked from the score formula.

import { equal, ok, throws } from "node:assert/strict";
import { mean, meanCI, sampleStd, tCritical, wilson } from "./stats.ts";

function close(actual: number, expected: number, tol: number, what = "value"): void {
  ok(
    Math.abs(actual - expected) <= tol,
    `${what}: expected ${expected} ± ${tol}, got ${actual}`,
  );
}

Deno.test("mean: hand-worked values and NaN for empty", () => {
  equal(mean([1, 2, 3, 4]), 2.5); // 10 / 4
  equal(mean([-3, 3, 6]), 2); // 6 / 3
  close(mean([0.1, 0.2, 0.3]), 0.2, 1e-15);
  ok(Number.isNaN(mean([])));
});

Deno.test("sampleStd: n − 1 denominator, NaN below two values", () => {
  // mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; 32/7 (not 32/8 = 4).
  close(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-15);
  close(sampleStd([1, 3]), Math.SQRT2, 1e-15); // (1 + 1) / 1 = 2
  equal(sampleStd([7, 7, 7]), 0);
  ok(Number.isNaN(sampleStd([5])));
  ok(Number.isNaN(sampleStd([])));
});

Deno.test("sampleStd: a large common offset does not cancel", () => {
  // Deviations −1, 0, 1 → s = sqrt(2/2) = 1; a one-pass Σx² − n·mean² gives 0 here.
  equal(sampleStd([1e9 + 1, 1e9 + 2, 1e9 + 3]), 1);
});

Deno.test("tCritical: table values at level 0.95", () => {
  close(tCritical(1), 12.706205, 1e-6, "df=1");
  close(tCritical(2), 4.302653, 1e-6, "df=2");
  close(tCritical(4), 2.776445, 1e-6, "df=4");
  close(tCritical(10), 2.228139, 1e-6, "df=10");
  close(tCritical(30), 2.042272, 1e-6, "df=30");
});

Deno.test("tCritical: other levels, non-integer and large df", () => {
  close(tCritical(10, { level: 0.99 }), 3.169273, 1e-6);
  close(tCritical(1, { level: 0.9 }), 6.313752, 1e-6);
  close(tCritical(2.5), 3.5746548420036817, 1e-9, "df=2.5");
  close(tCritical(5000), 1.9604385517065073, 1e-9, "df=5000 (expansion branch)");
  close(tCritical(1000), 1.9623390808264083, 1e-9, "df=1000 (beta branch)");
  close(tCritical(Infinity), 1.959963984540054, 1e-12, "df=∞ is the normal z");
  // Strictly decreasing in df towards z.
  ok(tCritical(999) > tCritical(1000) && tCritical(1000) > tCritical(1001));
  ok(tCritical(1e9) > tCritical(Infinity));
});

Deno.test("tCritical: matches closed forms for df = 1 and df = 2", () => {
  for (const level of [0.5, 0.8, 0.95, 0.99, 0.999]) {
    const alpha = 1 - level;
    // df = 1 is Cauchy: P(|T| > t) = 1 − (2/π)·atan(t) → t = cot(π·α/2).
    const cauchy = 1 / Math.tan((Math.PI * alpha) / 2);
    close(tCritical(1, { level }), cauchy, 1e-12 * cauchy, `df=1 level=${level}`);
    // df = 2: P(|T| > t) = 1 − t/sqrt(2 + t²) → t = (1 − α)·sqrt(2 / (1 − (1 − α)²)).
    const two = (1 - alpha) * Math.sqrt(2 / (1 - (1 - alpha) ** 2));
    close(tCritical(2, { level }), two, 1e-12 * two, `df=2 level=${level}`);
  }
});

Deno.test("tCritical: rejects df < 1 and levels outside (0, 1)", () => {
  throws(() => tCritical(0.5), RangeError);
  throws(() => tCritical(NaN), RangeError);
  throws(() => tCritical(5, { level: 1 }), RangeError);
  throws(() => tCritical(5, { level: 0 }), RangeError);
  throws(() => tCritical(5, { level: 95 }), RangeError);
});

Deno.test("meanCI: mean ± t_{n−1}·s/√n", () => {
  // mean 0.72; s = sqrt((0.02² + 0.02² + 0)/2) = 0.02; t_2 = 4.302652729749462;
  // half-width = 4.302652729749462 · 0.02 / √3 = 0.04968275423500661.
  const ci = meanCI([0.70, 0.74, 0.72]);
  equal(ci.n, 3);
  close(ci.mean, 0.72, 1e-15);
  close(ci.lo, 0.6703172457649934, 1e-12);
  close(ci.hi, 0.7696827542350065, 1e-12);
  // A higher level widens the interval: t_2 at 0.99 = 9.924843200918287.
  const wide = meanCI([0.70, 0.74, 0.72], { level: 0.99 });
  close(wide.hi - wide.mean, (9.924843200918287 * 0.02) / Math.sqrt(3), 1e-12);
});

Deno.test("meanCI: lo and hi are NaN below two values", () => {
  const one = meanCI([0.4]);
  equal(one.mean, 0.4);
  equal(one.n, 1);
  ok(Number.isNaN(one.lo) && Number.isNaN(one.hi));
  const none = meanCI([]);
  equal(none.n, 0);
  ok(Number.isNaN(none.mean) && Number.isNaN(none.lo) && Number.isNaN(none.hi));
});

Deno.test("wilson: 8 of 10 at 95%", () => {
  // z = 1.959963984540054, z²/n = 0.38414588206941254;
  // centre = (0.8 + 0.19207294103470627) / 1.3841458820694125 = 0.7167401600411333;
  // half = z / 1.3841458820694125 · sqrt(0.8·0.2/10 + 0.38414588206941254/40)
  //      = 0.2265776885044915.
  const w = wilson(8, 10);
  equal(w.p, 0.8);
  close(w.lo, 0.4901624715366418, 1e-12);
  close(w.hi, 0.9433178485456248, 1e-12);
});

Deno.test("wilson: edges are not degenerate and stay in [0, 1]", () => {
  // 0 of n: [0, z²/(n + z²)]; n of n: [n/(n + z²), 1].
  const none = wilson(0, 10);
  equal(none.p, 0);
  equal(none.lo, 0);
  close(none.hi, 0.2775327998628892, 1e-12);
  const all = wilson(10, 10);
  equal(all.hi, 1);
  close(all.lo, 0.7224672001371107, 1e-12);
});

Deno.test("wilson: level option and n = 0", () => {
  // 45 of 100 at 90%: z = 1.6448536269514722.
  const w = wilson(45, 100, { level: 0.9 });
  close(w.lo, 0.370560970694454, 1e-12);
  close(w.hi, 0.5320733013838636, 1e-12);
  const empty = wilson(0, 0);
  ok(Number.isNaN(empty.p) && Number.isNaN(empty.lo) && Number.isNaN(empty.hi));
});

Deno.test("wilson: rejects impossible counts", () => {
  throws(() => wilson(11, 10), RangeError);
  throws(() => wilson(-1, 10), RangeError);
  throws(() => wilson(1.5, 10), RangeError);
  throws(() => wilson(0, -1), RangeError);
  throws(() => wilson(1, 10, { level: 1.5 }), RangeError);
});
