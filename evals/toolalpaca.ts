// ToolAlpaca (Tang et al. 2023, github.com/tangqiaoyu/ToolAlpaca) as one-turn tool use: the
// prompt ToolAlpaca's models are run with (agent/agent_prompts.py `test_prompt_v1`, assembled as
// LangChain 0.0.147's ZeroShotAgent.create_prompt does; tools as build_dataset.py lists them,
// getDetails first, with the external tools agent/get_agent.py adds before the API's functions),
// the action lines read as its output parser and tools read them (agent/custom_parser.py,
// utils.py parse_json_string), and a strict check of the calls against the golden steps. The
// reference scores ToolAlpaca with GPT-4 (evaluation.py); the check here is the verifiable part
// of that judgement: the same calls, in order, with the same arguments.

import type { Json } from "../tasks/lm/json_schema.ts";

export type { Json } from "../tasks/lm/json_schema.ts";

/** A JSON object: what an action input must be (ToolAlpaca's tools refuse lists and scalars). */
export type JsonObject = { readonly [key: string]: Json };

/** One tool the prompt lists: its name and description as LangChain prints them. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
}

/** One call: an action name and its input. */
export interface ToolCall {
  readonly name: string;
  readonly input: JsonObject;
}

/** `prefix_test` of test_prompt_v1. */
export const TOOLALPACA_PREFIX =
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions with the help of some tools.\nYou have access to the following tools:";

/** `format_instructions_test` of test_prompt_v1 with `{tool_names}` filled in (note "next "). */
export function toolalpacaFormat(toolNames: readonly string[]): string {
  return "The chat follows this format:\n" +
    "USER: the user's question\n" +
    "ASSISTANT Thought: the assistant's inner thought about what to do next \n" +
    `ASSISTANT Action: the action to take, must be one of [${toolNames.join(", ")}].\n` +
    "ASSISTANT Action Input: the input for the action, in JSON format.\n" +
    "ASSISTANT Observation: the result of the action\n" +
    "... (this Thought/Action/Action Input/Observation can repeat N times)\n" +
    "ASSISTANT Thought: summarize the information gathered\n" +
    "ASSISTANT Response: the final response to the user\n" +
    "USER: user's next question\n" +
    "...";
}

/** agent/tools.py GetDetailsTool, its description after PromptTemplate unescapes `{{ }}`. */
export const GET_DETAILS_TOOL: ToolSpec = {
  name: "getDetails",
  description:
    "If the user's question lacks the essential information needed to answer the question effectively, or if the question contains vague terms or pronouns without sufficient context, invoke the `getDetails` function to prompt the user for the missing critical details. However, `getDetails` should not be used in cases where the user omits optional parameters, unless these parameters become necessary in the course of the conversation. \n" +
    'Parameters: {"Question": "The question to prompt user to provide sufficient information."}\n' +
    "Output: User's response.",
};

/** agent/tools.py `tool_projection`: the external tools a record's `external_tools` may name. */
export const EXTERNAL_TOOLS: Readonly<Record<string, ToolSpec>> = {
  retrieval: {
    name: "retrievalDataFromFile",
    description:
      "Retrieve specified information from a file. This tool can ONLY be used when you recieve the message 'The output is too long. You need to use the 'retrievalDataFromFile' function to retrieve the output from the file: <file_path>'.\n" +
      'Parameters: {"file_path": "Required. String. The path to the file from which information needs to be retrieved.", "query": "Required. String. The specific information to be retrieved from the file."}\n' +
      "Output: The retrieved information from the file.\n" +
      " - Format: text/json\n" +
      ' - Structure: {"retrieved_info": "String containing the requested information retrieved from the file."}',
  },
  datetime: {
    name: "getCurrentDateTime",
    description: "Retrieve the current date and time.\n" +
      "Parameters: {}\n" +
      "Output: The current date and time in a formatted string, providing a real-time reference for various applications and data.\n" +
      " - Format: text/json\n" +
      ' - Structure: {"timestamp": "String representing the current date and time in the format "YYYY-MM-DD HH:MM:SS"."}',
  },
  getDetails: GET_DETAILS_TOOL,
};

/**
 * The prompt for one instruction: `"\n\n".join([prefix, tool_strings, format_instructions,
 * suffix])` with tool_strings `"{name}: {description}"` one per line and the suffix
 * `Begin!\n\nUSER: {input}\nASSISTANT Thought:` with an empty scratchpad.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * const p = toolalpacaPrompt([{ name: "f", description: "Does f." }], "Do f.");
 * ok(p.endsWith("USER: Do f.\nASSISTANT Thought:"));
 * ```
 */
export function toolalpacaPrompt(tools: readonly ToolSpec[], instruction: string): string {
  const toolStrings = tools.map((t) => `${t.name}: ${t.description}`).join("\n");
  return [
    TOOLALPACA_PREFIX,
    toolStrings,
    toolalpacaFormat(tools.map((t) => t.name)),
    `Begin!\n\nUSER: ${instruction}\nASSISTANT Thought:`,
  ].join("\n\n");
}

// ---------------------------------------------------------------------------------------------
// Reading action inputs and outputs

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Python `s.strip(ch)` for one character. */
function stripChar(s: string, ch: string): string {
  let a = 0, b = s.length;
  while (a < b && s[a] === ch) a++;
  while (b > a && s[b - 1] === ch) b--;
  return s.slice(a, b);
}

