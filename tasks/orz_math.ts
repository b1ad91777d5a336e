// Open-Reasoner-Zero's curated maths (Hu et al. 2025, "Open-Reasoner-Zero"), 57k problems from
// AIME (to 2023), MATH, NuminaMath and Tulu 3 with a final-answer ground truth each: RL's Razor's
// (Shenfeld, Pari & Agrawal 2025) math-reasoning task. A task to train on: SFT onto the boxed
// ground truth, RL with ORZ's answer-equivalence reward (evals/orz_math.ts); scored by the same
// 0/1 equivalence (docs/metrics.md "Benchmark scoring").
//
// The data: `orz_math_57k_collected.json`, published in the ORZ GitHub repository's data/ folder
// (github.com/Open-Reasoner-Zero/Open-Reasoner-Zero/blob/main/data/orz_math_57k_collected.json)
// and mirrored under the same name at the root of the hub dataset Tonic/OpenReasonerZero, which
// is where a missing file is downloaded from. A JSON array of conversations, each a list of two
// turns: `[{"from": "human", "value": <problem>}, {"from": "assistant", "ground_truth":
// {"value": <answer>, "pass_at_n"?: <float>}}]` (ORZ's playground/zero_setting_base.py reads
// `dialogue[0]["value"]` and `dialogue[1]["ground_truth"]["value"]`). lib/records.ts reads each
// conversation as `{"0": <human turn>, "1": <assistant turn>}`, the layout the Hugging Face
// `datasets` loader (and so the hub's parquet conversions) gives it. `--data` may name the file,
// a folder holding it (a clone's data/ folder), or a `datasets` export of it.
//
// Items are numbered by their row in the file (rowId). A record whose ground truth is empty (or
// null) has nothing to compare with: it is skipped and counted (Loaded.skipped). ORZ publishes no test
// split, so load holds one in ten questions out for test (tasks/held_out.ts) and trains on the
// rest; `score --data FILE` scores every item of the file.

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import { orzExtract, orzPrompt, orzScore } from "../evals/orz_math.ts";
import { loadHeldOut } from "./held_out.ts";
import { defineTask, type Item, rowId, type Task, TEST_SPLIT } from "./task.ts";

/** One ORZ problem. */
export interface OrzDoc extends Item {
  /** The problem as published (the human turn's `value`). */
  readonly question: string;
  /** The ground truth as published (the assistant turn's `ground_truth.value`). */
  readonly answer: string;
}

/** The generation budget (ours: ORZ trains with far longer ones, RL's Razor does not say). */
export const ORZ_MAX_NEW_TOKENS = 1024;

/**
 * The SFT target: the ground truth boxed, `The answer is \boxed{<ground truth>}.`. Where that
 * would not read back as the ground truth (braces that do not balance), `The answer is
 * <ground truth>`, else the bare ground truth: the first of these that scores 1.
 */
export function orzTarget(answer: string): string {
  const forms = [`The answer is \\boxed{${answer}}.`, `The answer is ${answer}`];
  return forms.find((t) => orzScore(t, answer) === 1) ?? answer;
}

const FILE = "orz_math_57k_collected.json";

/** A published record: one conversation, a human turn and an assistant turn. */
function conversation(
  question: string,
  answer: string,
  passAtN?: number,
): Record<string, unknown> {
  const truth = passAtN === undefined ? { value: answer } : { value: answer, pass_at_n: passAtN };
  const turns = [{ from: "human", value: question }, { from: "assistant", ground_truth: truth }];
  // Published rows are arrays; the fixture writer and the reader take them as they are.
  return turns as unknown as Record<string, unknown>;
}

