// MMMU (Yue et al. 2024): college-level questions over images in 30 subjects. The official
// prompt (image placeholders, lettered options), images passed to a vision-language model, the
// answer parsed and scored as the official eval_utils does. Validation split (test answers are
// hidden).

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { mmmuPrompt, mmmuScore, parseOptions } from "../evals/mmmu.ts";
import type { ImageInput } from "../models/policy.ts";
import { defineTask, type HubFile, type Item } from "./task.ts";

/** One MMMU record with its images. */
export interface MmmuTaskDoc extends Item {
  readonly question: string;
  readonly options: string;
  readonly answer: string;
  readonly question_type: string;
  readonly subfield: string;
  /** image_1 … image_7 by field name (absent fields omitted). */
  readonly images: Readonly<Record<string, ImageInput>>;
}

/** The 30 subjects, one parquet file per split each. */
export const MMMU_SUBJECTS = [
  "Accounting",
  "Agriculture",
  "Architecture_and_Engineering",
  "Art",
  "Art_Theory",
  "Basic_Medical_Science",
  "Biology",
  "Chemistry",
  "Clinical_Medicine",
  "Computer_Science",
  "Design",
  "Diagnostics_and_Laboratory_Medicine",
  "Economics",
  "Electronics",
  "Energy_and_Power",
  "Finance",
  "Geography",
  "History",
  "Literature",
  "Manage",
  "Marketing",
  "Materials",
  "Math",
  "Mechanical_Engineering",
  "Music",
  "Pharmacy",
  "Physics",
  "Psychology",
  "Public_Health",
  "Sociology",
] as const;

const IMAGE_FIELDS = [1, 2, 3, 4, 5, 6, 7].map((i) => `image_${i}`);

const files = (split: string): HubFile[] =>
  MMMU_SUBJECTS.map((s) => ({
    repo: "MMMU/MMMU",
    revision: "main",
    path: `${s}/${split}-00000-of-00001.parquet`,
  }));

// A 1×1 PNG for the fixture records (the task only carries image bytes; it never decodes them).
const PIXEL = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

const fixtureRecord = (subject: string, n: number) => {
  const open = subject === "Math";
  return {
    id: `validation_${subject}_${n}`,
    question: open
      ? "<image 1> How many squares are in the image? Add 4 to that number."
      : "<image 1> Which colour fills the square in the image?",
    options: open ? "[]" : "['Red', \"Green\", 'Blue', 'Black']",
    explanation: "",
    image_1: { bytes: PIXEL, path: `${subject}_${n}.png` },
    image_2: null,
    image_3: null,
    image_4: null,
    image_5: null,
    image_6: null,
    image_7: null,
    img_type: "['Diagrams']",
    answer: open ? "5" : "A",
    topic_difficulty: "Easy",
    question_type: open ? "open" : "multiple-choice",
    subfield: "Fixture",
  };
};

/** MMMU, scored as the official eval_utils does. */
export const mmmu = defineTask<MmmuTaskDoc>({
  id: "mmmu",
  version: "1",
  kind: "general",
  description:
    "MMMU: multimodal college-level questions, 30 subjects (needs a vision-language model)",
  source: {
    description: "MMMU/MMMU, one config per subject; validation split scored, dev split unused",
    url: "https://huggingface.co/datasets/MMMU/MMMU",
    license: "Apache-2.0",
    splits: { test: files("validation") },
  },
  idField: "id",
  requestKind: "generate",
  metrics: ["acc"],
  needsImages: true,
  parse(rec, at) {
    const f = requireFields(rec, {
      id: "string",
      question: "string",
      options: "string",
      answer: "string",
      question_type: "string",
      subfield: "string?",
    }, at.where);
    if (f.question_type === "multiple-choice") {
      try {
        if (parseOptions(f.options).length === 0) throw new SyntaxError("no options");
      } catch (e) {
        throw new ValidationError(at.where, `field 'options' ${(e as Error).message}`);
      }
    }
    const images: Record<string, ImageInput> = {};
    for (const name of IMAGE_FIELDS) {
      const { [name]: img } = requireFields(rec, { [name]: "object?" }, at.where);
      if (img === undefined) continue;
      const { bytes } = requireFields(img, { bytes: "bytes" }, `${at.where}: field '${name}'`);
      images[name] = { bytes };
    }
    for (const key of mmmuPrompt(f).imageKeys) {
      if (!images[key]) {
        throw new ValidationError(
          at.where,
          `question refers to <${key.replace("_", " ")}> but field '${key}' is empty`,
        );
      }
    }
    return { ...f, subfield: f.subfield ?? "", images };
  },
  // The official run_llava.py decodes greedily up to 128 new tokens (generation_config there).
  request(doc) {
    const p = mmmuPrompt(doc);
    return {
      kind: "generate",
      prompt: p.prompt,
      until: [],
      maxTokens: 128,
      images: p.imageKeys.map((k) => doc.images[k]),
    };
  },
  target: (doc) => doc.answer,
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "mmmu scores generated text");
    }
    return { metrics: { acc: mmmuScore(doc, output.outputs[0] ?? "") } };
  },
  fixture: {
    records: { test: MMMU_SUBJECTS.map((s) => fixtureRecord(s, 1)) },
    columns: Object.fromEntries(IMAGE_FIELDS.map((f) => [f, "image"])),
    fileOf: (rec) =>
      `${String(rec.id).replace(/^validation_|_\d+$/g, "")}/validation-00000-of-00001.parquet`,
    perfect: (doc) => ({ kind: "generate", outputs: [doc.answer] }),
    wrong: (doc) => ({
      kind: "generate",
      outputs: [doc.question_type === "multiple-choice" ? "(C)" : "7"],
    }),
  },
});
