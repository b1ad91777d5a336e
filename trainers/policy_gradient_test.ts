// Tests for the pure parts of trainers/policy_gradient.ts: advantages worked by hand for each
// kind, RIF-RFT's instance filter on all-fail, all-pass and mixed groups, and option parsing.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { advantages, keepInstance, parsePgOptions, type PgOptions } from "./policy_gradient.ts";

function close(actual: readonly number[], expected: readonly number[], tol = 1e-12): void {
  equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    ok(Math.abs(a - expected[i]) <= tol, `[${i}]: expected ${expected[i]}, got ${a}`)
  );
}

Deno.test("advantages: grpo uses the population std and ε = 1e-6", () => {
  // r = (1, 0, 0, 0): mean 1/4, population variance (9/16 + 3·1/16)/4 = 3/16, std √3/4.
  // A = (3/4, −1/4, −1/4, −1/4) / (√3/4 + 1e-6).
  const sd = Math.sqrt(3) / 4 + 1e-6;
  close(advantages([1, 0, 0, 0], "grpo"), [0.75 / sd, -0.25 / sd, -0.25 / sd, -0.25 / sd]);
  // ≈ (1.7320468, −0.5773489, …); ε shifts √3 = 1.7320508 in the 6th digit, and the sample
  // std (n − 1 in the variance) would give 1.5.
  ok(Math.abs(advantages([1, 0, 0, 0], "grpo")[0] - 1.7320468) < 1e-7);
  // r = (1, 1, 0, 0): mean 1/2, std 1/2 → ±0.5 / (0.5 + 1e-6).
  close(advantages([1, 1, 0, 0], "grpo"), [1, 1, -1, -1].map((s) => (s * 0.5) / 0.500001));
  // Non-binary rewards r = (2, 4, 9): mean 5, variance (9 + 1 + 16)/3 = 26/3.
  const s3 = Math.sqrt(26 / 3) + 1e-6;
  close(advantages([2, 4, 9], "grpo"), [-3 / s3, -1 / s3, 4 / s3]);
});

Deno.test("advantages: grpo gives zeros (not NaN) for a constant group", () => {
  deepEqual(advantages([0, 0, 0, 0], "grpo"), [0, 0, 0, 0]);
  deepEqual(advantages([1, 1, 1], "grpo"), [0, 0, 0]);
  deepEqual(advantages([1], "grpo"), [0]);
});

Deno.test("advantages: dr_grpo subtracts the mean only", () => {
  close(advantages([1, 0, 0, 0], "dr_grpo"), [0.75, -0.25, -0.25, -0.25]);
  close(advantages([2, 4, 9], "dr_grpo"), [-3, -1, 4]);
  deepEqual(advantages([1, 1], "dr_grpo"), [0, 0]);
});

Deno.test("advantages: reward is the reward itself (no baseline) and a copy", () => {
  const r = [1, 0, 1, 0];
  const a = advantages(r, "reward");
  deepEqual(a, [1, 0, 1, 0]);
  a[0] = 5;
  deepEqual(r, [1, 0, 1, 0], "the input is not aliased");
  deepEqual(advantages([0, 0], "reward"), [0, 0]);
});

Deno.test("keepInstance: none keeps everything", () => {
  for (const r of [[0, 0, 0], [1, 1, 1], [1, 0, 0]]) equal(keepInstance(r, "none"), true);
});

Deno.test("keepInstance: all_fail drops only groups with no success", () => {
  equal(keepInstance([0, 0, 0, 0], "all_fail"), false);
  equal(keepInstance([1, 1, 1, 1], "all_fail"), true);
  equal(keepInstance([0, 1, 0, 0], "all_fail"), true);
  equal(keepInstance([0], "all_fail"), false);
});

Deno.test("keepInstance: no_signal drops all-fail and all-pass groups", () => {
  equal(keepInstance([0, 0, 0, 0], "no_signal"), false);
  equal(keepInstance([1, 1, 1, 1], "no_signal"), false);
  equal(keepInstance([0, 1, 0, 0], "no_signal"), true);
  equal(keepInstance([1, 1, 1, 0], "no_signal"), true);
});

const DEFAULTS: PgOptions = {
  group: 8,
  mu: 2,
  clip: 0.2,
  beta: 0,
  advantage: "grpo",
  filter: "none",
};

Deno.test("parsePgOptions: defaults, overrides and drGrpo", () => {
  deepEqual(parsePgOptions({}, "t", DEFAULTS), DEFAULTS);
  deepEqual(
    parsePgOptions({ group: 4, mu: 3, clip: 0.1, beta: 0.05, filter: "no_signal" }, "t", DEFAULTS),
    { group: 4, mu: 3, clip: 0.1, beta: 0.05, advantage: "grpo", filter: "no_signal" },
  );
  equal(parsePgOptions({ drGrpo: true }, "t", DEFAULTS).advantage, "dr_grpo");
  equal(parsePgOptions({ drGrpo: false }, "t", DEFAULTS).advantage, "grpo");
  // A trainer whose default is reward advantages keeps it unless drGrpo is set.
  equal(parsePgOptions({}, "t", { ...DEFAULTS, advantage: "reward" }).advantage, "reward");
});

function rejectsField(raw: Record<string, unknown>, field: string, fragment: RegExp): void {
  const where = "recipes/x.ts trainers[3].options";
  throws(
    () => parsePgOptions(raw, where, DEFAULTS),
    (e: unknown) => {
      ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
      ok(e.message.startsWith(`${where}.${field}: `), `names the field: ${e.message}`);
      ok(fragment.test(e.message), `${JSON.stringify(e.message)} matches ${fragment}`);
      return true;
    },
  );
}

Deno.test("parsePgOptions: invalid values are ValidationErrors naming the field", () => {
  rejectsField({ group: 0 }, "group", /≥ 1, got 0/);
  rejectsField({ group: 2.5 }, "group", /integer/);
  rejectsField({ mu: 1.5 }, "mu", /must be an integer, got 1.5/);
  rejectsField({ mu: 0 }, "mu", /≥ 1/);
  rejectsField({ beta: -0.1 }, "beta", /≥ 0, got -0.1/);
  rejectsField({ beta: "0.1" }, "beta", /must be a number/);
  rejectsField({ clip: NaN }, "clip", /must be a number/);
  rejectsField({ filter: "all_pass" }, "filter", /none, all_fail, no_signal.*"all_pass"/);
  rejectsField({ drGrpo: "yes" }, "drGrpo", /true or false/);
});
