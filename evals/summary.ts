// summary.csv as a pure function of the leaderboard rows: per variant and task order, the mean
// and 95% t-interval over seeds (docs/metrics.md "Uncertainty") of every leaderboard metric at
// the variant's best configuration, and forgetting at matched new-task accuracy, read off each
// variant's configurations as RL's Razor compares methods.

import type { LeaderboardRow } from "./leaderboard.ts";
import { mean, meanCI } from "./stats.ts";

/** One summary.csv row (long format: one metric per row). */
export interface SummaryRow {
  variant: string;
  trainer: string;
  order: number;
  /** `best`: the highest mean new-task accuracy; `matched`: least forgetting at the level. */
  selection: "best" | "matched";
  lr: number;
  steps: number;
  /** The matched new-task accuracy level (NaN for `best`). */
  level: number;
  metric: string;
  mean: number;
  ci95_lo: number;
  ci95_hi: number;
  /** Seeds with a finite value. */
  n: number;
  /** Runs of this variant and order (any lr) that diverged: left out of every mean. */
  diverged: number;
}

/** summary.csv's columns, in order. */
export const SUMMARY_COLUMNS = [
  "variant",
  "trainer",
  "order",
  "selection",
  "lr",
  "steps",
  "level",
  "metric",
  "mean",
  "ci95_lo",
  "ci95_hi",
  "n",
  "diverged",
] as const;

type Metric = keyof LeaderboardRow & string;

/** Metrics summarised at the best configuration. */
const BEST_METRICS: readonly Metric[] = [
  "new_task_acc",
  "avg_accuracy",
  "task_forgetting",
  "bwt",
  "fwt",
  "panel_drop",
  "kl_forward",
  "kl_reverse",
  "instances_used",
];

/** Metrics summarised at the matched configuration. */
const MATCHED_METRICS: readonly Metric[] = [
  "new_task_acc",
  "panel_drop",
  "task_forgetting",
  "kl_forward",
];

function groupBy<T>(xs: readonly T[], key: (x: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    m.set(k, [...(m.get(k) ?? []), x]);
  }
  return [...m.values()];
}

/** Mean over seeds of a metric, NaN values left out (NaN when none is finite). */
function avg(rows: readonly LeaderboardRow[], m: Metric): number {
  return mean(rows.map((r) => r[m] as number).filter(Number.isFinite));
}

/** The forgetting a matched comparison minimises: the panel drop, else the task forgetting. */
function forgettingOf(rows: readonly LeaderboardRow[]): number {
  const p = avg(rows, "panel_drop");
  return Number.isFinite(p) ? p : avg(rows, "task_forgetting");
}

/** NaN sorts last. */
function ascending(a: number, b: number): number {
  return (Number.isNaN(a) ? Infinity : a) - (Number.isNaN(b) ? Infinity : b) || 0;
}

/**
 * Per variant and order: its configurations (lr × steps) sorted by mean new-task accuracy
 * (ties: less forgetting first); the best is the first. The matched level L of an order is the
 * lowest best-configuration accuracy of any variant (a level every variant reaches); a variant's
 * matched configuration is, among those with mean accuracy ≥ L − `within`, the one that forgets
 * least (panel drop where there is a panel, else task forgetting F).
 */
export function summarize(
  all: readonly LeaderboardRow[],
  opts: { within: number },
): SummaryRow[] {
  // Diverged runs (docs/metrics.md "Divergence") are counted, never averaged.
  const gkey = (r: LeaderboardRow) => JSON.stringify([r.variant, r.order]);
  const divergedCount = new Map<string, number>();
  for (const r of all) {
    if (r.diverged) divergedCount.set(gkey(r), (divergedCount.get(gkey(r)) ?? 0) + 1);
  }
  const rows = all.filter((r) => !r.diverged);
  const groups = groupBy(rows, gkey).map((g) => {
    const configs = groupBy(g, (r) => JSON.stringify([r.lr, r.steps]));
    configs.sort((a, b) =>
      ascending(-avg(a, "new_task_acc"), -avg(b, "new_task_acc")) ||
      ascending(forgettingOf(a), forgettingOf(b))
    );
    return { first: g[0], configs };
  });
  const levels = new Map<number, number>();
  for (const g of groups) {
    const best = avg(g.configs[0], "new_task_acc");
    levels.set(g.first.order, Math.min(levels.get(g.first.order) ?? Infinity, best));
  }
  const out: SummaryRow[] = [];
  const emit = (
    g: (typeof groups)[number],
    config: readonly LeaderboardRow[],
    sel: { selection: "best" | "matched"; level: number; metrics: readonly Metric[] },
  ) => {
    for (const metric of sel.metrics) {
      const xs = config.map((r) => r[metric] as number).filter(Number.isFinite);
      if (xs.length === 0) continue;
      const ci = meanCI(xs);
      out.push({
        variant: g.first.variant,
        trainer: g.first.trainer,
        order: g.first.order,
        selection: sel.selection,
        lr: config[0].lr,
        steps: config[0].steps,
        level: sel.level,
        metric,
        mean: ci.mean,
        ci95_lo: ci.lo,
        ci95_hi: ci.hi,
        n: ci.n,
        diverged: divergedCount.get(gkey(g.first)) ?? 0,
      });
    }
  };
  for (const g of groups) {
    emit(g, g.configs[0], { selection: "best", level: NaN, metrics: BEST_METRICS });
  }
  for (const g of groups) {
    const level = levels.get(g.first.order)!;
    // Tolerance for float noise at the window's edge (accuracies are multiples of 1/n).
    const eligible = g.configs.filter((c) => avg(c, "new_task_acc") >= level - opts.within - 1e-9);
    const pick = eligible.reduce((
      a,
      b,
    ) => (ascending(forgettingOf(b), forgettingOf(a)) < 0 ? b : a));
    emit(g, pick, { selection: "matched", level, metrics: MATCHED_METRICS });
  }
  // A variant and order whose every run diverged: one row that says so.
  const seen = new Set(groups.map((g) => gkey(g.first)));
  for (const r of all) {
    if (!r.diverged || seen.has(gkey(r))) continue;
    seen.add(gkey(r));
    out.push({
      variant: r.variant,
      trainer: r.trainer,
      order: r.order,
      selection: "best",
      lr: NaN,
      steps: NaN,
      level: NaN,
      metric: "new_task_acc",
      mean: NaN,
      ci95_lo: NaN,
      ci95_hi: NaN,
      n: 0,
      diverged: divergedCount.get(gkey(r))!,
    });
  }
  return out;
}