/** Open-Reasoner-Zero's 57k maths problems, scored by final-answer equivalence. */
export const orzMath: Task<OrzDoc> = defineTask<OrzDoc>({
  id: "orz_math",
  version: "1",
  kind: "downstream",
  description:
    "Open-Reasoner-Zero maths (57k), final answer in \\boxed{}, answer-equivalence accuracy; " +
    "one in ten questions held out for test",
  source: {
    description:
      "orz_math_57k_collected.json from the Open-Reasoner-Zero repository's data/ folder " +
      "(mirrored in the hub dataset Tonic/OpenReasonerZero)",
    url: "https://github.com/Open-Reasoner-Zero/Open-Reasoner-Zero/tree/main/data",
    license: "MIT",
    splits: { test: [{ repo: "Tonic/OpenReasonerZero", revision: "main", path: FILE }] },
  },
  idField: null,
  requestKind: "generate",
  metrics: ["acc"],
  parse(rec, at) {
    const f = requireFields(rec, { "0": "object", "1": "object" }, at.where);
    const human = requireFields(f["0"], { value: "string" }, `${at.where}: field '0'`);
    const assistant = requireFields(f["1"], { ground_truth: "object" }, `${at.where}: field '1'`);
    const truth = assistant.ground_truth;
    if (!("value" in truth)) {
      throw new ValidationError(`${at.where}: field '1'.ground_truth`, "field 'value' missing");
    }
    const value = truth.value;
    if (value === null) return null; // documented skip: nothing to compare with
    if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
      throw new ValidationError(
        at.where,
        `field '1'.ground_truth.value is ${typeof value}, expected a string (or a number)`,
      );
    }
    const answer = String(value);
    if (answer.trim() === "") return null; // documented skip: nothing to compare with
    return { id: rowId(at), question: human.value, answer };
  },
  load: (opts) => loadHeldOut(orzMath, opts, (doc) => doc.question),
  request: (doc) => ({
    kind: "generate",
    prompt: orzPrompt(doc.question),
    until: [],
    maxTokens: ORZ_MAX_NEW_TOKENS,
  }),
  target: (doc) => doc.answer,
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "orz_math scores generated text");
    }
    const text = output.outputs[0] ?? "";
    const extracted = orzExtract(text);
    return { metrics: { acc: orzScore(text, doc.answer) }, extracted: extracted || null };
  },
  train: {
    labellings: { sft1: (doc) => [orzTarget(doc.answer)] },
    reward: (doc, output) => orzScore(String(output), doc.answer),
  },
  fixture: {
    records: {
      [TEST_SPLIT]: [
        conversation(
          "Which of the following numbers is prime?\n(A) 21\n(B) 27\n(C) 29\n(D) 33\n(E) 39",
          "\\text{(C)}",
        ),
        conversation(
          "A bag holds $3$ red and $5$ blue marbles. Two marbles are drawn without replacement. " +
            "What is the probability that both are red? Express your answer as a common fraction.",
          "\\frac{3}{28}",
          0.4375,
        ),
        conversation("Simplify $\\sqrt{50} + \\sqrt{18}$.", "8\\sqrt{2}"),
        conversation(
          "A town of $12{,}500$ people grows by $8\\%$ in one year. How many people live there " +
            "after that year?",
          "13,500",
        ),
        conversation(
          "Find the area of a triangle whose sides are $13$, $14$ and $15$.",
          "84",
          0.875,
        ),
        conversation(
          "The angles of a triangle are in the ratio $1:2:3$. What is the measure of the largest " +
            "angle, in degrees?",
          "90^\\circ",
        ),
        conversation("Let $f(x) = 3x + 2$. Solve $f(x) = 17$ for $x$.", "x=5"),
        // An empty ground truth: skipped and counted.
        conversation(
          "8. The sum of two numbers is $20$ and their difference is $4$. Find the larger number.",
          "",
        ),
        conversation("Example 3. Compute $0.25 \\times 12$.", "3", 1),
      ],
    },
    // Rows held out for test (tasks/held_out.ts); the others are the train split, but row 7,
    // whose empty ground truth is skipped.
    ids: { [TEST_SPLIT]: ["5", "8"] },
    // The boxed ground truth, as a model following the prompt writes it.
    perfect: (doc) => ({
      kind: "generate",
      outputs: [`Working it through step by step.\n${orzTarget(doc.answer)}`],
    }),
    // A final answer with one character too many.
    wrong: (doc) => ({ kind: "generate", outputs: [`The answer is \\boxed{${doc.answer}1}.`] }),
  },
});
