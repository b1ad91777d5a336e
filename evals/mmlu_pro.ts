// MMLU-Pro 5-shot chain-of-thought prompting and answer extraction, reproducing TIGER-Lab's
// evaluate_from_local.py exactly: the prompt byte for byte, and the regex cascade with Python `re`
// semantics rebuilt in JS regexes (see docs/metrics.md "Benchmark scoring").

/**
 * The official instruction (cot_prompt_lib/initial_prompt.txt, verbatim, with its three trailing
 * newlines); `{$}` is replaced by the category. evaluate_from_local.py appends one more "\n" after
 * the substitution, so the first "Question:" follows four newlines.
 */
export const MMLU_PRO_INITIAL_PROMPT =
  'The following are multiple choice questions (with answers) about {$}. Think step by step and then finish your answer with "the answer is (X)" where X is the correct letter choice.\n\n\n';

/** Generation stops at the next "Question:", as the official vLLM SamplingParams(stop=…) does. */
export const MMLU_PRO_STOP: readonly string[] = ["Question:"];

/** The official max_new_tokens (SamplingParams max_tokens) for the chain of thought. */
export const MMLU_PRO_MAX_NEW_TOKENS = 2048;

/**
 * The official max_model_length: a prompt is used only when its token count is
 * < MMLU_PRO_MAX_MODEL_LENGTH − MMLU_PRO_MAX_NEW_TOKENS, otherwise one shot fewer is tried
 * (see {@link fitMmluProPrompt}).
 */
export const MMLU_PRO_MAX_MODEL_LENGTH = 4096;

/** The official sampling temperature: 0, i.e. greedy decoding. */
export const MMLU_PRO_TEMPERATURE = 0;

/** The official number of shots (evaluate_from_local.py `--ntrain`, default 5). */
export const MMLU_PRO_SHOTS = 5;

/** Option letters: MMLU-Pro has at most 10 options and the extraction knows only A–J. */
export const MMLU_PRO_LETTERS = "ABCDEFGHIJ";

/** A test item as the prompt needs it: the question and its options (dataset order). */
export interface MmluProItem {
  question: string;
  options: readonly string[];
}

/** A validation-split example: an item plus its category and worked chain of thought. */
export interface MmluProExample extends MmluProItem {
  category: string;
  /** Starts "A: Let's think step by step." and ends "The answer is (X)." in the dataset. */
  cot_content: string;
}

// The official replacement that turns the dataset's "A:" (for Answer) into "Answer:", so that the
// shots end the same way as the final "Answer: Let's think step by step." cue.
const COT_FROM = "A: Let's think step by step.";
const COT_TO = "Answer: Let's think step by step.";

/**
 * The few-shot examples the official code uses for a category: the first `k` validation examples
 * whose `category` equals it, in validation-split order (evaluate_from_local.py
 * `select_by_category(val_df, subject)[:k]`). Returns fewer when the category has fewer.
 *
 * Throws RangeError when `k` is not a non-negative integer (the official loop never reaches a
 * negative k for a prompt it can use; see {@link fitMmluProPrompt}).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const val = [{ category: "law", id: 1 }, { category: "math", id: 2 }, { category: "math", id: 3 }];
 * deepEqual(selectFewshot(val, { category: "math", k: 1 }), [{ category: "math", id: 2 }]);
 * ```
 */
export function selectFewshot<T extends { category: string }>(
  validation: readonly T[],
  opts: { category: string; k?: number },
): T[] {
  const k = opts.k ?? MMLU_PRO_SHOTS;
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`selectFewshot: k must be a non-negative integer, got ${k}`);
  }
  return validation.filter((ex) => ex.category === opts.category).slice(0, k);
}

