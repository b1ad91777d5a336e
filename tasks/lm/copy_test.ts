// Tests for the copy skill: the answer is the prompt's string, of 2-5 letters and digits.

import { equal, ok } from "node:assert/strict";
import { copyTask } from "./copy.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("copy: the answer is the prompt's string; anything else scores 0", async () => {
  const { all } = await splitsOf(copyTask, { seed: 7, n: 100 });
  for (const item of all) {
    const [, s] = item.prompt.match(/^cpy:([a-z0-9]{2,5})=$/)!;
    equal(item.answer, s, item.prompt);
    equal(await accOf(copyTask, item, s.slice(1)), 0, "a character short");
    equal(await accOf(copyTask, item, s.toUpperCase()), /[a-z]/.test(s) ? 0 : 1, "case counts");
  }
  ok(all.some((i) => /\d/.test(i.answer)) && all.some((i) => /[a-z]/.test(i.answer)));
  ok(all.some((i) => i.answer.length === 2) && all.some((i) => i.answer.length === 5));
});
