// GSM8K (Cobbe et al. 2021): grade-school maths word problems with worked solutions ending in
// "#### <answer>". Scored as lm-evaluation-harness's `gsm8k` task: 5-shot from the train split,
// greedy generation, exact match after its "strict-match" and "flexible-extract" filters
// (docs/metrics.md "Benchmark scoring"). Also a task to train on: SFT on the worked solutions,
// RL with the strict-match score as reward. The train split is both the few-shot pool and the
// training data, as in lm-eval (training_split and fewshot_split are both `train`).

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import {
  GSM8K_FALLBACK,
  GSM8K_MAX_NEW_TOKENS,
  GSM8K_SHOTS,
  GSM8K_STOP,
  gsm8kExactMatch,
  gsm8kFlexibleExtract,
  gsm8kNormalize,
  gsm8kPrompt,
  gsm8kStrictMatch,
  lmEvalFewshotIndices,
} from "../evals/gsm8k.ts";
import { defineTask, type Item, rowId, type Task, TEST_SPLIT, TRAIN_SPLIT } from "./task.ts";

/** One GSM8K problem (`main` config). */
export interface Gsm8kDoc extends Item {
  readonly question: string;
  /** The worked solution with calculator annotations, ending in "#### <number>". */
  readonly answer: string;
  /** The row in its split's file: lm-eval's doc_id, which picks a test item's shots. */
  readonly row: number;
}

const HUB = { repo: "openai/gsm8k", revision: "main" };

/** The strict-match exact_match of `text`: the RL reward and the first metric. */
function strictScore(doc: Gsm8kDoc, text: string): 0 | 1 {
  return gsm8kExactMatch(gsm8kStrictMatch(text), doc.answer);
}

