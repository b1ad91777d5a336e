// Tests for evals/toolalpaca.ts. The expected prompt is test_prompt_v1 (agent/agent_prompts.py)
// put together by hand the way LangChain 0.0.147's ZeroShotAgent.create_prompt joins it; the
// parsing cases follow custom_parser.py and utils.py parse_json_string line by line.

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  GET_DETAILS_TOOL,
  jsonEqual,
  parseActionInput,
  parseToolCalls,
  pyJsonDumps,
  renderToolCalls,
  scoreToolCalls,
  toolalpacaPrompt,
  type ToolCall,
} from "./toolalpaca.ts";

Deno.test("toolalpacaPrompt: prefix, tools, format instructions and suffix joined by blank lines", () => {
  const tools = [
    { name: "getDetails", description: "Ask the user.\nParameters: {}" },
    { name: "getFacts", description: 'Get facts.\nParameters: {"limit": "integer."}' },
  ];
  const expected =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions with the help of some tools.\n" +
    "You have access to the following tools:\n" +
    "\n" +
    "getDetails: Ask the user.\nParameters: {}\n" +
    'getFacts: Get facts.\nParameters: {"limit": "integer."}\n' +
    "\n" +
    "The chat follows this format:\n" +
    "USER: the user's question\n" +
    "ASSISTANT Thought: the assistant's inner thought about what to do next \n" +
    "ASSISTANT Action: the action to take, must be one of [getDetails, getFacts].\n" +
    "ASSISTANT Action Input: the input for the action, in JSON format.\n" +
    "ASSISTANT Observation: the result of the action\n" +
    "... (this Thought/Action/Action Input/Observation can repeat N times)\n" +
    "ASSISTANT Thought: summarize the information gathered\n" +
    "ASSISTANT Response: the final response to the user\n" +
    "USER: user's next question\n" +
    "...\n" +
    "\n" +
    "Begin!\n" +
    "\n" +
    "USER: Give me 3 facts.\n" +
    "ASSISTANT Thought:";
  equal(toolalpacaPrompt(tools, "Give me 3 facts."), expected);
});

Deno.test("GET_DETAILS_TOOL: tools.py's description with {{ }} unescaped and its trailing space", () => {
  equal(GET_DETAILS_TOOL.name, "getDetails");
  ok(
    GET_DETAILS_TOOL.description.includes('course of the conversation. \nParameters: {"Question"'),
  );
  ok(GET_DETAILS_TOOL.description.endsWith("\nOutput: User's response."));
});

Deno.test("parseActionInput: strip(' ').strip('\"'), then the first { or [ to the last } or ], an object", () => {
  const cases: [string, unknown][] = [
    ['{"a": 1}', { a: 1 }],
    ['  {"a": 1}  ', { a: 1 }],
    ['"{"a": 1}"', { a: 1 }],
    ['Here it is: {"a": {"b": [1, 2]}} done.', { a: { b: [1, 2] } }],
    ['{"a": 1}\n', { a: 1 }],
    ["{}", {}],
    ['{"a": "x}"}', { a: "x}" }],
    // A list is refused by the tools ("'Action Input' cannot be a list"), scalars by every tool.
    ['["a"]', undefined],
    ['[{"a": 1}]', undefined],
    ["5", undefined],
    ['"text"', undefined],
    ["", undefined],
    ["{a: 1}", undefined],
    ['{"a": ${a from f}}', undefined],
    ['{"a": 1} {"b": 2}', undefined],
    ['{"a": 1}]', undefined],
  ];
  for (const [raw, want] of cases) deepEqual(parseActionInput(raw), want, JSON.stringify(raw));
});

Deno.test("parseToolCalls: every Action/Action Input pair in order, ASSISTANT optional, numbered allowed", () => {
  const text = " I need the facts first.\n" +
    "ASSISTANT Action: getFacts\n" +
    'ASSISTANT Action Input: {"limit": 3}\n' +
    "ASSISTANT Observation: three facts\n" +
    "ASSISTANT Thought: now a picture\n" +
    "Action 2:  getImage \n" +
    "Action 2 Input: {}\n" +
    "Action: search\n" +
    'Action Input: {\n  "q": "axolotl",\n  "page": 1\n}\n' +
    "Thought: done";
  deepEqual(parseToolCalls(text), [
    { name: "getFacts", input: { limit: 3 } },
    { name: "getImage", input: {} },
    { name: "search", input: { q: "axolotl", page: 1 } },
  ]);
});

