// Tests for sftTargets of models/mlp_learner.ts on hand-built instances: the oracle target is π0
// restricted to the correct labels and renormalised (worked by hand), sft1 is one-hot on its
// single label, sft2 fixes one allowed label per item from the seed, and an unknown
// labelling is a ValidationError.

import { deepEqual, equal, notDeepEqual, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import type { TrainInstance } from "./learner.ts";
import { sftTargets } from "./mlp_learner.ts";

const C = 4;

/** n items of "parity" over 4 classes: item i has parity i % 2; π0 rows given as probabilities. */
function data(probs: readonly number[][], extra?: { correct?: (i: number) => number[] }) {
  const instances: TrainInstance[] = probs.map((_, i) => ({
    request: { kind: "classify", x: new Float32Array(1), classes: C },
    targets: (name) =>
      name === "sft1" ? [i % 2] : name === "sft2" ? (i % 2 === 0 ? [0, 2] : [1, 3]) : undefined,
    reward: (y) => ((y as number) % 2 === i % 2 ? 1 : 0),
    correct: () => extra?.correct?.(i) ?? (i % 2 === 0 ? [0, 2] : [1, 3]),
  }));
  return { instances, lp0: Float32Array.from(probs.flat(), Math.log) };
}

/** sftTargets over `data(...)` with a labelling and a seed. */
function targetsOf(d: ReturnType<typeof data>, labelling: string, seed: number): Float32Array {
  return sftTargets(d.instances, { labelling, seed, classes: C, lp0: d.lp0 });
}

function rows(q: Float32Array): number[][] {
  return Array.from({ length: q.length / C }, (_, i) => Array.from(q.subarray(i * C, i * C + C)));
}

function closeRows(actual: number[][], expected: number[][], tol = 1e-6): void {
  equal(actual.length, expected.length);
  actual.forEach((row, i) =>
    row.forEach((v, y) =>
      ok(Math.abs(v - expected[i][y]) <= tol, `q[${i}][${y}] = ${v}, expected ${expected[i][y]}`)
    )
  );
}

const PROBS = [
  [0.1, 0.2, 0.3, 0.4],
  [0.5, 0.25, 0.125, 0.125],
  [0.7, 0.1, 0.1, 0.1],
  [0.25, 0.25, 0.25, 0.25],
];

Deno.test("sftTargets oracle: π0 restricted to correct labels, renormalised", () => {
  const q = rows(targetsOf(data(PROBS), "oracle", 0));
  closeRows(q, [
    // Item 0 (even, correct 0 and 2): 0.1 and 0.3 of total 0.4 → 1/4, 3/4.
    [0.25, 0, 0.75, 0],
    // Item 1 (odd, correct 1 and 3): 0.25 and 0.125 of 0.375 → 2/3, 1/3.
    [0, 2 / 3, 0, 1 / 3],
    // Item 2 (even): 0.7 and 0.1 of 0.8 → 7/8, 1/8.
    [0.875, 0, 0.125, 0],
    // Item 3 (odd, uniform π0): 1/2, 1/2.
    [0, 0.5, 0, 0.5],
  ]);
  // The seed plays no part in the oracle.
  deepEqual(targetsOf(data(PROBS), "oracle", 99), targetsOf(data(PROBS), "oracle", 0));
});

Deno.test("sftTargets oracle: single or all correct labels", () => {
  const one = rows(targetsOf(data(PROBS, { correct: () => [3] }), "oracle", 0));
  closeRows(one, PROBS.map(() => [0, 0, 0, 1]));
  const all = rows(targetsOf(data(PROBS, { correct: () => [0, 1, 2, 3] }), "oracle", 0));
  closeRows(all, PROBS); // everything correct: the target is π0 itself
});

Deno.test("sftTargets sft1: one-hot on the labelling's single label", () => {
  const q = rows(targetsOf(data(PROBS), "sft1", 5));
  deepEqual(q, [[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]]);
  deepEqual(targetsOf(data(PROBS), "sft1", 6), targetsOf(data(PROBS), "sft1", 5));
});

Deno.test("sftTargets sft2: one allowed label per item, fixed by the seed", () => {
  const many = Array.from({ length: 200 }, () => [0.25, 0.25, 0.25, 0.25]);
  const d = data(many);
  const q = rows(targetsOf(d, "sft2", 1));
  const picked = q.map((row, i) => {
    equal(row.reduce((a, v) => a + v, 0), 1, `row ${i} is one-hot`);
    equal(row.filter((v) => v === 1).length, 1, `row ${i} is one-hot`);
    const y = row.indexOf(1);
    ok((i % 2 === 0 ? [0, 2] : [1, 3]).includes(y), `item ${i}: label ${y} is allowed`);
    return y;
  });
  // Both allowed labels of each parity are used, in roughly equal numbers (100 items each:
  // binomial sd 5, so 30..70 is a > 6 sd band).
  for (const y of [0, 1, 2, 3]) {
    const count = picked.filter((v) => v === y).length;
    ok(count >= 30 && count <= 70, `label ${y} picked ${count} times of 100`);
  }
  // Same seed → same labels; another seed → a different labelling.
  deepEqual(targetsOf(d, "sft2", 1), targetsOf(d, "sft2", 1));
  notDeepEqual(targetsOf(d, "sft2", 2), targetsOf(d, "sft2", 1));
});

Deno.test("sftTargets: an unknown labelling is a ValidationError naming it", () => {
  throws(
    () => targetsOf(data(PROBS), "sft3", 0),
    (e: unknown) => {
      ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
      ok(e.message.includes("'sft3'"), e.message);
      ok(e.message.startsWith("trainer options.labelling: "), e.message);
      return true;
    },
  );
});