/**
 * The official 5-shot CoT prompt (evaluate_from_local.py `generate_cot_prompt`), byte for byte:
 *
 *   initial_prompt.txt with `{$}` → category, then "\n"
 *   per shot: "Question:\n" + question + "\n" + "Options:\n" + "A. opt\n"… +
 *             cot_content (every "A: Let's think step by step." → "Answer: Let's think step by
 *             step.") + "\n\n"
 *   the item:  "Question:\n" + question + "\nOptions:\n" + "A. opt\n"… +
 *             "Answer: Let's think step by step."   (no trailing newline or space)
 *
 * Nothing is trimmed: questions, options and cot_content go in exactly as stored (a cot_content
 * that ends in "\n" gives three newlines before the next "Question:", as officially). Options
 * exactly equal to "N/A" are dropped first, as the official `preprocess` does when loading both
 * splits (it is idempotent, so already-cleaned records are fine). `fewshot` is used as given; pick
 * it with {@link selectFewshot}.
 *
 * Throws RangeError when an item has more than 10 options after dropping "N/A" (the official code
 * would letter them K…P, which the extraction can never return).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * const p = mmluProPrompt({ question: "2+2?", options: ["3", "4"] }, [], { category: "math" });
 * ok(p.endsWith("\n\n\n\nQuestion:\n2+2?\nOptions:\nA. 3\nB. 4\nAnswer: Let's think step by step."));
 * ```
 */
export function mmluProPrompt(
  question: MmluProItem,
  fewshot: readonly MmluProExample[],
  opts: { category: string },
): string {
  // split/join rather than String.replace: a replacement string would expand "$&", "$'" etc.,
  // while Python's str.replace inserts the category literally.
  let prompt = MMLU_PRO_INITIAL_PROMPT.split("{$}").join(opts.category) + "\n";
  for (const shot of fewshot) {
    prompt += formatQuestion(shot) + shot.cot_content.split(COT_FROM).join(COT_TO) + "\n\n";
  }
  return prompt + formatQuestion(question) + COT_TO;
}

/**
 * The official prompt with the most shots (≤ `k`, default 5) whose token count is
 * < MMLU_PRO_MAX_MODEL_LENGTH − MMLU_PRO_MAX_NEW_TOKENS = 2048, trying k, k−1, …, 0 as
 * evaluate_from_local.py `eval_cot` does. `countTokens` must count as the official
 * `tokenizer(prompt)` does, i.e. including special tokens such as BOS.
 *
 * Throws RangeError when even the zero-shot prompt is too long (the official loop then never
 * terminates: past k = 0 it slices with negative k, giving longer prompts, then zero-shot forever).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const fit = fitMmluProPrompt({ question: "Q", options: ["a"] }, [], {
 *   category: "math",
 *   countTokens: (s) => s.length,
 * });
 * equal(fit.shots, 0);
 * ```
 */
export function fitMmluProPrompt(
  question: MmluProItem,
  validation: readonly MmluProExample[],
  opts: { category: string; countTokens: (prompt: string) => number; k?: number },
): { prompt: string; shots: number } {
  const limit = MMLU_PRO_MAX_MODEL_LENGTH - MMLU_PRO_MAX_NEW_TOKENS;
  for (let k = opts.k ?? MMLU_PRO_SHOTS; k >= 0; k--) {
    const fewshot = selectFewshot(validation, { category: opts.category, k });
    const prompt = mmluProPrompt(question, fewshot, { category: opts.category });
    if (opts.countTokens(prompt) < limit) return { prompt, shots: fewshot.length };
  }
  throw new RangeError(`fitMmluProPrompt: even the zero-shot prompt has ≥ ${limit} tokens`);
}

function formatQuestion(item: MmluProItem): string {
  const options = item.options.filter((opt) => opt !== "N/A");
  if (options.length > MMLU_PRO_LETTERS.length) {
    throw new RangeError(
      `mmluProPrompt: ${options.length} options, but MMLU-Pro letters stop at J (10)`,
    );
  }
  let text = "Question:\n" + item.question + "\nOptions:\n";
  options.forEach((opt, i) => text += `${MMLU_PRO_LETTERS[i]}. ${opt}\n`);
  return text;
}

