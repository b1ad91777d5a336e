// ScienceQA (Lu et al. 2022) as LLaVA evaluates it, multiple choice answered by a letter: the
// prompt of LLaVA-1.5's llava_test_CQM-A.json questions with model_vqa_science.py's
// `--single-pred-prompt` (the same text lmms-eval's scienceqa task builds in sqa_doc_to_text),
// and the letter extraction of llava/eval/eval_science_qa.py. The image, when there is one,
// goes before the prompt as the model's image token and a newline (models/onnx_lm.ts), as
// model_vqa_science.py puts `<image>\n` first.

/** The instruction model_vqa_science.py appends after a newline. */
export const SCIENCEQA_INSTRUCTION =
  "Answer with the option's letter from the given choices directly.";

/** eval_science_qa.py's `--options` default: the letters a prediction may name. */
export const SCIENCEQA_OPTIONS: readonly string[] = ["A", "B", "C", "D", "E"];

/** The fields of a ScienceQA record the prompt and the scorer read. */
export interface ScienceQaFields {
  readonly question: string;
  /** The text context; "" when there is none. */
  readonly hint: string;
  readonly choices: readonly string[];
}

/** The letter of option `i` (A, B, …). */
export function optionLetter(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 26) throw new RangeError(`no letter for option ${i}`);
  return String.fromCharCode(65 + i);
}

/** The letters a prediction may name: eval_science_qa.py's A–E, or more for longer lists. */
function optionsFor(n: number): readonly string[] {
  return n <= SCIENCEQA_OPTIONS.length
    ? SCIENCEQA_OPTIONS
    : Array.from({ length: n }, (_, i) => optionLetter(i));
}

/**
 * The prompt: `Context: {hint}\n` when there is a hint, the question, the options one per line
 * as `A. {choice}`, then `\n` and SCIENCEQA_INSTRUCTION.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(scienceqaPrompt({ question: "Which is a mammal?", hint: "", choices: ["frog", "cat"] }),
 *   "Which is a mammal?\nA. frog\nB. cat\nAnswer with the option's letter from the given choices directly.");
 * ```
 */
export function scienceqaPrompt(doc: ScienceQaFields): string {
  const context = doc.hint ? `Context: ${doc.hint}\n` : "";
  const options = doc.choices.map((c, i) => `${optionLetter(i)}. ${c}`).join("\n");
  return `${context}${doc.question}\n${options}\n${SCIENCEQA_INSTRUCTION}`;
}

// Python's str.isspace() set, what model_vqa_science.py's `.strip()` removes.
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f" +
  "\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, "g");

/** `The answer is ([A-Z]).` with Python's `.` (any character but "\n"). */
const ANSWER_IS = /The answer is ([A-Z])[^\n]/g;

/**
 * The letter eval_science_qa.py reads from a generation, or null ("FAILED"): the stripped text
 * if it is one of the option letters; else its first character when followed by ". "; else the
 * letter of `The answer is X.` when that pattern occurs exactly once.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(scienceqaExtract("B", 3), "B");
 * equal(scienceqaExtract("C. cat", 3), "C");
 * equal(scienceqaExtract("Cats purr. The answer is A.", 3), "A");
 * equal(scienceqaExtract("cat", 3), null);
 * ```
 */
export function scienceqaExtract(text: string, nChoices: number): string | null {
  const options = optionsFor(nChoices);
  const pred = text.replace(PY_STRIP, "");
  if (options.includes(pred)) return pred;
  // Python's len() and slices count code points; for these tests UTF-16 units agree.
  if (pred.length >= 3 && options.includes(pred[0]) && pred.slice(1, 3) === ". ") return pred[0];
  const found = [...pred.matchAll(ANSWER_IS)];
  return found.length === 1 ? found[0][1] : null;
}

/**
 * 1 when the extracted letter names the answer's option (get_pred_idx: a letter past the last
 * choice counts as no prediction), else 0.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(scienceqaScore("B. cat", { answer: 1, choices: ["frog", "cat"] }), 1);
 * equal(scienceqaScore("C", { answer: 1, choices: ["frog", "cat"] }), 0);
 * ```
 */
export function scienceqaScore(
  text: string,
  doc: { readonly answer: number; readonly choices: readonly string[] },
): 0 | 1 {
  const letter = scienceqaExtract(text, doc.choices.length);
  const idx = letter === null ? -1 : optionsFor(doc.choices.length).indexOf(letter);
  return idx !== -1 && idx < doc.choices.length && idx === doc.answer ? 1 : 0;
}
