// Downstream task `word_math` of the tiny LM: templated word problems built on the base's skills:
// read a count off the text (lookup), name the larger or smaller count (compare, then copy), or
// add and subtract numbers 0-20 (arith's range). The single number in the output counts.
//
//   Ann has 12 pens and Bob has 5. How many has the one with more?  -> 12
//   Ann has 7 pens and gets 5 more. How many now?                    -> 12
//
// Version 2: version 1's problems (answers up to 99, products, two operations) needed arithmetic
// a 0.5M-parameter base does not have (its `arith` panel score is ~0.1), so no trainer learned
// them (docs/lm_base_study.md). Capacity: over 30k distinct prompts in each split.

import type { Rng } from "../../lib/rng.ts";
import { answerText, between, type LmItem, pick } from "./items.ts";
import { defineGeneratedTask, DOWNSTREAM_SIZES } from "./generated.ts";

const NAMES = ["Ann", "Bob", "Cy", "Dee", "Eve", "Max", "Sam", "Zoe", "Tom", "Lia", "Ben", "Kim"];
const OBJECTS = ["apple", "pen", "card", "coin", "egg", "cup", "book", "stamp", "ball", "kite"];

/** Draws one word problem: a template with fresh names, object and numbers. */
function drawWordMath(r: Rng): Omit<LmItem, "id"> {
  const n = pick(r, NAMES), o = pick(r, OBJECTS);
  const m = pick(r, NAMES.filter((x) => x !== n));
  const q = (prompt: string, answer: number) => ({ prompt, answer: String(answer) });
  // Two different counts 1-99 (b uniform over the 98 numbers other than a).
  const a = between(r, 1, 99), b0 = between(r, 1, 98), b = b0 >= a ? b0 + 1 : b0;
  const two = `${n} has ${a} ${o}s and ${m} has ${b}.`;
  switch (r.int(6)) {
    case 0:
      return q(`${two} How many has ${m}?`, b);
    case 1:
      return q(`${two} How many has ${n}?`, a);
    case 2:
      return q(`${two} How many has the one with more?`, Math.max(a, b));
    case 3:
      return q(`${two} How many has the one with fewer?`, Math.min(a, b));
    case 4: {
      const x = between(r, 0, 20), y = between(r, 0, 20);
      return q(`${n} has ${x} ${o}s and gets ${y} more. How many now?`, x + y);
    }
    default: {
      const x = between(r, 1, 20), y = between(r, 0, x);
      return q(`${n} has ${x} ${o}s and gives away ${y}. How many left?`, x - y);
    }
  }
}

/**
 * The number a word_math output answers with: the output (trailing whitespace dropped) must
 * hold exactly one number (`-?digits` with an optional `.digits`); "17", "17 pens" and
 * "Max has 17" give 17. No number, or several ("17 or 18"), gives null, so hedging scores 0.
 */
export function extractNumber(output: string): number | null {
  const nums = answerText(output).match(/-?\d+(?:\.\d+)?/g) ?? [];
  return nums.length === 1 ? Number(nums[0]) : null;
}

/** 1 iff the one number in the output equals the answer (see `extractNumber`). */
function scoreWordMath(item: LmItem, output: string): 0 | 1 {
  return extractNumber(output) === Number(item.answer) ? 1 : 0;
}

/** Templated word problems over the base's skills; the single number in the output counts. */
export const wordMath = defineGeneratedTask({
  id: "word_math",
  version: "2",
  kind: "downstream",
  description: "word problems: read a count, pick the larger/smaller, add/subtract 0-20",
  generator: "6 word-problem templates (read, more, fewer, add, take away) with names and objects",
  sizes: DOWNSTREAM_SIZES,
  draw: drawWordMath,
  score: scoreWordMath,
  // 1 if right, 0.25 for an answer holding exactly one (wrong) number, else 0: format credit,
  // because a group-normalised advantage needs rewards that differ within a group, and a tiny
  // base model that never answers right still writes a number sometimes.
  reward: (item, output) =>
    scoreWordMath(item, output) || (extractNumber(output) === null ? 0 : 0.25),
});
