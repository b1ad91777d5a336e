// Tests for the downstream tasks: determinism, disjoint splits, targets that score 1 (checked
// against oracles written from the prompt alone), hand-written wrong outputs that score 0,
// the many-answers set, tool-call schema and value checks, and length/character bounds.

import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import { isPrintableAscii, type LmItem, MAX_ANSWER, MAX_JSON_ANSWER, MAX_PROMPT } from "./items.ts";
import {
  caesar,
  caesarShift,
  checkToolCall,
  correctAnswers,
  DOWNSTREAM_TASKS,
  extractNumber,
  type LmTask,
  manyAnswers,
  type ScienceItem,
  scienceMc,
  toolCall,
  type ToolCallItem,
  TOOLS,
  wordMath,
} from "./downstream.ts";
import { isValidJson } from "./json_schema.ts";
import { ANIMAL_CLASSES, PLANETS, SI_UNITS, STATES } from "./science_facts.ts";

const N = 300;
const tasks = DOWNSTREAM_TASKS as readonly LmTask<LmItem>[];
const sets = new Map(tasks.map((t) => [t.name, {
  train: t.generate({ seed: 11, n: N, split: "train" }),
  heldout: t.generate({ seed: 11, n: N, split: "heldout" }),
}]));
/** Both splits of one task, typed as that task's items. */
function itemsOf<I extends LmItem>(t: LmTask<I>): I[] {
  const s = sets.get(t.name)!;
  return [...s.train, ...s.heldout] as I[];
}

Deno.test("downstream: unique names; same seed same items, another seed others", () => {
  equal(new Set(tasks.map((t) => t.name)).size, tasks.length);
  ok(tasks.length >= 5);
  for (const t of tasks) {
    deepEqual(t.generate({ seed: 11, n: N, split: "train" }), sets.get(t.name)!.train, t.name);
    notDeepEqual(t.generate({ seed: 12, n: N, split: "train" }), sets.get(t.name)!.train, t.name);
  }
});

Deno.test("downstream: distinct prompts, unique ids, train and heldout disjoint", () => {
  for (const t of tasks) {
    const { train, heldout } = sets.get(t.name)!;
    const tp = new Set(train.map((i) => i.prompt)), hp = new Set(heldout.map((i) => i.prompt));
    equal(tp.size, N, t.name);
    equal(hp.size, N, t.name);
    ok([...hp].every((p) => !tp.has(p)), `${t.name}: a heldout prompt is in train`);
    const other = t.generate({ seed: 5, n: N, split: "train" });
    ok(other.every((i) => !hp.has(i.prompt)), `${t.name}: seed 5 train hits heldout`);
    equal(new Set([...train, ...heldout].map((i) => i.id)).size, 2 * N);
  }
});

Deno.test("downstream: every target scores 1 and gets reward 1, with or without the newline", () => {
  for (const t of tasks) {
    for (const item of itemsOf(t)) {
      const y = t.target(item);
      equal(y, item.answer);
      for (const out of [y, `${y}\n`]) {
        equal(t.score(item, out), 1, `${t.name} ${item.prompt}`);
        equal(t.reward(item, out), 1, `${t.name} ${item.prompt}`);
      }
    }
  }
});

Deno.test("downstream: generic wrong outputs score 0 with reward in [0, 1)", () => {
  for (const t of tasks) {
    for (const item of itemsOf(t).slice(0, 100)) {
      // Tripled: beyond 99 for the numeric tasks, invalid JSON, too long for the others.
      const tripled = item.answer.repeat(3);
      for (const bad of ["", "\n", "zzz", tripled, `${item.answer} ${item.answer}`]) {
        equal(t.score(item, bad), 0, `${t.name} ${item.prompt} ${JSON.stringify(bad)}`);
        const r = t.reward(item, bad);
        ok(r >= 0 && r < 1, `${t.name} reward ${r}`);
      }
    }
  }
});

