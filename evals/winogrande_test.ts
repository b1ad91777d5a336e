// Tests for evals/winogrande.ts. The expected (context, continuation) pairs and accuracies were
// produced by lm-evaluation-harness's own ConfigurableTask (lm_eval/api/task.py
// `fewshot_context`, `construct_requests`, `process_results`) loading
// lm_eval/tasks/winogrande/default.yaml with preprocess_winogrande.py, zero-shot, fed
// tasks/winogrande.ts's fixture records, then pasted here.

import { deepEqual, equal, throws } from "node:assert/strict";
import { mcAcc } from "./multiple_choice.ts";
import { winograndeRequest } from "./winogrande.ts";

const RECORDS = [
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
    sentence: "_ practised the piano every day, so Kevin played better than Brian at the recital.",
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
];

// lm-eval's Instance arguments per record: [(context, continuation), (context, continuation)].
const LM_EVAL_PAIRS: [string, string][][] = [
  [
    ["The trophy would not fit in the suitcase because the trophy", " was too small."],
    ["The trophy would not fit in the suitcase because the suitcase", " was too small."],
  ],
  [
    ["Megan lent her umbrella to Jessica because Megan", " was going out in the rain."],
    ["Megan lent her umbrella to Jessica because Jessica", " was going out in the rain."],
  ],
  [
    ["Kevin", " practised the piano every day, so Kevin played better than Brian at the recital."],
    ["Brian", " practised the piano every day, so Kevin played better than Brian at the recital."],
  ],
  [
    ["Rachel's garden grew more tomatoes than Amy's, since Rachel", " watered hers every morning."],
    ["Rachel's garden grew more tomatoes than Amy's, since Amy", " watered hers every morning."],
  ],
];

Deno.test("winograndeRequest: lm-eval's partial scoring pairs (a context per option, one stripped continuation)", () => {
  RECORDS.forEach((doc, i) => {
    const r = winograndeRequest(doc);
    deepEqual(
      r.contexts.map((c) => [c, r.continuation]),
      LM_EVAL_PAIRS[i],
      doc.sentence,
    );
  });
  deepEqual(RECORDS.map((d) => winograndeRequest(d).gold), [1, 1, 0, 0]);
});

Deno.test("acc: the option whose context makes the continuation likelier, ties to option1 (process_results)", () => {
  // lm-eval's process_results on lls (-1, -2), (-2, -1), (-1.5, -1.5) for each record.
  const want = [[0, 1, 0], [0, 1, 0], [1, 0, 1], [1, 0, 1]];
  const lls = [[-1, -2], [-2, -1], [-1.5, -1.5]];
  RECORDS.forEach((doc, i) => {
    const gold = winograndeRequest(doc).gold;
    deepEqual(lls.map((l) => mcAcc(l, gold)), want[i], doc.sentence);
  });
});

Deno.test("winograndeRequest: the first '_' is the blank; Python's strip; no blank or no label is an error", () => {
  const doc = { sentence: "A_B _ c\u0085", option1: "x", option2: "y", answer: "1" };
  deepEqual(winograndeRequest(doc).contexts, ["Ax", "Ay"]);
  equal(winograndeRequest(doc).continuation, " B _ c");
  equal(winograndeRequest({ ...doc, sentence: "a _\ufeff" }).continuation, " \ufeff");
  throws(
    () => winograndeRequest({ ...doc, sentence: "no blank" }),
    (e) => e instanceof RangeError && e.message.includes("no blank"),
  );
  throws(
    () => winograndeRequest({ ...doc, answer: "" }),
    (e) => e instanceof RangeError && e.message.includes('answer "" is not'),
  );
});
