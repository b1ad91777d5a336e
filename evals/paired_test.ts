// Tests for the statistics of paired comparisons: evals/paired.ts (paired bootstrap, exact
// McNemar, seed pairing) and what it builds on in evals/stats.ts (type-7 quantiles, percentile
// intervals, bootstrap p-values, the seed × item bootstrap, the exact binomial tail, Holm).
// Every expected value is hand-worked in its comment or comes from the reference implementation
// named beside it (numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0; exact bootstrap distributions
// by enumerating every equally likely resample with Python's itertools and fractions).

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { discordant, mcnemarExact, pairedBootstrap, seedPairs } from "./paired.ts";
import {
  binomCdfHalf,
  bootstrapPValue,
  clusterBootstrap,
  holm,
  percentileInterval,
  quantile,
  seedItemMean,
  seedItemReplicates,
} from "./stats.ts";

function close(actual: number, expected: number, tol: number, what = "value"): void {
  ok(
    Math.abs(actual - expected) <= tol,
    `${what}: expected ${expected} ± ${tol}, got ${actual}`,
  );
}

function rel(actual: number, expected: number, tol: number, what = "value"): void {
  close(actual, expected, tol * Math.abs(expected), what);
}

/** Mean, population variance and the tail fractions of replicates. */
function moments(reps: Float64Array) {
  let m = 0;
  for (const x of reps) m += x;
  m /= reps.length;
  let v = 0, le = 0, ge = 0;
  for (const x of reps) {
    v += (x - m) ** 2;
    if (x <= 0) le++;
    if (x >= 0) ge++;
  }
  return { mean: m, var: v / reps.length, le: le / reps.length, ge: ge / reps.length };
}

// ---- quantiles, intervals, p-values ----

Deno.test("quantile: type 7, as numpy.quantile computes it", () => {
  const x = [0.3, -1.2, 4.0, 2.5, 0.0, 1.1, 7.75];
  // numpy.quantile(x, q) (method="linear", the default):
  equal(quantile(x, 0), -1.2);
  close(quantile(x, 0.025), -1.02, 1e-15);
  close(quantile(x, 0.1), -0.47999999999999987, 1e-15);
  equal(quantile(x, 0.5), 1.1);
  close(quantile(x, 0.975), 7.187499999999998, 1e-14);
  equal(quantile(x, 1), 7.75);
  // numpy.quantile(range(10), [0.025, 0.975]) = [0.225, 8.775]; hand: h = 9·0.025 = 0.225.
  const r10 = Array.from({ length: 10 }, (_, i) => i);
  close(quantile(r10, 0.025), 0.225, 1e-15);
  close(quantile(r10, 0.975), 8.775, 1e-15);
  equal(quantile([4, 1, 3, 2], 0.5), 2.5); // h = 1.5 between 2 and 3
  ok(Number.isNaN(quantile([], 0.5)));
  throws(() => quantile([1, NaN], 0.5), RangeError);
  throws(() => quantile([1], 1.5), RangeError);
});

Deno.test("percentileInterval: the 2.5% and 97.5% type-7 quantiles", () => {
  const r10 = [9, 3, 0, 5, 1, 8, 2, 7, 4, 6]; // unsorted 0..9
  const ci = percentileInterval(r10);
  close(ci.lo, 0.225, 1e-15); // numpy.quantile(range(10), 0.025)
  close(ci.hi, 8.775, 1e-15);
  // numpy.quantile(range(10), [0.05, 0.95]) = [0.45, 8.55] (h = 9·0.05, 9·0.95; 1e-12: the level
  // 0.9 reaches the quantile as 1 − (1 − 0.9)/2 = 0.95 less one ulp).
  const ci90 = percentileInterval(r10, { level: 0.9 });
  close(ci90.lo, 0.45, 1e-12);
  close(ci90.hi, 8.55, 1e-12);
});

