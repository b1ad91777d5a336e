// Downstream tasks for post-training the tiny character-level LM (none is in the pretraining
// mixture of tasks/lm/skills.ts; each has its own prompt format). Every task generates items
// from a seed, gives the canonical SFT target, an RL reward in [0, 1] and a strict 0/1 score:
//
//   many_answers  m3:10,40=                                    -> 12 (any of 12,15,...,39)
//   word_math     Ann has 12 pens and gets 5 more. How many now?  -> 17
//   science_mc    Q:shark is a kind of? 1)bird 2)fish 3)insect 4)reptile =  -> 2
//   tool_call     set a timer for 5 minutes -> {"name":"timer","arguments":{"min":5}}
//   caesar        shift letters by 2: hello                      -> jgnnq
//
// Rewards give format credit below a right answer (like the format rewards of R1-style RL): a
// group-normalised advantage needs rewards that differ within a group, and a tiny base model
// that never answers right still writes a number or an option sometimes. Scores stay strict.
//
// Scoring conventions (all tasks): the output's trailing whitespace (the "\n") is dropped first
// (`answerText`); anything else must be exactly right except where a task says otherwise.
// Capacity (distinct prompts, train/heldout): many_answers ~27k/~7k, tool_call ~9.8k/~2.4k,
// the others >30k each. Asking for more than exist throws.

import { permutation, type Rng } from "../../lib/rng.ts";
import {
  answerText,
  between,
  generateDistinct,
  type GenerateOptions,
  type LmItem,
  MAX_PROMPT,
  pick,
} from "./items.ts";
import { type Json, type JsonSchema, validateJson } from "./json_schema.ts";
import { ANIMAL_CLASSES, PLANETS, SI_UNITS, STATES } from "./science_facts.ts";

/** A downstream task: generation, SFT target, RL reward and evaluation score. */
export interface LmTask<I extends LmItem = LmItem> {
  /** Lower-case identifier, also the split-hash salt and the id prefix. */
  readonly name: string;
  /** One line for reports. */
  readonly description: string;
  /** `opts.n` distinct items of `opts.split`; deterministic in `opts.seed`. */
  generate(opts: GenerateOptions): I[];
  /** The canonical SFT answer (without the terminating "\n"). */
  target(item: I): string;
  /** RL reward in [0, 1]; equals `score` unless the task documents partial credit. */
  reward(item: I, output: string): number;
  /** Evaluation: 1 iff the output is a correct answer. */
  score(item: I, output: string): 0 | 1;
}

// ---------------------------------------------------------------------------------------------
// many_answers: like ParityMNIST, many outputs are correct, so RL can keep whichever correct
// answer the model already prefers while SFT must move it onto one canonical answer.

/** Correct iff `lo <= n <= hi` and `n % mod === rem` (a multiple of k: mod k, rem 0; odd: 2, 1). */
export interface ManyAnswersItem extends LmItem {
  readonly lo: number;
  readonly hi: number;
  readonly mod: number;
  readonly rem: number;
}

/** Every correct answer of a many_answers item, as the canonical decimal strings, ascending. */
export function correctAnswers(item: ManyAnswersItem): string[] {
  const out: string[] = [];
  for (let n = item.lo; n <= item.hi; n++) if (n % item.mod === item.rem) out.push(String(n));
  return out;
}

/** Draws a range and rule with at least 3 correct answers (so there is a real choice). */
function drawManyAnswers(r: Rng): Omit<ManyAnswersItem, "id"> {
  for (;;) {
    // Compact, like the pretraining skills' `tag:args=` prompts (the base answers numbers
    // there), and narrow ranges (5-21 numbers), so a base that copies or guesses a nearby
    // number is sometimes right: RL needs some reward to start from.
    const lo = between(r, 1, 90), hi = between(r, lo + 4, Math.min(99, lo + 20));
    const odd = r.int(9) === 0;
    const mod = odd ? 2 : between(r, 2, 9), rem = odd ? 1 : 0;
    const rule = odd ? "odd" : `m${mod}`;
    const item = { prompt: `${rule}:${lo},${hi}=`, answer: "", lo, hi, mod, rem };
    const all = correctAnswers({ ...item, id: "" });
    // Canonical SFT answer: the smallest correct number (fixed, like ParityMNIST's sft1).
    if (all.length >= 3) return { ...item, answer: all[0] };
  }
}

