// WinoGrande's task module: one choices request per sentence with a context per option (scored
// pairwise), the sentence as the prompt shown; records validated; acc as lm-eval scores it.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { sampleLine } from "../evals/results.ts";
import { winogrande, type WinograndeDoc } from "./winogrande.ts";

const at = (index: number) => ({ where: `validation.parquet row ${index}`, index, split: "test" });
// Every labelled record is an item (parse never skips one).
const docs = winogrande.fixture.records!.test.map((r, i) =>
  winogrande.parse!(r, at(i)) as WinograndeDoc
);

Deno.test("winogrande: a choices request with one context per option and the same continuation", () => {
  equal(docs[0].id, "0");
  deepEqual(winogrande.request(docs[0], { shots: [] }), {
    kind: "choices",
    context: "The trophy would not fit in the suitcase because the _ was too small.",
    contexts: [
      "The trophy would not fit in the suitcase because the trophy",
      "The trophy would not fit in the suitcase because the suitcase",
    ],
    continuations: [" was too small.", " was too small."],
  });
  deepEqual(docs.map((d) => winogrande.target(d)), ["suitcase", "Jessica", "Kevin", "Rachel"]);
});

Deno.test("winogrande: acc picks the option whose context scores the continuation higher", () => {
  const acc = (i: number, lls: number[]) =>
    (winogrande.score(docs[i], { kind: "choices", logliks: lls }, {}) as {
      metrics: Record<string, number>;
    }).metrics.acc;
  deepEqual([acc(0, [-9, -3]), acc(0, [-3, -9]), acc(0, [-3, -3])], [1, 0, 0]);
  deepEqual([acc(2, [-9, -3]), acc(2, [-3, -9]), acc(2, [-3, -3])], [0, 1, 1]);
});

Deno.test("winogrande: samples.jsonl shows the sentence and both scored contexts", () => {
  const request = winogrande.request(docs[1], { shots: [] });
  const line = JSON.parse(sampleLine("winogrande", {
    id: docs[1].id,
    request,
    output: { kind: "choices", logliks: [-5, -2] },
    target: winogrande.target(docs[1]),
    score: { metrics: { acc: 1 } },
  }));
  equal(line.prompt, docs[1].sentence);
  deepEqual(line.contexts, [
    "Megan lent her umbrella to Jessica because Megan",
    "Megan lent her umbrella to Jessica because Jessica",
  ]);
  deepEqual(line.choices, [" was going out in the rain.", " was going out in the rain."]);
  ok(Object.keys(line).indexOf("contexts") < Object.keys(line).indexOf("choices"));
});

Deno.test("winogrande: a sentence without a blank or an unlabelled answer is one line naming the row", () => {
  const base = winogrande.fixture.records!.test[0];
  for (
    const [rec, problem] of [
      [{ ...base, sentence: "No blank here." }, "winogrande: the sentence has no blank '_'"],
      [{ ...base, answer: "" }, 'winogrande: answer "" is not "1" or "2"'],
      [{ ...base, answer: 2 }, "field 'answer' is number, expected string"],
    ] as const
  ) {
    throws(
      () => winogrande.parse!(rec, at(3)),
      (e) => e instanceof ValidationError && e.message === `validation.parquet row 3: ${problem}`,
    );
  }
});
