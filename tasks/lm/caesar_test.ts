// Tests for caesar: the shift, exact-match scoring and the per-character reward.

import { equal } from "node:assert/strict";
import { caesar, type CaesarItem, caesarShift } from "./caesar.ts";
import { accOf, rewardOf, splitsOf } from "./_testing.ts";

Deno.test("caesar: answers are the prompt's word shifted; the unshifted word scores 0", async () => {
  equal(caesarShift("hello", 2), "jgnnq");
  equal(caesarShift("xyz", 3), "abc");
  const { all } = await splitsOf(caesar, { seed: 11, n: 300 });
  for (const item of all) {
    const [, k, word] = item.prompt.match(/^shift letters by ([1-3]): ([a-z]{3,8})$/)!;
    equal(item.shift, +k);
    equal(item.answer, caesarShift(word, +k));
    equal(await accOf(caesar, item, word), 0, "unshifted");
    equal(await accOf(caesar, item, caesarShift(word, +k + 1)), 0, "shifted once too often");
  }
});

Deno.test("caesar: exact-match score, per-character reward", async () => {
  const item: CaesarItem = {
    id: "c",
    prompt: "shift letters by 2: hello",
    answer: "jgnnq",
    shift: 2,
  };
  equal(rewardOf(caesar, item, "jgnnx"), 0.8);
  equal(await accOf(caesar, item, "jgnnx"), 0);
  equal(rewardOf(caesar, item, "jgnnqq"), 5 / 6, "extra characters cost");
  equal(await accOf(caesar, item, "jgnnqq"), 0);
  equal(rewardOf(caesar, item, "jg"), 0.4);
  equal(rewardOf(caesar, item, "jgnnq\n"), 1);
  equal(rewardOf(caesar, item, ""), 0);
});
