// Tests for word_math: answers recomputed from the prompt's template, the one-number extraction
// rule, and the reward's format credit.

import { equal, ok } from "node:assert/strict";
import { extractNumber, wordMath } from "./word_math.ts";
import { accOf, rewardOf, splitsOf } from "./_testing.ts";

const { all } = await splitsOf(wordMath, { seed: 11, n: 300 });

/** A word problem's answer recomputed from the prompt's template and numbers. */
function wordOracle(p: string): number {
  const rules: [RegExp, (a: number, b: number, c: number) => number][] = [
    [/has (\d+) \w+ and gets (\d+) more\. How many now\?$/, (a, b) => a + b],
    [/has (\d+) \w+ and gives away (\d+)\. How many left\?$/, (a, b) => a - b],
    [/buys (\d+) bags of (\d+) (\w+)\. How many \3\?$/, (a, b) => a * b],
    [/has (\d+) \w+, gets (\d+), then loses (\d+)\. How many now\?$/, (a, b, c) => a + b - c],
    [/has (\d+) packs of (\d+) \w+ and gives away (\d+)\. How many\?$/, (a, b, c) => a * b - c],
    [/has (\d+) \w+\. (\w+) has (\d+) more\. How many has \2\?$/, (a, _, c) => a + c],
    [/has (\d+) \w+\. (\w+) has (\d+) fewer\. How many has \2\?$/, (a, _, c) => a - c],
    [/shares (\d+) \w+ among (\d+) kids\. How many each\?$/, (a, b) => a / b],
  ];
  for (const [re, f] of rules) {
    const m = p.match(re);
    if (m) return f(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  throw new Error(`no template matches '${p}'`);
}

Deno.test("word_math: answers match the templates' arithmetic, in 0-99", async () => {
  const seen = new Set<string>();
  for (const item of all) {
    const y = wordOracle(item.prompt);
    equal(item.answer, String(y), item.prompt);
    ok(Number.isInteger(y) && y >= 0 && y <= 99, item.prompt);
    equal(await accOf(wordMath, item, `${y} ${item.prompt.split(" ")[0]}`), 1, "number + words");
    equal(await accOf(wordMath, item, `${y + 1}`), 0);
    equal(await accOf(wordMath, item, `${y} or ${y + 1}`), 0, "hedging");
    for (const re of [/more\. How many now/, /gives away \d+\. How many left/, /bags/, /loses/]) {
      if (re.test(item.prompt)) seen.add(String(re));
    }
  }
  equal(seen.size, 4, "several templates drawn");
});

Deno.test("extractNumber: exactly one number, else null", () => {
  equal(extractNumber("17"), 17);
  equal(extractNumber("17\n"), 17);
  equal(extractNumber("17 pens"), 17);
  equal(extractNumber("Max has 17"), 17);
  equal(extractNumber("-3"), -3);
  equal(extractNumber("2.5"), 2.5);
  equal(extractNumber(""), null);
  equal(extractNumber("seventeen"), null);
  equal(extractNumber("17 or 18"), null);
  equal(extractNumber("12+5=17"), null);
});

Deno.test("word_math: a wrong answer in the right form earns 0.25, anything else 0", async () => {
  const wm = { id: "w", prompt: "Ann has 3 pens and gets 4 more. How many now?", answer: "7" };
  equal(rewardOf(wordMath, wm, "7\n"), 1);
  equal(rewardOf(wordMath, wm, "7 pens"), 1);
  equal(rewardOf(wordMath, wm, "8"), 0.25);
  equal(rewardOf(wordMath, wm, "7 or 8"), 0, "two numbers: no answer");
  equal(rewardOf(wordMath, wm, "many"), 0);
  equal(await accOf(wordMath, wm, "7.0"), 1, "the number's value counts");
  equal(await accOf(wordMath, wm, "8"), 0);
});
