// Downstream task `tool_call` of the tiny LM: a request in words -> one JSON tool call, checked
// against the tool's JSON schema (json_schema.ts) and then against the values the request asked
// for.
//
//   set a timer for 5 minutes  -> {"name":"timer","arguments":{"min":5}}
//
// Answers run up to MAX_JSON_ANSWER characters, the JSON envelope alone taking ~30.
// Capacity: ~9.8k distinct train prompts and ~2.4k test ones; asking for more throws.

import type { Rng } from "../../lib/rng.ts";
import { answerText, between, type LmItem, MAX_JSON_ANSWER, pick } from "./items.ts";
import { type Json, type JsonSchema, validateJson } from "./json_schema.ts";
import { defineGeneratedTask, DOWNSTREAM_SIZES } from "./generated.ts";

/** An argument value: what the tools' schemas allow. */
export type ArgValue = string | number | boolean;

/** A tool call as the model must write it. */
export interface ToolCall {
  readonly name: string;
  readonly arguments: Readonly<Record<string, ArgValue>>;
}

/** A tool_call item: the call the request asks for (its JSON is the answer). */
export interface ToolCallItem extends LmItem {
  readonly call: ToolCall;
}

/** Builds the `object` schema of one tool's arguments: every property required, no others. */
function argsSchema(properties: Record<string, JsonSchema>): JsonSchema {
  return {
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

const GENRES = ["jazz", "rock", "pop", "folk", "blues", "disco", "funk", "soul", "metal", "punk"];
const CONTACTS = ["Mom", "Dad", "Ann", "Bob", "Zoe", "Max", "Sam", "Tom", "Lia", "Kim", "Eve"];

/** The tools: each one's argument schema and a request drawer (phrasing, expected arguments). */
export const TOOLS: Readonly<
  Record<string, { schema: JsonSchema; draw: (r: Rng) => [string, Record<string, ArgValue>] }>
> = {
  timer: {
    schema: argsSchema({ min: { type: "integer", minimum: 1, maximum: 99 } }),
    draw(r) {
      const min = between(r, 1, 99);
      const say = pick(r, [
        `set a timer for ${min} minutes`,
        `timer for ${min} min please`,
        `start a ${min} minute timer`,
        `remind me in ${min} minutes`,
      ]);
      return [say, { min }];
    },
  },
  heat: {
    schema: argsSchema({ c: { type: "integer", minimum: 10, maximum: 30 } }),
    draw(r) {
      const c = between(r, 10, 30);
      const say = pick(r, [
        `set the heat to ${c} degrees`,
        `make it ${c} degrees in here`,
        `thermostat to ${c} please`,
        `heat the room to ${c} C`,
      ]);
      return [say, { c }];
    },
  },
  light: {
    schema: argsSchema({ on: { type: "boolean" } }),
    draw(r) {
      const on = r.int(2) === 0, w = on ? "on" : "off";
      const say = pick(r, [
        `turn the lights ${w}`,
        `lights ${w} please`,
        `switch ${w} the lights`,
        `can you turn the light ${w}`,
        `put the lights ${w}`,
        `turn ${w} the lamp`,
        `lamp ${w}`,
        `i want the lights ${w}`,
      ]);
      return [say, { on }];
    },
  },
  play: {
    schema: argsSchema({ genre: { type: "string", enum: GENRES } }),
    draw(r) {
      const genre = pick(r, GENRES);
      const say = pick(r, [
        `play some ${genre}`,
        `put on ${genre} music`,
        `i want to hear ${genre}`,
        `music please, ${genre}`,
      ]);
      return [say, { genre }];
    },
  },
  call: {
    schema: argsSchema({ to: { type: "string" } }),
    draw(r) {
      const to = pick(r, CONTACTS);
      const say = pick(r, [
        `call ${to}`,
        `phone ${to} please`,
        `ring ${to} now`,
        `give ${to} a call`,
      ]);
      return [say, { to }];
    },
  },
  alarm: {
    schema: argsSchema({
      h: { type: "integer", minimum: 0, maximum: 23 },
      m: { type: "integer", minimum: 0, maximum: 59 },
    }),
    draw(r) {
      const h = between(r, 0, 23), m = between(r, 0, 59), mm = String(m).padStart(2, "0");
      // Half the requests say am/pm, so the model must also convert to the 24-hour `h`.
      const t = r.int(2) === 0
        ? `${h}:${mm}`
        : `${(h + 11) % 12 + 1}:${mm} ${h < 12 ? "am" : "pm"}`;
      const say = pick(r, [`wake me at ${t}`, `set an alarm for ${t}`, `alarm at ${t} please`]);
      return [say, { h, m }];
    },
  },
  conv: {
    schema: argsSchema({ km: { type: "number", minimum: 0, maximum: 1000 } }),
    draw(r) {
      // Tenths: JS prints k / 10 with one decimal (2.3, not 2.2999...), so the text in the
      // request is exactly the JSON number of the answer.
      const km = between(r, 1, 999) / 10;
      const say = pick(r, [
        `convert ${km} km to miles`,
        `how many miles is ${km} km`,
        `${km} km in miles?`,
      ]);
      return [say, { km }];
    },
  },
};

/** The envelope every call must satisfy: a known tool name and an arguments object, nothing else. */
export const TOOL_CALL_SCHEMA: JsonSchema = {
  type: "object",
  properties: { name: { type: "string", enum: Object.keys(TOOLS) }, arguments: { type: "object" } },
  required: ["name", "arguments"],
  additionalProperties: false,
};

/** Draws one request and its expected call; the answer is the call's compact JSON. */
function drawToolCall(r: Rng): Omit<ToolCallItem, "id"> {
  const name = pick(r, Object.keys(TOOLS));
  const [prompt, args] = TOOLS[name].draw(r);
  const call: ToolCall = { name, arguments: args };
  return { prompt, answer: JSON.stringify(call), call };
}

/** What a tool_call output amounts to: schema errors (empty when valid) and whether it is right. */
export interface ToolCallCheck {
  /** Parse and schema errors; empty iff the output is a schema-valid call of a known tool. */
  readonly errors: readonly string[];
  /** Valid, and the tool and every argument value are the ones the request asked for. */
  readonly correct: boolean;
}

/**
 * Checks an output against an item: JSON.parse (key order and spaces do not matter), the
 * envelope schema, the named tool's argument schema, then the values (=== per argument, so
 * 5 and 5.0 agree but "5" and 5 do not).
 */
export function checkToolCall(item: ToolCallItem, output: string): ToolCallCheck {
  let value: Json;
  try {
    value = JSON.parse(answerText(output)) as Json;
  } catch {
    return { errors: ["output is not JSON"], correct: false };
  }
  const envelope = validateJson(TOOL_CALL_SCHEMA, value);
  if (envelope.length > 0) return { errors: envelope, correct: false };
  // The envelope schema has just guaranteed an object with a known tool name and an object.
  const { name, arguments: args } = value as { name: string; arguments: Record<string, Json> };
  const errors = validateJson(TOOLS[name].schema, args, { path: "$.arguments" });
  if (errors.length > 0) return { errors, correct: false };
  const want = item.call.arguments, keys = Object.keys(want);
  const correct = name === item.call.name && Object.keys(args).length === keys.length &&
    keys.every((k) => Object.hasOwn(args, k) && args[k] === want[k]);
  return { errors: [], correct };
}

/**
 * Reward: 1 for the right call, 0.5 for a schema-valid call with the wrong tool or values, 0.25
 * for other JSON objects, and below that, for text that is not a JSON object, 0.2 × the share of
 * the canonical call's characters it matches from the start (so `{"name":"play","argu` earns
 * about 0.1). The format credit is there because a group-normalised advantage needs rewards that
 * differ within a group: a tiny base model writes JSON-shaped text long before valid JSON
 * (version 1 gave such text 0, and GRPO never got a signal on this task).
 */
function rewardToolCall(item: ToolCallItem, output: string): number {
  const c = checkToolCall(item, output);
  if (c.correct) return 1;
  if (c.errors.length === 0) return 0.5;
  const text = answerText(output);
  if (c.errors[0] !== "output is not JSON" && /^\{/.test(text)) return 0.25;
  let k = 0;
  while (k < text.length && k < item.answer.length && text[k] === item.answer[k]) k++;
  return 0.2 * k / item.answer.length;
}

/** A request in words -> a JSON tool call, checked by schema and by value. */
export const toolCall = defineGeneratedTask<ToolCallItem>({
  id: "tool_call",
  version: "2",
  kind: "downstream",
  description: "request in words -> JSON tool call, schema-checked and value-checked",
  generator: "a request to one of 7 tools (timer, heat, light, play, call, alarm, conv) in words",
  sizes: DOWNSTREAM_SIZES,
  maxAnswer: MAX_JSON_ANSWER,
  draw: drawToolCall,
  score: (item, output) => (checkToolCall(item, output).correct ? 1 : 0),
  reward: rewardToolCall,
});
