// Tests for evals/kl.ts: zero for identical distributions, 2- and 3-class
// values worked by hand, forward vs reverse on the same pair, zero-probability
// classes, and the row-major mean over inputs.

import { equal, ok, throws } from "node:assert/strict";
import { klCategorical, meanKL } from "./kl.ts";

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
}

const log = (ps: number[]) => ps.map(Math.log);

Deno.test("klCategorical: identical distributions give 0", () => {
  equal(klCategorical(log([0.25, 0.25, 0.5]), log([0.25, 0.25, 0.5])), 0);
  equal(klCategorical([0, -Infinity], [0, -Infinity]), 0);
});

Deno.test("klCategorical: hand-worked 2-class value", () => {
  // P = (0.5, 0.5), Q = (0.25, 0.75):
  // 0.5·ln(0.5/0.25) + 0.5·ln(0.5/0.75) = 0.5·ln(4/3) = 0.5 · 0.2876820724517809.
  close(klCategorical(log([0.5, 0.5]), log([0.25, 0.75])), 0.14384103622589042, "KL");
});

Deno.test("klCategorical: hand-worked 3-class value", () => {
  // P = (0.7, 0.2, 0.1), Q = (0.2, 0.5, 0.3):
  // 0.7·ln 3.5 + 0.2·ln 0.4 + 0.1·ln(1/3)
  // = 0.7·1.2527630 − 0.2·0.9162907 − 0.1·1.0986123 = 0.8769341 − 0.1832581 − 0.1098612.
  close(klCategorical(log([0.7, 0.2, 0.1]), log([0.2, 0.5, 0.3])), 0.5838147027051154, "KL");
});

Deno.test("klCategorical: forward and reverse differ", () => {
  const p = log([0.5, 0.5]);
  const q = log([0.25, 0.75]);
  // Forward, as above: 0.5·ln(4/3) = 0.14384103622589042.
  // Reverse: 0.25·ln(0.25/0.5) + 0.75·ln(0.75/0.5) = −0.1732868 + 0.3040988.
  const forward = klCategorical(p, q);
  const reverse = klCategorical(q, p);
  close(forward, 0.14384103622589042, "forward");
  close(reverse, 0.13081203594113697, "reverse");
  ok(Math.abs(forward - reverse) > 0.01);
});

Deno.test("klCategorical: zero-probability classes", () => {
  // P = (1, 0), Q = (0.5, 0.5): the P = 0 term is 0, so KL = 1·ln(1/0.5) = ln 2.
  close(klCategorical([0, -Infinity], log([0.5, 0.5])), Math.LN2, "P has a zero");
  // Reverse: Q puts mass where P has none → +Infinity.
  equal(klCategorical(log([0.5, 0.5]), [0, -Infinity]), Infinity);
});

Deno.test("klCategorical: accepts typed arrays", () => {
  const kl = klCategorical(
    Float64Array.from([0.5, 0.5], Math.log),
    Float64Array.from([0.25, 0.75], Math.log),
  );
  close(kl, 0.14384103622589042, "Float64Array");
  // Float32 inputs are rounded once, then summed in float64.
  const kl32 = klCategorical(
    Float32Array.from([0.5, 0.5], Math.log),
    Float32Array.from([0.25, 0.75], Math.log),
  );
  close(kl32, 0.14384103622589042, "Float32Array", 1e-7);
});

Deno.test("meanKL: averages klCategorical over row-major rows", () => {
  // Row 0: (0.5, 0.5) vs (0.25, 0.75) → 0.14384103622589042
  // Row 1: (0.9, 0.1) vs (0.6, 0.4) → 0.9·ln 1.5 + 0.1·ln 0.25 = 0.36492 − 0.13863
  //        = 0.22628916118535888
  // Row 2: identical → 0
  // Mean = (0.14384103622589042 + 0.22628916118535888 + 0) / 3 = 0.12337673247041643
  const logPi0 = log([0.5, 0.5, 0.9, 0.1, 0.3, 0.7]);
  const logPi = log([0.25, 0.75, 0.6, 0.4, 0.3, 0.7]);
  close(meanKL(logPi0, logPi, { classes: 2 }), 0.12337673247041643, "forward KL(π0‖π)");
  // Reverse: rows 0.13081203594113697, 0.31123867958305756, 0 → mean 0.14735023850806483.
  close(meanKL(logPi, logPi0, { classes: 2 }), 0.14735023850806483, "reverse KL(π‖π0)");
  // A single row is klCategorical itself.
  close(
    meanKL(log([0.7, 0.2, 0.1]), log([0.2, 0.5, 0.3]), { classes: 3 }),
    0.5838147027051154,
    "one row",
  );
  ok(Number.isNaN(meanKL([], [], { classes: 10 })));
});

Deno.test("kl: rejects mismatched shapes and invalid entries", () => {
  throws(() => klCategorical([0, -Infinity], [0]), /logP has 2 classes but logQ has 1/);
  throws(() => klCategorical([NaN, 0], [0, 0]), /logP\[0\] is NaN/);
  throws(() => klCategorical([0, -Infinity], [0, Infinity]), /logQ\[1\] is Infinity/);
  throws(() => meanKL([0, 0, 0], [0, 0, 0], { classes: 2 }), /do not split into rows of 2/);
  throws(() => meanKL([0, 0], [0, 0, 0, 0], { classes: 2 }), RangeError);
  throws(() => meanKL([0, 0], [0, 0], { classes: 0 }), /classes must be a positive integer/);
  throws(() => meanKL([0, 0], [0, 0], { classes: 1.5 }), RangeError);
  throws(() => meanKL([0, -Infinity, NaN, 0], [0, 0, 0, 0], { classes: 2 }), /logP\[2\] is NaN/);
});
