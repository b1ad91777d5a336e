// Tests for evals/summary.ts on hand-built leaderboard rows: the best configuration (highest
// mean new-task accuracy, ties broken by less forgetting), means and 95% t-intervals over seeds,
// NaN metrics left out, the matched level (the lowest best accuracy of any variant, per order)
// and the matched configuration (least forgetting within the window), which falls back to the
// task forgetting F when there is no panel. Expected values are worked in the comments;
// t(0.975, 1) = tan(0.475π) ≈ 12.706205 is the closed form for one degree of freedom.

import { deepEqual, equal, ok } from "node:assert/strict";
import type { LeaderboardRow } from "./leaderboard.ts";
import { summarize, type SummaryRow } from "./summary.ts";

const T1 = Math.tan(0.475 * Math.PI);

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
}

/** A leaderboard row of a one-stage run with a panel unless told otherwise. */
function row(
  variant: string,
  o: {
    seed: number;
    lr: number;
    steps: number;
    acc: number;
    drop?: number;
    f?: number;
    kl?: number;
    order?: number;
  },
): LeaderboardRow {
  return {
    variant,
    trainer: `${variant}_trainer`,
    lr: o.lr,
    seed: o.seed,
    order: o.order ?? 0,
    tasks: "t",
    steps: o.steps,
    new_task_acc: o.acc,
    avg_accuracy: o.acc,
    task_forgetting: o.f ?? NaN,
    bwt: o.f === undefined ? NaN : -o.f,
    fwt: NaN,
    panel_base: o.drop === undefined ? NaN : 0.8,
    panel_final: o.drop === undefined ? NaN : 0.8 - o.drop,
    panel_drop: o.drop ?? NaN,
    kl_forward: o.kl ?? 0.1,
    kl_reverse: (o.kl ?? 0.1) / 2,
    instances_used: o.steps * 32,
    diverged: "",
  };
}

/** The summary row of one variant, selection and metric (exactly one must exist). */
function pick(
  rows: readonly SummaryRow[],
  variant: string,
  selection: "best" | "matched",
  metric: string,
  order = 0,
): SummaryRow {
  const hits = rows.filter((r) =>
    r.variant === variant && r.selection === selection && r.metric === metric && r.order === order
  );
  equal(hits.length, 1, `${variant} ${selection} ${metric}: ${hits.length} rows`);
  return hits[0];
}

/** The metrics summarised for one variant and selection, in output order. */
function metricsOf(rows: readonly SummaryRow[], variant: string, selection: string): string[] {
  return rows.filter((r) => r.variant === variant && r.selection === selection).map((r) =>
    r.metric
  );
}

// A: (1e-3, 10) acc 0.90, drop 0.15 on average; (1e-3, 20) acc 0.95, drop 0.40 → best;
//    (1e-4, 10) acc 0.85, no drop: below the matched window, however little it forgets.
// B: one configuration, acc 0.91 → the matched level is min(0.95, 0.91) = 0.91.
const ROWS = [
  row("A", { seed: 1, lr: 1e-3, steps: 10, acc: 0.90, drop: 0.10, kl: 1 }),
  row("A", { seed: 2, lr: 1e-3, steps: 10, acc: 0.90, drop: 0.20, kl: 1 }),
  row("A", { seed: 1, lr: 1e-3, steps: 20, acc: 0.94, drop: 0.30, kl: 2 }),
  row("A", { seed: 2, lr: 1e-3, steps: 20, acc: 0.96, drop: 0.50, kl: 2 }),
  row("A", { seed: 1, lr: 1e-4, steps: 10, acc: 0.85, drop: 0.00, kl: 0 }),
  row("A", { seed: 2, lr: 1e-4, steps: 10, acc: 0.85, drop: 0.00, kl: 0 }),
  row("B", { seed: 1, lr: 1e-4, steps: 10, acc: 0.90, drop: 0.02, kl: 0.1 }),
  row("B", { seed: 2, lr: 1e-4, steps: 10, acc: 0.92, drop: 0.04, kl: 0.1 }),
];

