// General skills for pretraining the tiny character-level LM and for the held-out "general
// panel" that measures forgetting: copy, reversal, sorting, arithmetic, comparison, bracket
// matching and key-value lookup. Each is a compact `tag:input=` prompt with an exact answer.
//
//   copy      cpy:k3xq=           -> k3xq        (2-5 letters/digits)
//   reverse   rev:abc=            -> cba         (2-4 letters/digits)
//   sort      srt:314=            -> 134         (2-4 digits, or 2-4 letters; by char code)
//   arith     12+3=  / 17-13=     -> 15 / 4      (operands 0-20, results 0-40)
//   compare   cmp:47,52=          -> <           (0-99; `<`, `>` or `=`, ~20% equal)
//   brackets  bal:([)]=           -> no          (1-8 of ()[]; `yes` iff balanced)
//   lookup    kv:a=3 b=71 c=1;b=  -> 71         (2-3 distinct keys, values 0-99)
//
// The sizes are small on purpose: a ~0.5M-parameter model must learn all seven in a few
// minutes on two CPU cores (with 2-12-character strings it had not after 11 minutes).
// Capacity: arith has only ~670 distinct prompts and brackets ~280 balanced ones, so
// pretraining draws its corpus with repeats (`sampleSkill`); the heldout panel uses distinct
// prompts (`generateSkill`), never seen in training whatever the seed.

import {
  answerText,
  between,
  generateDistinct,
  type GenerateOptions,
  type LmItem,
  pick,
  splitOf,
} from "./items.ts";
import { hashString, permutation, type Rng, rng } from "../../lib/rng.ts";

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
  if (kind <= 1) return balancedBrackets(r, 2 * between(r, 1, 4));
  if (kind === 2) return randomString(r, "()[]", between(r, 1, 8));
  // Near miss: one character of a balanced string replaced, so length alone cannot tell.
  const s = balancedBrackets(r, 2 * between(r, 1, 4));
  const i = r.int(s.length);
  return s.slice(0, i) + pick(r, ["(", ")", "[", "]"]) + s.slice(i + 1);
}

/** Draws one skill item's prompt and answer. */
function drawSkill(skill: SkillName, r: Rng): { prompt: string; answer: string } {
  switch (skill) {
    case "copy": {
      const s = randomString(r, ALNUM, between(r, 2, 5));
      return { prompt: `cpy:${s}=`, answer: s };
    }
    case "reverse": {
      const s = randomString(r, ALNUM, between(r, 2, 4));
      return { prompt: `rev:${s}=`, answer: [...s].reverse().join("") };
    }
    case "sort": {
      const s = randomString(r, r.int(2) === 0 ? DIGITS : LETTERS, between(r, 2, 4));
      return { prompt: `srt:${s}=`, answer: [...s].sort().join("") };
    }
    case "arith": {
      const a = between(r, 0, 20);
      if (r.int(2) === 0) {
        const b = between(r, 0, 20);
        return { prompt: `${a}+${b}=`, answer: String(a + b) };
      }
      const b = between(r, 0, a);
      return { prompt: `${a}-${b}=`, answer: String(a - b) };
    }
    case "compare": {
      const a = between(r, 0, 99);
      // Uniform pairs are rarely equal; force ~20% so `=` is learnt too.
      const b = r.int(5) === 0 ? a : between(r, 0, 99);
      return { prompt: `cmp:${a},${b}=`, answer: a < b ? "<" : a > b ? ">" : "=" };
    }
    case "brackets": {
      const s = bracketString(r);
      return { prompt: `bal:${s}=`, answer: isBalanced(s) ? "yes" : "no" };
    }
    case "lookup": {
      const keys = permutation(26, r).slice(0, between(r, 2, 3)).map((k) => LETTERS[k]);
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

/**
 * `opts.n` items of one skill drawn independently from `opts.split` (repeats allowed, as in a
 * pretraining corpus); deterministic in the seed. Only prompts of the split are kept.
 */
export function sampleSkill(name: SkillName, opts: GenerateOptions): SkillItem[] {
  const r = rng(opts.seed, hashString(`corpus:${name}`), hashString(opts.split));
  const items: SkillItem[] = [];
  while (items.length < opts.n) {
    const x = drawSkill(name, r);
    if (splitOf(name, x.prompt) === opts.split) {
      items.push({ skill: name, ...x, id: `${name}/${opts.split}/${items.length}` });
    }
  }
  return items;
}

/** 1 when the output (trailing whitespace removed) is exactly the answer, else 0. */
export function scoreSkill(item: LmItem, output: string): 0 | 1 {
  return answerText(output) === item.answer ? 1 : 0;
}
