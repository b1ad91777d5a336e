// Downstream task `caesar` of the tiny LM: shift every letter of a word by k (wrapping z -> a).
// A new algorithm, unlike the pretraining skills, with a dense reward (share of right
// characters) for RL.
//
//   shift letters by 2: hello  -> jgnnq
//
// Capacity: over 30k distinct prompts in each split.

import type { Rng } from "../../lib/rng.ts";
import { answerText, between, type LmItem } from "./items.ts";
import { defineGeneratedTask, DOWNSTREAM_SIZES } from "./generated.ts";

/** A caesar item: the word and the shift. */
export interface CaesarItem extends LmItem {
  readonly shift: number;
}

/** Shifts lower-case letters by `k` places, wrapping around the alphabet. */
export function caesarShift(word: string, k: number): string {
  return [...word].map((c) => String.fromCharCode(97 + (c.charCodeAt(0) - 97 + k) % 26)).join("");
}

/** Draws a random 3-8 letter word and a shift of 1-3. */
function drawCaesar(r: Rng): Omit<CaesarItem, "id"> {
  const len = between(r, 3, 8), shift = between(r, 1, 3);
  let word = "";
  for (let i = 0; i < len; i++) word += String.fromCharCode(97 + r.int(26));
  return { prompt: `shift letters by ${shift}: ${word}`, answer: caesarShift(word, shift), shift };
}

/**
 * Reward: the share of positions where output and answer agree, over the longer of the two
 * (so extra or missing characters cost), in [0, 1]; 1 only for the exact answer.
 */
function rewardCaesar(item: CaesarItem, output: string): number {
  const s = answerText(output), a = item.answer;
  let same = 0;
  for (let i = 0; i < Math.min(s.length, a.length); i++) if (s[i] === a[i]) same++;
  return same / Math.max(s.length, a.length);
}

/** Shift each letter of a word by 1-3 places; dense per-character reward, exact-match score. */
export const caesar = defineGeneratedTask<CaesarItem>({
  id: "caesar",
  version: "1",
  kind: "downstream",
  description: "shift each letter of a 3-8 letter word by 1-3 places",
  generator: "`shift letters by <k>: <word>` with a random 3-8 letter word and k in 1-3",
  sizes: DOWNSTREAM_SIZES,
  draw: drawCaesar,
  reward: rewardCaesar,
});
