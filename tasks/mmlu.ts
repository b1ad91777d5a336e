// MMLU (Hendrycks et al. 2021): 14,042 four-option questions in 57 subjects. 5-shot
// log-likelihood multiple choice over the letters A–D, as lm-evaluation-harness's `mmlu` group
// (lm_eval/tasks/mmlu/default) runs with `--num_fewshot 5`: the shots are the first five dev
// examples of the question's subject (docs/metrics.md "Benchmark scoring"). A panel task.
//
// lm-eval reports mmlu as the per-subject accuracies weighted by subject size (weight_by_size
// at both group levels), which is exactly the mean over all test questions that forgetbench
// reports.

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { MMLU_CHOICES, MMLU_SUBJECTS, mmluFewshot, mmluRequest } from "../evals/mmlu.ts";
import { mcAcc } from "../evals/multiple_choice.ts";
import { choiceLogliks, logliksFavouring } from "./mc_output.ts";
import { defineTask, type Item, rowId } from "./task.ts";

/** One cais/mmlu question. */
export interface MmluDoc extends Item {
  readonly question: string;
  /** One of the 57 subjects (evals/mmlu.ts MMLU_SUBJECTS), with underscores. */
  readonly subject: string;
  readonly choices: readonly string[];
  /** Index of the right option, 0–3. */
  readonly answer: number;
}

const HUB = { repo: "cais/mmlu", revision: "main" };
const SUBJECTS = new Set(MMLU_SUBJECTS);

const q = (question: string, subject: string, choices: string[], answer: number) => ({
  question,
  subject,
  choices,
  answer,
});

/** MMLU, scored as lm-evaluation-harness does (acc). */
export const mmlu = defineTask<MmluDoc>({
  id: "mmlu",
  version: "1",
  kind: "general",
  description:
    "MMLU: 57 subjects, 4 options, 5-shot from the subject's dev split (acc), test split",
  source: {
    description:
      "cais/mmlu `all` config: test split (14,042) scored, dev split (5 per subject) for the shots",
    url: "https://huggingface.co/datasets/cais/mmlu",
    license: "MIT",
    splits: {
      test: [{ ...HUB, path: "all/test-00000-of-00001.parquet" }],
      dev: [{ ...HUB, path: "all/dev-00000-of-00001.parquet" }],
    },
  },
  // Published without ids: the row in the `all` test file (lm-eval numbers rows per subject, so
  // its doc_id is the row within the subject instead); dev rows are `dev-<row>` (rowId).
  idField: null,
  requestKind: "choices",
  metrics: ["acc"],
  parse(rec, at) {
    const f = requireFields(rec, {
      question: "string",
      subject: "string",
      choices: "string[]",
      answer: "integer",
    }, at.where);
    if (!SUBJECTS.has(f.subject)) {
      throw new ValidationError(
        at.where,
        `field 'subject' is ${JSON.stringify(f.subject)}, not one of the 57 MMLU subjects`,
      );
    }
    if (f.choices.length !== MMLU_CHOICES.length) {
      throw new ValidationError(
        at.where,
        `field 'choices' must hold 4 options, got ${f.choices.length}`,
      );
    }
    if (f.answer < 0 || f.answer >= MMLU_CHOICES.length) {
      throw new ValidationError(at.where, `field 'answer' must be 0 to 3, got ${f.answer}`);
    }
    return { id: rowId(at), ...f };
  },
  // first_n: the subject's first 5 dev examples. Without a dev pool (`score` loads the test
  // split only) the prompt shown is zero-shot; the scores never depend on it.
  fewshot(doc, pools) {
    const dev = pools.dev ?? [];
    if (dev.length === 0) return [];
    try {
      return mmluFewshot(dev, { subject: doc.subject });
    } catch (e) {
      if (e instanceof RangeError) throw new ValidationError(`mmlu item '${doc.id}'`, e.message);
      throw e;
    }
  },
  request(doc, ctx) {
    const r = mmluRequest(doc, ctx.shots);
    return { kind: "choices", context: r.context, continuations: r.continuations };
  },
  target: (doc) => MMLU_CHOICES[doc.answer],
  score(doc, output) {
    const lls = choiceLogliks(output, { id: doc.id, choices: MMLU_CHOICES.length });
    return { metrics: { acc: mcAcc(lls, doc.answer) } };
  },
  fixture: {
    // Field for field as cais/mmlu's parquet holds them (answer: the ClassLabel's int64), in the
    // `all` config's subject order; one question carries the stray whitespace strip() removes.
    records: {
      test: [
        q(
          "Which planet in the Solar System has the shortest orbital period?",
          "astronomy",
          ["Venus", "Mercury", "Mars", "Earth"],
          1,
        ),
        q(" What causes the phases of the Moon as seen from Earth?\n", "astronomy", [
          "Earth's shadow falling on the Moon",
          "The changing distance between Earth and the Moon",
          "The changing angle between the Sun, Earth and Moon",
          "Clouds in Earth's atmosphere",
        ], 2),
        q(
          "Which of the following is the longest river in South America?",
          "high_school_geography",
          ["Orinoco", "Paraná", "Amazon", "São Francisco"],
          2,
        ),
        q(
          "A country whose population pyramid has a wide base most likely has",
          "high_school_geography",
          [
            "a high birth rate.",
            "an aging population.",
            "zero population growth.",
            "a low fertility rate.",
          ],
          0,
        ),
      ],
      dev: [
        q("What is the main source of the Sun's energy?", "astronomy", [
          "Chemical burning",
          "Nuclear fusion",
          "Gravitational collapse",
          "Radioactive decay",
        ], 1),
        q("Which of these planets has no solid surface?", "astronomy", [
          "Mercury",
          "Venus",
          "Mars",
          "Saturn",
        ], 3),
        q("Why is Mars red?", "astronomy", [
          "Its atmosphere scatters red light.",
          "Its surface holds iron oxide.",
          "Its ice caps reflect red light.",
          "It is heated by the Sun.",
        ], 1),
        q("How long does light from the Sun take to reach Earth?", "astronomy", [
          "About 8 seconds",
          "About 8 minutes",
          "About 8 hours",
          "About 8 days",
        ], 1),
        q("Which of these is the closest star to the Sun?", "astronomy", [
          "Sirius",
          "Betelgeuse",
          "Proxima Centauri",
          "Vega",
        ], 2),
        q(
          "Which of the following is an example of a renewable resource?",
          "high_school_geography",
          [
            "Coal",
            "Natural gas",
            "Solar energy",
            "Oil",
          ],
          2,
        ),
        q("The line of latitude at 0 degrees is called the", "high_school_geography", [
          "Prime Meridian.",
          "Equator.",
          "Tropic of Cancer.",
          "Arctic Circle.",
        ], 1),
        q("Which city is the capital of Australia?", "high_school_geography", [
          "Sydney",
          "Melbourne",
          "Canberra",
          "Perth",
        ], 2),
        q("A map that shows elevation with contour lines is a", "high_school_geography", [
          "political map.",
          "topographic map.",
          "road map.",
          "climate map.",
        ], 1),
        q(
          "What is the most important factor in the location of a steel mill?",
          "high_school_geography",
          [
            "Access to markets",
            "Access to raw materials",
            "Cheap labour",
            "A warm climate",
          ],
          1,
        ),
      ],
    },
    perfect: (doc) => logliksFavouring(MMLU_CHOICES.length, (i) => i === doc.answer),
    wrong: (doc) => logliksFavouring(MMLU_CHOICES.length, (i) => i !== doc.answer),
  },
});
