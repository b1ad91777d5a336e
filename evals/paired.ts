// Paired comparisons of two trainers evaluated on the same items (docs/metrics.md "Paired
// comparisons"): the seeded paired bootstrap of the difference A − B over seeds and items, the
// exact McNemar test on per-item correctness, and how seeds are paired. Pure functions; the
// statistics underneath (bootstrap engine, binomial tail, Holm) are in evals/stats.ts.

import {
  binomCdfHalf,
  bootstrapPValue,
  pairStrata,
  percentileInterval,
  type Scores,
  seedItemMean,
  seedItemReplicates,
} from "./stats.ts";

/** The paired bootstrap's result: means, the difference A − B, its interval and p-value. */
export interface PairedBootstrap {
  /** Mean of A over seeds × items (per stratum, then the mean over strata). */
  readonly meanA: number;
  readonly meanB: number;
  /** meanA − meanB. */
  readonly diff: number;
  /** Percentile interval of the replicated difference at the level (default 95%). */
  readonly lo: number;
  readonly hi: number;
  /** Two-sided bootstrap p-value of "no difference" (`bootstrapPValue`). */
  readonly p: number;
  readonly replicates: number;
  /** Whether seeds were resampled as pairs. */
  readonly pairedSeeds: boolean;
}

/**
 * Paired bootstrap of the difference A − B of mean per-item scores on the same items (the items
 * of stratum k are the same, in the same order, for A and B). Each replicate resamples seeds (as
 * pairs when `pairSeeds`: row s of A and of B are runs with the same seed; otherwise A's and B's
 * seeds independently) and then items, one item draw shared by A and B and by every drawn seed,
 * and takes the difference of the two grid means (`seedItemReplicates` in evals/stats.ts). The
 * interval is the percentile interval of the replicates; the p-value is the two-sided
 * percentile-inversion p of a zero difference, min(1, 2·min(1 + #{d* ≤ 0}, 1 + #{d* ≥ 0})/(R + 1)).
 *
 * Sharing the item draw is what pairs the items: an item that is hard for both trainers moves
 * both means together and cancels in the difference.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * // A is right on every item, B on none: every replicate's difference is 1.
 * const r = pairedBootstrap([[1, 1, 1]], [[0, 0, 0]], { pairSeeds: true, replicates: 99 });
 * deepEqual([r.diff, r.lo, r.hi, r.p], [1, 1, 1, 0.02]);
 * ```
 */
export function pairedBootstrap(
  a: Scores,
  b: Scores,
  opts: {
    pairSeeds: boolean;
    replicates?: number;
    seed?: number | readonly number[];
    level?: number;
  },
): PairedBootstrap {
  const strata = pairStrata(a, b);
  const reps = seedItemReplicates(strata, opts);
  const { lo, hi } = percentileInterval(reps, opts);
  const meanA = seedItemMean(strata.map((s) => ({ a: s.a })));
  const meanB = seedItemMean(strata.map((s) => ({ a: s.b! })));
  return {
    meanA,
    meanB,
    diff: seedItemMean(strata, opts.pairSeeds),
    lo,
    hi,
    p: bootstrapPValue(reps),
    replicates: reps.length,
    pairedSeeds: opts.pairSeeds,
  };
}

/** McNemar's exact test on discordant pair counts. */
export interface McNemar {
  /** Pairs where A is correct and B is not. */
  readonly b: number;
  /** Pairs where B is correct and A is not. */
  readonly c: number;
  /** Discordant pairs, b + c. */
  readonly n: number;
  /** Two-sided exact p-value. */
  readonly p: number;
}

/**
 * McNemar's exact test (McNemar 1947; the exact binomial form): under "A and B are equally often
 * correct", each of the n = b + c discordant pairs is A's with probability 1/2, so
 * p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(n, 1/2) (`binomCdfHalf`), and p = 1 when n = 0.
 * Equal to scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue and statsmodels'
 * mcnemar(table, exact=True).pvalue. Concordant pairs do not enter.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(mcnemarExact(0, 5).p, 0.0625); // 2 · (1/2)⁵
 * ```
 */
export function mcnemarExact(b: number, c: number): McNemar {
  for (const [name, v] of [["b", b], ["c", c]] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`mcnemarExact: ${name} must be a non-negative integer, got ${v}`);
    }
  }
  const n = b + c;
  const p = n === 0 ? 1 : Math.min(1, 2 * binomCdfHalf(Math.min(b, c), n));
  return { b, c, n, p };
}

/** Counts discordant pairs of two aligned correctness lists: b (A only), c (B only). */
export function discordant(
  aCorrect: readonly boolean[],
  bCorrect: readonly boolean[],
): { b: number; c: number } {
  if (aCorrect.length !== bCorrect.length) {
    throw new RangeError(`discordant: ${aCorrect.length} pairs for A but ${bCorrect.length} for B`);
  }
  let b = 0, c = 0;
  for (let i = 0; i < aCorrect.length; i++) {
    if (aCorrect[i] && !bCorrect[i]) b++;
    else if (!aCorrect[i] && bCorrect[i]) c++;
  }
  return { b, c };
}

/**
 * How the seeds of A and B are paired (docs/metrics.md "Paired comparisons"):
 *
 * - `paired`: both have the same seed numbers; the bootstrap resamples seed pairs.
 * - `pairs`: the (A seed, B seed) pairs McNemar's units are formed from: every seed both have, by
 *   seed number, ascending; when they have none in common, the k-th smallest seed of A with the
 *   k-th smallest of B, for k < min(#A, #B) (runs of different seeds are independent, so any fixed
 *   pairing is as valid; this one is deterministic).
 */
export function seedPairs(
  seedsA: readonly number[],
  seedsB: readonly number[],
): { paired: boolean; pairs: [number, number][] } {
  const a = [...new Set(seedsA)].sort((x, y) => x - y);
  const b = [...new Set(seedsB)].sort((x, y) => x - y);
  if (a.length !== seedsA.length || b.length !== seedsB.length) {
    throw new RangeError("seedPairs: a seed is listed twice");
  }
  const inB = new Set(b);
  const common = a.filter((s) => inB.has(s));
  const paired = common.length === a.length && common.length === b.length;
  if (common.length > 0) return { paired, pairs: common.map((s) => [s, s]) };
  const k = Math.min(a.length, b.length);
  return { paired, pairs: Array.from({ length: k }, (_, i): [number, number] => [a[i], b[i]]) };
}
