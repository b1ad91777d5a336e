// ARC-Easy (Clark et al. 2018): grade-school science questions with 3 to 5 answer options, the
// Easy set of the AI2 Reasoning Challenge. Zero-shot log-likelihood multiple choice on the test
// split, as lm-evaluation-harness's `arc_easy` task (lm_eval/tasks/arc/arc_easy.yaml) defines and
// scores it: acc and acc_norm (docs/metrics.md "Benchmark scoring"). A panel task: nothing to
// train on.

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { mcAcc, mcAccNorm, mcContinuations } from "../evals/multiple_choice.ts";
import { choiceLogliks, logliksFavouring } from "./mc_output.ts";
import { defineTask, type Item } from "./task.ts";

/** One ARC question, the fields lm-eval reads. */
export interface ArcDoc extends Item {
  readonly question: string;
  /** The option texts, in the dataset's order (lm-eval's doc_to_choice `choices.text`). */
  readonly choices: readonly string[];
  /** The option labels as published: letters A–E, or digits 1–5 for some questions. */
  readonly labels: readonly string[];
  /** Index of `answerKey` in the labels (doc_to_target `choices.label.index(answerKey)`). */
  readonly gold: number;
}

/** arc_easy.yaml's doc_to_text. */
function arcContext(doc: ArcDoc): string {
  return `Question: ${doc.question}\nAnswer:`;
}

const record = (
  id: string,
  question: string,
  options: string[],
  answerKey: string,
  labels = ["A", "B", "C", "D", "E"].slice(0, options.length),
) => ({ id, question, choices: { text: options, label: labels }, answerKey });

/** ARC-Easy, scored as lm-evaluation-harness does (acc and acc_norm). */
export const arcEasy = defineTask<ArcDoc>({
  id: "arc_easy",
  version: "1",
  kind: "general",
  description: "ARC-Easy: grade-school science, 3-5 options, zero-shot (acc, acc_norm), test split",
  source: {
    description: "allenai/ai2_arc, ARC-Easy config, test split (2,376 questions)",
    url: "https://huggingface.co/datasets/allenai/ai2_arc",
    license: "CC-BY-SA-4.0",
    splits: {
      test: [{
        repo: "allenai/ai2_arc",
        revision: "main",
        path: "ARC-Easy/test-00000-of-00001.parquet",
      }],
    },
  },
  idField: "id",
  requestKind: "choices",
  metrics: ["acc", "acc_norm"],
  parse(rec, at) {
    const f = requireFields(rec, {
      id: "string",
      question: "string",
      choices: "object",
      answerKey: "string",
    }, at.where);
    const c = requireFields(f.choices, {
      text: "string[]",
      label: "string[]",
    }, `${at.where}: field 'choices'`);
    if (c.text.length < 2 || c.text.length !== c.label.length) {
      throw new ValidationError(
        at.where,
        `field 'choices' needs at least 2 options with one label each, got ${c.text.length} ` +
          `texts and ${c.label.length} labels`,
      );
    }
    const gold = c.label.indexOf(f.answerKey);
    if (gold < 0) {
      throw new ValidationError(
        at.where,
        `field 'answerKey' is ${JSON.stringify(f.answerKey)}, not one of the labels ${
          c.label.join(", ")
        }`,
      );
    }
    return { id: f.id, question: f.question, choices: c.text, labels: c.label, gold };
  },
  // The target delimiter " " goes before each option; acc_norm divides by the bare option's length.
  request: (doc) => ({
    kind: "choices",
    context: arcContext(doc),
    continuations: mcContinuations(doc.choices),
  }),
  target: (doc) => doc.choices[doc.gold],
  score(doc, output) {
    const lls = choiceLogliks(output, { id: doc.id, choices: doc.choices.length });
    return {
      metrics: { acc: mcAcc(lls, doc.gold), acc_norm: mcAccNorm(lls, doc.choices, doc.gold) },
    };
  },
  fixture: {
    records: {
      test: [
        record(
          "Mercury_7999901",
          "Which form of energy does a green plant use to make its food?",
          ["heat", "light", "sound", "electrical"],
          "B",
        ),
        record(
          "NYSEDREGENTS_2015_4_99",
          "Which object is the best conductor of electricity?",
          ["a wooden spoon", "a rubber band", "a copper wire", "a plastic cup"],
          "3",
          ["1", "2", "3", "4"],
        ),
        record(
          "MCAS_2006_9_99",
          "A student pushes a box across the floor. Which force works against the motion of the box?",
          ["gravity", "magnetism", "friction"],
          "C",
        ),
        record(
          "Mercury_SC_499901",
          "Which of these is a renewable resource?",
          ["coal", "oil", "natural gas", "trees", "iron ore"],
          "D",
        ),
      ],
    },
    columns: { choices: { struct: { text: "list<string>", label: "list<string>" } } },
    perfect: (doc) => logliksFavouring(doc.choices.length, (i) => i === doc.gold),
    wrong: (doc) => logliksFavouring(doc.choices.length, (i) => i !== doc.gold),
  },
});
