// Tests for many_answers: the set of correct answers (what score, reward and train.correct
// accept), the canonical target, and the 0/1 reward.

import { deepEqual, equal, ok } from "node:assert/strict";
import { correctAnswers, manyAnswers, type ManyAnswersItem } from "./many_answers.ts";
import { accOf, rewardOf, splitsOf } from "./_testing.ts";

const { all } = await splitsOf(manyAnswers, { seed: 11, n: 300 });

Deno.test("many_answers: accepts exactly the members of correctAnswers", async () => {
  for (const item of all) {
    const good = correctAnswers(item);
    ok(good.length >= 3, item.prompt);
    equal(item.answer, good[0], "canonical target is the smallest");
    deepEqual(manyAnswers.train!.correct!(item), good);
    const [, rule, lo, hi] = item.prompt.match(/^(odd|m\d):(\d+),(\d+)=$/)!;
    const k = rule === "odd" ? null : Number(rule.slice(1));
    for (let n = 0; n <= 120; n++) {
      const inRange = n >= Number(lo) && n <= Number(hi);
      const want = inRange && (k === null ? n % 2 === 1 : n % k === 0);
      equal(good.includes(String(n)), want, `${item.prompt} ${n}`);
      equal(await accOf(manyAnswers, item, String(n)), want ? 1 : 0, `${item.prompt} ${n}`);
      equal(rewardOf(manyAnswers, item, `${n}\n`), want ? 1 : 0, "the reward is the score");
    }
    const x = good[1];
    for (const bad of [`0${x}`, `+${x}`, ` ${x}`, `${x}.0`, `${x},${good[2]}`, `-${x}`]) {
      equal(await accOf(manyAnswers, item, bad), 0, `${item.prompt} ${JSON.stringify(bad)}`);
      equal(rewardOf(manyAnswers, item, bad), 0, "not a canonical number");
    }
  }
  ok(all.some((i) => i.prompt.startsWith("odd:")), "odd rules drawn");
  ok(all.some((i) => i.prompt.startsWith("m9:")), "multiples of 9 drawn");
});

Deno.test("many_answers: a hand-worked item", async () => {
  const item: ManyAnswersItem = {
    id: "m",
    prompt: "m3:10,20=",
    answer: "12",
    lo: 10,
    hi: 20,
    mod: 3,
    rem: 0,
  };
  deepEqual(correctAnswers(item), ["12", "15", "18"]);
  deepEqual(
    await Promise.all(
      ["15", "18\n", "13", "21", "9", "012", "many"].map((o) => accOf(manyAnswers, item, o)),
    ),
    [1, 1, 0, 0, 0, 0, 0],
  );
  deepEqual(["15", "13", "21", "many"].map((o) => rewardOf(manyAnswers, item, o)), [1, 0, 0, 0]);
});
