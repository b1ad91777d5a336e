// Tests for word_math: answers recomputed from the prompt's template, the one-number extraction
// rule, and the reward's format credit.

import { equal, ok } from "node:assert/strict";
import { extractNumber, wordMath } from "./word_math.ts";
import { accOf, rewardOf, splitsOf } from "./_testing.ts";
import { MAX_WORD_PROMPT } from "./items.ts";

const { all } = await splitsOf(wordMath, { seed: 11, n: 300 });

/** A word problem's answer recomputed from the prompt's template and numbers. */
function wordOracle(p: string): number {
  const two = /^(\w+) has (\d+) \w+ and (\w+) has (\d+)\. How many has (.+)\?$/;
  const t = p.match(two);
  if (t) {
    const a = Number(t[2]), b = Number(t[4]), who = t[5];
    if (who === t[1]) return a;
    if (who === t[3]) return b;
    if (who === "the one with more") return Math.max(a, b);
    if (who === "the one with fewer") return Math.min(a, b);
  }
  const rules: [RegExp, (a: number, b: number) => number][] = [
    [/has (\d+) \w+ and gets (\d+) more\. How many now\?$/, (a, b) => a + b],
    [/has (\d+) \w+ and gives away (\d+)\. How many left\?$/, (a, b) => a - b],
  ];
  for (const [re, f] of rules) {
    const m = p.match(re);
    if (m) return f(Number(m[1]), Number(m[2]));
  }
  throw new Error(`no template matches '${p}'`);
}

Deno.test("word_math: answers match the templates (read, more, fewer, add, take away)", async () => {
  const seen = new Set<string>();
  for (const item of all) {
    const y = wordOracle(item.prompt);
    equal(item.answer, String(y), item.prompt);
    ok(Number.isInteger(y) && y >= 0 && y <= 99, item.prompt);
    equal(await accOf(wordMath, item, `${y} ${item.prompt.split(" ")[0]}`), 1, "number + words");
    equal(await accOf(wordMath, item, `${y + 1}`), 0);
    equal(await accOf(wordMath, item, `${y} or ${y + 1}`), 0, "hedging");
    for (
      const re of [/How many has [A-Z]/, /with more/, /with fewer/, /more\. How many now/, /left/]
    ) {
      if (re.test(item.prompt)) seen.add(String(re));
    }
    ok(item.prompt.length <= MAX_WORD_PROMPT, item.prompt);
    const nums = item.prompt.match(/\d+/g)!.map(Number);
    if (/gets|gives/.test(item.prompt)) ok(nums.every((x) => x <= 20), item.prompt);
    else ok(nums[0] !== nums[1], `two different counts: ${item.prompt}`);
  }
  equal(seen.size, 5, "every template drawn");
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
