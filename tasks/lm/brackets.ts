// General skill `brackets` of the tiny LM: say whether a string of ()[] is balanced.
//
//   bal:([)]=  -> no   (1-8 of ()[]; `yes` iff balanced)
//
// Capacity: only ~280 distinct balanced strings exist, so pretraining draws its corpus with
// repeats (tasks/lm/generated.ts); half the draws are balanced, the rest random strings or
// one-character near misses.

import type { Rng } from "../../lib/rng.ts";
import { between, pick, randomString } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/** True when every bracket closes the most recent open one of the same kind. */
export function isBalanced(s: string): boolean {
  const stack: string[] = [];
  for (const c of s) {
    if (c === "(" || c === "[") stack.push(c);
    else if (c === ")" || c === "]") {
      if (stack.pop() !== (c === ")" ? "(" : "[")) return false;
    }
  }
  return stack.length === 0;
}

/** A random balanced string of ()[] of even length `len` (a random walk that must return). */
function balancedBrackets(r: Rng, len: number): string {
  const stack: string[] = [];
  let s = "";
  for (let i = 0; i < len; i++) {
    const left = len - i;
    const open = stack.length === 0 || (stack.length < left && r.int(2) === 0);
    if (open) {
      const c = r.int(2) === 0 ? "(" : "[";
      stack.push(c);
      s += c;
    } else s += stack.pop() === "(" ? ")" : "]";
  }
  return s;
}

/** A bracket string: half balanced, a quarter random, a quarter one-character near misses. */
function bracketString(r: Rng): string {
  const kind = r.int(4);
  if (kind <= 1) return balancedBrackets(r, 2 * between(r, 1, 4));
  if (kind === 2) return randomString(r, "()[]", between(r, 1, 8));
  // Near miss: one character of a balanced string replaced, so length alone cannot tell.
  const s = balancedBrackets(r, 2 * between(r, 1, 4));
  const i = r.int(s.length);
  return s.slice(0, i) + pick(r, ["(", ")", "[", "]"]) + s.slice(i + 1);
}

/** Whether 1-8 brackets of ()[] are balanced: `bal:([)]=` -> `no`. */
export const bracketsTask = defineGeneratedTask({
  id: "brackets",
  version: "1",
  kind: "general",
  description: "say yes if a string of 1-8 brackets ()[] is balanced, else no",
  generator: "`bal:<s>=` with s balanced (half), random or a one-character near miss",
  sizes: SKILL_SIZES,
  draw(r) {
    const s = bracketString(r);
    return { prompt: `bal:${s}=`, answer: isBalanced(s) ? "yes" : "no" };
  },
  // One bracket replaced so that balance flips: `bal:()=` -> `bal:(]=` (answer no); null where
  // no single replacement flips it.
  corrupt(item, r) {
    const s = item.prompt.slice(4, -1);
    const options: { prompt: string; answer: string }[] = [];
    for (let i = 0; i < s.length; i++) {
      for (const c of "()[]") {
        const t = s.slice(0, i) + c + s.slice(i + 1);
        const answer = isBalanced(t) ? "yes" : "no";
        if (c !== s[i] && answer !== item.answer) options.push({ prompt: `bal:${t}=`, answer });
      }
    }
    return options.length === 0 ? null : pick(r, options);
  },
});