Deno.test("bootstrapPValue: two-sided percentile inversion with +1", () => {
  // 10 replicates, 2 ≤ 0 and 8 ≥ 0: p = 2·min(1 + 2, 1 + 8)/11 = 6/11.
  close(bootstrapPValue([-0.2, -0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), 6 / 11, 1e-15);
  // All above 0: p = 2·1/(R + 1), the smallest p R replicates can show.
  close(bootstrapPValue([1, 2, 3]), 0.5, 1e-15);
  // Replicates at the null count on both sides: all zero gives p = 1.
  equal(bootstrapPValue([0, 0, 0, 0]), 1);
  // le = 3, ge = 2 → 2·min(4, 3)/5 = 6/5, capped at 1.
  equal(bootstrapPValue([-1, -1, 0, 2]), 1);
  // le = 1, ge = 6 → 2·min(2, 7)/8 = 0.5.
  equal(bootstrapPValue([-3, 1, 2, 2, 3, 4, 5]), 0.5);
  // Another null value, 1: le = 2 (0.5 and 1), ge = 6 → 2·min(3, 7)/8 = 0.75.
  equal(bootstrapPValue([0.5, 1, 2, 3, 4, 5, 6], 1), 0.75);
  ok(Number.isNaN(bootstrapPValue([])));
});

// ---- exact binomial tail, McNemar, Holm ----

Deno.test("binomCdfHalf: exact Binomial(n, 1/2) tails", () => {
  // Exact rationals Σ_{j≤k} C(n, j)/2ⁿ (Python math.comb + fractions), which
  // scipy.stats.binom.cdf(k, n, 0.5) agrees with to ~1e-14.
  equal(binomCdfHalf(1, 4), 0.3125);
  equal(binomCdfHalf(3, 14), 0.0286865234375);
  rel(binomCdfHalf(10, 30), 0.04936857335269451, 1e-15, "k=10 n=30");
  equal(binomCdfHalf(0, 1), 0.5);
  rel(binomCdfHalf(49, 100), 0.46020538130641064, 1e-15, "k=49 n=100");
  rel(binomCdfHalf(500, 1100), 0.0014097724957182138, 1e-15, "k=500 n=1100");
  rel(binomCdfHalf(2000, 4500), 4.804420795636806e-14, 1e-15, "k=2000 n=4500");
  rel(binomCdfHalf(0, 1000), 9.332636185032189e-302, 1e-15, "k=0 n=1000: 2^-1000");
  equal(binomCdfHalf(-1, 5), 0);
  equal(binomCdfHalf(5, 5), 1);
  equal(binomCdfHalf(0, 0), 1);
  throws(() => binomCdfHalf(1, -1), RangeError);
  throws(() => binomCdfHalf(1.5, 3), RangeError);
});

Deno.test("mcnemarExact: scipy.stats.binomtest and statsmodels mcnemar(exact=True)", () => {
  // p = scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue; statsmodels
  // mcnemar([[50, b], [c, 60]], exact=True).pvalue gives the same for (3, 11), (25, 40),
  // (120, 180), (400, 470).
  const cases: [number, number, number][] = [
    [3, 11, 0.057373046875], // hand: 2·(1 + 14 + 91 + 364)/2¹⁴ = 940/16384
    [11, 3, 0.057373046875],
    [0, 5, 0.0625], // 2/2⁵
    [1, 9, 0.021484375], // 2·(1 + 10)/2¹⁰
    [10, 10, 1],
    [7, 8, 1], // 2·P(X ≤ 7) > 1: capped
    [0, 0, 1], // no discordant pair
    [25, 40, 0.08168153394154003],
    [120, 180, 0.0006342200069283566],
    [400, 470, 0.019267052848609047],
    [0, 1000, 1.8665272370064378e-301],
  ];
  for (const [b, c, p] of cases) {
    const m = mcnemarExact(b, c);
    rel(m.p, p, 1e-13, `b=${b} c=${c}`);
    equal(m.n, b + c);
    deepEqual([m.b, m.c], [b, c]);
  }
  throws(() => mcnemarExact(-1, 2), RangeError);
  throws(() => mcnemarExact(1.5, 2), RangeError);
});

Deno.test("discordant: counts A-only and B-only correct pairs", () => {
  const a = [true, true, false, false, true, false];
  const b = [true, false, true, false, false, false];
  deepEqual(discordant(a, b), { b: 2, c: 1 });
  throws(() => discordant([true], []), RangeError);
});

Deno.test("holm: statsmodels multipletests(method='holm')", () => {
  // statsmodels.stats.multitest.multipletests(ps, method="holm")[1]:
  deepEqual(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02]);
  const tie = holm([0.5, 0.2, 0.2, 0.01, 0.3]); // [0.8, 0.8, 0.8, 0.05, 0.8]
  [0.8, 0.8, 0.8, 0.05, 0.8].forEach((v, i) => close(tie[i], v, 1e-15, `tie ${i}`));
  const three = holm([0.001, 0.9, 0.04]); // [0.003, 0.9, 0.08]
  [0.003, 0.9, 0.08].forEach((v, i) => close(three[i], v, 1e-15, `three ${i}`));
  deepEqual(holm([0.3]), [0.3]);
  // Hand: capped at 1 (0.4·3 = 1.2 → 1), monotone (0.45·2 = 0.9 < 1 → 1).
  deepEqual(holm([0.4, 0.45, 0.6]), [1, 1, 1]);
  // NaN (a comparison not made) stays NaN and does not count in m: m = 2.
  const withNaN = holm([0.01, NaN, 0.04]);
  ok(Number.isNaN(withNaN[1]));
  deepEqual([withNaN[0], withNaN[2]], [0.02, 0.04]);
  deepEqual(holm([]), []);
  throws(() => holm([1.5]), RangeError);
});

