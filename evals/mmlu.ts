// MMLU (Hendrycks et al. 2021) as lm-evaluation-harness's `mmlu` group builds its requests
// (lm_eval/tasks/mmlu/default: _default_template_yaml, one mmlu_<subject>.yaml per subject): the
// subject's description, shots taken in order from the subject's dev split (`fewshot_config:
// sampler: first_n`), the question template, and the letters " A" … " D" as the continuations
// scored by log-likelihood (`acc` only: the template's metric_list has no acc_norm).

import { pyStrip } from "./_py_str.ts";
import { mcContinuations, type McRequest } from "./multiple_choice.ts";

/**
 * The 57 subjects: lm-eval's mmlu_<subject> tasks and the `subject` values of cais/mmlu's `all`
 * config, in the order that config lists them (alphabetical).
 */
export const MMLU_SUBJECTS: readonly string[] = [
  "abstract_algebra",
  "anatomy",
  "astronomy",
  "business_ethics",
  "clinical_knowledge",
  "college_biology",
  "college_chemistry",
  "college_computer_science",
  "college_mathematics",
  "college_medicine",
  "college_physics",
  "computer_security",
  "conceptual_physics",
  "econometrics",
  "electrical_engineering",
  "elementary_mathematics",
  "formal_logic",
  "global_facts",
  "high_school_biology",
  "high_school_chemistry",
  "high_school_computer_science",
  "high_school_european_history",
  "high_school_geography",
  "high_school_government_and_politics",
  "high_school_macroeconomics",
  "high_school_mathematics",
  "high_school_microeconomics",
  "high_school_physics",
  "high_school_psychology",
  "high_school_statistics",
  "high_school_us_history",
  "high_school_world_history",
  "human_aging",
  "human_sexuality",
  "international_law",
  "jurisprudence",
  "logical_fallacies",
  "machine_learning",
  "management",
  "marketing",
  "medical_genetics",
  "miscellaneous",
  "moral_disputes",
  "moral_scenarios",
  "nutrition",
  "philosophy",
  "prehistory",
  "professional_accounting",
  "professional_law",
  "professional_medicine",
  "professional_psychology",
  "public_relations",
  "security_studies",
  "sociology",
  "us_foreign_policy",
  "virology",
  "world_religions",
];

/**
 * Shots per question. The lm-eval YAML sets no num_fewshot (so `lm_eval --tasks mmlu` alone is
 * zero-shot); 5 is the MMLU paper's setting, run as `--num_fewshot 5`.
 */
export const MMLU_SHOTS = 5;

/** `doc_to_choice` in _default_template_yaml: the answer letters. */
export const MMLU_CHOICES: readonly string[] = ["A", "B", "C", "D"];

/** The fields of a cais/mmlu record that the prompt reads. */
export interface MmluExample {
  readonly question: string;
  readonly subject: string;
  /** Exactly four options. */
  readonly choices: readonly string[];
  /** Index of the right option, 0–3 (the dataset's ClassLabel A–D). */
  readonly answer: number;
}

/**
 * The subject's `description` (every mmlu_<subject>.yaml, as lm_eval/tasks/mmlu/
 * _generate_configs.py writes it): underscores become spaces, then a blank line.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(mmluDescription("high_school_geography"),
 *   "The following are multiple choice questions (with answers) about high school geography.\n\n");
 * ```
 */