/**
 * An action input as ToolAlpaca's tools read it: the parser's `.strip(" ").strip('"')`, then
 * utils.py parse_json_string (from the first `{` or `[` to the last `}` or `]`, json.loads); a
 * list is refused ("'Action Input' cannot be a list"), and so is a scalar, which no tool takes.
 * Returns undefined for anything a tool would answer "Invalid JSON format".
 *
 * @example
 * ```ts
 * import { deepEqual, equal } from "node:assert/strict";
 * deepEqual(parseActionInput(' {"page": 1} and more'), { page: 1 });
 * equal(parseActionInput('["a"]'), undefined);
 * ```
 */
export function parseActionInput(raw: string): JsonObject | undefined {
  const s = stripChar(stripChar(raw, " "), '"');
  const starts = [s.indexOf("{"), s.indexOf("[")].filter((i) => i !== -1);
  const ends = [s.lastIndexOf("}"), s.lastIndexOf("]")].filter((i) => i !== -1);
  if (starts.length === 0 || ends.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(s.slice(Math.min(...starts), Math.max(...ends) + 1));
    return isJsonObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A call as an output states it; `input` is undefined when the text is not a JSON object. */
export interface StatedCall {
  readonly name: string;
  readonly input: JsonObject | undefined;
}

const OPT = String.raw`[ \t]*(?:ASSISTANT[ \t]*)?`;
const ACTION = String.raw`Action[ \t]*\d*[ \t]*:`;
const INPUT = String.raw`Action[ \t]*\d*[ \t]*Input[ \t]*\d*[ \t]*:`;
/** An action line followed by its input line (custom_parser.py's regexes, line by line). */
const CALL = new RegExp(String.raw`(?:^|\n)${OPT}${ACTION}([^\n]*)\n${OPT}${INPUT}`, "g");
/** Where an action input ends: the next line that starts a new part of the format. */
const NEXT_PART = new RegExp(
  String
    .raw`\n${OPT}(?:${INPUT}|${ACTION}|Observation[ \t]*:|Thought[ \t]*:|Response[ \t]*:|Final Answer[ \t]*:)`,
);
/** The final response: nothing after it is a call. */
const FINISH = new RegExp(String.raw`(?:^|\n)${OPT}(?:Response|Final Answer)[ \t]*:`);

/**
 * The calls an output makes, in order: every `Action: NAME` line directly followed by an
 * `Action Input: ...` line (each optionally prefixed `ASSISTANT `, as test_prompt_v1 writes
 * them, and numbered `Action 1:` as custom_parser.py allows), before any `Response:` or
 * `Final Answer:` line. An input runs to the next Action, Observation, Thought or Response line
 * and is read with parseActionInput; the name is the rest of its line, stripped.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const text = 'I will look.\nASSISTANT Action: search\nASSISTANT Action Input: {"q": "x"}';
 * deepEqual(parseToolCalls(text), [{ name: "search", input: { q: "x" } }]);
 * ```
 */
export function parseToolCalls(text: string): StatedCall[] {
  const finish = FINISH.exec(text);
  const body = finish ? text.slice(0, finish.index) : text;
  const calls: StatedCall[] = [];
  for (const m of body.matchAll(CALL)) {
    const rest = body.slice(m.index + m[0].length);
    const end = NEXT_PART.exec(rest);
    const raw = end ? rest.slice(0, end.index) : rest;
    calls.push({ name: m[1].trim(), input: parseActionInput(raw) });
  }
  return calls;
}

/**
 * Equality of JSON values as values: objects by key set and values whatever the key order,
 * arrays element by element, numbers numerically (1 and 1.0 agree), and no conversions
 * ("5" and 5 differ).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(jsonEqual({ a: 1, b: [true] }, { b: [true], a: 1.0 }), true);
 * equal(jsonEqual({ a: "5" }, { a: 5 }), false);
 * ```
 */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/**
 * 1 when `text` makes exactly the golden calls: as many, in the same order, each with the same
 * action name and an input equal as JSON values; 0 otherwise (also for an input that is not a
 * JSON object).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const golden = [{ name: "f", input: { n: 5 } }];
 * equal(scoreToolCalls(golden, "Action: f\nAction Input: {\"n\": 5}"), 1);
 * equal(scoreToolCalls(golden, "Action: f\nAction Input: {\"n\": \"5\"}"), 0);
 * ```
 */
export function scoreToolCalls(golden: readonly ToolCall[], text: string): 0 | 1 {
  const calls = parseToolCalls(text);
  const same = calls.length === golden.length &&
    calls.every((c, i) =>
      c.name === golden[i].name && c.input !== undefined && jsonEqual(c.input, golden[i].input)
    );
  return same ? 1 : 0;
}

/**
 * `json.dumps(value, ensure_ascii=False)`: Python's default separators `", "` and `": "`, the
 * way ToolAlpaca's action inputs are written. Numbers as JavaScript prints them (1.0 → 1).
 */
export function pyJsonDumps(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  if (isJsonObject(value)) {
    return `{${
      Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyJsonDumps(v)}`).join(", ")
    }}`;
  }
  return JSON.stringify(value);
}

/**
 * The golden steps as an answer in the prompt's format, one call after another (empty thoughts,
 * no observations): `\nASSISTANT Action: NAME\nASSISTANT Action Input: JSON` per call, so that
 * after the prompt's closing `ASSISTANT Thought:` each call reads as ToolAlpaca logs one.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(renderToolCalls([{ name: "f", input: { n: 5 } }]),
 *   '\nASSISTANT Action: f\nASSISTANT Action Input: {"n": 5}');
 * ```
 */
export function renderToolCalls(calls: readonly ToolCall[]): string {
  return calls.map((c) =>
    `\nASSISTANT Action: ${c.name}\nASSISTANT Action Input: ${pyJsonDumps(c.input)}`
  ).join("");
}