// ---- the seed × item bootstrap ----

const R = 40_000;

Deno.test("seed × item bootstrap: degenerate cases are exact", () => {
  // A right everywhere, B nowhere, seeds paired: every replicate is exactly 1.
  const ones = [[1, 1, 1, 1], [1, 1, 1, 1]], zeros = [[0, 0, 0, 0], [0, 0, 0, 0]];
  const r = pairedBootstrap(ones, zeros, { pairSeeds: true, replicates: 999 });
  deepEqual([r.meanA, r.meanB, r.diff, r.lo, r.hi], [1, 0, 1, 1, 1]);
  equal(r.p, 2 / 1000); // 2·(1 + 0)/(999 + 1)
  // Identical scores, paired: every replicate is exactly 0 (integer sums), p = 1.
  const s = [[1, 0, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 0, 0]];
  const same = pairedBootstrap(s, s, { pairSeeds: true, replicates: 999 });
  deepEqual([same.diff, same.lo, same.hi, same.p], [0, 0, 0, 1]);
  // One seed, one item: nothing to resample.
  const one = clusterBootstrap([[0.25]], { replicates: 50 });
  deepEqual([one.mean, one.lo, one.hi, one.seeds, one.replicates], [0.25, 0.25, 0.25, 1, 50]);
});

Deno.test("seed × item bootstrap: deterministic per seed, different across seeds", () => {
  const a = [[1, 0, 1, 1, 0, 1], [0, 1, 1, 1, 0, 0]];
  const b = [[0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 0, 0]];
  const x = seedItemReplicates([{ a, b }], { replicates: 500, seed: [7, 3], pairSeeds: true });
  const y = seedItemReplicates([{ a, b }], { replicates: 500, seed: [7, 3], pairSeeds: true });
  deepEqual(x, y);
  const z = seedItemReplicates([{ a, b }], { replicates: 500, seed: [7, 4], pairSeeds: true });
  ok(x.some((v, i) => v !== z[i]));
  // The default seed is 0 and the default count 10,000.
  equal(seedItemReplicates([{ a }]).length, 10_000);
});

