// MMLU's task module: shots come from the question's own subject in the dev pool (none without
// one), records are validated field by field, and scoring is lm-eval's acc over A–D.

import { deepEqual, equal, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { mmlu, type MmluDoc } from "./mmlu.ts";

const at = (index: number, split = "test") => ({
  where: `all/${split}.parquet row ${index}`,
  index,
  split,
});
const records = mmlu.fixture.records!;
// Every MMLU record is an item (parse never skips one).
const parse = (r: Record<string, unknown>, where: ReturnType<typeof at>) =>
  mmlu.parse!(r, where) as MmluDoc;
const test = records.test.map((r, i) => parse(r, at(i)));
const dev = records.dev.map((r, i) => parse(r, at(i, "dev")));

Deno.test("mmlu: ids are rows (dev rows `dev-<row>`); records keep their fields", () => {
  deepEqual(test.map((d) => d.id), ["0", "1", "2", "3"]);
  equal(dev[9].id, "dev-9");
  deepEqual(test[2], { id: "2", ...records.test[2] } as MmluDoc);
  equal(mmlu.target(test[1]), "C");
});

Deno.test("mmlu: the shots are the first five dev examples of the question's subject", () => {
  deepEqual(mmlu.fewshot!(test[0], { dev }).map((d) => d.id), [
    "dev-0",
    "dev-1",
    "dev-2",
    "dev-3",
    "dev-4",
  ]);
  deepEqual(mmlu.fewshot!(test[3], { dev }).map((d) => d.id), [
    "dev-5",
    "dev-6",
    "dev-7",
    "dev-8",
    "dev-9",
  ]);
  deepEqual(mmlu.fewshot!(test[0], {}), [], "no dev pool (`score`): zero-shot prompt");
  throws(
    () => mmlu.fewshot!(test[0], { dev: dev.slice(1) }),
    (e) =>
      e instanceof ValidationError &&
      e.message === "mmlu item '0': mmlu: 5 shots asked for 'astronomy', but its dev split has 4",
  );
});

Deno.test("mmlu: acc is lm-eval's argmax over the letters, ties to the first", () => {
  const score = (lls: number[]) =>
    (mmlu.score(test[1], { kind: "choices", logliks: lls }, {}) as {
      metrics: Record<string, number>;
    }).metrics;
  deepEqual(score([-4, -3, -2, -5]), { acc: 1 });
  deepEqual(score([-2, -3, -2, -5]), { acc: 0 });
  throws(
    () => score([-1, -2]),
    (e) => e instanceof ValidationError && /4 choices but 2/.test(e.message),
  );
});

Deno.test("mmlu: an unknown subject, a fifth option or an answer past D is one line naming the row", () => {
  const base = records.test[0];
  const bad: [Record<string, unknown>, string][] = [
    [
      { ...base, subject: "astronomy " },
      `field 'subject' is "astronomy ", not one of the 57 MMLU subjects`,
    ],
    [{ ...base, choices: ["a", "b", "c", "d", "e"] }, "field 'choices' must hold 4 options, got 5"],
    [{ ...base, answer: 4 }, "field 'answer' must be 0 to 3, got 4"],
    [{ ...base, answer: "B" }, "field 'answer' is string, expected integer"],
  ];
  for (const [rec, problem] of bad) {
    throws(
      () => mmlu.parse!(rec, at(7)),
      (e) => e instanceof ValidationError && e.message === `all/test.parquet row 7: ${problem}`,
    );
  }
});