/** GSM8K, scored as lm-evaluation-harness's gsm8k task (strict and flexible exact match). */
export const gsm8k: Task<Gsm8kDoc> = defineTask<Gsm8kDoc>({
  id: "gsm8k",
  version: "1",
  kind: "downstream",
  description:
    "GSM8K: 1,319 grade-school maths problems, 5-shot, exact match (strict, flexible extraction)",
  source: {
    description:
      "openai/gsm8k main config: test split scored; train split (7,473) for the shots and training",
    url: "https://huggingface.co/datasets/openai/gsm8k",
    license: "MIT",
    splits: {
      test: [{ ...HUB, path: "main/test-00000-of-00001.parquet" }],
      train: [{ ...HUB, path: "main/train-00000-of-00001.parquet" }],
    },
  },
  // Published without ids: items are numbered by row (test rows bare, as lm-eval's doc_id;
  // train rows `train-<row>`, see rowId).
  idField: null,
  requestKind: "generate",
  metrics: ["exact_match", "exact_match_flexible"],
  parse(rec, at) {
    const f = requireFields(rec, { question: "string", answer: "string" }, at.where);
    if (gsm8kStrictMatch(f.answer) === GSM8K_FALLBACK) {
      throw new ValidationError(at.where, "field 'answer' has no final '#### <number>'");
    }
    return { id: rowId(at), question: f.question, answer: f.answer, row: at.index };
  },
  // lm-eval's default sampler: test row i gets the (i+1)-th random.Random(1234).sample(train, 5),
  // so the shots are fixed by the row alone (evals/gsm8k.ts lmEvalFewshotIndices). Without a
  // train pool (`score` loads the test split only) the prompt shown is zero-shot.
  fewshot(doc, pools) {
    const pool = pools[TRAIN_SPLIT] ?? [];
    if (pool.length === 0) return [];
    if (pool.length < GSM8K_SHOTS) {
      throw new ValidationError(
        `gsm8k item '${doc.id}'`,
        `the train split has ${pool.length} items, fewer than the ${GSM8K_SHOTS} shots`,
      );
    }
    return lmEvalFewshotIndices(doc.row, { poolSize: pool.length }).map((i) => pool[i]);
  },
  request: (doc, ctx) => ({
    kind: "generate",
    prompt: gsm8kPrompt(doc, ctx.shots),
    until: GSM8K_STOP,
    maxTokens: GSM8K_MAX_NEW_TOKENS,
  }),
  // lm-eval's doc_to_target: the full solution (its exact_match cuts it to the number).
  target: (doc) => doc.answer,
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "gsm8k scores generated text");
    }
    const text = output.outputs[0] ?? "";
    const strict = gsm8kStrictMatch(text);
    return {
      metrics: {
        exact_match: gsm8kExactMatch(strict, doc.answer),
        exact_match_flexible: gsm8kExactMatch(gsm8kFlexibleExtract(text), doc.answer),
      },
      extracted: strict === GSM8K_FALLBACK ? null : strict,
    };
  },
  train: {
    labellings: { sft1: (doc) => [doc.answer] },
    reward: (doc, output) => strictScore(doc, String(output)),
  },
  fixture: {
    records: {
      [TEST_SPLIT]: [
        {
          question:
            "A baker makes 24 muffins in the morning and 18 in the afternoon. He sells 30 of them. How many muffins does he have left?",
          answer:
            "The baker makes 24 + 18 = <<24+18=42>>42 muffins.\nAfter selling 30 he has 42 - 30 = <<42-30=12>>12 muffins left.\n#### 12",
        },
        {
          question:
            "A used car costs $4,500. Maria has saved $1,250 and saves $250 more each week. How many weeks until she can buy the car?",
          answer:
            "Maria still needs 4,500 - 1,250 = $<<4500-1250=3250>>3,250.\nAt $250 a week that takes 3,250 / 250 = <<3250/250=13>>13 weeks.\n#### 13",
        },
        {
          question:
            "A school orders 45 boxes of pencils with 24 pencils in each box. How many pencils does the school order?",
          answer: "The school orders 45 * 24 = <<45*24=1080>>1080 pencils.\n#### 1080",
        },
      ],
      [TRAIN_SPLIT]: [
        {
          question: "Tom reads 12 pages a day. How many pages does he read in 2 weeks?",
          answer:
            "Two weeks have 2 * 7 = <<2*7=14>>14 days.\nTom reads 12 * 14 = <<12*14=168>>168 pages.\n#### 168",
        },
        {
          question:
            "A farmer has 3 fields with 15 cows in each. He sells 9 cows. How many cows does he have left?",
          answer:
            "The farmer has 3 * 15 = <<3*15=45>>45 cows.\nAfter selling 9 he has 45 - 9 = <<45-9=36>>36 cows.\n#### 36",
        },
        {
          question:
            "Lena buys 4 notebooks at $3 each and a pen for $2. She pays with a $20 bill. How much change does she get?",
          answer:
            "The notebooks cost 4 * 3 = $<<4*3=12>>12.\nWith the pen she spends 12 + 2 = $<<12+2=14>>14.\nHer change is 20 - 14 = $<<20-14=6>>6.\n#### 6",
        },
        {
          question:
            "A train travels at 60 miles per hour for 3 hours and then at 40 miles per hour for 2 hours. How far does it travel?",
          answer:
            "First it travels 60 * 3 = <<60*3=180>>180 miles.\nThen it travels 40 * 2 = <<40*2=80>>80 miles.\nIn all it travels 180 + 80 = <<180+80=260>>260 miles.\n#### 260",
        },
        {
          question:
            "There are 28 students in a class. Half of them bring lunch from home and 5 buy lunch at school. The rest go home for lunch. How many go home for lunch?",
          answer:
            "Half of the class is 28 / 2 = <<28/2=14>>14 students.\n14 + 5 = <<14+5=19>>19 students eat at school.\nSo 28 - 19 = <<28-19=9>>9 go home.\n#### 9",
        },
        {
          question:
            "Sam had 50 stickers. He gave 1/5 of them to his sister and then bought 7 more. How many stickers does he have now?",
          answer:
            "He gave away 50 / 5 = <<50/5=10>>10 stickers.\nHe had 50 - 10 = <<50-10=40>>40 left.\nAfter buying 7 he has 40 + 7 = <<40+7=47>>47.\n#### 47",
        },
      ],
    },
    // The dataset's own solution: both filters find its final number.
    perfect: (doc) => ({ kind: "generate", outputs: [doc.answer] }),
    // A final number with one digit too many: wrong under both filters.
    wrong: (doc) => ({
      kind: "generate",
      outputs: [`I think it is this.\n#### ${gsm8kNormalize(doc.answer)}1`],
    }),
  },
});