Deno.test("paired bootstrap, one seed × 5 items: the exact bootstrap distribution", () => {
  // A = [1,1,0,1,0], B = [0,1,1,0,0], d = [1,0,−1,1,0]. Enumerating the 5⁵ = 3125 item draws
  // (itertools.product): mean 1/5, variance 14/125 = 0.112 (hand: plug-in variance of d,
  // (3/5 − 1/25) = 14/25, over n = 5), P(d* ≤ 0) = 0.37536, P(d* ≥ 0) = 0.81408, so the exact
  // percentile p = 2·0.37536 = 0.75072; 2.5% quantile −2/5 (F just below it 0.0195, at it
  // 0.0707), 97.5% quantile 4/5 (F below 0.9386, at it 0.9898).
  const a = [[1, 1, 0, 1, 0]], b = [[0, 1, 1, 0, 0]];
  const reps = seedItemReplicates([{ a, b }], { replicates: R, seed: 1, pairSeeds: true });
  const m = moments(reps);
  close(m.mean, 0.2, 0.01, "mean");
  rel(m.var, 0.112, 0.04, "variance");
  close(m.le, 0.37536, 0.01, "P(d* ≤ 0)");
  close(m.ge, 0.81408, 0.01, "P(d* ≥ 0)");
  const r = pairedBootstrap(a, b, { pairSeeds: true, replicates: R, seed: 1 });
  equal(r.diff, 0.2);
  deepEqual([r.meanA, r.meanB], [0.6, 0.4]);
  close(r.lo, -0.4, 1e-12, "2.5% quantile");
  close(r.hi, 0.8, 1e-12, "97.5% quantile");
  close(r.p, 0.75072, 0.02, "p");
});

Deno.test("paired bootstrap, 2 paired seeds × 3 items: the exact crossed distribution", () => {
  // A = [[1,0,1],[1,1,0]], B = [[0,0,1],[1,0,0]] → d = [[1,0,0],[0,1,0]]. Enumerating 2² seed
  // draws × 3³ item draws (108, each equally likely; one item draw shared by both drawn seeds):
  // mean 1/3, variance 5/108, P(d* ≤ 0) = 1/6 (only d* = 0), so p = 1/3; 2.5% quantile 0
  // (F(0) = 1/6), 97.5% quantile 2/3 (F below 0.8704, at it 0.9815). The nested scheme (a fresh
  // item draw per drawn seed) would give variance 1/27 < 5/108: it averages the item effect away.
  const a = [[1, 0, 1], [1, 1, 0]], b = [[0, 0, 1], [1, 0, 0]];
  const reps = seedItemReplicates([{ a, b }], { replicates: R, seed: 2, pairSeeds: true });
  const m = moments(reps);
  close(m.mean, 1 / 3, 0.01, "mean");
  rel(m.var, 5 / 108, 0.04, "variance");
  close(m.le, 1 / 6, 0.01, "P(d* ≤ 0)");
  equal(m.ge, 1, "no replicate below 0");
  ok(!(Math.abs(m.var - 1 / 27) < 0.05 * (1 / 27)), "not the nested scheme's variance");
  const r = pairedBootstrap(a, b, { pairSeeds: true, replicates: R, seed: 2 });
  close(r.diff, 1 / 3, 1e-15);
  close(r.lo, 0, 1e-12);
  close(r.hi, 2 / 3, 1e-12);
  close(r.p, 1 / 3, 0.02, "p");
  equal(r.pairedSeeds, true);
});

