// HellaSwag (Zellers et al. 2019): pick the most plausible ending of an ActivityNet or WikiHow
// context. Zero-shot log-likelihood multiple choice on the validation split, with
// lm-evaluation-harness's preprocessing; acc and acc_norm (docs/metrics.md "Benchmark scoring").

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { hellaswagRequest } from "../evals/hellaswag.ts";
import { mcAcc, mcAccNorm } from "../evals/multiple_choice.ts";
import { choiceLogliks, logliksFavouring } from "./mc_output.ts";
import { defineTask, type Item } from "./task.ts";

/** One HellaSwag row, the fields lm-eval reads. */
export interface HellaswagTaskDoc extends Item {
  readonly activity_label: string;
  readonly ctx_a: string;
  readonly ctx_b: string;
  readonly endings: readonly string[];
  readonly label: number;
}

const row = (
  ind: number,
  activity: string,
  ctxA: string,
  ctxB: string,
  endings: string[],
  label: number,
) => ({
  ind,
  activity_label: activity,
  ctx_a: ctxA,
  ctx_b: ctxB,
  ctx: `${ctxA} ${ctxB}`,
  endings,
  source_id: `activitynet~v_fixture${ind}`,
  split: "val",
  split_type: "indomain",
  label: String(label),
});

/** HellaSwag, scored as lm-evaluation-harness does (acc and acc_norm). */
export const hellaswag = defineTask<HellaswagTaskDoc>({
  id: "hellaswag",
  version: "1",
  kind: "general",
  description:
    "HellaSwag: commonsense sentence completion, 4 endings (acc, acc_norm), validation split",
  source: {
    description: "Rowan/hellaswag validation split (10,042 items; the test split has no labels)",
    url: "https://huggingface.co/datasets/Rowan/hellaswag",
    license: "MIT",
    splits: {
      test: [{
        repo: "Rowan/hellaswag",
        revision: "main",
        path: "data/validation-00000-of-00001.parquet",
      }],
    },
  },
  idField: "ind",
  requestKind: "choices",
  metrics: ["acc", "acc_norm"],
  parse(rec, at) {
    const f = requireFields(rec, {
      ind: "integer",
      activity_label: "string",
      ctx_a: "string",
      ctx_b: "string",
      endings: "string[]",
      label: "any",
    }, at.where);
    const label = typeof f.label === "number" ? f.label : Number(f.label);
    if (!Number.isInteger(label) || label < 0 || label >= f.endings.length) {
      throw new ValidationError(
        at.where,
        `field 'label' must index one of ${f.endings.length} endings, got ${
          JSON.stringify(f.label)
        }`,
      );
    }
    return { id: String(f.ind), ...f, label };
  },
  request(doc) {
    const r = hellaswagRequest(doc);
    return { kind: "choices", context: r.context, continuations: r.continuations };
  },
  target: (doc) => hellaswagRequest(doc).choices[doc.label],
  score(doc, output) {
    const r = hellaswagRequest(doc);
    const lls = choiceLogliks(output, { id: doc.id, choices: r.choices.length });
    return { metrics: { acc: mcAcc(lls, r.gold), acc_norm: mcAccNorm(lls, r.choices, r.gold) } };
  },
  fixture: {
    records: {
      test: [
        row(0, "Making a cake", "A woman cracks eggs into a bowl.", "she", [
          "whisks them with sugar [step] and flour.",
          "drives a car down the street.",
          "paints the ceiling of the kitchen.",
          "swims across the pool.",
        ], 0),
        row(1, "Walking the dog", "A man clips a leash to a dog.", "then", [
          "he reads a newspaper in the bath.",
          "he cooks dinner.",
          "they walk out of the front door together.",
          "he [title] repairs a bicycle.",
        ], 2),
        row(2, "Washing hands", "A child turns on the tap.", "the child", [
          "flies a kite.",
          "rubs soap between both hands.",
          "climbs a tree.",
          "sings a song to the moon.",
        ], 1),
      ],
    },
    perfect: (doc) => logliksFavouring(doc.endings.length, (i) => i === doc.label),
    wrong: (doc) => logliksFavouring(doc.endings.length, (i) => i !== doc.label),
  },
});