Deno.test("downstream: lengths within bounds and printable ASCII", () => {
  for (const t of tasks) {
    const maxAnswer = t === toolCall ? MAX_JSON_ANSWER : MAX_ANSWER;
    for (const item of itemsOf(t)) {
      ok(item.prompt.length <= MAX_PROMPT, `${t.name}: ${item.prompt}`);
      ok(item.answer.length > 0 && item.answer.length <= maxAnswer, `${t.name}: ${item.answer}`);
      ok(isPrintableAscii(item.prompt) && isPrintableAscii(item.answer), item.prompt);
    }
  }
});

Deno.test("many_answers: accepts exactly the members of correctAnswers", () => {
  for (const item of itemsOf(manyAnswers)) {
    const good = correctAnswers(item);
    ok(good.length >= 3, item.prompt);
    equal(item.answer, good[0], "canonical target is the smallest");
    const [, rule, lo, hi] = item.prompt.match(/^(odd|m\d):(\d+),(\d+)=$/)!;
    const k = rule === "odd" ? null : Number(rule.slice(1));
    for (let n = 0; n <= 120; n++) {
      const want = n >= Number(lo) && n <= Number(hi) && (k === null ? n % 2 === 1 : n % k === 0);
      equal(good.includes(String(n)), want, `${item.prompt} ${n}`);
      equal(manyAnswers.score(item, String(n)), want ? 1 : 0, `${item.prompt} ${n}`);
      const inRange = n >= Number(lo) && n <= Number(hi);
      equal(manyAnswers.reward(item, `${n}\n`), want ? 1 : inRange ? 0.5 : 0.25);
    }
    const x = good[1];
    for (const bad of [`0${x}`, `+${x}`, ` ${x}`, `${x}.0`, `${x},${good[2]}`, `-${x}`]) {
      equal(manyAnswers.score(item, bad), 0, `${item.prompt} ${JSON.stringify(bad)}`);
    }
  }
  ok(itemsOf(manyAnswers).some((i) => i.prompt.includes("odd")));
});