Deno.test("paired bootstrap, unpaired seeds (2 vs 3) on shared items: exact distribution", () => {
  // A = [[1,0,1],[1,1,0]], B = [[0,0,1],[1,0,0],[0,1,1]]: A's seeds (2²) and B's (3³) drawn
  // independently, one item draw (3³) shared: 2916 resamples; mean 2/9 (the full-sample
  // difference 4/6 − 4/9), variance 283/2916 = 0.09705, P(d* ≤ 0) = 0.23388, P(d* ≥ 0) = 0.82510,
  // exact p = 0.46776.
  const a = [[1, 0, 1], [1, 1, 0]], b = [[0, 0, 1], [1, 0, 0], [0, 1, 1]];
  const reps = seedItemReplicates([{ a, b }], { replicates: R, seed: 3 });
  const m = moments(reps);
  close(m.mean, 2 / 9, 0.01, "mean");
  rel(m.var, 283 / 2916, 0.04, "variance");
  close(m.le, 0.23388203017832648, 0.01, "P(d* ≤ 0)");
  close(m.ge, 0.8251028806584362, 0.01, "P(d* ≥ 0)");
  const r = pairedBootstrap(a, b, { pairSeeds: false, replicates: R, seed: 3 });
  close(r.diff, 2 / 9, 1e-15);
  close(r.p, 0.46776406035665297, 0.02, "p");
  throws(() => pairedBootstrap(a, b, { pairSeeds: true }), RangeError, "2 vs 3 seeds can't pair");
});

Deno.test("paired bootstrap over strata (a panel's tasks): exact distribution", () => {
  // Task 1: A = [1,1], B = [0,1]; task 2: A = [0,1,1], B = [1,1,0]; one seed. The statistic is
  // the mean over the two tasks of each one's difference (1/2 and 0 → 1/4). Enumerating 2² × 3³
  // item draws (each task's items drawn within it): mean 1/4, variance 25/288,
  // P(d* ≤ 0) = 0.24074, p = 0.48148; 2.5% quantile −1/3 (F below 0.0093, at it 0.0370),
  // 97.5% quantile 5/6 (F below 0.9630, at it 0.9907).
  const a = { strata: [[[1, 1]], [[0, 1, 1]]] }, b = { strata: [[[0, 1]], [[1, 1, 0]]] };
  const r = pairedBootstrap(a, b, { pairSeeds: true, replicates: R, seed: 4 });
  close(r.diff, 0.25, 1e-15);
  close(r.meanA, (1 + 2 / 3) / 2, 1e-15);
  close(r.meanB, (1 / 2 + 2 / 3) / 2, 1e-15);
  close(r.lo, -1 / 3, 1e-12);
  close(r.hi, 5 / 6, 1e-12);
  close(r.p, 0.48148148148148145, 0.02, "p");
  const reps = seedItemReplicates(
    [{ a: a.strata[0], b: b.strata[0] }, { a: a.strata[1], b: b.strata[1] }],
    { replicates: R, seed: 4, pairSeeds: true },
  );
  rel(moments(reps).var, 25 / 288, 0.04, "variance");
  throws(() => pairedBootstrap(a, { strata: [[[0, 1]]] }, { pairSeeds: true }), RangeError);
});

Deno.test("clusterBootstrap: one trainer, 2 seeds × 4 items, exact distribution", () => {
  // S = [[1,0,1,1],[0,0,1,1]]: 2² × 4⁴ = 1024 resamples: mean 5/8, variance 29/512,
  // P(x* ≤ 0) = 0.01855 (x* = 0 needs both seeds' drawn items all 0).
  const s = [[1, 0, 1, 1], [0, 0, 1, 1]];
  const reps = seedItemReplicates([{ a: s }], { replicates: R, seed: 5 });
  const m = moments(reps);
  close(m.mean, 5 / 8, 0.01, "mean");
  rel(m.var, 29 / 512, 0.04, "variance");
  close(m.le, 0.0185546875, 0.006, "P(x* ≤ 0)");
  const ci = clusterBootstrap(s, { replicates: R, seed: 5 });
  equal(ci.mean, 0.625);
  equal(ci.hi, 1); // F(<1) = 0.874 < 0.975
  ok(ci.lo >= 0 && ci.lo <= 0.25, `2.5% quantile near 1/8: ${ci.lo}`);
  equal(seedItemMean([{ a: s }]), 0.625);
});

