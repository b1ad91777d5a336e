// Tests for evals/continual.ts on hand-worked accuracy matrices, after
// Avalanche's functional-metrics tests: each expected value is the formula of
// docs/metrics.md evaluated by hand in the comment above it. Formulas index tasks
// 1..T; in the comments R[i][j] uses the formula's 1-based task j, so task j
// is code column j − 1. forgettingSoFar (the per-stage F of stages.csv) is
// checked against F itself at the last stage and by hand at earlier ones.

import { equal, ok, throws } from "node:assert/strict";
import {
  averageAccuracy,
  backwardTransfer,
  forgetting,
  forgettingSoFar,
  forwardTransfer,
  generalDrift,
  plasticity,
} from "./continual.ts";

function close(actual: number, expected: number, what: string): void {
  ok(Math.abs(actual - expected) <= 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

// Classic forgetting: each task peaks when trained and decays afterwards.
//            task1 task2 task3
const DECAY = [
  [0.10, 0.20, 0.30], // stage 0: base model
  [0.90, 0.25, 0.35], // stage 1: after task 1
  [0.70, 0.80, 0.40], // stage 2: after task 2
  [0.60, 0.75, 0.85], // stage 3: after task 3 (T = 3)
];

Deno.test("continual: decaying 3-task matrix", () => {
  // AA = (R[3][1] + R[3][2] + R[3][3]) / 3 = (0.60 + 0.75 + 0.85) / 3 = 2.20 / 3
  close(averageAccuracy(DECAY), 2.2 / 3, "AA");
  // plasticity = (R[1][1] + R[2][2] + R[3][3]) / 3 = (0.90 + 0.80 + 0.85) / 3 = 0.85
  close(plasticity(DECAY), 0.85, "plasticity");
  // F: task 1: max(R[1][1], R[2][1]) − R[3][1] = max(0.90, 0.70) − 0.60 = 0.30
  //    task 2: max(R[1][2], R[2][2]) − R[3][2] = max(0.25, 0.80) − 0.75 = 0.05
  //    F = (0.30 + 0.05) / 2 = 0.175
  close(forgetting(DECAY), 0.175, "F");
  // BWT: task 1: R[3][1] − R[1][1] = 0.60 − 0.90 = −0.30
  //      task 2: R[3][2] − R[2][2] = 0.75 − 0.80 = −0.05
  //      BWT = (−0.30 − 0.05) / 2 = −0.175
  close(backwardTransfer(DECAY), -0.175, "BWT");
  // FWT: task 2: R[1][2] − R[0][2] = 0.25 − 0.20 = 0.05
  //      task 3: R[2][3] − R[0][3] = 0.40 − 0.30 = 0.10
  //      FWT = (0.05 + 0.10) / 2 = 0.075
  close(forwardTransfer(DECAY), 0.075, "FWT");
});

// Forgetting and BWT disagree in sign here: task 2 is already at 0.90 at
// stage 1 (before it is trained), and the max in F runs over every stage
// l = 1..T−1, while BWT compares with the stage that trained the task.
const MIXED = [
  [0.50, 0.50, 0.50], // stage 0
  [0.60, 0.90, 0.50], // stage 1
  [0.80, 0.70, 0.30], // stage 2
  [0.70, 0.75, 0.60], // stage 3
];

Deno.test("continual: F counts intermediate peaks that BWT ignores", () => {
  // AA = (0.70 + 0.75 + 0.60) / 3 = 2.05 / 3
  close(averageAccuracy(MIXED), 2.05 / 3, "AA");
  // plasticity = (R[1][1] + R[2][2] + R[3][3]) / 3 = (0.60 + 0.70 + 0.60) / 3 = 1.9 / 3
  close(plasticity(MIXED), 1.9 / 3, "plasticity");
  // F: task 1: max(0.60, 0.80) − 0.70 = 0.10
  //    task 2: max(0.90, 0.70) − 0.75 = 0.15   (the peak is at l = 1 < j = 2)
  //    F = (0.10 + 0.15) / 2 = 0.125
  close(forgetting(MIXED), 0.125, "F");
  // BWT: task 1: 0.70 − 0.60 = +0.10; task 2: 0.75 − 0.70 = +0.05; BWT = +0.075
  close(backwardTransfer(MIXED), 0.075, "BWT");
  // FWT: task 2: R[1][2] − R[0][2] = 0.90 − 0.50 = 0.40
  //      task 3: R[2][3] − R[0][3] = 0.30 − 0.50 = −0.20
  //      FWT = (0.40 − 0.20) / 2 = 0.10
  close(forwardTransfer(MIXED), 0.1, "FWT");
});

Deno.test("continual: perfect retention and catastrophic forgetting", () => {
  const retain = [
    [0, 0, 0],
    [1, 0, 0],
    [1, 1, 0],
    [1, 1, 1],
  ];
  equal(averageAccuracy(retain), 1);
  equal(plasticity(retain), 1);
  equal(forgetting(retain), 0);
  equal(backwardTransfer(retain), 0);
  equal(forwardTransfer(retain), 0);

  const overwrite = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  close(averageAccuracy(overwrite), 1 / 3, "AA"); // (0 + 0 + 1) / 3
  equal(plasticity(overwrite), 1); // every task learned when trained
  // F: task 1: max(1, 0) − 0 = 1; task 2: max(0, 1) − 0 = 1 → 1
  equal(forgetting(overwrite), 1);
  equal(backwardTransfer(overwrite), -1); // (0 − 1 + 0 − 1) / 2
  equal(forwardTransfer(overwrite), 0); // (0 − 0 + 0 − 0) / 2
});

Deno.test("continual: T = 1 has no earlier task, so F, BWT and FWT are NaN", () => {
  const one = [[0.2], [0.8]];
  equal(averageAccuracy(one), 0.8);
  equal(plasticity(one), 0.8);
  ok(Number.isNaN(forgetting(one)));
  ok(Number.isNaN(backwardTransfer(one)));
  ok(Number.isNaN(forwardTransfer(one)));
});

Deno.test("continual: T = 2 uses the single earlier and later task", () => {
  const two = [
    [0.3, 0.4],
    [0.9, 0.6],
    [0.5, 0.8],
  ];
  close(forgetting(two), 0.4, "F"); // max(R[1][1]) − R[2][1] = 0.9 − 0.5
  close(backwardTransfer(two), -0.4, "BWT"); // R[2][1] − R[1][1] = 0.5 − 0.9
  close(forwardTransfer(two), 0.2, "FWT"); // R[1][2] − R[0][2] = 0.6 − 0.4
  close(plasticity(two), 0.85, "plasticity"); // (0.9 + 0.8) / 2
});

Deno.test("continual: every metric rejects malformed matrices", () => {
  const metrics = [averageAccuracy, plasticity, forgetting, backwardTransfer, forwardTransfer];
  for (const metric of metrics) {
    throws(() => metric([]), RangeError, `${metric.name}: no rows`);
    throws(() => metric([[0.5]]), /needs T \+ 1 ≥ 2/, `${metric.name}: base row only`);
    // Ragged: row 2 is short.
    throws(
      () => metric([[0.1, 0.2], [0.3, 0.4], [0.5]]),
      /R row 2 has 1 column\(s\).*T = 2/,
      `${metric.name}: ragged`,
    );
    // Square 3×3: three rows mean T = 2 tasks, so three columns is wrong at row 0.
    throws(
      () => metric([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]),
      /R row 0 has 3 column\(s\)/,
      `${metric.name}: square`,
    );
    throws(() => metric([[0.1, 0.2], [0.3, 1.2], [0.5, 0.6]]), /R\[1\]\[1\] is 1.2/);
    throws(() => metric([[0.1, 0.2], [0.3, 0.4], [NaN, 0.6]]), /R\[2\]\[0\] is NaN/);
    throws(() => metric([[0.1, -0.1], [0.3, 0.4], [0.5, 0.6]]), /R\[0\]\[1\] is -0.1/);
  }
});

Deno.test("generalDrift: after − base, negative when capability is lost", () => {
  close(generalDrift(0.62, 0.55), -0.07, "loss");
  close(generalDrift(0.5, 0.8), 0.3, "gain");
  equal(generalDrift(0.4, 0.4), 0);
  throws(() => generalDrift(1.2, 0.5), /panelBase is 1.2/);
  throws(() => generalDrift(0.5, NaN), /panelAfter is NaN/);
  throws(() => generalDrift(0.5, -0.1), RangeError);
});

// Tasks in training order; rows: π0, after task 1, 2, 3.
const SEQ = [
  [0.1, 0.0, 0.2],
  [0.9, 0.1, 0.2],
  [0.6, 0.8, 0.3],
  [0.5, 0.4, 0.7],
];

Deno.test("forgettingSoFar: max over the stages before, minus now", () => {
  // Stage 3, tasks 1 and 2 trained before:
  //   task 1: max(R[1][1], R[2][1]) − R[3][1] = max(0.9, 0.6) − 0.5 = 0.4
  //   task 2: max(R[1][2], R[2][2]) − R[3][2] = max(0.1, 0.8) − 0.4 = 0.4
  //   (0.4 + 0.4) / 2 = 0.4
  close(forgettingSoFar(SEQ, [0, 1]), 0.4, "stage 3");
  // At the last stage over every earlier task it is F itself.
  close(forgettingSoFar(SEQ, [0, 1]), forgetting(SEQ), "stage 3 = F");
  close(forgettingSoFar(DECAY, [0, 1]), forgetting(DECAY), "DECAY: F");
  close(forgettingSoFar(MIXED, [0, 1]), forgetting(MIXED), "MIXED: F");
  // Stage 2, task 1: max(R[1][1]) − R[2][1] = 0.9 − 0.6 = 0.3.
  close(forgettingSoFar(SEQ.slice(0, 3), [0]), 0.3, "stage 2");
  // Only the columns named count: DECAY's task 2 alone, max(0.25, 0.80) − 0.75 = 0.05
  // (with task 1 it would be F = 0.175).
  close(forgettingSoFar(DECAY, [1]), 0.05, "DECAY task 2 alone");
  // The base row never counts as a peak: task 1 is 0.9 at π0 but only 0.2 after stage 1, and
  // 0.1 after stage 2, so the forgetting so far is 0.2 − 0.1 = 0.1, not 0.9 − 0.1.
  close(forgettingSoFar([[0.9, 0.5], [0.2, 0.5], [0.1, 0.6]], [0]), 0.1, "base ignored");
  // A task that ends above its earlier best has negative forgetting: 0.4 − 0.7 = −0.3.
  close(forgettingSoFar([[0, 0], [0.4, 0.1], [0.7, 0.9]], [0]), -0.3, "gain");
});

Deno.test("forgettingSoFar: NaN with nothing trained before; an error with no stage before", () => {
  ok(Number.isNaN(forgettingSoFar(SEQ.slice(0, 2), [])));
  ok(Number.isNaN(forgettingSoFar(SEQ, [])));
  // Two rows (π0 and now) leave no stage to take a maximum over.
  throws(() => forgettingSoFar(SEQ.slice(0, 2), [0]), /no stage before the last/);
});
