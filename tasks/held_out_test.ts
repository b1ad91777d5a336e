// Tests for tasks/held_out.ts: the hash is the standard one, the held-out share is about one in
// ten even for questions that differ in a digit, and the split depends on the text alone.

import { equal, ok } from "node:assert/strict";
import { fmix32, fnv1a, HELD_OUT_EVERY, isHeldOut } from "./held_out.ts";

Deno.test("fnv1a and fmix32: the standard 32-bit values", () => {
  equal(fnv1a(""), 0x811c9dc5);
  equal(fnv1a("a"), 0xe40c292c);
  equal(fnv1a("foobar"), 0xbf9cf968);
  equal(fmix32(0), 0);
  equal(fmix32(1), 0x514e28b7);
  equal(fnv1a("é"), fnv1a("\u00e9"), "UTF-16 code units");
});

Deno.test("isHeldOut: about one in ten, also among questions differing in one number", () => {
  equal(HELD_OUT_EVERY, 10);
  for (const make of [(i: number) => `What is ${i} + ${i}?`, (i: number) => `Problem ${i}.`]) {
    const n = 2000;
    let held = 0;
    for (let i = 0; i < n; i++) if (isHeldOut(make(i))) held++;
    ok(held > 0.07 * n && held < 0.13 * n, `${held} of ${n} held out`);
  }
  equal(isHeldOut("What is 3 + 3?"), isHeldOut("What is 3 + 3?"), "a function of the text");
});
