// Tests for the batch orders: epoch-wise shuffling and length-grouped batches.

import { deepEqual, equal, ok } from "node:assert/strict";
import { batchOrder, lengthGroupedOrder } from "./batches.ts";

Deno.test("batchOrder: every item once per epoch, same seed same order", () => {
  const next = batchOrder(10, 5, 3), again = batchOrder(10, 5, 3);
  const epoch = [...next(), ...next()].sort((a, b) => a - b);
  deepEqual(epoch, [...Array(10).keys()]);
  const other = batchOrder(10, 5, 4);
  ok(JSON.stringify([other(), other()]) !== JSON.stringify([again(), again()]), "seeds differ");
});

Deno.test("lengthGroupedOrder: batches of similar length, each item at most once an epoch", () => {
  // 200 short items and 20 long ones, shuffled together.
  const lengths = Array.from({ length: 220 }, (_, i) => (i % 11 === 0 ? 90 : 10 + (i % 7)));
  const batch = 8, make = lengthGroupedOrder(lengths, { chunk: 50 });
  const next = make(batch, 1);
  const epoch = Array.from({ length: Math.floor(220 / batch) }, () => next());
  const seen = epoch.flat();
  equal(new Set(seen).size, seen.length, "no item twice in an epoch");
  equal(seen.length, 216);
  // Sorted within one mega-batch: at most one batch per epoch mixes long and short items.
  const mixed = epoch.filter((b) => new Set(b.map((i) => lengths[i] === 90)).size > 1);
  ok(mixed.length <= 1, `${mixed.length} mixed batches`);
  // Deterministic in the seed; another seed another order; next epoch reshuffled.
  deepEqual(Array.from({ length: 5 }, make(batch, 1)), epoch.slice(0, 5));
  ok(JSON.stringify(make(batch, 2)()) !== JSON.stringify(epoch[0]));
  const second = Array.from({ length: epoch.length }, () => next());
  ok(JSON.stringify(second) !== JSON.stringify(epoch));
});

Deno.test("lengthGroupedOrder: fewer items than a batch fill it by repeating", () => {
  const next = lengthGroupedOrder([3, 1, 2])(5, 0);
  const b = next();
  equal(b.length, 5);
  deepEqual([...new Set(b)].sort(), [0, 1, 2]);
});