/** 1 iff the output is a canonical decimal (no sign, no leading zero) satisfying the rule. */
function scoreManyAnswers(item: ManyAnswersItem, output: string): 0 | 1 {
  const s = answerText(output);
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return 0;
  const n = Number(s);
  return n >= item.lo && n <= item.hi && n % item.mod === item.rem ? 1 : 0;
}

/** Reward: 1 if correct, 0.5 for a number in the range that breaks the rule, 0.25 for any
 * other canonical number, else 0. */
function rewardManyAnswers(item: ManyAnswersItem, output: string): number {
  if (scoreManyAnswers(item, output)) return 1;
  const s = answerText(output);
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return 0;
  return Number(s) >= item.lo && Number(s) <= item.hi ? 0.5 : 0.25;
}

/** Name a number in a range with a divisibility rule; any such number is correct. */
export const manyAnswers: LmTask<ManyAnswersItem> = {
  name: "many_answers",
  description: "name a number in a range that is a multiple of k (or odd); any such is correct",
  generate: (opts) => generateDistinct("many_answers", { ...opts, draw: drawManyAnswers }),
  target: (item) => item.answer,
  reward: rewardManyAnswers,
  score: scoreManyAnswers,
};

// ---------------------------------------------------------------------------------------------
// word_math: templated word problems with one or two operations; answers are 0-99.

const NAMES = ["Ann", "Bob", "Cy", "Dee", "Eve", "Max", "Sam", "Zoe", "Tom", "Lia", "Ben", "Kim"];
const OBJECTS = ["apple", "pen", "card", "coin", "egg", "cup", "book", "stamp", "ball", "kite"];

/** Draws one word problem: a template with fresh names, object and numbers. */
function drawWordMath(r: Rng): Omit<LmItem, "id"> {
  const n = pick(r, NAMES), o = pick(r, OBJECTS);
  const m = pick(r, NAMES.filter((x) => x !== n));
  const q = (prompt: string, answer: number) => ({ prompt, answer: String(answer) });
  switch (r.int(8)) {
    case 0: {
      const a = between(r, 2, 60), b = between(r, 2, 99 - a);
      return q(`${n} has ${a} ${o}s and gets ${b} more. How many now?`, a + b);
    }
    case 1: {
      const a = between(r, 3, 99), b = between(r, 1, a - 1);
      return q(`${n} has ${a} ${o}s and gives away ${b}. How many left?`, a - b);
    }
    case 2: {
      const a = between(r, 2, 9), b = between(r, 2, 9);
      return q(`${n} buys ${a} bags of ${b} ${o}s. How many ${o}s?`, a * b);
    }
    case 3: {
      const a = between(r, 2, 50), b = between(r, 1, 40), c = between(r, 1, a + b - 1);
      return q(`${n} has ${a} ${o}s, gets ${b}, then loses ${c}. How many now?`, a + b - c);
    }
    case 4: {
      const a = between(r, 2, 9), b = between(r, 2, 9), c = between(r, 1, a * b - 1);
      return q(`${n} has ${a} packs of ${b} ${o}s and gives away ${c}. How many?`, a * b - c);
    }
    case 5: {
      const a = between(r, 1, 60), b = between(r, 1, 99 - a);
      return q(`${n} has ${a} ${o}s. ${m} has ${b} more. How many has ${m}?`, a + b);
    }
    case 6: {
      const a = between(r, 2, 99), b = between(r, 1, a - 1);
      return q(`${n} has ${a} ${o}s. ${m} has ${b} fewer. How many has ${m}?`, a - b);
    }
    default: {
      const each = between(r, 2, 12), kids = between(r, 2, Math.min(9, Math.floor(99 / each)));
      return q(`${n} shares ${each * kids} ${o}s among ${kids} kids. How many each?`, each);
    }
  }
}

/**
 * The number a word_math output answers with: the output (trailing whitespace dropped) must
 * hold exactly one number (`-?digits` with an optional `.digits`); "17", "17 pens" and
 * "Max has 17" give 17. No number, or several ("17 or 18"), gives null, so hedging scores 0.
 */
export function extractNumber(output: string): number | null {
  const nums = answerText(output).match(/-?\d+(?:\.\d+)?/g) ?? [];
  return nums.length === 1 ? Number(nums[0]) : null;
}

/** 1 iff the one number in the output equals the answer (see `extractNumber`). */
function scoreWordMath(item: LmItem, output: string): 0 | 1 {
  return extractNumber(output) === Number(item.answer) ? 1 : 0;
}

