// MMLU-Pro (Wang et al. 2024): 12,032 ten-option questions in 14 categories. 5-shot chain of
// thought from the validation split of the same category, the answer extracted by the official
// cascade and matched exactly (docs/metrics.md "Benchmark scoring").

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import {
  extractMmluProAnswer,
  fitMmluProPrompt,
  MMLU_PRO_LETTERS,
  MMLU_PRO_MAX_NEW_TOKENS,
  MMLU_PRO_STOP,
  mmluProPrompt,
  selectFewshot,
} from "../evals/mmlu_pro.ts";
import { defineTask, type Item } from "./task.ts";

/** One MMLU-Pro record. */
export interface MmluProDoc extends Item {
  readonly question: string;
  readonly options: readonly string[];
  readonly answer: string;
  readonly answerIndex: number;
  readonly cot_content: string;
  readonly category: string;
  readonly src: string;
}

const HUB = { repo: "TIGER-Lab/MMLU-Pro", revision: "main" };

const record = (
  id: number,
  category: string,
  question: string,
  options: string[],
  answerIndex: number,
  cot: string,
) => ({
  question_id: id,
  question,
  options,
  answer: MMLU_PRO_LETTERS[answerIndex],
  answer_index: answerIndex,
  cot_content: cot,
  category,
  src: `ori_mmlu-${category}`,
});

/** MMLU-Pro, scored as the official evaluate_from_local.py does. */
export const mmluPro = defineTask<MmluProDoc>({
  id: "mmlu_pro",
  version: "1",
  kind: "general",
  description: "MMLU-Pro: 10-option questions, 5-shot chain of thought, official answer extraction",
  source: {
    description:
      "TIGER-Lab/MMLU-Pro: test split scored, validation split for the few-shot examples",
    url: "https://huggingface.co/datasets/TIGER-Lab/MMLU-Pro",
    license: "MIT",
    splits: {
      test: [{ ...HUB, path: "data/test-00000-of-00001.parquet" }],
      validation: [{ ...HUB, path: "data/validation-00000-of-00001.parquet" }],
    },
  },
  idField: "question_id",
  requestKind: "generate",
  metrics: ["exact_match"],
  parse(rec, at) {
    const f = requireFields(rec, {
      question_id: "integer",
      question: "string",
      options: "string[]",
      answer: "string",
      answer_index: "integer",
      cot_content: "string",
      category: "string",
      src: "string",
    }, at.where);
    if (f.options.length === 0 || f.options.length > MMLU_PRO_LETTERS.length) {
      throw new ValidationError(
        at.where,
        `field 'options' must hold 1 to 10 options, got ${f.options.length}`,
      );
    }
    if (f.answer !== MMLU_PRO_LETTERS[f.answer_index]) {
      throw new ValidationError(
        at.where,
        `field 'answer' is '${f.answer}' but answer_index ${f.answer_index} is '${
          MMLU_PRO_LETTERS[f.answer_index] ?? "?"
        }'`,
      );
    }
    return {
      id: String(f.question_id),
      question: f.question,
      options: f.options,
      answer: f.answer,
      answerIndex: f.answer_index,
      cot_content: f.cot_content,
      category: f.category,
      src: f.src,
    };
  },
  fewshot: (doc, pools) => selectFewshot(pools.validation ?? [], { category: doc.category }),
  // The official evaluate_from_local.py: greedy, stop at the next "Question:", 2048 new tokens,
  // and as many of the 5 shots as keep the prompt under 4096 − 2048 tokens of the model (all 5
  // when no model is at hand, as when `score` rebuilds prompts for samples.jsonl).
  request(doc, ctx) {
    const examples = ctx.shots;
    let prompt: string;
    try {
      prompt = ctx.countTokens
        ? fitMmluProPrompt(doc, examples, {
          category: doc.category,
          countTokens: ctx.countTokens,
          k: examples.length,
        }).prompt
        : mmluProPrompt(doc, examples, { category: doc.category });
    } catch (e) {
      if (e instanceof RangeError) {
        throw new ValidationError(`mmlu_pro item '${doc.id}'`, e.message);
      }
      throw e;
    }
    return { kind: "generate", prompt, until: MMLU_PRO_STOP, maxTokens: MMLU_PRO_MAX_NEW_TOKENS };
  },
  target: (doc) => doc.answer,
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "mmlu_pro scores generated text");
    }
    const extracted = extractMmluProAnswer(output.outputs[0] ?? "");
    return { metrics: { exact_match: extracted === doc.answer ? 1 : 0 }, extracted };
  },
  fixture: {
    records: {
      test: [
        record(70, "math", "What is 7 times 6?", ["36", "42", "48", "54", "13"], 1, ""),
        record(71, "math", "What is the square root of 81?", ["7", "8", "9", "10"], 2, ""),
        record(
          420,
          "biology",
          "Which organelle makes most of a cell's ATP?",
          ["Nucleus", "Ribosome", "Golgi apparatus", "Mitochondrion", "Lysosome", "Vacuole"],
          3,
          "",
        ),
      ],
      validation: [
        record(
          1,
          "math",
          "What is 2 + 2?",
          ["3", "4", "5", "6"],
          1,
          "A: Let's think step by step. Two plus two is four. The answer is (B).",
        ),
        record(
          2,
          "math",
          "What is 10 / 5?",
          ["5", "2", "50", "0.5"],
          1,
          "A: Let's think step by step. Ten divided by five is two. The answer is (B).",
        ),
        record(
          3,
          "biology",
          "Which molecule carries genetic information?",
          ["Glucose", "DNA", "Cholesterol", "Water"],
          1,
          "A: Let's think step by step. Genes are made of DNA. The answer is (B).",
        ),
      ],
    },
    perfect: (doc) => ({
      kind: "generate",
      outputs: [`Let's see. The answer is (${doc.answer}).`],
    }),
    wrong: (doc) => ({
      kind: "generate",
      outputs: [`The answer is (${doc.answer === "A" ? "B" : "A"}).`],
    }),
  },
});