Deno.test("summarize: the best configuration, with mean and t-interval over seeds", () => {
  const s = summarize(ROWS, { within: 0.02 });
  const acc = pick(s, "A", "best", "new_task_acc");
  deepEqual([acc.trainer, acc.order, acc.lr, acc.steps, acc.n], ["A_trainer", 0, 1e-3, 20, 2]);
  ok(Number.isNaN(acc.level), "the best selection has no level");
  // 0.94, 0.96: mean 0.95, s = 0.01·√2, half-width t(1)·s/√2 = 0.01·t(1).
  close(acc.mean, 0.95, "mean accuracy");
  close(acc.ci95_lo, 0.95 - 0.01 * T1, "lo", 1e-9);
  close(acc.ci95_hi, 0.95 + 0.01 * T1, "hi", 1e-9);
  // Panel drop 0.3, 0.5: mean 0.4, half-width 0.1·t(1) ≈ 1.270620.
  const drop = pick(s, "A", "best", "panel_drop");
  close(drop.mean, 0.4, "mean drop");
  close(drop.ci95_hi, 0.4 + 0.1 * T1, "drop hi", 1e-9);
  close(drop.ci95_hi, 0.4 + 1.2706205, "drop hi (table)", 1e-6);
  // Equal values across seeds: a zero-width interval.
  const kl = pick(s, "A", "best", "kl_forward");
  deepEqual([kl.mean, kl.ci95_lo, kl.ci95_hi], [2, 2, 2]);
  equal(pick(s, "A", "best", "instances_used").mean, 640);
  // B has one configuration: it is its best.
  const b = pick(s, "B", "best", "new_task_acc");
  deepEqual([b.lr, b.steps], [1e-4, 10]);
  close(b.mean, 0.91, "B accuracy");
  // Best rows first, in the order variants appear, then the matched rows.
  deepEqual([...new Set(s.map((r) => `${r.selection} ${r.variant}`))], [
    "best A",
    "best B",
    "matched A",
    "matched B",
  ]);
});

Deno.test("summarize: NaN metrics are left out; partly NaN ones count the finite seeds", () => {
  const rows = [
    row("A", { seed: 1, lr: 1e-3, steps: 10, acc: 0.8, drop: 0.1, kl: 0.2 }),
    row("A", { seed: 2, lr: 1e-3, steps: 10, acc: 0.6, drop: 0.3, kl: NaN }),
  ];
  const s = summarize(rows, { within: 0.02 });
  // One stage: F, BWT and FWT are NaN for every seed, so they have no rows at all.
  deepEqual(metricsOf(s, "A", "best"), [
    "new_task_acc",
    "avg_accuracy",
    "panel_drop",
    "kl_forward",
    "kl_reverse",
    "instances_used",
  ]);
  deepEqual(metricsOf(s, "A", "matched"), ["new_task_acc", "panel_drop", "kl_forward"]);
  // KL: one finite seed, 0.2, and no interval from one value.
  const kl = pick(s, "A", "best", "kl_forward");
  deepEqual([kl.mean, kl.n], [0.2, 1]);
  ok(Number.isNaN(kl.ci95_lo) && Number.isNaN(kl.ci95_hi), "one seed: no interval");
  // Accuracy 0.8, 0.6: mean 0.7, half-width 0.1·t(1).
  const acc = pick(s, "A", "best", "new_task_acc");
  close(acc.mean, 0.7, "mean");
  close(acc.ci95_lo, 0.7 - 0.1 * T1, "lo", 1e-9);
  equal(acc.n, 2);
});

Deno.test("summarize: equal accuracy is broken by less forgetting", () => {
  const rows = [
    // C: (1e-3, 10) and (3e-4, 10) both at 0.9; the second forgets less (drop 0.1 < 0.3).
    row("C", { seed: 1, lr: 1e-3, steps: 10, acc: 0.9, drop: 0.3 }),
    row("C", { seed: 1, lr: 3e-4, steps: 10, acc: 0.9, drop: 0.1 }),
    row("C", { seed: 1, lr: 1e-4, steps: 10, acc: 0.8, drop: 0.0 }),
    // D, no panel: the tie at 0.7 is broken by the task forgetting F (0.05 < 0.2).
    row("D", { seed: 1, lr: 1e-3, steps: 10, acc: 0.7, f: 0.2 }),
    row("D", { seed: 1, lr: 1e-3, steps: 20, acc: 0.7, f: 0.05 }),
  ];
  const s = summarize(rows, { within: 0.02 });
  const c = pick(s, "C", "best", "new_task_acc");
  deepEqual([c.lr, c.steps], [3e-4, 10]);
  equal(pick(s, "C", "best", "panel_drop").mean, 0.1);
  const d = pick(s, "D", "best", "task_forgetting");
  deepEqual([d.lr, d.steps, d.mean], [1e-3, 20, 0.05]);
});

Deno.test("summarize: matched level is the lowest best accuracy; least forgetting within it", () => {
  const s = summarize(ROWS, { within: 0.02 });
  // A's configurations with mean accuracy ≥ 0.91 − 0.02 = 0.89: (1e-3, 10) at 0.90 and
  // (1e-3, 20) at 0.95; the least forgetting of the two is (1e-3, 10), mean drop 0.15.
  // (1e-4, 10) at 0.85 forgets nothing but is outside the window.
  const a = pick(s, "A", "matched", "panel_drop");
  deepEqual([a.lr, a.steps], [1e-3, 10]);
  close(a.level, 0.91, "level");
  close(a.mean, 0.15, "A matched drop");
  close(pick(s, "A", "matched", "new_task_acc").mean, 0.9, "A matched accuracy");
  // B: its only configuration, mean drop (0.02 + 0.04) / 2 = 0.03.
  const b = pick(s, "B", "matched", "panel_drop");
  deepEqual([b.lr, b.steps], [1e-4, 10]);
  close(b.mean, 0.03, "B matched drop");
  close(b.level, 0.91, "B level");
  // A wider window admits (1e-4, 10) at 0.85 ≥ 0.91 − 0.1, which forgets nothing.
  const wide = pick(summarize(ROWS, { within: 0.1 }), "A", "matched", "panel_drop");
  deepEqual([wide.lr, wide.steps, wide.mean], [1e-4, 10, 0]);
});

