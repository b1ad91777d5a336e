// Tests for the sort skill: the answer is the prompt's characters sorted by char code, over
// both digit and letter strings.

import { equal, ok } from "node:assert/strict";
import { sortTask } from "./sort.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("sort: the answer is the characters sorted by code; digit and letter sorts", async () => {
  const { all } = await splitsOf(sortTask, { seed: 7, n: 100 });
  for (const item of all) {
    const [, s] = item.prompt.match(/^srt:(\d{2,4}|[a-z]{2,4})=$/)!;
    const want = s.split("").sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0)).join("");
    equal(item.answer, want, item.prompt);
    const down = want.split("").reverse().join("");
    if (down !== want) equal(await accOf(sortTask, item, down), 0, "descending");
  }
  ok(all.some((i) => /^srt:\d+=$/.test(i.prompt)), "digit sorts");
  ok(all.some((i) => /^srt:[a-z]+=$/.test(i.prompt)), "letter sorts");
});