Deno.test("seed × item bootstrap: one seed, many items, matches the plug-in standard error", () => {
  // 1000 items, d = 1 on 300, −1 on 100, 0 on 600: mean 0.2, plug-in variance
  // E[d²] − 0.2² = 0.4 − 0.04 = 0.36, so the bootstrap SE of the mean is sqrt(0.36/1000) = 0.018974
  // and the normal-theory 95% interval 0.2 ± 1.96·0.018974 = [0.1628, 0.2372].
  const a = [Array.from({ length: 1000 }, (_, i) => (i < 300 ? 1 : 0))];
  const b = [Array.from({ length: 1000 }, (_, i) => (i >= 300 && i < 400 ? 1 : 0))];
  const reps = seedItemReplicates([{ a, b }], { replicates: 20_000, seed: 6, pairSeeds: true });
  rel(Math.sqrt(moments(reps).var), Math.sqrt(0.36 / 1000), 0.03, "SE");
  const r = pairedBootstrap(a, b, { pairSeeds: true, replicates: 20_000, seed: 6 });
  close(r.lo, 0.2 - 1.959964 * 0.018974, 0.003, "lo");
  close(r.hi, 0.2 + 1.959964 * 0.018974, 0.003, "hi");
  // 0 lies 10.5 SEs below: no replicate reaches it, p = 2/(R + 1).
  equal(r.p, 2 / 20_001);
});

Deno.test("seed × item bootstrap: pairing the items narrows the interval", () => {
  // B = A with 5 of 40 items flipped from wrong to right: the paired difference varies only
  // through those 5 items, while independent item draws for A and B (not what forgetbench does)
  // would add both sides' item variance. Hand: paired SE = sqrt((5/40)(35/40)/40) = 0.0523.
  const a = [Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1 : 0))];
  const b = [a[0].map((v, i) => (i % 2 === 1 && i < 10 ? 1 : v))];
  const r = pairedBootstrap(b, a, { pairSeeds: true, replicates: 20_000, seed: 8 });
  close(r.diff, 5 / 40, 1e-15);
  const reps = seedItemReplicates([{ a: b, b: a }], {
    replicates: 20_000,
    seed: 8,
    pairSeeds: true,
  });
  rel(Math.sqrt(moments(reps).var), Math.sqrt((5 / 40) * (35 / 40) / 40), 0.03, "paired SE");
  ok(r.lo >= 0, "every replicate ≥ 0: B never loses an item to A");
});

Deno.test("seed × item bootstrap: rejects malformed inputs", () => {
  throws(() => seedItemReplicates([]), RangeError);
  throws(() => seedItemReplicates([{ a: [] }]), RangeError);
  throws(() => seedItemReplicates([{ a: [[]] }]), RangeError);
  throws(() => seedItemReplicates([{ a: [[1, 0], [1]] }]), RangeError);
  throws(() => seedItemReplicates([{ a: [[1, NaN]] }]), RangeError);
  throws(() => seedItemReplicates([{ a: [[1]] }], { replicates: 0 }), RangeError);
  throws(() => seedItemReplicates([{ a: [[1]] }, { a: [[1], [0]] }]), RangeError);
});

// ---- seed pairing ----

Deno.test("seedPairs: by seed number, else by rank", () => {
  deepEqual(seedPairs([3, 1, 2], [1, 2, 3]), { paired: true, pairs: [[1, 1], [2, 2], [3, 3]] });
  // A seed diverged on one side: the common seeds pair; the bootstrap is unpaired.
  deepEqual(seedPairs([1, 2, 3], [1, 3]), { paired: false, pairs: [[1, 1], [3, 3]] });
  // No common seed: k-th smallest with k-th smallest.
  deepEqual(seedPairs([5, 4], [9, 7, 8]), { paired: false, pairs: [[4, 7], [5, 8]] });
  throws(() => seedPairs([1, 1], [1]), RangeError);
});
