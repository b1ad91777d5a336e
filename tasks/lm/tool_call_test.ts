// Tests for tool_call: answers are schema-valid and match the request's words; key order and
// spacing are free while values, names and keys are checked; the reward's format credit.

import { deepEqual, equal, ok } from "node:assert/strict";
import { checkToolCall, toolCall, type ToolCallItem, TOOLS } from "./tool_call.ts";
import { isValidJson } from "./json_schema.ts";
import { accOf, rewardOf, splitsOf } from "./_testing.ts";

/** The call a request asks for, read off the request's words. */
function requestOracle(p: string): { name: string; arguments: Record<string, unknown> } {
  const num = (re: RegExp) => Number(p.match(re)![1]);
  if (/timer|remind/.test(p)) return { name: "timer", arguments: { min: num(/(\d+) min/) } };
  if (/heat|degrees|thermostat/.test(p)) return { name: "heat", arguments: { c: num(/(\d+)/) } };
  if (/light|lamp/.test(p)) return { name: "light", arguments: { on: /\bon\b/.test(p) } };
  if (/play|music|hear/.test(p)) {
    return {
      name: "play",
      arguments: { genre: p.match(/(jazz|rock|pop|folk|blues|disco|funk|soul|metal|punk)/)![1] },
    };
  }
  if (/call|phone|ring/.test(p)) {
    return { name: "call", arguments: { to: p.match(/\b([A-Z]\w+)/)![1] } };
  }
  if (/wake|alarm/.test(p)) {
    const [, h, m, ampm] = p.match(/(\d+):(\d\d)(?: (am|pm))?/)!;
    const h24 = ampm === undefined ? +h : (+h % 12) + (ampm === "pm" ? 12 : 0);
    return { name: "alarm", arguments: { h: h24, m: +m } };
  }
  return { name: "conv", arguments: { km: num(/([\d.]+) km/) } };
}

Deno.test("tool_call: answers are schema-valid and match the request", async () => {
  const { all } = await splitsOf(toolCall, { seed: 11, n: 300 });
  const names = new Set<string>();
  for (const item of all) {
    deepEqual(JSON.parse(item.answer), requestOracle(item.prompt), item.prompt);
    deepEqual(JSON.parse(item.answer), item.call);
    ok(isValidJson(TOOLS[item.call.name].schema, item.call.arguments));
    deepEqual(checkToolCall(item, item.answer), { errors: [], correct: true });
    names.add(item.call.name);
  }
  deepEqual([...names].sort(), Object.keys(TOOLS).sort(), "every tool drawn");
  ok(all.some((i) => / pm/.test(i.prompt)), "am/pm requests");
});

Deno.test("tool_call: key order and spacing are free; values, names and keys are not", async () => {
  const item: ToolCallItem = {
    id: "x",
    prompt: "set a timer for 5 minutes",
    answer: '{"name":"timer","arguments":{"min":5}}',
    call: { name: "timer", arguments: { min: 5 } },
  };
  const grade = async (
    out: string,
  ) => [await accOf(toolCall, item, out), rewardOf(toolCall, item, out)];
  deepEqual(await grade('{"arguments":{"min":5},"name":"timer"}'), [1, 1]);
  deepEqual(await grade('{ "name": "timer", "arguments": { "min": 5.0 } }\n'), [1, 1]);
  // Schema-valid but wrong: score 0, reward 0.5.
  deepEqual(await grade('{"name":"timer","arguments":{"min":6}}'), [0, 0.5]);
  deepEqual(await grade('{"name":"heat","arguments":{"c":20}}'), [0, 0.5]);
  // Schema-invalid JSON objects: score 0, format credit 0.25.
  for (
    const bad of [
      '{"name":"timer","arguments":{"min":"5"}}', // string, not integer
      '{"name":"timer","arguments":{"min":5.5}}', // not an integer
      '{"name":"timer","arguments":{"min":0}}', // below minimum
      '{"name":"timer","arguments":{}}', // missing required
      '{"name":"timer","arguments":{"min":5,"sec":0}}', // extra argument
      '{"name":"timer","arguments":{"min":5},"id":1}', // extra envelope key
      '{"name":"nap","arguments":{"min":5}}', // unknown tool
      '{"name":"timer"}', // no arguments
      '{"name":"timer","arguments":[5]}', // arguments not an object
    ]
  ) deepEqual(await grade(bad), [0, 0.25], bad);
  // Not a JSON object at all: score 0, reward 0.2 × the share of the canonical call matched
  // from the start (the answer has 38 characters).
  for (
    const [bad, k] of [
      ['{"name":"timer","arguments":{"min":5}', 37], // truncated
      ['{"name":"timer","arguments":{"min":5}}}', 38], // trailing brace
      ['{"name":"tim', 12],
      ["timer 5", 0],
      ["null", 0],
      ["5", 0],
      ["[1]", 0],
    ] as const
  ) deepEqual(await grade(bad), [0, 0.2 * k / 38], bad);
  ok(
    checkToolCall(item, '{"name":"timer","arguments":{"min":0}}').errors[0].includes(
      "$.arguments.min",
    ),
  );
  const light: ToolCallItem = {
    id: "y",
    prompt: "lamp off",
    answer: '{"name":"light","arguments":{"on":false}}',
    call: { name: "light", arguments: { on: false } },
  };
  equal(await accOf(toolCall, light, '{"name":"light","arguments":{"on":false}}'), 1);
  equal(await accOf(toolCall, light, '{"name":"light","arguments":{"on":"false"}}'), 0);
  equal(await accOf(toolCall, light, '{"name":"light","arguments":{"on":0}}'), 0);
  equal(rewardOf(toolCall, light, '{"name":"light","arguments":{"on":true}}'), 0.5);
});
