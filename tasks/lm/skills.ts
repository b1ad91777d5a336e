// General skills for pretraining the tiny character-level LM and for the held-out "general
// panel" that measures forgetting: copy, reversal, sorting, arithmetic, comparison, bracket
// matching and key-value lookup. Each is a compact `tag:input=` prompt with an exact answer.
//
//   copy      cpy:k3xq=           -> k3xq        (2-12 letters/digits)
//   reverse   rev:abc=            -> cba         (2-12 letters/digits)
//   sort      srt:3141=           -> 1134        (2-12 digits, or 2-12 letters; by char code)
//   arith     12+34=  / 57-13=    -> 46 / 44     (operands and results in 0-99)
//   compare   cmp:47,52=          -> <           (0-999; `<`, `>` or `=`, ~20% equal)
//   brackets  bal:([)]=           -> no          (1-12 of ()[]; `yes` iff balanced)
//   lookup    kv:a=3 b=71 c=1;b=  -> 71         (2-6 distinct keys, values 0-99)
//
// Capacity: arith has ~10k distinct prompts (~8k train, ~2k heldout); the others are
// effectively unbounded (>30k per split). Asking for more than exist throws.

import {
  answerText,
  between,
  generateDistinct,
  type GenerateOptions,
  type LmItem,
  pick,
} from "./items.ts";
import { permutation, type Rng } from "../../lib/rng.ts";

/** The skills, in a fixed order (mixtures and reports iterate over this). */
export const SKILL_NAMES = [
  "copy",
  "reverse",
  "sort",
  "arith",
  "compare",
  "brackets",
  "lookup",
] as const;

/** One general skill. */
export type SkillName = typeof SKILL_NAMES[number];

/** A general-skill item: which skill it exercises, besides the prompt and answer. */
export interface SkillItem extends LmItem {
  readonly skill: SkillName;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const ALNUM = LETTERS + "0123456789";
const DIGITS = "0123456789";

/** `len` characters drawn uniformly (with repeats) from `alphabet`. */
function randomString(r: Rng, alphabet: string, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

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
  if (kind <= 1) return balancedBrackets(r, 2 * between(r, 1, 6));
  if (kind === 2) return randomString(r, "()[]", between(r, 1, 12));
  // Near miss: one character of a balanced string replaced, so length alone cannot tell.
  const s = balancedBrackets(r, 2 * between(r, 1, 6));
  const i = r.int(s.length);
  return s.slice(0, i) + pick(r, ["(", ")", "[", "]"]) + s.slice(i + 1);
}

/** Draws one skill item's prompt and answer. */
function drawSkill(skill: SkillName, r: Rng): { prompt: string; answer: string } {
  switch (skill) {
    case "copy": {
      const s = randomString(r, ALNUM, between(r, 2, 12));
      return { prompt: `cpy:${s}=`, answer: s };
    }
    case "reverse": {
      const s = randomString(r, ALNUM, between(r, 2, 12));
      return { prompt: `rev:${s}=`, answer: [...s].reverse().join("") };
    }
    case "sort": {
      const s = randomString(r, r.int(2) === 0 ? DIGITS : LETTERS, between(r, 2, 12));
      return { prompt: `srt:${s}=`, answer: [...s].sort().join("") };
    }
    case "arith": {
      const a = between(r, 0, 99);
      if (r.int(2) === 0) {
        const b = between(r, 0, 99 - a);
        return { prompt: `${a}+${b}=`, answer: String(a + b) };
      }
      const b = between(r, 0, a);
      return { prompt: `${a}-${b}=`, answer: String(a - b) };
    }
    case "compare": {
      const a = between(r, 0, 999);
      // Uniform pairs are almost never equal; force ~20% so `=` is learnt too.
      const b = r.int(5) === 0 ? a : between(r, 0, 999);
      return { prompt: `cmp:${a},${b}=`, answer: a < b ? "<" : a > b ? ">" : "=" };
    }
    case "brackets": {
      const s = bracketString(r);
      return { prompt: `bal:${s}=`, answer: isBalanced(s) ? "yes" : "no" };
    }
    case "lookup": {
      const keys = permutation(26, r).slice(0, between(r, 2, 6)).map((k) => LETTERS[k]);
      const values = keys.map(() => between(r, 0, 99));
      const q = r.int(keys.length);
      const table = keys.map((k, i) => `${k}=${values[i]}`).join(" ");
      return { prompt: `kv:${table};${keys[q]}=`, answer: String(values[q]) };
    }
  }
}

/**
 * `opts.n` distinct items of one skill for `opts.split`, the same for the same seed. Train and
 * heldout never share a prompt (see `splitOf`).
 *
 * @example
 * generateSkill("reverse", { seed: 1, n: 2, split: "train" });
 * // [{ skill: "reverse", prompt: "rev:nr1ff=", answer: "ff1rn", id: "reverse/train/0" }, ...]
 */
export function generateSkill(name: SkillName, opts: GenerateOptions): SkillItem[] {
  return generateDistinct<SkillItem>(name, {
    ...opts,
    draw: (r) => ({ skill: name, ...drawSkill(name, r) }),
  });
}

/** 1 when the output (trailing whitespace removed) is exactly the answer, else 0. */
export function scoreSkill(item: LmItem, output: string): 0 | 1 {
  return answerText(output) === item.answer ? 1 : 0;
}