/** Templated arithmetic word problems (1-2 operations); the single number in the output counts. */
export const wordMath: LmTask = {
  name: "word_math",
  description: "templated word problems with 1-2 operations, answers 0-99",
  generate: (opts) => generateDistinct("word_math", { ...opts, draw: drawWordMath }),
  target: (item) => item.answer,
  // 1 if right, 0.25 for an answer holding exactly one (wrong) number, else 0.
  reward: (item, output) =>
    scoreWordMath(item, output) || (extractNumber(output) === null ? 0 : 0.25),
  score: scoreWordMath,
};

// ---------------------------------------------------------------------------------------------
// science_mc: lettered multiple choice over the fact tables of science_facts.ts. The facts are
// shared by both splits on purpose (a tiny model has no world knowledge to generalise from);
// heldout prompts pair them with unseen distractors and option orders, so memorising the letter
// of a training prompt does not help.

/** A multiple-choice item: the options as shown and the index of the correct one. */
export interface ScienceItem extends LmItem {
  readonly options: readonly string[];
  readonly correct: number;
}

// Options are numbered, not lettered: the base model writes digits far more often than
// capitals, so sampled answers hit an option often enough for RL to get a reward.
const LETTERS = "1234";

/** "a" or "an", for the question templates. */
function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** 1st, 2nd, 3rd, 4th... for planet positions. */
function ordinal(n: number): string {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

/** All members of a class table not in class `except`. */
function membersOutside(table: Readonly<Record<string, readonly string[]>>, except: string) {
  return Object.entries(table).filter(([c]) => c !== except).flatMap(([, xs]) => xs);
}

/** One fact as a question, its correct answer and the pool of wrong answers. */
function drawFact(r: Rng): { question: string; right: string; wrong: string[] } {
  const classes = Object.keys(ANIMAL_CLASSES), quantities = Object.keys(SI_UNITS);
  const states = Object.keys(STATES).filter((s) => STATES[s].length > 0);
  // (No "planet number?" question: its numeric options would read like option numbers.)
  switch (r.int(7)) {
    case 0: {
      const c = pick(r, classes), animal = pick(r, ANIMAL_CLASSES[c]);
      return {
        question: `${animal} is a kind of?`,
        right: c,
        wrong: classes.filter((x) => x !== c),
      };
    }
    case 1: {
      const c = pick(r, classes);
      return {
        question: `which is ${article(c)} ${c}?`,
        right: pick(r, ANIMAL_CLASSES[c]),
        wrong: membersOutside(ANIMAL_CLASSES, c),
      };
    }
    case 2: {
      const s = pick(r, states), stuff = pick(r, STATES[s]);
      const wrong = Object.keys(STATES).filter((x) => x !== s);
      return { question: `${stuff} at room temp is?`, right: s, wrong };
    }
    case 3: {
      const s = pick(r, states);
      return {
        question: `which is ${article(s)} ${s} at room temp?`,
        right: pick(r, STATES[s]),
        wrong: membersOutside(STATES, s),
      };
    }
    case 4: {
      const i = r.int(PLANETS.length);
      return {
        question: `${ordinal(i + 1)} planet from the sun?`,
        right: PLANETS[i],
        wrong: PLANETS.filter((_, j) => j !== i),
      };
    }
    case 5: {
      const q = pick(r, quantities);
      const wrong = quantities.filter((x) => x !== q).map((x) => SI_UNITS[x]);
      return { question: `SI unit of ${q}?`, right: SI_UNITS[q], wrong };
    }
    default: {
      const q = pick(r, quantities);
      return {
        question: `the ${SI_UNITS[q]} measures?`,
        right: q,
        wrong: quantities.filter((x) => x !== q),
      };
    }
  }
}

/** `Q:<question> 1)x 2)y 3)z 4)w =` with 4 options, or 3 where 4 would not fit MAX_PROMPT. */
function drawScience(r: Rng): Omit<ScienceItem, "id"> {
  for (;;) {
    const { question, right, wrong } = drawFact(r);
    const distractors = permutation(wrong.length, r).slice(0, 3).map((i) => wrong[i]);
    for (const k of [4, 3]) {
      const pool = [right, ...distractors.slice(0, k - 1)];
      const options = permutation(k, r).map((i) => pool[i]);
      const shown = options.map((o, i) => `${LETTERS[i]})${o}`).join(" ");
      const prompt = `Q:${question} ${shown} =`;
      const correct = options.indexOf(right);
      if (prompt.length <= MAX_PROMPT) {
        return { prompt, answer: LETTERS[correct], options, correct };
      }
    }
  }
}

/** 1 iff the output is exactly the correct option number (nothing else). */
function scoreScience(item: ScienceItem, output: string): 0 | 1 {
  return answerText(output) === item.answer ? 1 : 0;
}

/** Lettered multiple choice over small science fact tables; options shuffled by the seed. */
export const scienceMc: LmTask<ScienceItem> = {
  name: "science_mc",
  description: "multiple choice (3-4 numbered options) on animal classes, states, planets, units",
  generate: (opts) => generateDistinct("science_mc", { ...opts, draw: drawScience }),
  target: (item) => item.answer,
  // 1 if right, 0.25 for another option number shown, else 0.
  reward: (item, output) => {
    if (scoreScience(item, output)) return 1;
    const k = LETTERS.indexOf(answerText(output));
    return answerText(output).length === 1 && k >= 0 && k < item.options.length ? 0.25 : 0;
  },
  score: scoreScience,
};

// ---------------------------------------------------------------------------------------------
// tool_call: a request in words -> one JSON tool call, checked against the tool's JSON schema and
// then against the values the request asked for.

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
 * for other JSON objects (so RL gets a signal for the format before the content), 0 otherwise.
 */
function rewardToolCall(item: ToolCallItem, output: string): number {
  const c = checkToolCall(item, output);
  if (c.correct) return 1;
  if (c.errors.length === 0) return 0.5;
  return c.errors[0] === "output is not JSON" || !/^\{/.test(answerText(output)) ? 0 : 0.25;
}

/** A request in words -> a JSON tool call, checked by schema and by value. */
export const toolCall: LmTask<ToolCallItem> = {
  name: "tool_call",
  description: "request in words -> JSON tool call, schema-checked and value-checked",
  generate: (opts) => generateDistinct("tool_call", { ...opts, draw: drawToolCall }),
  target: (item) => item.answer,
  reward: rewardToolCall,
  score: (item, output) => (checkToolCall(item, output).correct ? 1 : 0),
};

// ---------------------------------------------------------------------------------------------
// caesar: shift every letter of a word by k (wrapping z -> a). A new algorithm, unlike the
// pretraining skills, with a dense reward (share of right characters) for RL.

/** A caesar item: the word and the shift. */
export interface CaesarItem extends LmItem {
  readonly shift: number;
}

/** Shifts lower-case letters by `k` places, wrapping around the alphabet. */
export function caesarShift(word: string, k: number): string {
  return [...word].map((c) => String.fromCharCode(97 + (c.charCodeAt(0) - 97 + k) % 26)).join("");
}

/** Draws a random 3-8 letter word and a shift of 1-3. */
function drawCaesar(r: Rng): Omit<CaesarItem, "id"> {
  const len = between(r, 3, 8), shift = between(r, 1, 3);
  let word = "";
  for (let i = 0; i < len; i++) word += String.fromCharCode(97 + r.int(26));
  return { prompt: `shift letters by ${shift}: ${word}`, answer: caesarShift(word, shift), shift };
}

/**
 * Reward: the share of positions where output and answer agree, over the longer of the two
 * (so extra or missing characters cost), in [0, 1]; 1 only for the exact answer.
 */
function rewardCaesar(item: CaesarItem, output: string): number {
  const s = answerText(output), a = item.answer;
  let same = 0;
  for (let i = 0; i < Math.min(s.length, a.length); i++) if (s[i] === a[i]) same++;
  return same / Math.max(s.length, a.length);
}

/** Shift each letter of a word by 1-3 places; dense per-character reward, exact-match score. */
export const caesar: LmTask<CaesarItem> = {
  name: "caesar",
  description: "shift each letter of a 3-8 letter word by 1-3 places",
  generate: (opts) => generateDistinct("caesar", { ...opts, draw: drawCaesar }),
  target: (item) => item.answer,
  reward: rewardCaesar,
  score: (item, output) => (answerText(output) === item.answer ? 1 : 0),
};

/** The downstream tasks in the order a post-training sequence visits them by default. */
export const DOWNSTREAM_TASKS = [manyAnswers, wordMath, scienceMc, toolCall, caesar] as const;
