// Tests for the JSON Schema subset validator: each keyword accepts what it should, rejects what
// it should, and errors name the path.

import { deepEqual, equal, ok } from "node:assert/strict";
import { isValidJson, type JsonSchema, validateJson } from "./json_schema.ts";

const timer: JsonSchema = {
  type: "object",
  properties: {
    name: { type: "string", enum: ["timer", "alarm"] },
    min: { type: "integer", minimum: 1, maximum: 99 },
    loud: { type: "boolean" },
    km: { type: "number", minimum: 0 },
  },
  required: ["name", "min"],
  additionalProperties: false,
};

Deno.test("validateJson: types", () => {
  ok(isValidJson({ type: "string" }, "x"));
  ok(!isValidJson({ type: "string" }, 5));
  ok(isValidJson({ type: "integer" }, 5));
  ok(isValidJson({ type: "integer" }, -0));
  ok(!isValidJson({ type: "integer" }, 5.5));
  ok(!isValidJson({ type: "integer" }, "5"));
  ok(isValidJson({ type: "number" }, 5.5));
  ok(isValidJson({ type: "number" }, 5));
  ok(!isValidJson({ type: "number" }, "5.5"));
  ok(isValidJson({ type: "boolean" }, false));
  ok(!isValidJson({ type: "boolean" }, 0));
  ok(!isValidJson({ type: "boolean" }, "true"));
  ok(isValidJson({ type: "object" }, {}));
  for (const v of [null, [], "{}", 1]) ok(!isValidJson({ type: "object" }, v), JSON.stringify(v));
});

Deno.test("validateJson: enum, minimum and maximum are inclusive bounds", () => {
  const s: JsonSchema = { type: "integer", minimum: 1, maximum: 99 };
  ok(isValidJson(s, 1) && isValidJson(s, 99));
  deepEqual(validateJson(s, 0), ["$: 0 is below the minimum 1"]);
  deepEqual(validateJson(s, 100), ["$: 100 is above the maximum 99"]);
  const e: JsonSchema = { type: "string", enum: ["jazz", "rock"] };
  ok(isValidJson(e, "rock"));
  deepEqual(validateJson(e, "Rock"), ['$: "Rock" is not one of ["jazz","rock"]']);
});

Deno.test("validateJson: objects check required, properties and additionalProperties", () => {
  ok(isValidJson(timer, { name: "timer", min: 5 }));
  ok(isValidJson(timer, { min: 5, name: "alarm", loud: true, km: 0.5 }));
  deepEqual(validateJson(timer, { name: "timer" }), ["$: missing required key 'min'"]);
  deepEqual(validateJson(timer, { name: "timer", min: 5, sec: 3 }), ["$: unexpected key 'sec'"]);
  deepEqual(validateJson(timer, { name: "nap", min: 0 }), [
    '$.name: "nap" is not one of ["timer","alarm"]',
    "$.min: 0 is below the minimum 1",
  ]);
  deepEqual(validateJson(timer, { name: "timer", min: "5" }), ['$.min: expected integer, got "5"']);
  // Without additionalProperties: false, unknown keys are allowed (the standard's default).
  ok(isValidJson({ type: "object", properties: {} }, { anything: [1, { a: null }] }));
  // Nested objects report nested paths.
  const nested: JsonSchema = {
    type: "object",
    properties: { arguments: { type: "object", properties: { on: { type: "boolean" } } } },
  };
  deepEqual(validateJson(nested, { arguments: { on: 1 } }), [
    "$.arguments.on: expected boolean, got 1",
  ]);
  equal(validateJson(timer, { name: "timer", min: 5 }, { path: "$.x" }).length, 0);
  deepEqual(validateJson({ type: "object", required: ["a"] }, {}, { path: "$.x" }), [
    "$.x: missing required key 'a'",
  ]);
});