// ── Extraction ──────────────────────────────────────────────────────────────────────────────
//
// The official patterns are Python 3 `re` on str, where (unlike JS):
//   • `.` excludes only "\n"; JS's also excludes "\r", U+2028 and U+2029.
//   • `\s` is str.isspace(): [\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029
//     \u202f\u205f\u3000]. JS's lacks \x1c-\x1f and \x85 but adds \ufeff.
//   • `\w` is str.isalnum() or "_" = general categories L* and N* (Lu Ll Lt Lm Lo Nd Nl No) plus
//     "_" (checked exhaustively against Python 3.11 for every code point), so `\b` is a Unicode
//     word boundary; JS's `\b`/`\w` are ASCII-only even with the u flag. ("éA": no boundary
//     before A in Python, one in JS.) Python works on code points, so we use the u flag where
//     classes must see astral letters (e.g. "𝐀A") as one character.
// So the JS regexes spell every class out. Residual difference: \p{L}/\p{N} follow V8's Unicode
// tables (16.0 in Deno 2.9.6), Python's its own unicodedata (14.0 in 3.11, 15.0 in 3.12, 15.1 in
// 3.13). Against Python 3.11 they differ on exactly 9,392 code points, all assigned in Unicode
// 15.0–16.0 (new scripts, CJK extensions H and I), which Python 3.11 treats as unassigned,
// non-word characters; a newer Python narrows the gap (3.14 ships 16.0).

// Level 1: `answer is \(?([A-J])\)?`: plain ASCII literals, same in both engines.
const ANSWER_IS = /answer is \(?([A-J])\)?/;

// Level 2: `.*[aA]nswer:\s*([A-J])` with `.` → [^\n] and `\s` → Python's set. The leftmost match
// always starts at a line start (a match starting mid-line extends back to the line start, since
// `.*` can absorb those characters), so anchoring with (?<![^\n]) changes no result but skips the
// quadratic retries from every mid-line position.
const ANSWER_COLON = new RegExp(
  "(?<![^\\n])[^\\n]*[aA]nswer:" +
    "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*" +
    "([A-J])",
);

// Level 3: `\b[A-J]\b(?!.*\b[A-J]\b)` with DOTALL selects the LAST letter A–J that has a
// non-word character (or the text's edge) on each side. Greedy [\s\S]* then backtracking finds
// the same letter in linear time (Python's lookahead rescans the tail from each candidate).
const LAST_LETTER = /^[\s\S]*(?<![\p{L}\p{N}_])([A-J])(?![\p{L}\p{N}_])/u;

/**
 * The official MMLU-Pro answer extraction (evaluate_from_local.py / evaluate_from_api.py
 * `extract_answer`, compute_accuracy.py level "l2"), with results identical to Python's `re`:
 * 1. the first `answer is \(?([A-J])\)?`;
 * 2. else `.*[aA]nswer:\s*([A-J])`: in the first line that has one, the last "answer:"/"Answer:"
 *    followed by optional whitespace (newlines included) and a letter;
 * 3. else the last standalone letter A–J (`\b[A-J]\b(?!.*\b[A-J]\b)`, DOTALL; Unicode `\b`);
 * 4. else null, which the official scoring counts as a random guess (docs/metrics.md: no match = wrong).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(extractMmluProAnswer("… so the answer is (C)."), "C");
 * equal(extractMmluProAnswer("Answer: B"), "B");
 * equal(extractMmluProAnswer("I pick D, not éA"), "D");
 * equal(extractMmluProAnswer("no idea"), null);
 * ```
 */
export function extractMmluProAnswer(text: string): string | null {
  const m = ANSWER_IS.exec(text) ?? ANSWER_COLON.exec(text) ?? LAST_LETTER.exec(text);
  return m ? m[1] : null;
}
