// A small JSON Schema validator for the subset the tool-call task uses: `type` (object, string,
// integer, number, boolean), `properties`, `required`, `enum`, `minimum`/`maximum` and
// `additionalProperties: false`. Other keywords are not representable, so none is ignored.

/** A JSON value as JSON.parse returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The schema subset. Keywords follow JSON Schema (draft 2020-12) semantics. */
export interface JsonSchema {
  readonly type: "object" | "string" | "integer" | "number" | "boolean";
  /** Allowed values (compared with ===, so primitives only). */
  readonly enum?: readonly (string | number | boolean)[];
  /** Inclusive bounds for `integer` and `number`. */
  readonly minimum?: number;
  readonly maximum?: number;
  /** Schemas of an object's known keys. */
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  /** Keys an object must have. */
  readonly required?: readonly string[];
  /** `false`: keys outside `properties` are errors (absent means allowed, as in the standard). */
  readonly additionalProperties?: false;
}

/** True for a plain JSON object (not an array or null). */
function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether `value` has the schema's `type`. An integral number is an `integer` too (e.g. 2.0). */
function hasType(value: Json, type: JsonSchema["type"]): boolean {
  switch (type) {
    case "object":
      return isObject(value);
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
  }
}

/**
 * Every way `value` breaks `schema`, each as `path: problem` (path `$` is the root); an empty
 * list means valid. Reports all errors rather than the first, for debugging model outputs.
 *
 * @example
 * validateJson({ type: "integer", minimum: 1 }, 0); // ["$: 0 is below the minimum 1"]
 */
export function validateJson(schema: JsonSchema, value: Json, opts?: { path?: string }): string[] {
  const path = opts?.path ?? "$";
  if (!hasType(value, schema.type)) {
    return [`${path}: expected ${schema.type}, got ${JSON.stringify(value)}`];
  }
  const errors: string[] = [];
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      errors.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      errors.push(`${path}: ${value} is above the maximum ${schema.maximum}`);
    }
  }
  if (isObject(value)) {
    const props = schema.properties ?? {};
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(value, key)) errors.push(`${path}: missing required key '${key}'`);
    }
    for (const [key, v] of Object.entries(value)) {
      if (Object.hasOwn(props, key)) {
        errors.push(...validateJson(props[key], v, { path: `${path}.${key}` }));
      } else if (schema.additionalProperties === false) {
        errors.push(`${path}: unexpected key '${key}'`);
      }
    }
  }
  return errors;
}

/** True when `value` satisfies `schema`. */
export function isValidJson(schema: JsonSchema, value: Json): boolean {
  return validateJson(schema, value).length === 0;
}