Deno.test("parseToolCalls: nothing after the final response counts; an input that is not JSON is kept as such", () => {
  deepEqual(
    parseToolCalls(
      "Action: f\nAction Input: {}\nASSISTANT Response: done\nAction: g\nAction Input: {}",
    ),
    [{ name: "f", input: {} }],
  );
  deepEqual(
    parseToolCalls("Action: f\nAction Input: {}\nFinal Answer: x\nAction: g\nAction Input: {}"),
    [{ name: "f", input: {} }],
  );
  deepEqual(parseToolCalls("Action: f\nAction Input: not json"), [{ name: "f", input: undefined }]);
  // An Action line without its Action Input line is no call (the parser's regex needs both).
  deepEqual(parseToolCalls("Action: f\nThought: hmm"), []);
  deepEqual(parseToolCalls("Response: I cannot help.\nAction: f\nAction Input: {}"), []);
  deepEqual(parseToolCalls(""), []);
});

Deno.test("jsonEqual: values, not text: key order free, types strict", () => {
  ok(jsonEqual({ a: 1, b: { c: [1, "x", null] } }, { b: { c: [1, "x", null] }, a: 1 }));
  ok(jsonEqual(1, 1.0));
  ok(!jsonEqual({ a: "5" }, { a: 5 }));
  ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
  ok(!jsonEqual({ a: 1, b: 2 }, { a: 1 }));
  ok(!jsonEqual([1, 2], [2, 1]));
  ok(!jsonEqual({ a: null }, {}));
  ok(!jsonEqual({ a: true }, { a: "true" }));
  ok(!jsonEqual([], {}));
});

const GOLDEN: ToolCall[] = [
  { name: "getFacts", input: { category: "habitat", limit: 3 } },
  { name: "getImage", input: {} },
];

Deno.test("scoreToolCalls: the same calls in order with equal inputs score 1, anything else 0", () => {
  const good = 'Thought: facts then image\nAction: getFacts\nAction Input: {"limit": 3,   ' +
    '"category": "habitat"}\nObservation: ok\nAction: getImage\nAction Input: {}';
  equal(scoreToolCalls(GOLDEN, good), 1);
  equal(scoreToolCalls(GOLDEN, renderToolCalls(GOLDEN)), 1);
  const bad = [
    renderToolCalls([GOLDEN[1], GOLDEN[0]]), // order
    renderToolCalls([GOLDEN[0]]), // a call missing
    renderToolCalls([...GOLDEN, GOLDEN[1]]), // a call too many
    renderToolCalls([{ ...GOLDEN[0], input: { category: "habitat", limit: "3" } }, GOLDEN[1]]),
    renderToolCalls([{ ...GOLDEN[0], name: "getfacts" }, GOLDEN[1]]),
    "Action: getFacts\nAction Input: {category: habitat}\nAction: getImage\nAction Input: {}",
    "I would call getFacts and getImage.",
  ];
  for (const text of bad) equal(scoreToolCalls(GOLDEN, text), 0, text);
  equal(scoreToolCalls([], ""), 1, "no calls asked, none made");
});

Deno.test("renderToolCalls and pyJsonDumps: json.dumps spacing, one call after another", () => {
  equal(
    pyJsonDumps({ a: [1, "é", null, true], b: { c: 1.5 } }),
    '{"a": [1, "é", null, true], "b": {"c": 1.5}}',
  );
  equal(pyJsonDumps('say "hi"\n'), '"say \\"hi\\"\\n"');
  equal(
    renderToolCalls(GOLDEN),
    '\nASSISTANT Action: getFacts\nASSISTANT Action Input: {"category": "habitat", "limit": 3}' +
      "\nASSISTANT Action: getImage\nASSISTANT Action Input: {}",
  );
  deepEqual(parseToolCalls(renderToolCalls(GOLDEN)), GOLDEN);
});
