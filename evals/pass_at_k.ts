// The unbiased pass@k estimator of the Codex paper (Chen et al. 2021, "Evaluating Large Language
// Models Trained on Code", §2.1), for code benchmarks scored by running n samples per problem.

/**
 * Unbiased estimate of pass@k for one problem from `n` samples of which `c` passed:
 * pass@k = 1 − C(n−c, k) / C(n, k), the chance that k samples drawn without replacement from the
 * n include at least one that passed.
 *
 * Computed as 1 − Π_{i=n−c+1..n} (1 − k/i), the paper's numerically stable form, so large n
 * never overflows a binomial coefficient. When n − c < k every draw of k holds a passing sample
 * and the result is exactly 1.
 *
 * Throws RangeError unless n, c, k are integers with n ≥ 1, 0 ≤ c ≤ n and 1 ≤ k ≤ n (fewer
 * samples than k cannot estimate pass@k).
 *
 * @example
 * ```ts
 * import { equal, ok } from "node:assert/strict";
 * ok(Math.abs(passAtK(4, 2, 2) - 5 / 6) < 1e-12); // 1 − C(2,2)/C(4,2) = 1 − 1/6
 * equal(passAtK(5, 4, 2), 1); // any 2 of 5 include a pass when only 1 failed
 * ```
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/**
 * Mean pass@k over problems, each given as its sample count `n` and pass count `c` (the
 * benchmark score the Codex paper and openai/human-eval report). NaN when there are no problems;
 * throws RangeError as {@link passAtK} does, naming the problem's index.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * // pass@1 of (n=2, c=1) is 0.5 and of (n=2, c=2) is 1: mean 0.75.
 * equal(meanPassAtK([{ n: 2, c: 1 }, { n: 2, c: 2 }], 1), 0.75);
 * ```
 */
export function meanPassAtK(
  problems: readonly { readonly n: number; readonly c: number }[],
  k: number,
): number {
  if (problems.length === 0) return NaN;
  let sum = 0;
  problems.forEach(({ n, c }, index) => {
    try {
      sum += passAtK(n, c, k);
    } catch (error) {
      // Says which problem was wrong; the message alone cannot.
      throw new RangeError(`problem ${index}: ${(error as Error).message}`);
    }
  });
  return sum / problems.length;
}

function checkCounts(n: number, c: number, k: number): void {
  const bad = (what: string) => new RangeError(`passAtK: ${what} (n=${n}, c=${c}, k=${k})`);
  if (!Number.isInteger(n) || n < 1) throw bad("n must be an integer ≥ 1");
  if (!Number.isInteger(c) || c < 0 || c > n) throw bad("c must be an integer in [0, n]");
  if (!Number.isInteger(k) || k < 1) throw bad("k must be an integer ≥ 1");
  if (k > n) throw bad("k must not exceed n: pass@k needs at least k samples per problem");
}
