// Scores of continual post-training runs as pure functions (METRICS.md "Continual metrics",
// "KL divergence to the base model", "Uncertainty"): one run's row from its accuracy matrix and
// panel, forgetting so far at a stage, means with 95% t-intervals over seeds, and the forgetting
// law fitted against KL. runs/lm_runner.ts fills the inputs; nothing here knows about models.

import {
  averageAccuracy,
  backwardTransfer,
  forgetting,
  forwardTransfer,
  generalDrift,
  plasticity,
} from "./continual.ts";
import { fitPolynomial } from "./fit.ts";
import { meanCI } from "./stats.ts";

/** A run's scores; NaN where undefined (a joint multi-task run has no sequence). */
export interface RunScores {
  avg_accuracy: number;
  plasticity: number;
  forgetting: number;
  bwt: number;
  fwt: number;
  general_base: number;
  general_final: number;
  general_drift: number;
}

/**
 * Scores one run. `R` has the tasks as columns in training order; for a sequence it has T + 1
 * rows (π0, then after each stage); for a joint run (`joint: true`) two rows, π0 and the model
 * trained on every task at once, whose AA is the mean of the last row and whose
 * plasticity, F, BWT and FWT are NaN. `panels[k]` is the general panel after row k.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * const s = scoreRun([[0, 0], [0.8, 0.1], [0.5, 0.9]], [0.6, 0.5, 0.4], { joint: false });
 * ok(Math.abs(s.forgetting - 0.3) < 1e-12); // max(R[1][0]) − R[2][0] = 0.8 − 0.5
 * ```
 */
export function scoreRun(
  R: readonly (readonly number[])[],
  panels: readonly number[],
  opts: { joint: boolean },
): RunScores {
  if (panels.length !== R.length) {
    throw new RangeError(`scoreRun: ${panels.length} panel values for ${R.length} matrix rows`);
  }
  const first = panels[0], last = panels[panels.length - 1];
  const general = {
    general_base: first,
    general_final: last,
    general_drift: generalDrift(first, last),
  };
  if (opts.joint) {
    if (R.length !== 2) throw new RangeError(`scoreRun: a joint run has 2 rows, got ${R.length}`);
    const aa = R[1].reduce((a, b) => a + b, 0) / R[1].length;
    return { avg_accuracy: aa, plasticity: NaN, forgetting: NaN, bwt: NaN, fwt: NaN, ...general };
  }
  return {
    avg_accuracy: averageAccuracy(R),
    plasticity: plasticity(R),
    forgetting: forgetting(R),
    bwt: backwardTransfer(R),
    fwt: forwardTransfer(R),
    ...general,
  };
}

/**
 * Forgetting so far at stage k = R.length − 1 of a sequence, over the tasks trained before it
 * (columns `done`): the mean of max_{1 ≤ l < k} R[l][c] − R[k][c], as F but ending at stage k.
 * NaN when no task was trained before.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * ok(Math.abs(forgettingSoFar([[0, 0], [0.9, 0.1], [0.6, 0.7]], [0]) - 0.3) < 1e-12);
 * ```
 */
export function forgettingSoFar(
  R: readonly (readonly number[])[],
  done: readonly number[],
): number {
  if (done.length === 0) return NaN;
  const now = R[R.length - 1], before = R.slice(1, -1);
  if (before.length === 0) throw new RangeError("forgettingSoFar: no stage before the last");
  return done.reduce((a, c) => a + Math.max(...before.map((r) => r[c])) - now[c], 0) / done.length;
}

/** A mean with its 95% t-interval over seeds (METRICS.md "Uncertainty"). */
export interface SeedSummary {
  trainer: string;
  order: number;
  metric: string;
  mean: number;
  ci95_lo: number;
  ci95_hi: number;
  n: number;
}

/**
 * Per trainer and order (in first-seen order), the mean and 95% t-interval over seeds of each
 * metric; NaN values (undefined metrics) are left out, and a metric with none is skipped.
 */
export function summarizeSeeds<R extends { trainer: string; order: number }>(
  rows: readonly R[],
  metrics: readonly (keyof R & string)[],
): SeedSummary[] {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.trainer, r.order]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: SeedSummary[] = [];
  for (const rs of groups.values()) {
    for (const m of metrics) {
      const xs = rs.map((r) => r[m] as number).filter((v) => Number.isFinite(v));
      if (xs.length === 0) continue;
      const ci = meanCI(xs);
      out.push({
        trainer: rs[0].trainer,
        order: rs[0].order,
        metric: m,
        mean: ci.mean,
        ci95_lo: ci.lo,
        ci95_hi: ci.hi,
        n: ci.n,
      });
    }
  }
  return out;
}

/** One set of points for the forgetting law. */
export interface LawPoints {
  /** `stage` (every stage of every run) or `run` (one point per run). */
  readonly scope: string;
  readonly predictor: string;
  readonly target: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** A fitted forgetting law. */
export interface LawFit {
  scope: string;
  predictor: string;
  target: string;
  form: string;
  c0: number;
  c1: number;
  c2: number;
  r2: number;
  n: number;
}

/**
 * The forgetting law of METRICS.md fitted by least squares to each point set: a·KL + b·KL²
 * through the origin, with "+ c", and a straight line with intercept. Sets of fewer than 3
 * points, or with too few distinct KL values for a form, give no row for it.
 */
export function forgettingLaw(sets: readonly LawPoints[]): LawFit[] {
  const out: LawFit[] = [];
  for (const set of sets) {
    if (set.x.length < 3) continue;
    for (const [degree, intercept] of [[2, false], [2, true], [1, true]] as const) {
      try {
        const f = fitPolynomial(set.x, set.y, {
          degree,
          intercept,
          names: { x: set.predictor, y: set.target },
        });
        out.push({
          scope: set.scope,
          predictor: set.predictor,
          target: set.target,
          form: f.form,
          c0: f.coefficients[0],
          c1: f.coefficients[1],
          c2: f.coefficients[2] ?? 0,
          r2: f.r2,
          n: f.n,
        });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e; // too few distinct KL values: no fit
      }
    }
  }
  return out;
}
