// Hand-worked tests for evals/cpt.ts: a run's scores from a 3-task matrix, the joint
// (multi-task) case, forgetting so far at a stage, seed summaries, and the forgetting law.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { forgettingLaw, forgettingSoFar, scoreRun, summarizeSeeds } from "./cpt.ts";

const close = (a: number, b: number, what: string) =>
  ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

// Tasks in training order; rows: π0, after task 1, 2, 3.
const R = [
  [0.1, 0.0, 0.2],
  [0.9, 0.1, 0.2],
  [0.6, 0.8, 0.3],
  [0.5, 0.4, 0.7],
];
const PANELS = [0.6, 0.5, 0.45, 0.3];

Deno.test("scoreRun: a sequence's AA, plasticity, F, BWT, FWT and general drift by hand", () => {
  const s = scoreRun(R, PANELS, { joint: false });
  close(s.avg_accuracy, (0.5 + 0.4 + 0.7) / 3, "AA");
  close(s.plasticity, (0.9 + 0.8 + 0.7) / 3, "plasticity");
  // F: task 1 max(0.9, 0.6) − 0.5 = 0.4; task 2 max(0.1, 0.8) − 0.4 = 0.4.
  close(s.forgetting, 0.4, "F");
  // BWT: (0.5 − 0.9) + (0.4 − 0.8), halved.
  close(s.bwt, -0.4, "BWT");
  // FWT: task 2 R[1][1] − R[0][1] = 0.1; task 3 R[2][2] − R[0][2] = 0.1.
  close(s.fwt, 0.1, "FWT");
  deepEqual([s.general_base, s.general_final], [0.6, 0.3]);
  close(s.general_drift, -0.3, "drift");
});

Deno.test("scoreRun: a joint run has AA and drift only; bad shapes are RangeErrors", () => {
  const s = scoreRun([[0.1, 0.0, 0.2], [0.7, 0.5, 0.6]], [0.6, 0.4], { joint: true });
  close(s.avg_accuracy, 0.6, "AA");
  ok([s.plasticity, s.forgetting, s.bwt, s.fwt].every(Number.isNaN));
  close(s.general_drift, -0.2, "drift");
  throws(() => scoreRun(R, [0.6, 0.5], { joint: false }), RangeError);
  throws(() => scoreRun(R, PANELS, { joint: true }), RangeError);
});

Deno.test("forgettingSoFar: max over the stages before, minus now; NaN with nothing before", () => {
  // At stage 3, tasks 1 and 2 were trained before: (0.9 − 0.5 + 0.8 − 0.4) / 2.
  close(forgettingSoFar(R, [0, 1]), 0.4, "stage 3");
  // At stage 2, task 1: max(R[1][0]) − R[2][0] = 0.9 − 0.6.
  close(forgettingSoFar(R.slice(0, 3), [0]), 0.3, "stage 2");
  equal(forgettingSoFar(R.slice(0, 2), []), NaN);
});

Deno.test("summarizeSeeds: mean and t-interval per trainer and order, NaN left out", () => {
  const rows = [
    { trainer: "sft", order: 0, f: 0.2, g: NaN },
    { trainer: "sft", order: 0, f: 0.4, g: NaN },
    { trainer: "grpo", order: 0, f: 0.1, g: 1 },
  ];
  const s = summarizeSeeds(rows, ["f", "g"]);
  deepEqual(s.map((r) => [r.trainer, r.metric, r.n]), [["sft", "f", 2], ["grpo", "f", 1], [
    "grpo",
    "g",
    1,
  ]]);
  close(s[0].mean, 0.3, "mean");
  // t(0.975, 1) = 12.7062; s = 0.1414; half = 12.7062 · 0.1414 / √2 = 1.27062.
  ok(Math.abs(s[0].ci95_hi - (0.3 + 1.270620)) < 1e-5, String(s[0].ci95_hi));
  ok(Number.isNaN(s[1].ci95_lo), "one seed: no interval");
});

Deno.test("forgettingLaw: exact quadratic recovered; too few points give no row", () => {
  const x = [1, 2, 3, 4], y = x.map((k) => 0.05 * k + 0.01 * k * k);
  const fits = forgettingLaw([{ scope: "run", predictor: "kl", target: "drop", x, y }]);
  equal(fits.length, 3);
  close(fits[0].c1, 0.05, "a");
  close(fits[0].c2, 0.01, "b");
  close(fits[0].r2, 1, "R²");
  equal(fits[0].form, "drop = c1*kl + c2*kl^2");
  equal(fits[2].c2, 0, "the line has no quadratic term");
  deepEqual(
    forgettingLaw([{ scope: "run", predictor: "kl", target: "d", x: [1, 2], y: [1, 2] }]),
    [],
  );
  // Every KL equal: no form can be fitted, so no rows (not an exception).
  deepEqual(
    forgettingLaw([{ scope: "s", predictor: "kl", target: "d", x: [1, 1, 1], y: [0, 1, 2] }]),
    [],
  );
});
