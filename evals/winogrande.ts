// WinoGrande (Sakaguchi et al. 2020) as lm-evaluation-harness's `winogrande` task scores it
// (lm_eval/tasks/winogrande: default.yaml, preprocess_winogrande.py): partial evaluation. The
// sentence is cut at its blank "_"; each option fills the blank at the end of its own context,
// and the SAME rest of the sentence is scored after each context. The option whose context makes
// the rest more likely wins (`acc`). Zero-shot: the YAML sets no num_fewshot.

import { pyStrip } from "./_py_str.ts";

/** One allenai/winogrande record, the fields lm-eval reads. */
export interface WinograndeExample {
  readonly sentence: string;
  readonly option1: string;
  readonly option2: string;
  /** "1" or "2" (a string in the dataset; "" in the unlabelled test split). */
  readonly answer: string;
}

/** lm-eval's requests for one sentence: a context per option, one shared continuation. */
export interface WinograndeRequest {
  /** `doc_to_choice`: sentence[:blank] + option1, sentence[:blank] + option2. */
  readonly contexts: readonly [string, string];
  /** target_delimiter " " + `doc_to_target` (sentence[blank + 1:].strip()), scored after each. */
  readonly continuation: string;
  /** `doc_to_text`: the index of the right option ("1" → 0, "2" → 1). */
  readonly gold: 0 | 1;
}

/**
 * The two (context, continuation) pairs lm-eval scores for a sentence (api/task.py
 * `construct_requests` for a multiple-input task: `[(ctx, f"{target_delimiter}{cont}") for ctx
 * in contexts]`), with its gold index. The blank is the FIRST "_" (Python's str.index); the rest
 * is stripped with Python's str.strip, then the default target_delimiter " " goes in front, so
 * "since _  watered it. " scores " watered it." after "since Rachel" and after "since Amy".
 * No description and no shots: contexts are exactly sentence[:blank] + option.
 *
 * Throws RangeError when the sentence has no "_" or the answer is not "1" or "2" (lm-eval's
 * `index` raises ValueError and its answer_to_num a KeyError there).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const doc = { sentence: "Ann thanked Bo because _ helped.", option1: "Ann", option2: "Bo", answer: "2" };
 * deepEqual(winograndeRequest(doc), {
 *   contexts: ["Ann thanked Bo because Ann", "Ann thanked Bo because Bo"],
 *   continuation: " helped.",
 *   gold: 1,
 * });
 * ```
 */
export function winograndeRequest(doc: WinograndeExample): WinograndeRequest {
  const blank = doc.sentence.indexOf("_");
  if (blank < 0) throw new RangeError("winogrande: the sentence has no blank '_'");
  if (doc.answer !== "1" && doc.answer !== "2") {
    throw new RangeError(`winogrande: answer ${JSON.stringify(doc.answer)} is not "1" or "2"`);
  }
  const before = doc.sentence.slice(0, blank);
  return {
    contexts: [before + doc.option1, before + doc.option2],
    continuation: " " + pyStrip(doc.sentence.slice(blank + 1)),
    gold: doc.answer === "1" ? 0 : 1,
  };
}
