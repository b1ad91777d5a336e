// Exact KL divergence between categorical distributions given as
// log-probabilities, for the "RL's Razor" measurement of docs/metrics.md: the mean
// over the new task's held-out inputs of KL(π0‖π)(x) between the base model π0
// and the fine-tuned model π, summed over all classes (no sampling).

/**
 * KL divergence of one categorical distribution from another, in nats:
 * KL(P‖Q) = Σ_y P(y) (log P(y) − log Q(y)) with P(y) = exp(logP[y]).
 *
 * Terms with logP[y] = −Infinity (P(y) = 0) contribute 0; a class with
 * P(y) > 0 but logQ[y] = −Infinity makes the result +Infinity. Summed in
 * float64 whatever the input array type. Inputs are taken as normalised (e.g.
 * log-softmax outputs); this is not checked. KL ≥ 0 for normalised inputs,
 * 0 iff P = Q; larger = further apart. Not symmetric.
 *
 * Throws RangeError when the lengths differ or an entry is NaN or +Infinity.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * // P = (1/2, 1/2), Q = (1/4, 3/4): ½·ln 2 + ½·ln(2/3) = ½·ln(4/3).
 * const kl = klCategorical([Math.log(0.5), Math.log(0.5)], [Math.log(0.25), Math.log(0.75)]);
 * ok(Math.abs(kl - 0.1438410362258904) < 1e-12);
 * ```
 */
export function klCategorical(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  if (logP.length !== logQ.length) {
    throw new RangeError(
      `klCategorical: logP has ${logP.length} classes but logQ has ${logQ.length}`,
    );
  }
  return klRow(logP, logQ, 0, logP.length, "klCategorical");
}

/**
 * Mean KL over rows: (1/N) Σ_i KL(P_i‖Q_i), where row i of each input is the
 * `classes` log-probabilities at offsets [i·classes, (i+1)·classes) (row-major,
 * as a flattened [N, classes] tensor). NaN when there are no rows.
 *
 * docs/metrics.md's forward KL to the base model, the mean over inputs x of
 * KL(π0‖π)(x), is `meanKL(logπ0, logπ, { classes })`; the reverse KL(π‖π0) is
 * `meanKL(logπ, logπ0, { classes })`. Each row follows {@link klCategorical}.
 *
 * Throws RangeError when the lengths differ, `classes` is not a positive
 * integer dividing the length, or an entry is NaN or +Infinity.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * const half = Math.log(0.5);
 * // Row 0: P = Q → 0. Row 1: P = (1, 0), Q = (½, ½) → ln 2. Mean: ln(2)/2.
 * const kl = meanKL([half, half, 0, -Infinity], [half, half, half, half], { classes: 2 });
 * ok(Math.abs(kl - Math.LN2 / 2) < 1e-12);
 * ```
 */
export function meanKL(
  logP: ArrayLike<number>,
  logQ: ArrayLike<number>,
  opts: { classes: number },
): number {
  const { classes } = opts;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`meanKL: classes must be a positive integer, got ${classes}`);
  }
  if (logP.length !== logQ.length) {
    throw new RangeError(`meanKL: logP has ${logP.length} entries but logQ has ${logQ.length}`);
  }
  if (logP.length % classes !== 0) {
    throw new RangeError(
      `meanKL: ${logP.length} entries do not split into rows of ${classes} classes`,
    );
  }
  const rows = logP.length / classes;
  if (rows === 0) return NaN;
  let sum = 0;
  for (let r = 0; r < rows; r++) sum += klRow(logP, logQ, r * classes, classes, "meanKL");
  return sum / rows;
}

// KL over entries [start, start + count) of two equally long arrays.
function klRow(
  logP: ArrayLike<number>,
  logQ: ArrayLike<number>,
  start: number,
  count: number,
  caller: string,
): number {
  let sum = 0;
  for (let i = start; i < start + count; i++) {
    const lp = logP[i];
    const lq = logQ[i];
    if (Number.isNaN(lp) || lp === Infinity) {
      throw new RangeError(
        `${caller}: logP[${i}] is ${lp}; expected a log-probability (−Infinity for probability 0)`,
      );
    }
    if (Number.isNaN(lq) || lq === Infinity) {
      throw new RangeError(
        `${caller}: logQ[${i}] is ${lq}; expected a log-probability (−Infinity for probability 0)`,
      );
    }
    if (lp === -Infinity) continue; // 0 · log 0 = 0
    sum += Math.exp(lp) * (lp - lq);
  }
  return sum;
}
