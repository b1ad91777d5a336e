// Predictions files in each accepted shape, and each way they can be wrong.

import { deepEqual, throws } from "node:assert/strict";
import { matchPredictions, parsePredictions } from "./predictions.ts";
import { ValidationError } from "../lib/errors.ts";

const bad = (re: RegExp) => (e: unknown) => e instanceof ValidationError && re.test(e.message);

Deno.test("parsePredictions: {id, output}, human-eval samples, samples.jsonl log-likelihoods", () => {
  const p = parsePredictions(
    [
      '{"id": 70, "output": "the answer is (A)"}',
      '{"task_id": "HumanEval/0", "completion": "  return 1"}',
      '{"task_id": "HumanEval/0", "completion": "  return 2"}',
      "",
      '{"task":"hellaswag","id":"3","prompt":"x","loglikelihoods":[-1.5,-2]}',
    ].join("\n"),
    "p.jsonl",
  );
  deepEqual([...p.keys()], ["70", "HumanEval/0", "3"]);
  deepEqual(p.get("HumanEval/0"), { kind: "generate", outputs: ["  return 1", "  return 2"] });
  deepEqual(p.get("3"), { kind: "choices", logliks: [-1.5, -2] });
});

Deno.test("parsePredictions: lines of other tasks in a multi-task samples.jsonl are skipped", () => {
  const text = '{"task":"a","id":"0","output":"x"}\n{"task":"b","id":"0","loglikelihoods":[-1,-2]}';
  deepEqual(parsePredictions(text, "s.jsonl", { task: "b" }).get("0"), {
    kind: "choices",
    logliks: [-1, -2],
  });
  throws(
    () => parsePredictions(text, "s.jsonl", { task: "c" }),
    bad(/no predictions in the file for task c/),
  );
});

Deno.test("parsePredictions: errors name the file and line", () => {
  throws(
    () => parsePredictions('{"id": 1, "output": "a"}\n{oops', "p.jsonl"),
    bad(/^p\.jsonl:2: not valid JSON/),
  );
  throws(() => parsePredictions('{"output": "a"}', "p.jsonl"), bad(/^p\.jsonl:1: field 'id'/));
  throws(() => parsePredictions('{"id": "a"}', "p.jsonl"), bad(/^p\.jsonl:1: field 'output'/));
  throws(
    () => parsePredictions('{"id": "a", "output": {}}', "p.jsonl"),
    bad(/p\.jsonl:1: field 'output' must be/),
  );
  throws(
    () => parsePredictions("[1]", "p.jsonl"),
    bad(/p\.jsonl:1: each line must be a JSON object/),
  );
  throws(() => parsePredictions("\n\n", "p.jsonl"), bad(/p\.jsonl: no predictions/));
  throws(
    () => parsePredictions('{"id":"a","output":[-1,-2]}\n{"id":"a","output":[-1,-3]}', "p.jsonl"),
    bad(/p\.jsonl:2: id 'a' appears twice/),
  );
});

Deno.test("matchPredictions: ids must match the data file both ways, and the output kind the task", () => {
  const p = parsePredictions('{"id":"a","output":"x"}\n{"id":"b","output":"y"}', "p.jsonl");
  const opts = { file: "p.jsonl", dataFile: "d.parquet", kind: "generate" as const };
  const m = matchPredictions(p, { ...opts, ids: ["b", "a"] });
  deepEqual({ outputs: m.outputs, ignored: m.ignored }, {
    outputs: [{ kind: "generate", outputs: ["y"] }, { kind: "generate", outputs: ["x"] }],
    ignored: 0,
  });
  deepEqual([m.at("a"), m.at("b")], ["p.jsonl:1", "p.jsonl:2"], "where each id was read");
  throws(
    () => matchPredictions(p, { ...opts, ids: ["a"] }),
    bad(/^p\.jsonl:2: id 'b' is not an item of d\.parquet$/),
  );
  // A data file with records the task skips: predictions for them are left out and counted.
  const skip = matchPredictions(p, { ...opts, ids: ["a"], skippedRecords: 3 });
  deepEqual({ outputs: skip.outputs, ignored: skip.ignored }, {
    outputs: [{ kind: "generate", outputs: ["x"] }],
    ignored: 1,
  });
  throws(
    () => matchPredictions(p, { ...opts, ids: ["a", "b", "c"] }),
    bad(/no prediction for 1 of 3 items of d\.parquet \(first: 'c'\)/),
  );
  throws(
    () => matchPredictions(p, { ...opts, ids: ["a", "b"], kind: "choices" }),
    bad(/^p\.jsonl:1: id 'a': the task needs per-choice log-likelihoods, got text$/),
  );
  const lls = parsePredictions('{"id":"a","loglikelihoods":[-1,-2]}', "p.jsonl");
  throws(
    () => matchPredictions(lls, { ...opts, ids: ["a"] }),
    bad(/^p\.jsonl:1: id 'a': the task needs a text output, got log-likelihoods$/),
  );
});
