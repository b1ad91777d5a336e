// Downstream task `many_answers` of the tiny LM: name a number in a range that follows a
// divisibility rule. Like ParityMNIST, many outputs are correct, so RL can keep whichever
// correct answer the model already prefers while SFT must move it onto one canonical answer.
//
//   m3:10,40=  -> 12   (any of 12, 15, ..., 39; `odd:lo,hi=` asks for an odd number)
//
// Capacity: ~27k distinct train prompts and ~7k test ones; asking for more throws.

import type { Rng } from "../../lib/rng.ts";
import { answerText, between, type LmItem } from "./items.ts";
import { defineGeneratedTask, DOWNSTREAM_SIZES } from "./generated.ts";

/** Correct iff `lo <= n <= hi` and `n % mod === rem` (a multiple of k: mod k, rem 0; odd: 2, 1). */
export interface ManyAnswersItem extends LmItem {
  readonly lo: number;
  readonly hi: number;
  readonly mod: number;
  readonly rem: number;
}

/** Every correct answer of a many_answers item, as the canonical decimal strings, ascending. */
export function correctAnswers(item: Omit<ManyAnswersItem, "id">): string[] {
  const out: string[] = [];
  for (let n = item.lo; n <= item.hi; n++) if (n % item.mod === item.rem) out.push(String(n));
  return out;
}

/** Draws a range and rule with at least 3 correct answers (so there is a real choice). */
function drawManyAnswers(r: Rng): Omit<ManyAnswersItem, "id"> {
  for (;;) {
    // Compact, like the pretraining skills' `tag:args=` prompts (the base answers numbers
    // there), and narrow ranges (5-21 numbers), so a base that copies or guesses a nearby
    // number is sometimes right: RL needs some reward to start from.
    const lo = between(r, 1, 90), hi = between(r, lo + 4, Math.min(99, lo + 20));
    const odd = r.int(9) === 0;
    const mod = odd ? 2 : between(r, 2, 9), rem = odd ? 1 : 0;
    const rule = odd ? "odd" : `m${mod}`;
    const item = { prompt: `${rule}:${lo},${hi}=`, answer: "", lo, hi, mod, rem };
    const all = correctAnswers(item);
    // Canonical SFT answer: the smallest correct number (fixed, like ParityMNIST's sft1).
    if (all.length >= 3) return { ...item, answer: all[0] };
  }
}

/** 1 iff the output is a canonical decimal (no sign, no leading zero) satisfying the rule. */
function scoreManyAnswers(item: ManyAnswersItem, output: string): 0 | 1 {
  const s = answerText(output);
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return 0;
  const n = Number(s);
  return n >= item.lo && n <= item.hi && n % item.mod === item.rem ? 1 : 0;
}

/** Name a number in a range with a divisibility rule; any such number is correct. */
export const manyAnswers = defineGeneratedTask<ManyAnswersItem>({
  id: "many_answers",
  version: "2",
  kind: "downstream",
  description: "name a number in a range that is a multiple of k (or odd); any such is correct",
  generator: "`m<k>:<lo>,<hi>=` or `odd:<lo>,<hi>=`, ranges of 5-21 numbers in 1-99, >= 3 answers",
  sizes: DOWNSTREAM_SIZES,
  draw: drawManyAnswers,
  score: scoreManyAnswers,
  // The reward is the score, 1 or 0 (version 2). Version 1 gave format credit (0.5 for a number
  // in the range, 0.25 for any number) for a base that never wrote one; the base now answers in
  // the format, and GRPO climbed the credit (train reward 0.38 → 0.57) without answering right
  // more often (docs/lm_base_study.md §5). A 0/1 reward also gives RIF-RFT groups to filter.
  correct: correctAnswers,
});
