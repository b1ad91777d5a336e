// From per-run results to the ParityMNIST leaderboard: rows, the per-variant summary (95% CIs
// over seeds, forgetting at matched new-task accuracy) and the forgetting-vs-KL fits. Pure
// functions: the runner hands rows in, CSV text comes out of evals/csv.ts.

import { fitPolynomial } from "./fit.ts";
import { mean, meanCI } from "./stats.ts";

/** One fine-tuned model: a (variant, lr, seed) run evaluated at one step budget. */
export interface RunRow {
  trainer: string;
  variant: string;
  seed: number;
  lr: number;
  steps: number;
  /** Held-out accuracy on the new task (ParityMNIST parity correct). */
  new_task_acc: number;
  /** Held-out prior-task accuracy of the base model π0. */
  prior_acc_base: number;
  /** Held-out prior-task accuracy after fine-tuning. */
  prior_acc: number;
  /** prior_acc_base − prior_acc (METRICS.md "ParityMNIST forgetting"; higher = more). */
  forgetting: number;
  /** Mean exact KL(π0‖π) over new-task held-out inputs (METRICS.md, classifier KL). */
  kl_forward: number;
  /** Mean exact KL(π‖π0) over the same inputs. */
  kl_reverse: number;
}

export const ROW_COLUMNS = [
  "trainer",
  "variant",
  "seed",
  "lr",
  "steps",
  "new_task_acc",
  "prior_acc_base",
  "prior_acc",
  "forgetting",
  "kl_forward",
  "kl_reverse",
] as const;

/** One line of summary.csv. */
export interface SummaryRow {
  trainer: string;
  variant: string;
  best_lr: number;
  best_steps: number;
  seeds: number;
  new_task_acc: number;
  new_task_acc_lo: number;
  new_task_acc_hi: number;
  forgetting: number;
  forgetting_lo: number;
  forgetting_hi: number;
  kl_forward: number;
  kl_forward_lo: number;
  kl_forward_hi: number;
  matched_level: number;
  matched_configs: number;
  matched_lr: number;
  matched_steps: number;
  new_task_acc_matched: number;
  forgetting_matched: number;
  kl_forward_matched: number;
}

export const SUMMARY_COLUMNS = [
  "trainer",
  "variant",
  "best_lr",
  "best_steps",
  "seeds",
  "new_task_acc",
  "new_task_acc_lo",
  "new_task_acc_hi",
  "forgetting",
  "forgetting_lo",
  "forgetting_hi",
  "kl_forward",
  "kl_forward_lo",
  "kl_forward_hi",
  "matched_level",
  "matched_configs",
  "matched_lr",
  "matched_steps",
  "new_task_acc_matched",
  "forgetting_matched",
  "kl_forward_matched",
] as const;

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x), list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/**
 * Per variant, its best configuration (the lr × steps with the highest mean new-task accuracy
 * over seeds; ties go to lower mean forgetting) with mean and 95% t-interval over seeds.
 *
 * Forgetting at matched accuracy, read off each variant's Pareto frontier of seed-averaged
 * configurations (as RL's Razor compares methods): the matched level L is the lowest best-
 * configuration accuracy of any variant (a level every variant reaches); among a variant's
 * configurations whose mean new-task accuracy is at least L − `within`, the one with the least
 * mean forgetting gives `forgetting_matched` (its lr, steps, accuracy and forward KL are reported
 * beside it; `matched_configs` counts the eligible configurations).
 */
export function summarize(rows: readonly RunRow[], opts: { within: number }): SummaryRow[] {
  const avg = (rs: readonly RunRow[], k: "new_task_acc" | "forgetting" | "kl_forward") =>
    mean(rs.map((r) => r[k]));
  const variants = groupBy(rows, (r) => r.variant);
  const configs = new Map<string, RunRow[][]>();
  for (const [v, vr] of variants) {
    const cs = [...groupBy(vr, (r) => `${r.lr}|${r.steps}`).values()];
    cs.sort((a, b) =>
      avg(b, "new_task_acc") - avg(a, "new_task_acc") || avg(a, "forgetting") - avg(b, "forgetting")
    );
    configs.set(v, cs);
  }
  const level = Math.min(...[...configs.values()].map((cs) => avg(cs[0], "new_task_acc")));
  return [...variants.entries()].map(([v, vr]) => {
    const cs = configs.get(v)!, c = cs[0];
    const acc = meanCI(c.map((r) => r.new_task_acc));
    const f = meanCI(c.map((r) => r.forgetting));
    const kl = meanCI(c.map((r) => r.kl_forward));
    // Tolerance for float noise at the window's edge (accuracies are multiples of 1/n).
    const eligible = cs.filter((x) => avg(x, "new_task_acc") >= level - opts.within - 1e-9);
    const m = eligible.reduce((a, b) => (avg(b, "forgetting") < avg(a, "forgetting") ? b : a));
    return {
      trainer: vr[0].trainer,
      variant: v,
      best_lr: c[0].lr,
      best_steps: c[0].steps,
      seeds: c.length,
      new_task_acc: acc.mean,
      new_task_acc_lo: acc.lo,
      new_task_acc_hi: acc.hi,
      forgetting: f.mean,
      forgetting_lo: f.lo,
      forgetting_hi: f.hi,
      kl_forward: kl.mean,
      kl_forward_lo: kl.lo,
      kl_forward_hi: kl.hi,
      matched_level: level,
      matched_configs: eligible.length,
      matched_lr: m[0].lr,
      matched_steps: m[0].steps,
      new_task_acc_matched: avg(m, "new_task_acc"),
      forgetting_matched: avg(m, "forgetting"),
      kl_forward_matched: avg(m, "kl_forward"),
    };
  });
}

/** One line of fit.csv. */
export interface FitRow {
  /** Which runs were fitted: "all" or "excluding a,b". */
  runs: string;
  predictor: string;
  form: string;
  c0: number;
  c1: number;
  c2: number;
  r2: number;
  n: number;
}

export const FIT_COLUMNS = ["runs", "predictor", "form", "c0", "c1", "c2", "r2", "n"] as const;

/**
 * The forgetting law (METRICS.md): forgetting ≈ c0 + c1·KL + c2·KL², least squares over every
 * fine-tuned row of the recipe, for forward KL with and without intercept, and for reverse KL
 * as a contrast (RL's Razor: forward KL is the predictor). With `excluding`, the same three fits
 * are repeated without those variants.
 */
export function fitForgetting(
  rows: readonly RunRow[],
  opts?: { excluding?: readonly string[] },
): FitRow[] {
  const sets: [string, readonly RunRow[]][] = [["all", rows]];
  const ex = opts?.excluding ?? [];
  if (ex.length > 0) {
    sets.push([
      `excluding ${ex.join(",")}`,
      rows.filter((r) => !ex.includes(r.variant)),
    ]);
  }
  const specs = [
    { predictor: "kl_forward", intercept: true },
    { predictor: "kl_forward", intercept: false },
    { predictor: "kl_reverse", intercept: true },
  ] as const;
  return sets.flatMap(([runs, rs]) =>
    specs.flatMap((s) => {
      try {
        const f = fitPolynomial(rs.map((r) => r[s.predictor]), rs.map((r) => r.forgetting), {
          degree: 2,
          intercept: s.intercept,
          names: { x: s.predictor, y: "forgetting" },
        });
        const [c0, c1, c2] = f.coefficients;
        return [{ runs, predictor: s.predictor, form: f.form, c0, c1, c2, r2: f.r2, n: f.n }];
      } catch {
        return []; // too few runs or distinct KL values for a quadratic (tiny recipes)
      }
    })
  );
}
