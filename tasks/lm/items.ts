// Shared shape of the procedurally generated character-level LM tasks: an item is a prompt and
// a canonical answer; the model sees `prompt` and writes the answer then "\n". Splits are fixed
// by hashing the prompt, so train and heldout never share a prompt whatever the seed.

import { ValidationError } from "../../lib/errors.ts";
import { hashString, type Rng, rng } from "../../lib/rng.ts";

/** One prompt/answer pair. Prompts and answers are printable ASCII without "\n". */
export interface LmItem {
  /** `task/split/index`: unique within one generated set. */
  readonly id: string;
  readonly prompt: string;
  /** The canonical answer (the SFT target), without the terminating "\n". */
  readonly answer: string;
}

/** The two splits: `train` feeds (pre/post-)training, `heldout` only evaluation. */
export type Split = "train" | "heldout";

/** What every generator takes. */
export interface GenerateOptions {
  /** Data seed: same seed, same items, on every machine. */
  readonly seed: number;
  /** How many distinct items to draw. */
  readonly n: number;
  readonly split: Split;
}

/** Longest prompt any task writes (a tiny model's context is 128–256 characters). */
export const MAX_PROMPT = 60;
/** Longest answer of the skills and of every downstream task but `tool_call`. */
export const MAX_ANSWER = 24;
/** Longest answer of `tool_call`, whose JSON envelope alone takes ~30 characters. */
export const MAX_JSON_ANSWER = 48;

// One prompt in HELDOUT_EVERY goes to heldout: enough for a stable accuracy, most for training.
const HELDOUT_EVERY = 5;

/**
 * The split a prompt belongs to. A function of the task and the prompt alone (not the seed),
 * so a heldout prompt can never be drawn for training by any seed.
 */
export function splitOf(task: string, prompt: string): Split {
  return hashString(`${task}\u0000${prompt}`) % HELDOUT_EVERY === 0 ? "heldout" : "train";
}

/**
 * Draws `opts.n` items with distinct prompts from `draw`, keeping only prompts of `opts.split`.
 * Throws a ValidationError when the task's space cannot supply that many (so a too-large `n`
 * fails loudly instead of looping or silently repeating items).
 */
export function generateDistinct<I extends LmItem>(
  task: string,
  opts: GenerateOptions & { draw: (r: Rng) => Omit<I, "id"> },
): I[] {
  const { seed, n, split, draw } = opts;
  const where = `tasks/lm '${task}'`;
  if (!Number.isInteger(n) || n < 0) {
    throw new ValidationError(where, `n must be a non-negative integer, got ${n}`);
  }
  if (split !== "train" && split !== "heldout") {
    throw new ValidationError(where, `split must be 'train' or 'heldout', got '${split}'`);
  }
  // Separate streams per task and split: asking for more heldout items never shifts train.
  const r = rng(seed, hashString(task), hashString(split));
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