Deno.test("summarize: each task order has its own matched level", () => {
  const rows = [
    ...ROWS,
    // Order 1: A's best is 0.7, B's 0.8 → level 0.7; B's configurations at 0.8 (drop 0.3) and
    // 0.75 (drop 0.1) are both ≥ 0.68, so B is matched at 0.75. Order 0 stays at 0.91.
    row("A", { seed: 1, lr: 1e-3, steps: 10, acc: 0.7, drop: 0.2, order: 1 }),
    row("B", { seed: 1, lr: 1e-3, steps: 10, acc: 0.8, drop: 0.3, order: 1 }),
    row("B", { seed: 1, lr: 1e-4, steps: 10, acc: 0.75, drop: 0.1, order: 1 }),
  ];
  const s = summarize(rows, { within: 0.02 });
  const b1 = pick(s, "B", "matched", "panel_drop", 1);
  close(b1.level, 0.7, "order 1 level");
  deepEqual([b1.lr, b1.mean], [1e-4, 0.1]);
  equal(pick(s, "B", "best", "new_task_acc", 1).lr, 1e-3);
  close(pick(s, "A", "matched", "panel_drop", 0).level, 0.91, "order 0 level");
  close(pick(s, "A", "matched", "panel_drop", 0).mean, 0.15, "order 0 unchanged");
});

Deno.test("summarize: without a panel the matched choice minimises the task forgetting F", () => {
  const rows = [
    // X: best (1e-3, 40) at 0.8 with F 0.3; (1e-3, 20) at 0.7 with F 0.1.
    row("X", { seed: 1, lr: 1e-3, steps: 40, acc: 0.8, f: 0.3 }),
    row("X", { seed: 1, lr: 1e-3, steps: 20, acc: 0.7, f: 0.1 }),
    // Y: 0.8 too, so the level is 0.8; the window 0.1 reaches down to 0.7.
    row("Y", { seed: 1, lr: 1e-3, steps: 40, acc: 0.8, f: 0.2 }),
  ];
  const s = summarize(rows, { within: 0.1 });
  // 0.8 − 0.1 is 0.7000000000000001 in floating point: (1e-3, 20) at 0.7 sits on the window's
  // edge and is eligible; it forgets less, so it is X's matched configuration.
  const x = pick(s, "X", "matched", "task_forgetting");
  deepEqual([x.lr, x.steps, x.mean], [1e-3, 20, 0.1]);
  close(x.level, 0.8, "level");
  // No panel: panel_drop has no row; F does.
  deepEqual(metricsOf(s, "X", "matched"), ["new_task_acc", "task_forgetting", "kl_forward"]);
  deepEqual(metricsOf(s, "X", "best"), [
    "new_task_acc",
    "avg_accuracy",
    "task_forgetting",
    "bwt",
    "kl_forward",
    "kl_reverse",
    "instances_used",
  ]);
  equal(pick(s, "X", "best", "bwt").mean, -0.3);
  // With a narrower window X keeps its best configuration.
  equal(pick(summarize(rows, { within: 0.05 }), "X", "matched", "task_forgetting").steps, 40);
});

Deno.test("summarize: no rows in, no rows out", () => {
  deepEqual(summarize([], { within: 0.02 }), []);
});

Deno.test("summarize: diverged runs are counted, never averaged; all-diverged variants get one row", () => {
  const wild = (variant: string, seed: number): LeaderboardRow => ({
    ...row(variant, { seed, lr: 1e9, steps: 2, acc: NaN }),
    diverged: "1:2",
  });
  const plain = summarize(ROWS, { within: 0.02 });
  const s = summarize([...ROWS, wild("A", 1), wild("C", 1), wild("C", 2)], { within: 0.02 });
  // A's means are those without the diverged run; its rows say 1 run diverged.
  const a = s.filter((r) => r.variant === "A"), a0 = plain.filter((r) => r.variant === "A");
  deepEqual(a.map((r) => ({ ...r, diverged: 0 })), a0, "A's statistics unchanged");
  ok(a.every((r) => r.diverged === 1), "A counts its diverged run");
  // C diverged in every run: one row, no statistics.
  const c = s.filter((r) => r.variant === "C");
  equal(c.length, 1);
  deepEqual([c[0].n, c[0].diverged, Number.isNaN(c[0].mean)], [0, 2, true]);
  // The matched level ignores diverged runs (C has no best configuration).
  deepEqual(
    s.filter((r) => r.selection === "matched").map((r) => r.level),
    plain.filter((r) => r.selection === "matched").map((r) => r.level),
  );
});
