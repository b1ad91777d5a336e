// WinoGrande (Sakaguchi et al. 2020): 1,267 two-option fill-in-the-blank sentences (the XL
// config's validation split; the test split has no labels). Zero-shot partial evaluation as
// lm-evaluation-harness's `winogrande` task scores it: each option fills the blank in its own
// context and the same rest of the sentence is scored after each (a choices request with one
// context per continuation); acc (docs/metrics.md "Benchmark scoring"). A panel task.

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { mcAcc } from "../evals/multiple_choice.ts";
import { winograndeRequest } from "../evals/winogrande.ts";
import { choiceLogliks, logliksFavouring } from "./mc_output.ts";
import { defineTask, type Item, rowId } from "./task.ts";

/** One WinoGrande sentence. */
export interface WinograndeDoc extends Item {
  /** The sentence with its blank "_". */
  readonly sentence: string;
  readonly option1: string;
  readonly option2: string;
  /** "1" or "2". */
  readonly answer: string;
}

const goldOf = (doc: WinograndeDoc) => (doc.answer === "1" ? 0 : 1);

/** WinoGrande, scored as lm-evaluation-harness does (acc). */
export const winogrande = defineTask<WinograndeDoc>({
  id: "winogrande",
  version: "1",
  kind: "general",
  description:
    "WinoGrande: two-option fill in the blank, zero-shot partial scoring (acc), XL validation split",
  source: {
    description: "allenai/winogrande winogrande_xl config, validation split (1,267 sentences)",
    url: "https://huggingface.co/datasets/allenai/winogrande",
    license: "CC-BY",
    splits: {
      test: [{
        repo: "allenai/winogrande",
        revision: "main",
        path: "winogrande_xl/validation-00000-of-00001.parquet",
      }],
    },
  },
  // Published without ids (the original qID is not in the hub files): numbered by row.
  idField: null,
  requestKind: "choices",
  metrics: ["acc"],
  parse(rec, at) {
    const f = requireFields(rec, {
      sentence: "string",
      option1: "string",
      option2: "string",
      answer: "string",
    }, at.where);
    try {
      winograndeRequest(f);
    } catch (e) {
      if (e instanceof RangeError) throw new ValidationError(at.where, e.message);
      throw e;
    }
    return { id: rowId(at), ...f };
  },
  // The sentence is the prompt shown; the model scores the continuation after each context.
  request(doc) {
    const r = winograndeRequest(doc);
    return {
      kind: "choices",
      context: doc.sentence,
      contexts: r.contexts,
      continuations: [r.continuation, r.continuation],
    };
  },
  target: (doc) => (goldOf(doc) === 0 ? doc.option1 : doc.option2),
  score(doc, output) {
    const lls = choiceLogliks(output, { id: doc.id, choices: 2 });
    return { metrics: { acc: mcAcc(lls, goldOf(doc)) } };
  },
  fixture: {
    // Field for field as the winogrande_xl parquet holds them (answer a string). The blank may
    // open the sentence, and stray spaces after it are stripped from the continuation.
    records: {
      test: [
        {
          sentence: "The trophy would not fit in the suitcase because the _ was too small.",
          option1: "trophy",
          option2: "suitcase",
          answer: "2",
        },
        {
          sentence: "Megan lent her umbrella to Jessica because _ was going out in the rain.",
          option1: "Megan",
          option2: "Jessica",
          answer: "2",
        },
        {
          sentence:
            "_ practised the piano every day, so Kevin played better than Brian at the recital.",
          option1: "Kevin",
          option2: "Brian",
          answer: "1",
        },
        {
          sentence:
            "Rachel's garden grew more tomatoes than Amy's, since _  watered hers every morning. ",
          option1: "Rachel",
          option2: "Amy",
          answer: "1",
        },
      ],
    },
    perfect: (doc) => logliksFavouring(2, (i) => i === goldOf(doc)),
    wrong: (doc) => logliksFavouring(2, (i) => i !== goldOf(doc)),
  },
});
