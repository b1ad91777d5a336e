// ScienceQA (Lu et al. 2022): grade-school science multiple choice, half with an image, as
// published on the hub by derek-thomas/ScienceQA (parquet, one file per split). Asked and scored
// as LLaVA evaluates it (evals/scienceqa.ts): the context, the question and lettered options,
// "Answer with the option's letter from the given choices directly.", the letter read from the
// generation. `scienceqa` passes each item's image (a vision-language model is needed; items
// without an image are plain text); `scienceqa_text` keeps only the items without an image and
// runs on any language model (test 2,224 of 4,241 items; train 6,508 of 12,726; the others are
// counted in `skipped`). Both train on the train split: SFT onto the answer's letter, RL with the
// score as reward. Items are numbered by row within each split's file (rowId).

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { optionLetter, scienceqaPrompt, scienceqaScore } from "../evals/scienceqa.ts";
import type { ImageInput } from "../models/policy.ts";
import {
  defineTask,
  type Item,
  type RecordAt,
  rowId,
  type Task,
  type TaskSpec,
  TEST_SPLIT,
  TRAIN_SPLIT,
} from "./task.ts";

/** One ScienceQA question. */
export interface ScienceQaDoc extends Item {
  readonly question: string;
  /** The text context (`hint`); "" when there is none. */
  readonly hint: string;
  readonly choices: readonly string[];
  /** The index of the right choice. */
  readonly answer: number;
  /** The image context, null for a question without one. */
  readonly image: ImageInput | null;
  readonly subject: string;
  readonly grade: string;
}

const HUB = { repo: "derek-thomas/ScienceQA", revision: "main" };

/** A letter answer needs few tokens; room is left for a sentence ending "The answer is X.". */
const MAX_NEW_TOKENS = 128;

/** Validates one published record. */
function parseRecord(rec: Readonly<Record<string, unknown>>, at: RecordAt): ScienceQaDoc {
  const f = requireFields(rec, {
    question: "string",
    choices: "string[]",
    answer: "integer",
    hint: "string?",
    image: "object?",
    subject: "string?",
    grade: "string?",
  }, at.where);
  if (f.choices.length === 0 || f.choices.length > 26) {
    throw new ValidationError(at.where, `field 'choices' has ${f.choices.length} options`);
  }
  if (f.answer < 0 || f.answer >= f.choices.length) {
    throw new ValidationError(
      at.where,
      `field 'answer' is ${f.answer}, not an index into the ${f.choices.length} choices`,
    );
  }
  let image: ImageInput | null = null;
  // The Image feature stores a missing image as null (or, in some writers, both fields null).
  if (f.image && (f.image.bytes != null || f.image.path != null)) {
    const { bytes } = requireFields(f.image, { bytes: "bytes" }, `${at.where}: field 'image'`);
    image = { bytes };
  }
  return {
    id: rowId(at),
    question: f.question,
    hint: f.hint ?? "",
    choices: f.choices,
    answer: f.answer,
    image,
    subject: f.subject ?? "",
    grade: f.grade ?? "",
  };
}

const PIXEL = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

/**
 * A published record, field for field (derek-thomas/ScienceQA columns; `question` first so that
 * the shared suite's missing-field check drops a required field, `image` may be null).
 */
function record(
  o: { question: string; choices: string[]; answer: number; hint: string; image: boolean },
): Record<string, unknown> {
  return {
    question: o.question,
    image: o.image ? { bytes: PIXEL, path: null } : null,
    choices: o.choices,
    answer: o.answer,
    hint: o.hint,
    task: "closed choice",
    grade: "grade4",
    subject: "natural science",
    topic: "biology",
    category: "Classify organisms",
    skill: "Identify mammals",
    lecture: "Mammals have fur and feed their young milk.",
    solution: "A cat has fur. It is a mammal.",
  };
}

const TEXT_RECORDS = [
  record({
    question: "Which animal is a mammal?",
    choices: ["frog", "cat", "trout"],
    answer: 1,
    hint: "",
    image: false,
  }),
  record({
    question: "Which word would you find on a dictionary page with the guide words bag - bat?",
    choices: ["bar", "bin"],
    answer: 0,
    hint: "",
    image: false,
  }),
  record({
    question: "What is the temperature of a warm bath?",
    choices: ["38°C", "38°F"],
    answer: 0,
    hint: "Select the better estimate.",
    image: false,
  }),
  record({
    question: "Which is a compound?",
    choices: ["oxygen", "water", "helium", "neon", "argon"],
    answer: 1,
    hint: "Water is made of hydrogen and oxygen.",
    image: false,
  }),
];

