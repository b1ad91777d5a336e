import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import { hashString, permutation, rng, sampleIndex } from "./rng.ts";

Deno.test("rng: same seeds give the same stream, other seeds another", () => {
  const a = rng(1, 2), b = rng(1, 2), c = rng(1, 3);
  const xs = Array.from({ length: 5 }, () => a.next());
  deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  notDeepEqual(xs, Array.from({ length: 5 }, () => c.next()));
  ok(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("permutation is a permutation; sampleIndex follows the weights", () => {
  deepEqual(permutation(50, rng(4)).sort((a, b) => a - b), [...Array(50).keys()]);
  const r = rng(5), counts = [0, 0, 0];
  for (let i = 0; i < 30000; i++) counts[sampleIndex([0.2, 0, 0.8], r)]++;
  equal(counts[1], 0, "zero weight never drawn");
  ok(Math.abs(counts[0] / 30000 - 0.2) < 0.01, `${counts}`);
  equal(sampleIndex([9, 9, 0, 1], rng(1), { offset: 2, length: 2 }), 1, "offset window");
  notDeepEqual(hashString("train"), hashString("heldout"));
});
