// Tests for evals/leaderboard.ts on hand-built RunData: a one-stage ParityMNIST-like run with
// three checkpoints, a three-stage sequence whose accuracy matrix is worked by hand (AA,
// plasticity, F, BWT, FWT, KL means over stages), a joint run, and stageRows' forgetting so far.
// Every expected value is worked out in the comment beside it. The last test writes rows through
// evals/csv.ts, whose number format leaderboard.csv relies on.

import { deepEqual, equal, ok } from "node:assert/strict";
import { formatCell, toCsv } from "./csv.ts";
import {
  type Checkpoint,
  LEADERBOARD_COLUMNS,
  leaderboardRows,
  type RunData,
  STAGE_COLUMNS,
  stageRows,
} from "./leaderboard.ts";

function close(actual: number, expected: number, what: string): void {
  ok(Math.abs(actual - expected) <= 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

function nan(v: number, what: string): void {
  ok(Number.isNaN(v), `${what}: expected NaN, got ${v}`);
}

/** A checkpoint; KLs default to NaN (not computed). */
function cp(
  step: number,
  accs: Record<string, number>,
  o: { panel?: number; kl?: [number, number, number]; instances?: number } = {},
): Checkpoint {
  const [klForward, klReverse, klPrev] = o.kl ?? [NaN, NaN, NaN];
  return {
    step,
    accs,
    panel: o.panel ?? NaN,
    klForward,
    klReverse,
    klPrev,
    instances: o.instances ?? 0,
  };
}

const RUN = { variant: "v", trainer: "t", lr: 1e-3, seed: 1, order: 0 } as const;

// ParityMNIST: one stage, one new task, FashionMNIST as the panel, three step budgets.
const PARITY: RunData = {
  ...RUN,
  variant: "sft1",
  trainer: "sft",
  tasks: ["parity_mnist"],
  joint: false,
  base: { accs: { parity_mnist: 0.5 }, panel: 0.8 },
  stages: [{
    stage: 1,
    checkpoints: [
      cp(10, { parity_mnist: 0.7 }, { panel: 0.75, kl: [0.1, 0.05, 0.1], instances: 320 }),
      cp(25, { parity_mnist: 0.85 }, { panel: 0.7, kl: [0.3, 0.2, 0.3], instances: 800 }),
      cp(50, { parity_mnist: 0.9 }, { panel: 0.6, kl: [0.5, 0.4, 0.5], instances: 1600 }),
    ],
  }],
};

Deno.test("leaderboardRows: a one-stage run has one row per checkpoint", () => {
  const rows = leaderboardRows(PARITY);
  deepEqual(rows.map((r) => r.steps), [10, 25, 50]);
  for (const r of rows) {
    deepEqual([r.variant, r.trainer, r.lr, r.seed, r.order], ["sft1", "sft", 1e-3, 1, 0]);
    equal(r.tasks, "parity_mnist");
    // T = 1: no earlier task, so F, BWT and FWT are undefined.
    nan(r.task_forgetting, "F");
    nan(r.bwt, "BWT");
    nan(r.fwt, "FWT");
    equal(r.panel_base, 0.8);
  }
  const [a, b, c] = rows;
  // R = [[0.5], [0.7]]: plasticity R[1][1] = 0.7 = AA (the last row's mean).
  deepEqual([a.new_task_acc, a.avg_accuracy], [0.7, 0.7]);
  deepEqual([b.new_task_acc, c.new_task_acc], [0.85, 0.9]);
  // panel_drop = panel_base − panel_final: 0.8 − 0.75, 0.8 − 0.7, 0.8 − 0.6.
  deepEqual([a.panel_final, b.panel_final, c.panel_final], [0.75, 0.7, 0.6]);
  close(a.panel_drop, 0.05, "drop at 10");
  close(b.panel_drop, 0.1, "drop at 25");
  close(c.panel_drop, 0.2, "drop at 50");
  // KL means over one stage are the checkpoint's own KLs.
  deepEqual(rows.map((r) => [r.kl_forward, r.kl_reverse]), [[0.1, 0.05], [0.3, 0.2], [0.5, 0.4]]);
  deepEqual(rows.map((r) => r.instances_used), [320, 800, 1600]);
});

// Three stages a > b > c. The matrix of the final checkpoint (tasks in training order):
//            a    b    c
//   π0     0.1  0.0  0.2
//   after a 0.9  0.1  0.2   (stage 1 at step 10; its step-5 checkpoint is not a matrix row)
//   after b 0.6  0.8  0.3   (stage 2 at step 10; its step-5 checkpoint has b = 0.95)
//   after c 0.5  0.4  0.7   (stage 3 at step 10; at step 5: 0.55 0.6 0.5)
// The accuracies are written with keys out of training order: columns follow `tasks`.
const SEQUENCE: RunData = {
  ...RUN,
  order: 1,
  tasks: ["a", "b", "c"],
  joint: false,
  base: { accs: { c: 0.2, b: 0.0, a: 0.1 }, panel: 0.6 },
  stages: [
    {
      stage: 1,
      checkpoints: [
        cp(5, { c: 0.2, b: 0.05, a: 0.7 }, { panel: 0.58, kl: [0.1, 0.05, 0.1], instances: 80 }),
        cp(10, { c: 0.2, b: 0.1, a: 0.9 }, { panel: 0.5, kl: [0.2, 0.1, 0.2], instances: 160 }),
      ],
    },
    {
      stage: 2,
      checkpoints: [
        cp(5, { c: 0.3, b: 0.95, a: 0.2 }, { panel: 0.47, kl: [0.3, 0.15, 0.1], instances: 240 }),
        cp(10, { c: 0.3, b: 0.8, a: 0.6 }, { panel: 0.45, kl: [0.4, 0.2, 0.25], instances: 320 }),
      ],
    },
    {
      stage: 3,
      checkpoints: [
        cp(5, { c: 0.5, b: 0.6, a: 0.55 }, { panel: 0.4, kl: [0.6, 0.3, 0.2], instances: 400 }),
        cp(10, { c: 0.7, b: 0.4, a: 0.5 }, { panel: 0.3, kl: [0.9, 0.6, 0.35], instances: 480 }),
      ],
    },
  ],
};

Deno.test("leaderboardRows: a three-stage sequence, worked by hand", () => {
  const rows = leaderboardRows(SEQUENCE);
  // Only the last stage's checkpoints give rows.
  deepEqual(rows.map((r) => r.steps), [5, 10]);
  const [mid, end] = rows;
  equal(end.tasks, "a>b>c");
  equal(end.order, 1);
  // Plasticity (R[1][a] + R[2][b] + R[3][c]) / 3 = (0.9 + 0.8 + 0.7) / 3 = 0.8.
  close(end.new_task_acc, 0.8, "plasticity");
  // AA = (0.5 + 0.4 + 0.7) / 3 = 1.6 / 3.
  close(end.avg_accuracy, 1.6 / 3, "AA");
  // F: a: max(0.9, 0.6) − 0.5 = 0.4; b: max(0.1, 0.8) − 0.4 = 0.4 (not 0.95 − 0.4: stage 2's
  // step-5 checkpoint is no matrix row); F = 0.4.
  close(end.task_forgetting, 0.4, "F");
  // BWT: a: 0.5 − 0.9 = −0.4; b: 0.4 − 0.8 = −0.4; BWT = −0.4.
  close(end.bwt, -0.4, "BWT");
  // FWT: b: R[1][b] − R[0][b] = 0.1 − 0.0 = 0.1; c: R[2][c] − R[0][c] = 0.3 − 0.2 = 0.1.
  close(end.fwt, 0.1, "FWT");
  // KLs: means over the stages' final checkpoints: (0.2 + 0.4 + 0.9) / 3 = 0.5 and
  // (0.1 + 0.2 + 0.6) / 3 = 0.3.
  close(end.kl_forward, 0.5, "KL forward");
  close(end.kl_reverse, 0.3, "KL reverse");
  // Panel: 0.6 − 0.3.
  deepEqual([end.panel_base, end.panel_final], [0.6, 0.3]);
  close(end.panel_drop, 0.3, "panel drop");
  equal(end.instances_used, 480);

  // At stage 3's step 5 the last row is (0.55, 0.6, 0.5); rows 0..2 are unchanged.
  // Plasticity (0.9 + 0.8 + 0.5) / 3 = 2.2 / 3; AA (0.55 + 0.6 + 0.5) / 3 = 0.55.
  close(mid.new_task_acc, 2.2 / 3, "plasticity at 5");
  close(mid.avg_accuracy, 0.55, "AA at 5");
  // F: a: 0.9 − 0.55 = 0.35; b: 0.8 − 0.6 = 0.2; (0.35 + 0.2) / 2 = 0.275. BWT = −0.275.
  close(mid.task_forgetting, 0.275, "F at 5");
  close(mid.bwt, -0.275, "BWT at 5");
  // FWT reads rows 0..2 only: 0.1 again.
  close(mid.fwt, 0.1, "FWT at 5");
  // KL forward (0.2 + 0.4 + 0.6) / 3 = 0.4; reverse (0.1 + 0.2 + 0.3) / 3 = 0.2.
  close(mid.kl_forward, 0.4, "KL forward at 5");
  close(mid.kl_reverse, 0.2, "KL reverse at 5");
  close(mid.panel_drop, 0.2, "panel drop at 5"); // 0.6 − 0.4
});

// The multi-task upper bound: one stage over every task at once.
const JOINT: RunData = {
  ...RUN,
  variant: "multitask",
  trainer: "multitask",
  tasks: ["a", "b", "c"],
  joint: true,
  base: { accs: { a: 0.1, b: 0.0, c: 0.2 }, panel: 0.6 },
  stages: [{
    stage: 1,
    checkpoints: [
      cp(30, { a: 0.4, b: 0.3, c: 0.5 }, { panel: 0.55, kl: [0.2, 0.1, 0.2], instances: 480 }),
      cp(60, { a: 0.7, b: 0.5, c: 0.6 }, { panel: 0.5, kl: [0.4, 0.3, 0.4], instances: 960 }),
    ],
  }],
};

Deno.test("leaderboardRows: a joint run scores the last row; F, BWT, FWT are NaN", () => {
  const rows = leaderboardRows(JOINT);
  deepEqual(rows.map((r) => r.steps), [30, 60]);
  const end = rows[1];
  // new_task_acc = AA = (0.7 + 0.5 + 0.6) / 3 = 0.6; at step 30, (0.4 + 0.3 + 0.5) / 3 = 0.4.
  close(end.new_task_acc, 0.6, "new-task accuracy");
  close(end.avg_accuracy, 0.6, "AA");
  close(rows[0].new_task_acc, 0.4, "new-task accuracy at 30");
  nan(end.task_forgetting, "F");
  nan(end.bwt, "BWT");
  nan(end.fwt, "FWT");
  equal(end.tasks, "a>b>c");
  deepEqual([end.kl_forward, end.kl_reverse, end.instances_used], [0.4, 0.3, 960]);
  close(end.panel_drop, 0.1, "panel drop"); // 0.6 − 0.5
});

Deno.test("leaderboardRows: no stages (evaluation only) gives no rows", () => {
  deepEqual(leaderboardRows({ ...PARITY, stages: [] }), []);
});

Deno.test("stageRows: every checkpoint of every stage, with the forgetting so far", () => {
  const rows = stageRows(SEQUENCE);
  deepEqual(rows.map((r) => [r.stage, r.step, r.tasks]), [
    [1, 5, "a"],
    [1, 10, "a"],
    [2, 5, "b"],
    [2, 10, "b"],
    [3, 5, "c"],
    [3, 10, "c"],
  ]);
  // Stage 1: nothing trained before it.
  nan(rows[0].prior_forgetting, "stage 1 at 5");
  nan(rows[1].prior_forgetting, "stage 1 at 10");
  // Stage 2, task a: max(R[1][a]) − now: at step 5, 0.9 − 0.2 = 0.7; at step 10, 0.9 − 0.6 = 0.3.
  close(rows[2].prior_forgetting, 0.7, "stage 2 at 5");
  close(rows[3].prior_forgetting, 0.3, "stage 2 at 10");
  // Stage 3, tasks a and b over rows 1..2 (final checkpoints only):
  //   step 5:  (0.9 − 0.55 + 0.8 − 0.6) / 2 = 0.275
  //   step 10: (0.9 − 0.5 + 0.8 − 0.4) / 2 = 0.4 = F of the final row
  close(rows[4].prior_forgetting, 0.275, "stage 3 at 5");
  close(rows[5].prior_forgetting, 0.4, "stage 3 at 10");
  // KLs and panel are the checkpoint's own; panel_drop is from π0's panel 0.6.
  deepEqual(rows.map((r) => [r.kl_forward, r.kl_reverse, r.kl_prev]), [
    [0.1, 0.05, 0.1],
    [0.2, 0.1, 0.2],
    [0.3, 0.15, 0.1],
    [0.4, 0.2, 0.25],
    [0.6, 0.3, 0.2],
    [0.9, 0.6, 0.35],
  ]);
  deepEqual(rows.map((r) => r.panel), [0.58, 0.5, 0.47, 0.45, 0.4, 0.3]);
  [0.02, 0.1, 0.13, 0.15, 0.2, 0.3].forEach((d, i) =>
    close(rows[i].panel_drop, d, `panel drop of row ${i}`)
  );
  for (const r of rows) {
    deepEqual([r.variant, r.trainer, r.lr, r.seed, r.order], ["v", "t", 1e-3, 1, 1]);
  }
});

Deno.test("stageRows: a one-stage and a joint run have no prior forgetting", () => {
  const one = stageRows(PARITY);
  deepEqual(one.map((r) => [r.stage, r.step, r.tasks]), [
    [1, 10, "parity_mnist"],
    [1, 25, "parity_mnist"],
    [1, 50, "parity_mnist"],
  ]);
  one.forEach((r) => nan(r.prior_forgetting, `step ${r.step}`));
  close(one[2].panel_drop, 0.2, "drop"); // 0.8 − 0.6
  const joint = stageRows(JOINT);
  deepEqual(joint.map((r) => [r.stage, r.step, r.tasks]), [[1, 30, "a+b+c"], [1, 60, "a+b+c"]]);
  joint.forEach((r) => nan(r.prior_forgetting, `joint step ${r.step}`));
});

Deno.test("leaderboard and stage rows as CSV: columns in order, NaN empty, fixed decimals", () => {
  const csv = toCsv(leaderboardRows(PARITY).slice(0, 1), LEADERBOARD_COLUMNS).split("\n");
  equal(csv[0], LEADERBOARD_COLUMNS.join(","));
  // F, BWT and FWT are NaN: empty cells. The lr keeps its short form, integers stay integers.
  equal(
    csv[1],
    "sft1,sft,0.001,1,0,parity_mnist,10,0.700000,0.700000,,,,0.800000,0.750000,0.050000," +
      "0.100000,0.050000,320,",
  );
  equal(toCsv(stageRows(PARITY), STAGE_COLUMNS).split("\n")[0], STAGE_COLUMNS.join(","));
  equal(formatCell(0.1234567, "x"), "0.123457");
  equal(formatCell(3e-4, "lr"), "0.0003");
  equal(formatCell(-1e-9, "x"), "0.000000");
  equal(toCsv([{ a: "x,y", b: 0.5 }], ["a", "b"]), 'a,b\n"x,y",0.500000\n');
});

Deno.test("leaderboard: a diverged run is one row with its stage:step and no metrics", () => {
  const rows = leaderboardRows({ ...PARITY, diverged: "1:7" });
  equal(rows.length, 1);
  const r = rows[0];
  deepEqual([r.variant, r.steps, r.diverged, r.panel_base], ["sft1", 7, "1:7", PARITY.base.panel]);
  for (const m of ["new_task_acc", "avg_accuracy", "panel_drop", "kl_forward"] as const) {
    nan(r[m], m);
  }
  equal(leaderboardRows(PARITY).every((x) => x.diverged === ""), true);
});
