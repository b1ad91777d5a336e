// Tests for the compare skill: answers from the prompt's numbers; every answer class present,
// `=` about one time in five.

import { deepEqual, equal, ok } from "node:assert/strict";
import { compareTask } from "./compare.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("compare: the answer compares the prompt's numbers; all three answers drawn", async () => {
  const { all } = await splitsOf(compareTask, { seed: 7, n: 100 });
  for (const item of all) {
    const [, a, b] = item.prompt.match(/^cmp:(\d+),(\d+)=$/)!.map(Number);
    ok(a <= 99 && b <= 99, item.prompt);
    equal(item.answer, a === b ? "=" : a < b ? "<" : ">", item.prompt);
    for (const bad of ["<", ">", "="].filter((x) => x !== item.answer)) {
      equal(await accOf(compareTask, item, bad), 0);
    }
  }
  deepEqual([...new Set(all.map((i) => i.answer))].sort(), ["<", "=", ">"]);
  const equalShare = all.filter((i) => i.answer === "=").length / all.length;
  ok(equalShare > 0.1 && equalShare < 0.3, `${equalShare} equal`);
});
