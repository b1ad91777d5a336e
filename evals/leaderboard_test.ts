import { deepEqual, equal, ok } from "node:assert/strict";
import { fitForgetting, type RunRow, summarize } from "./leaderboard.ts";
import { formatCell, toCsv } from "./csv.ts";

function row(
  variant: string,
  seed: number,
  lr: number,
  steps: number,
  acc: number,
  forgetting: number,
  kl: number,
): RunRow {
  return {
    trainer: variant,
    variant,
    seed,
    lr,
    steps,
    new_task_acc: acc,
    prior_acc_base: 0.8,
    prior_acc: 0.8 - forgetting,
    forgetting,
    kl_forward: kl,
    kl_reverse: kl / 2,
  };
}

Deno.test("summarize: best config by mean accuracy, t-interval over seeds, frontier at the matched level", () => {
  const rows = [
    // A: config (1e-3, 10) mean acc 0.90, forgetting 0.15; config (1e-3, 20) mean acc 0.95 → best.
    row("A", 1, 1e-3, 10, 0.90, 0.10, 1),
    row("A", 2, 1e-3, 10, 0.90, 0.20, 1),
    row("A", 1, 1e-3, 20, 0.94, 0.30, 2),
    row("A", 2, 1e-3, 20, 0.96, 0.50, 2),
    // A: config (1e-4, 10) mean acc 0.85: below the matched window, however little it forgets.
    row("A", 1, 1e-4, 10, 0.85, 0.00, 0),
    row("A", 2, 1e-4, 10, 0.85, 0.00, 0),
    // B: one config, mean acc 0.91 → the matched level is min(0.95, 0.91) = 0.91.
    row("B", 1, 1e-4, 10, 0.90, 0.02, 0.1),
    row("B", 2, 1e-4, 10, 0.92, 0.04, 0.1),
  ];
  const [a, b] = summarize(rows, { within: 0.02 });
  equal(a.variant, "A");
  deepEqual([a.best_lr, a.best_steps, a.seeds], [1e-3, 20, 2]);
  ok(Math.abs(a.new_task_acc - 0.95) < 1e-12);
  // mean forgetting 0.4, s = 0.141421, t(1) = 12.706205: half-width = 12.706205 × 0.141421 / √2 = 1.270620
  ok(Math.abs(a.forgetting_hi - (0.4 + 1.2706205)) < 1e-6);
  ok(Math.abs(a.matched_level - 0.91) < 1e-12);
  // A's configs with mean acc ≥ 0.91 − 0.02 = 0.89: (1e-3,10) at 0.90 and (1e-3,20) at 0.95;
  // the least forgetting of the two is (1e-3,10) with 0.15. (1e-4,10) at 0.85 is not eligible.
  deepEqual([a.matched_configs, a.matched_lr, a.matched_steps], [2, 1e-3, 10]);
  ok(Math.abs(a.forgetting_matched - 0.15) < 1e-12);
  ok(Math.abs(a.new_task_acc_matched - 0.90) < 1e-12);
  deepEqual([b.matched_configs, b.matched_lr], [1, 1e-4]);
  ok(Math.abs(b.forgetting_matched - 0.03) < 1e-12);
});

Deno.test("fitForgetting recovers an exact quadratic law, with and without excluded variants", () => {
  const kls = [0, 0.1, 0.2, 0.4, 0.8, 1.6];
  const rows = kls.map((kl, i) =>
    row(i < 3 ? "A" : "B", i, 1e-3, 10, 0.9, 0.01 + 0.2 * kl + 0.05 * kl * kl, kl)
  );
  rows.push(row("C", 9, 1e-3, 10, 0.9, 0.9, 0.05)); // an outlier variant
  const fits = fitForgetting(rows, { excluding: ["C"] });
  deepEqual(fits.map((f) => `${f.runs}/${f.predictor}`), [
    "all/kl_forward",
    "all/kl_forward",
    "all/kl_reverse",
    "excluding C/kl_forward",
    "excluding C/kl_forward",
    "excluding C/kl_reverse",
  ]);
  ok(fits[0].r2 < 0.9, "the outlier spoils the fit over all runs");
  const clean = fits[3];
  ok(
    Math.abs(clean.c0 - 0.01) < 1e-9 && Math.abs(clean.c1 - 0.2) < 1e-9 &&
      Math.abs(clean.c2 - 0.05) < 1e-9,
  );
  ok(Math.abs(clean.r2 - 1) < 1e-12);
  equal(clean.n, 6);
});

Deno.test("CSV cells: fixed decimals, integers as is, learning rates short, NaN empty", () => {
  equal(formatCell(0.1234567, "x"), "0.123457");
  equal(formatCell(3, "seed"), "3");
  equal(formatCell(3e-4, "lr"), "0.0003");
  equal(formatCell(NaN, "forgetting_lo"), "");
  equal(formatCell(-1e-9, "x"), "0.000000");
  equal(toCsv([{ a: "x,y", b: 0.5 }], ["a", "b"]), 'a,b\n"x,y",0.500000\n');
});
