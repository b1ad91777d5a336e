// Shared item machinery of the procedurally generated character-level LM tasks: an item is a
// prompt and a canonical answer; the model sees `prompt` and writes the answer then "\n". Which
// split a prompt belongs to is fixed by hashing the prompt, so train and test never share a
// prompt whatever the seed. tasks/lm/generated.ts turns a task's draw into a Task.

import { ValidationError } from "../../lib/errors.ts";
import { hashString, type Rng, rng } from "../../lib/rng.ts";
import type { Item } from "../task.ts";

/** One prompt/answer pair. Prompts and answers are printable ASCII without "\n". */
export interface LmItem extends Item {
  /** `task/split/index`: unique within one generated set. */
  readonly id: string;
  readonly prompt: string;
  /** The canonical answer (the SFT target), without the terminating "\n". */
  readonly answer: string;
}

/** The two prompt sets: `train` feeds (pre/post-)training, `test` only evaluation. */
export type Split = "train" | "test";

/** What every generator takes. */
export interface GenerateOptions {
  /** Data seed: same seed, same items, on every machine. */
  readonly seed: number;
  /** How many distinct items to draw. */
  readonly n: number;
  readonly split: Split;
}

/**
 * Longest prompt of every task but word_math (a tiny model's context is 128–256 characters);
 * science_mc shows 3 options where 4 would not fit.
 */
export const MAX_PROMPT = 60;
/** Longest word_math prompt (version 2's comparison questions run to 66 characters). */
export const MAX_WORD_PROMPT = 72;
/** Longest answer of the skills and of every downstream task but `tool_call`. */
export const MAX_ANSWER = 24;
/** Longest answer of `tool_call`, whose JSON envelope alone takes ~30 characters. */
export const MAX_JSON_ANSWER = 48;

// One prompt in TEST_EVERY goes to test: enough for a stable accuracy, most for training.
const TEST_EVERY = 5;

// The salt of each split's random stream. The test split was called "heldout" before the Task
// interface; its stream keeps that salt so that a seed still draws the items earlier results
// were measured on.
const STREAM_SALT: Readonly<Record<Split, string>> = { train: "train", test: "heldout" };

/**
 * The split a prompt belongs to. A function of the task and the prompt alone (not the seed),
 * so a test prompt can never be drawn for training by any seed.
 */
export function splitOf(task: string, prompt: string): Split {
  return hashString(`${task}\u0000${prompt}`) % TEST_EVERY === 0 ? "test" : "train";
}

/** Throws unless `n` is a count of items. */
function checkCount(where: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new ValidationError(where, `n must be a non-negative integer, got ${n}`);
  }
}

/**
 * Draws `opts.n` items with distinct prompts from `draw`, keeping only prompts of `opts.split`.
 * Throws a ValidationError when the task's space cannot supply that many (so a too-large `n`
 * fails loudly instead of looping or silently repeating items).
 *
 * @example
 * const draw = (r: Rng) => ({ prompt: `x${r.int(1000)}=`, answer: "y" });
 * generateDistinct("t", { seed: 1, n: 2, split: "test", draw }); // ids t/test/0, t/test/1
 */
export function generateDistinct<I extends LmItem>(
  task: string,
  opts: GenerateOptions & { draw: (r: Rng) => Omit<I, "id"> },
): I[] {
  const { seed, n, split, draw } = opts;
  const where = `tasks/lm '${task}'`;
  checkCount(where, n);
  if (split !== "train" && split !== "test") {
    throw new ValidationError(where, `split must be 'train' or 'test', got '${split}'`);
  }
  // Separate streams per task and split: asking for more test items never shifts train.
  const r = rng(seed, hashString(task), hashString(STREAM_SALT[split]));
  const seen = new Set<string>(), items: I[] = [];
  // Rejection sampling; the bound only trips when the space is (nearly) exhausted.
  const maxDraws = 200 * n + 20_000;
  for (let k = 0; k < maxDraws && items.length < n; k++) {
    const x = draw(r);
    if (seen.has(x.prompt)) continue;
    seen.add(x.prompt);
    if (splitOf(task, x.prompt) !== split) continue;
    items.push({ ...x, id: `${task}/${split}/${items.length}` } as I);
  }
  if (items.length < n) {
    throw new ValidationError(
      where,
      `found only ${items.length} distinct ${split} items of ${n} asked; ask for fewer`,
    );
  }
  return items;
}

/**
 * `opts.n` items drawn independently from the train prompts (repeats allowed, as in a
 * pretraining corpus; arith has only ~540 train prompts), ids `task/pretrain/k`; deterministic
 * in the seed. Test prompts are never drawn.
 */
export function sampleCorpus<I extends LmItem>(
  task: string,
  opts: { seed: number; n: number; draw: (r: Rng) => Omit<I, "id"> },
): I[] {
  checkCount(`tasks/lm '${task}'`, opts.n);
  // The stream of the old `sampleSkill(task, { split: "train" })`, so corpora stay the same.
  const r = rng(opts.seed, hashString(`corpus:${task}`), hashString("train"));
  const items: I[] = [];
  while (items.length < opts.n) {
    const x = opts.draw(r);
    if (splitOf(task, x.prompt) === "train") {
      items.push({ ...x, id: `${task}/pretrain/${items.length}` } as I);
    }
  }
  return items;
}

/**
 * The answer part of a model output: trailing whitespace (the terminating "\n") removed,
 * nothing else. Leading spaces or text after the answer still count against the output; the
 * sampler is expected to stop at the first "\n".
 */
export function answerText(output: string): string {
  return output.replace(/\s+$/, "");
}

/** True when every character is printable ASCII (space to `~`): what prompts and answers use. */
export function isPrintableAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** Uniform integer in [lo, hi] (both inclusive). */
export function between(r: Rng, lo: number, hi: number): number {
  return lo + r.int(hi - lo + 1);
}

/** A uniformly drawn element of a non-empty list. */
export function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[r.int(xs.length)];
}

/** Lower-case letters, the alphabet of several skills. */
export const LETTERS = "abcdefghijklmnopqrstuvwxyz";
/** Decimal digits. */
export const DIGITS = "0123456789";
/** Letters then digits (copy and reverse strings). */
export const ALNUM = LETTERS + DIGITS;

/** `len` characters drawn uniformly (with repeats) from `alphabet`. */
export function randomString(r: Rng, alphabet: string, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

/**
 * `s` with one character, at a position drawn from `r`, replaced by a different character of
 * `alphabet` (counterfactuals of the string skills); null when `alphabet` has no other one.
 */
export function changeOne(r: Rng, s: string, alphabet: string): string | null {
  if (s.length === 0) return null;
  const i = r.int(s.length);
  const others = [...alphabet].filter((c) => c !== s[i]);
  return others.length === 0 ? null : s.slice(0, i) + pick(r, others) + s.slice(i + 1);
}

/**
 * The counterfactual of a `<tag><s>=` prompt whose answer is a function of s alone: one
 * character of s changed within `alphabet`, kept only where the answer changes (copy, reverse,
 * sort).
 */
export function corruptString(
  r: Rng,
  item: { prompt: string; answer: string },
  opts: { tag: string; alphabet: (s: string) => string; answer: (s: string) => string },
): { prompt: string; answer: string } | null {
  const s = item.prompt.slice(opts.tag.length, -1);
  const t = changeOne(r, s, opts.alphabet(s));
  if (t === null) return null;
  const answer = opts.answer(t);
  return answer === item.answer ? null : { prompt: `${opts.tag}${t}=`, answer };
}