/** A word problem's answer recomputed from the prompt's template and numbers. */
function wordOracle(p: string): number {
  const rules: [RegExp, (a: number, b: number, c: number) => number][] = [
    [/has (\d+) \w+ and gets (\d+) more\. How many now\?$/, (a, b) => a + b],
    [/has (\d+) \w+ and gives away (\d+)\. How many left\?$/, (a, b) => a - b],
    [/buys (\d+) bags of (\d+) (\w+)\. How many \3\?$/, (a, b) => a * b],
    [/has (\d+) \w+, gets (\d+), then loses (\d+)\. How many now\?$/, (a, b, c) => a + b - c],
    [/has (\d+) packs of (\d+) \w+ and gives away (\d+)\. How many\?$/, (a, b, c) => a * b - c],
    [/has (\d+) \w+\. (\w+) has (\d+) more\. How many has \2\?$/, (a, _, c) => a + c],
    [/has (\d+) \w+\. (\w+) has (\d+) fewer\. How many has \2\?$/, (a, _, c) => a - c],
    [/shares (\d+) \w+ among (\d+) kids\. How many each\?$/, (a, b) => a / b],
  ];
  for (const [re, f] of rules) {
    const m = p.match(re);
    if (m) return f(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  throw new Error(`no template matches '${p}'`);
}

Deno.test("word_math: answers match the templates' arithmetic, in 0-99", () => {
  const seen = new Set<number>();
  for (const item of itemsOf(wordMath)) {
    const y = wordOracle(item.prompt);
    equal(item.answer, String(y), item.prompt);
    ok(Number.isInteger(y) && y >= 0 && y <= 99, item.prompt);
    equal(wordMath.score(item, `${y} ${item.prompt.split(" ")[0]}`), 1, "number with words");
    equal(wordMath.score(item, `${y + 1}`), 0);
    equal(wordMath.score(item, `${y} or ${y + 1}`), 0, "hedging");
    for (const re of [/more\. How many now/, /gives away \d+\. How many left/, /bags/, /loses/]) {
      if (re.test(item.prompt)) seen.add(String(re).length);
    }
  }
  equal(seen.size, 4, "several templates drawn");
});

Deno.test("extractNumber: exactly one number, else null", () => {
  equal(extractNumber("17"), 17);
  equal(extractNumber("17\n"), 17);
  equal(extractNumber("17 pens"), 17);
  equal(extractNumber("Max has 17"), 17);
  equal(extractNumber("-3"), -3);
  equal(extractNumber("2.5"), 2.5);
  equal(extractNumber(""), null);
  equal(extractNumber("seventeen"), null);
  equal(extractNumber("17 or 18"), null);
  equal(extractNumber("12+5=17"), null);
});

/** Whether `option` answers a science question, from the fact tables. */
function scienceTruth(question: string, option: string): boolean {
  const inClass = (t: Readonly<Record<string, readonly string[]>>, c: string, x: string) =>
    t[c]?.includes(x) ?? false;
  let m: RegExpMatchArray | null;
  if ((m = question.match(/^(\w+) is a kind of\?$/))) return inClass(ANIMAL_CLASSES, option, m[1]);
  if ((m = question.match(/^which is an? (\w+) at room temp\?$/))) {
    return inClass(STATES, m[1], option);
  }
  if ((m = question.match(/^which is an? (\w+)\?$/))) return inClass(ANIMAL_CLASSES, m[1], option);
  if ((m = question.match(/^(\w+) at room temp is\?$/))) return inClass(STATES, option, m[1]);
  if ((m = question.match(/^(\d)\w\w planet from the sun\?$/))) {
    return PLANETS[+m[1] - 1] === option;
  }
  if ((m = question.match(/^(\w+) is planet number\?$/))) return PLANETS[+option - 1] === m[1];
  if ((m = question.match(/^SI unit of (\w+)\?$/))) return SI_UNITS[m[1]] === option;
  if ((m = question.match(/^the (\w+) measures\?$/))) return SI_UNITS[option] === m[1];
  throw new Error(`unknown question '${question}'`);
}

Deno.test("science_mc: exactly one true option, at the answer's letter", () => {
  const counts = new Map<string, number>(), expected = new Map<string, number>();
  for (const item of itemsOf(scienceMc) as ScienceItem[]) {
    const m = item.prompt.match(/^Q:(.+\?) ((?:[1-4]\)\w+ ?)+) =$/)!;
    ok(m, item.prompt);
    const shown = m[2].split(" ").map((o) => o.slice(2));
    deepEqual(shown, item.options);
    ok(item.options.length === 3 || item.options.length === 4);
    equal(new Set(item.options).size, item.options.length, "distinct options");
    const truths = item.options.map((o) => scienceTruth(m[1], o));
    deepEqual(
      truths.map((t, i) => (t ? i : -1)).filter((i) => i >= 0),
      [item.correct],
      item.prompt,
    );
    equal(item.answer, "1234"[item.correct]);
    counts.set(item.answer, (counts.get(item.answer) ?? 0) + 1);
    for (const l of "1234".slice(0, item.options.length)) {
      expected.set(l, (expected.get(l) ?? 0) + 1 / item.options.length);
    }
    for (const bad of ["1234"].flatMap((s) => s.split("")).filter((l) => l !== item.answer)) {
      equal(scienceMc.score(item, bad), 0);
    }
    for (const bad of [`0${item.answer}`, `${item.answer})`, item.options[item.correct]]) {
      equal(scienceMc.score(item, bad), 0, `${item.prompt} ${bad}`);
    }
  }
  // The shuffle spreads the right answer evenly over the letters shown.
  for (const l of "1234") {
    const got = counts.get(l) ?? 0, want = expected.get(l)!;
    ok(Math.abs(got - want) < 0.25 * want, `${l}: ${got} correct, ~${want.toFixed(0)} expected`);
  }
});

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

Deno.test("tool_call: answers are schema-valid and match the request", () => {
  const names = new Set<string>();
  for (const item of itemsOf(toolCall) as ToolCallItem[]) {
    deepEqual(JSON.parse(item.answer), requestOracle(item.prompt), item.prompt);
    deepEqual(JSON.parse(item.answer), item.call);
    ok(isValidJson(TOOLS[item.call.name].schema, item.call.arguments));
    deepEqual(checkToolCall(item, item.answer), { errors: [], correct: true });
    names.add(item.call.name);
  }
  deepEqual([...names].sort(), Object.keys(TOOLS).sort(), "every tool drawn");
  ok(itemsOf(toolCall).some((i) => / pm/.test(i.prompt)), "am/pm requests");
});

Deno.test("tool_call: key order and spacing are free; values, names and keys are not", () => {
  const item: ToolCallItem = {
    id: "x",
    prompt: "set a timer for 5 minutes",
    answer: '{"name":"timer","arguments":{"min":5}}',
    call: { name: "timer", arguments: { min: 5 } },
  };
  const grade = (out: string) => [toolCall.score(item, out), toolCall.reward(item, out)];
  deepEqual(grade('{"arguments":{"min":5},"name":"timer"}'), [1, 1]);
  deepEqual(grade('{ "name": "timer", "arguments": { "min": 5.0 } }\n'), [1, 1]);
  // Schema-valid but wrong: score 0, reward 0.5.
  deepEqual(grade('{"name":"timer","arguments":{"min":6}}'), [0, 0.5]);
  deepEqual(grade('{"name":"heat","arguments":{"c":20}}'), [0, 0.5]);
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
  ) deepEqual(grade(bad), [0, 0.25], bad);
  // Not a JSON object at all: 0 and 0.
  for (
    const bad of [
      '{"name":"timer","arguments":{"min":5}', // truncated
      '{"name":"timer","arguments":{"min":5}}}', // trailing brace
      "timer 5",
      "null",
      "5",
      "[1]",
    ]
  ) deepEqual(grade(bad), [0, 0], bad);
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
  equal(toolCall.score(light, '{"name":"light","arguments":{"on":false}}'), 1);
  equal(toolCall.score(light, '{"name":"light","arguments":{"on":"false"}}'), 0);
  equal(toolCall.score(light, '{"name":"light","arguments":{"on":0}}'), 0);
  equal(toolCall.reward(light, '{"name":"light","arguments":{"on":true}}'), 0.5);
});

