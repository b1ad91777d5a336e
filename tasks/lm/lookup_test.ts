// Tests for the lookup skill: 2-3 distinct keys, the answer is the queried key's value.

import { equal, ok } from "node:assert/strict";
import { lookupTask } from "./lookup.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("lookup: the answer is the queried key's value; keys are distinct", async () => {
  const { all } = await splitsOf(lookupTask, { seed: 7, n: 100 });
  for (const item of all) {
    const [, table, key] = item.prompt.match(/^kv:((?:[a-z]=\d{1,2} ?){2,3});([a-z])=$/)!;
    const pairs = table.split(" ").map((kv) => kv.split("=") as [string, string]);
    const map = new Map(pairs);
    equal(map.size, pairs.length, "keys are distinct");
    ok(map.has(key), item.prompt);
    equal(item.answer, map.get(key), item.prompt);
    for (const [k, v] of pairs) {
      if (k !== key && v !== item.answer) equal(await accOf(lookupTask, item, v), 0, "another key");
    }
  }
  ok(all.some((i) => i.prompt.split(" ").length === 3), "three-key tables");
});