const TRAIN_RECORDS = [
  record({
    question: "Which animal lays eggs?",
    choices: ["hen", "dog"],
    answer: 0,
    hint: "",
    image: false,
  }),
  record({
    question: "Which tense does the sentence use? Mia will walk home.",
    choices: ["past tense", "present tense", "future tense"],
    answer: 2,
    hint: "",
    image: false,
  }),
  record({
    question: "Identify the question that Tom's experiment can best answer.",
    choices: ["Do plants grow taller with more light?", "Do seeds need soil?"],
    answer: 0,
    hint: "Tom grew plants under lamps of different brightness.",
    image: true,
  }),
];

const IMAGE_RECORDS = [
  record({
    question: "Which animal's feet are adapted for swimming?",
    choices: ["duck", "horse"],
    answer: 0,
    hint: "Look at the picture of the animal's feet.",
    image: true,
  }),
  record({
    question: "Which of these states is farthest north?",
    choices: ["Maine", "Texas", "Ohio", "Utah"],
    answer: 0,
    hint: "",
    image: true,
  }),
];

/** What both variants share: the files, the prompt, the scoring, training and fixture. */
const SPEC: TaskSpec<ScienceQaDoc> = {
  id: "scienceqa",
  version: "1",
  kind: "downstream",
  description:
    "ScienceQA: 4,241 science questions (2,017 with an image), letter answer as LLaVA scores it (needs a vision-language model)",
  source: {
    description:
      "derek-thomas/ScienceQA parquet: test split scored, train split (12,726) trained on; validation unused",
    url: "https://huggingface.co/datasets/derek-thomas/ScienceQA",
    license: "CC-BY-SA-4.0",
    splits: {
      test: [{ ...HUB, path: "data/test-00000-of-00001-f0e719df791966ff.parquet" }],
      train: [{ ...HUB, path: "data/train-00000-of-00001-1028f23e353fbe3e.parquet" }],
    },
  },
  idField: null,
  requestKind: "generate",
  metrics: ["acc"],
  needsImages: true,
  parse: parseRecord,
  // model_vqa_science.py decodes greedily; its 1024-token budget is cut to MAX_NEW_TOKENS.
  request: (doc) => ({
    kind: "generate",
    prompt: scienceqaPrompt(doc),
    until: [],
    maxTokens: MAX_NEW_TOKENS,
    ...(doc.image ? { images: [doc.image] } : {}),
  }),
  target: (doc) => optionLetter(doc.answer),
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "scienceqa scores generated text");
    }
    return { metrics: { acc: scienceqaScore(output.outputs[0] ?? "", doc) } };
  },
  train: {
    labellings: { sft1: (doc) => [optionLetter(doc.answer)] },
    reward: (doc, output) => scienceqaScore(String(output), doc),
  },
  fixture: {
    records: {
      [TEST_SPLIT]: [...TEXT_RECORDS.slice(0, 2), ...IMAGE_RECORDS, ...TEXT_RECORDS.slice(2)],
      [TRAIN_SPLIT]: TRAIN_RECORDS,
    },
    columns: { image: "image", answer: "int32", choices: "list<string>" },
    perfect: (doc) => ({ kind: "generate", outputs: [optionLetter(doc.answer)] }),
    // The next option's letter, in the "X. text" form the extraction also reads.
    wrong: (doc) => {
      const other = (doc.answer + 1) % doc.choices.length;
      return { kind: "generate", outputs: [`${optionLetter(other)}. ${doc.choices[other]}`] };
    },
  },
};

/** ScienceQA with its images: every test item, an image request where the item has one. */
export const scienceqa: Task<ScienceQaDoc> = defineTask<ScienceQaDoc>(SPEC);

/** ScienceQA's questions without an image, for any language model. */
export const scienceqaText: Task<ScienceQaDoc> = defineTask<ScienceQaDoc>({
  ...SPEC,
  id: "scienceqa_text",
  description:
    "ScienceQA, the 2,224 test questions without an image: letter answer as LLaVA scores it (any language model)",
  needsImages: false,
  // A record with an image is no item of this variant (counted in `skipped`).
  parse: (rec, at) => {
    const doc = parseRecord(rec, at);
    return doc.image ? null : doc;
  },
  fixture: {
    ...SPEC.fixture,
    // Image bytes have no JSON form, and the shared suite also writes these records as JSON
    // Lines: the filter itself is tested in tasks/scienceqa_test.ts.
    records: { [TEST_SPLIT]: TEXT_RECORDS, [TRAIN_SPLIT]: TRAIN_RECORDS.slice(0, 2) },
  },
});
