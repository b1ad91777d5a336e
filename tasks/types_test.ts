// defineTextTask rejects a broken declaration at load time, naming the task and the field.

import { throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { hellaswag } from "./hellaswag.ts";
import { defineTextTask, type TextTaskSpec } from "./types.ts";

const broken = (patch: Partial<TextTaskSpec>, re: RegExp) =>
  throws(
    () => defineTextTask({ ...(hellaswag as unknown as TextTaskSpec), ...patch }),
    (e) => e instanceof ValidationError && re.test(e.message),
  );

Deno.test("defineTextTask: each broken field is a ValidationError naming the task and field", () => {
  broken({ id: "Bad-Id" }, /^task 'Bad-Id': id must match/);
  broken({ version: "v1" }, /^task 'hellaswag': version 'v1'/);
  broken({ kind: "core" as never }, /kind must be 'downstream' or 'general'/);
  broken({ output: "classify" as never }, /output must be 'loglikelihood' or 'generation'/);
  broken({ metrics: [] }, /metrics must not be empty/);
  const src = hellaswag.source;
  broken({ source: { ...src, splits: {} } }, /source\.splits\.test must list at least one file/);
  broken(
    { source: { ...src, splits: { test: [{ repo: "no-org", revision: "main", path: "x" }] } } },
    /needs repo 'org\/name'/,
  );
  broken(
    { source: { ...src, splits: { test: [{ ...src.splits.test[0], sha256: "abc" }] } } },
    /malformed sha256/,
  );
  broken(
    { fixture: { ...hellaswag.fixture, records: { test: [] } } as never },
    /fixture\.records\.test must hold at least one record/,
  );
});
