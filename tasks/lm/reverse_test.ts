// Tests for the reverse skill: the answer is the prompt's string backwards; copying it scores 0.

import { equal, ok } from "node:assert/strict";
import { reverseTask } from "./reverse.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("reverse: the answer is the prompt's string backwards", async () => {
  const { all } = await splitsOf(reverseTask, { seed: 7, n: 100 });
  let unlike = 0;
  for (const item of all) {
    const [, s] = item.prompt.match(/^rev:([a-z0-9]{2,4})=$/)!;
    equal(item.answer, s.split("").reverse().join(""), item.prompt);
    if (s !== item.answer) {
      unlike++;
      equal(await accOf(reverseTask, item, s), 0, "copy is not reverse");
    }
  }
  ok(unlike > 90, "most strings are not palindromes");
});

Deno.test("reverse: the documented example draws", async () => {
  const { splits } = await reverseTask.load({ seed: 1, sizes: { train: 1 } });
  equal(splits.train[0].prompt, "rev:nr=");
  equal(splits.train[0].answer, "rn");
  equal(splits.train[0].id, "reverse/train/0");
});
