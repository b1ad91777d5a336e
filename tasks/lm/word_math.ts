// Downstream task `word_math` of the tiny LM: templated word problems with one or two
// operations; answers are 0-99, and the single number in the output counts.
//
//   Ann has 12 pens and gets 5 more. How many now?  -> 17
//
// Capacity: over 30k distinct prompts in each split.

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
  switch (r.int(8)) {
    case 0: {
      const a = between(r, 2, 60), b = between(r, 2, 99 - a);
      return q(`${n} has ${a} ${o}s and gets ${b} more. How many now?`, a + b);
    }
    case 1: {
      const a = between(r, 3, 99), b = between(r, 1, a - 1);
      return q(`${n} has ${a} ${o}s and gives away ${b}. How many left?`, a - b);
    }
    case 2: {
      const a = between(r, 2, 9), b = between(r, 2, 9);
      return q(`${n} buys ${a} bags of ${b} ${o}s. How many ${o}s?`, a * b);
    }
    case 3: {
      const a = between(r, 2, 50), b = between(r, 1, 40), c = between(r, 1, a + b - 1);
      return q(`${n} has ${a} ${o}s, gets ${b}, then loses ${c}. How many now?`, a + b - c);
    }
    case 4: {
      const a = between(r, 2, 9), b = between(r, 2, 9), c = between(r, 1, a * b - 1);
      return q(`${n} has ${a} packs of ${b} ${o}s and gives away ${c}. How many?`, a * b - c);
    }
    case 5: {
      const a = between(r, 1, 60), b = between(r, 1, 99 - a);
      return q(`${n} has ${a} ${o}s. ${m} has ${b} more. How many has ${m}?`, a + b);
    }
    case 6: {
      const a = between(r, 2, 99), b = between(r, 1, a - 1);
      return q(`${n} has ${a} ${o}s. ${m} has ${b} fewer. How many has ${m}?`, a - b);
    }
    default: {
      const each = between(r, 2, 12), kids = between(r, 2, Math.min(9, Math.floor(99 / each)));
      return q(`${n} shares ${each * kids} ${o}s among ${kids} kids. How many each?`, each);
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

/** Templated arithmetic word problems (1-2 operations); the single number in the output counts. */
export const wordMath = defineGeneratedTask({
  id: "word_math",
  version: "1",
  kind: "downstream",
  description: "templated word problems with 1-2 operations, answers 0-99",
  generator: "8 word-problem templates (add, take away, multiply, share) with names and objects",
  sizes: DOWNSTREAM_SIZES,
  draw: drawWordMath,
  score: scoreWordMath,
  // 1 if right, 0.25 for an answer holding exactly one (wrong) number, else 0: format credit,
  // because a group-normalised advantage needs rewards that differ within a group, and a tiny
  // base model that never answers right still writes a number sometimes.
  reward: (item, output) =>
    scoreWordMath(item, output) || (extractNumber(output) === null ? 0 : 0.25),
});