Deno.test("caesar: exact-match score, per-character reward", () => {
  equal(caesarShift("hello", 2), "jgnnq");
  equal(caesarShift("xyz", 3), "abc");
  for (const item of itemsOf(caesar)) {
    const [, k, word] = item.prompt.match(/^shift letters by (\d): ([a-z]+)$/)!;
    equal(item.answer, caesarShift(word, +k));
    equal(caesar.score(item, word), 0, "unshifted");
  }
  const item = { id: "c", prompt: "shift letters by 2: hello", answer: "jgnnq", shift: 2 };
  equal(caesar.reward(item, "jgnnx"), 0.8);
  equal(caesar.score(item, "jgnnx"), 0);
  equal(caesar.reward(item, "jgnnqq"), 5 / 6, "extra characters cost");
  equal(caesar.reward(item, "jg"), 0.4);
  equal(caesar.reward(item, ""), 0);
});

Deno.test("format credit: a wrong answer in the right form earns 0.25, anything else 0", () => {
  const wm = { id: "w", prompt: "Ann has 3 pens and gets 4 more. How many now?", answer: "7" };
  equal(wordMath.reward(wm, "7\n"), 1);
  equal(wordMath.reward(wm, "8"), 0.25);
  equal(wordMath.reward(wm, "7 or 8"), 0, "two numbers: no answer");
  equal(wordMath.reward(wm, "many"), 0);
  const mc: ScienceItem = {
    id: "s",
    prompt: "Q:shark is a kind of? 1)bird 2)fish 3)insect =",
    answer: "2",
    options: ["bird", "fish", "insect"],
    correct: 1,
  };
  deepEqual(["2", "1", "3", "4", "22", "fish", ""].map((o) => scienceMc.reward(mc, o)), [
    1,
    0.25,
    0.25,
    0, // not an option shown
    0,
    0,
    0,
  ]);
  deepEqual(["2", "1", "3"].map((o) => scienceMc.score(mc, o)), [1, 0, 0]);
});