export function mmluDescription(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${
    subject.split("_").join(" ")
  }.\n\n`;
}

/**
 * `doc_to_text` in _default_template_yaml: "{{question.strip()}}\nA. {{choices[0]}}\nB. …\nD.
 * {{choices[3]}}\nAnswer:". Only the question is stripped (Python's str.strip); options go in
 * verbatim.
 *
 * Throws RangeError unless there are exactly four options (Jinja's StrictUndefined fails on a
 * missing choices[3]; a fifth would silently drop out of the prompt).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(mmluDocToText({ question: " 2+2?\n", choices: ["3", "4", "5", "6"] }),
 *   "2+2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:");
 * ```
 */
export function mmluDocToText(doc: Pick<MmluExample, "question" | "choices">): string {
  if (doc.choices.length !== MMLU_CHOICES.length) {
    throw new RangeError(`mmlu: a question needs 4 options, got ${doc.choices.length}`);
  }
  const options = doc.choices.map((c, i) => `${MMLU_CHOICES[i]}. ${c}\n`).join("");
  return `${pyStrip(doc.question)}\n${options}Answer:`;
}

/**
 * The shots lm-eval's `first_n` sampler gives a test question: the first `k` (default 5) dev
 * examples of its subject, in dev-split order. lm-eval loads one subject's dev split per task;
 * filtering cais/mmlu's `all` dev split by `subject` gives the same examples in the same order.
 *
 * Throws RangeError when the subject has fewer than `k` dev examples (lm-eval's FirstNSampler
 * asserts the same).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const dev = [{ subject: "anatomy", n: 1 }, { subject: "virology", n: 2 }, { subject: "virology", n: 3 }];
 * deepEqual(mmluFewshot(dev, { subject: "virology", k: 1 }), [{ subject: "virology", n: 2 }]);
 * ```
 */
export function mmluFewshot<T extends { readonly subject: string }>(
  dev: readonly T[],
  opts: { subject: string; k?: number },
): T[] {
  const k = opts.k ?? MMLU_SHOTS;
  const pool = dev.filter((d) => d.subject === opts.subject);
  if (pool.length < k) {
    throw new RangeError(
      `mmlu: ${k} shots asked for '${opts.subject}', but its dev split has ${pool.length}`,
    );
  }
  return pool.slice(0, k);
}

/**
 * The context lm-eval builds (api/task.py `fewshot_context`, plain text, no chat template): the
 * description, then per shot `doc_to_text` + target_delimiter " " + its answer letter +
 * fewshot_delimiter "\n\n", then the question's `doc_to_text`, ending in "Answer:". The
 * description comes from `doc.subject`; pick `shots` with {@link mmluFewshot}.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const shot = { question: "1+1?", subject: "college_mathematics", choices: ["1", "2", "3", "4"], answer: 1 };
 * const p = mmluPrompt({ ...shot, question: "2+2?" }, [shot]);
 * equal(p.split("\n\n")[1], "1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B");
 * ```
 */
export function mmluPrompt(doc: MmluExample, shots: readonly MmluExample[]): string {
  let prompt = mmluDescription(doc.subject);
  for (const s of shots) prompt += `${mmluDocToText(s)} ${letterOf(s.answer)}\n\n`;
  return prompt + mmluDocToText(doc);
}

/**
 * The log-likelihood request of one question: the {@link mmluPrompt} context and the
 * continuations " A", " B", " C", " D" (the default target_delimiter before each letter), with
 * the gold index. Score with `mcAcc`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const doc = { question: "Q", subject: "virology", choices: ["a", "b", "c", "d"], answer: 3 };
 * deepEqual(mmluRequest(doc, []).continuations, [" A", " B", " C", " D"]);
 * ```
 */
export function mmluRequest(
  doc: MmluExample,
  shots: readonly MmluExample[],
): McRequest & { gold: number } {
  letterOf(doc.answer);
  return {
    context: mmluPrompt(doc, shots),
    choices: [...MMLU_CHOICES],
    continuations: mcContinuations(MMLU_CHOICES),
    gold: doc.answer,
  };
}

/** The answer letter of an answer index; RangeError outside 0–3. */
function letterOf(answer: number): string {
  const letter = Number.isInteger(answer) ? MMLU_CHOICES[answer] : undefined;
  if (letter === undefined) throw new RangeError(`mmlu: answer ${answer} is not in 0–3`);
  return letter;
}
