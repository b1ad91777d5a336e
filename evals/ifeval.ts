// IFEval (Zhou et al. 2023) as lm-evaluation-harness's `ifeval` task scores it (lm_eval/tasks/
// ifeval: ifeval.yaml version 4.0, utils.py, instructions.py, instructions_registry.py, which
// copy google-research instruction_following_eval): every checker of the registry's 25
// instruction ids, the kwargs handling (lm-eval drops null and falsy kwargs before
// build_description), the strict test (the response, if not blank, follows the instruction), the
// loose test (any of the response and seven variants: first line removed, last line removed,
// both, and each of those four with every "*" removed) and the four metrics. Text utilities with
// Python semantics are in evals/ifeval_text.ts, the language detector in evals/ifeval_language.ts.
// Where a checker can differ from the reference, its doc says so (docs/metrics.md "Benchmark
// scoring" collects them).

import { ValidationError } from "../lib/errors.ts";
import { detectLanguage } from "./ifeval_language.ts";
import { countSentences, countWords, wordTokenize } from "./ifeval_nltk.ts";
import {
  isPythonJson,
  pyCount,
  pyFindAll,
  pyIsLower,
  pyIsUpper,
  pyLstrip,
  pyRegex,
  pyRstrip,
  pySearch,
  pySplit,
  pyStrip,
} from "./ifeval_text.ts";

/** ifeval.yaml's generation_kwargs: no stop string (`until: []`), greedy. */
export const IFEVAL_STOP: readonly string[] = [];
/** ifeval.yaml's `max_gen_toks`. */
export const IFEVAL_MAX_NEW_TOKENS = 1280;
/** ifeval.yaml's metric_list, in its order. */
export const IFEVAL_METRICS = [
  "prompt_level_strict_acc",
  "inst_level_strict_acc",
  "prompt_level_loose_acc",
  "inst_level_loose_acc",
] as const;

/** ISO 639-1 codes IFEval may ask a response in (instructions_util.LANGUAGE_CODES). */
// deno-fmt-ignore
export const IFEVAL_LANGUAGES: Readonly<Record<string, string>> = {
  en: "English", es: "Spanish", pt: "Portuguese", ar: "Arabic", hi: "Hindi", fr: "French",
  ru: "Russian", de: "German", ja: "Japanese", it: "Italian", bn: "Bengali", uk: "Ukrainian",
  th: "Thai", ur: "Urdu", ta: "Tamil", te: "Telugu", bg: "Bulgarian", ko: "Korean", pl: "Polish",
  he: "Hebrew", fa: "Persian", vi: "Vietnamese", ne: "Nepali", sw: "Swahili", kn: "Kannada",
  mr: "Marathi", gu: "Gujarati", pa: "Punjabi", ml: "Malayalam", fi: "Finnish",
};

/** A kwarg value as the dataset holds it. */
export type KwargValue = string | number | readonly string[];

/** One instruction of an item: its registry id and its (non-null) kwargs. */
export interface IfevalInstruction {
  readonly id: string;
  readonly kwargs: Readonly<Record<string, KwargValue>>;
}

/** What a checker's kwargs are, as build_description reads them. */
type ArgType = "count" | "relation" | "text" | "pattern" | "patterns" | "letter" | "language";

/** One registry entry: the kwargs its build_description needs, and its check_following. */
interface Checker {
  readonly args: Readonly<Record<string, ArgType>>;
  // deno-lint-ignore no-explicit-any
  check(value: string, kw: any): boolean;
}

type Relation = "less than" | "at least";
const RELATIONS: readonly Relation[] = ["less than", "at least"];
const compare = (n: number, relation: Relation, k: number) =>
  relation === "less than" ? n < k : n >= k;
const ic = (pattern: string) => pyRegex(pattern, { ignoreCase: true });

const CONSTRAINED = ["My answer is yes.", "My answer is no.", "My answer is maybe."];
const PLACEHOLDER = pyRegex(String.raw`\[.*?\]`);
const BULLET_STAR = pyRegex(String.raw`^\s*\*[^\*].*$`, { multiline: true });
const BULLET_DASH = pyRegex(String.raw`^\s*-.*$`, { multiline: true });
const HIGHLIGHT = pyRegex(String.raw`\*[^\n\*]*\*`);
const DOUBLE_HIGHLIGHT = pyRegex(String.raw`\*\*[^\n\*]*\*\*`);
const DIVIDER = pyRegex(String.raw`\s?\*\*\*\s?`);
const TITLE = pyRegex(String.raw`<<[^\n]+>>`);
const PPS = pyRegex(String.raw`\s*p\.\s?p\.\s?s.*$`, { multiline: true });
const PS = pyRegex(String.raw`\s*p\.\s?s\..*$`, { multiline: true });

/**
 * instructions_registry.INSTRUCTION_DICT: each instruction id's checker, ported from
 * instructions.py's check_following (Python semantics via evals/ifeval_text.ts).
 */
const CHECKERS: Readonly<Record<string, Checker>> = {
  "keywords:existence": {
    args: { keywords: "patterns" },
    check: (v, kw: { keywords: string[] }) => kw.keywords.every((k) => pySearch(ic(k), v)),
  },
  "keywords:frequency": {
    args: { keyword: "pattern", frequency: "count", relation: "relation" },
    check: (v, kw: { keyword: string; frequency: number; relation: Relation }) =>
      compare(pyCount(ic(pyStrip(kw.keyword)), v), kw.relation, kw.frequency),
  },
  "keywords:forbidden_words": {
    args: { forbidden_words: "patterns" },
    check: (v, kw: { forbidden_words: string[] }) =>
      !kw.forbidden_words.some((w) => pySearch(ic(String.raw`\b${w}\b`), v)),
  },
  "keywords:letter_frequency": {
    args: { letter: "letter", let_frequency: "count", let_relation: "relation" },
    check: (v, kw: { letter: string; let_frequency: number; let_relation: Relation }) => {
      // The reference replaces a letter outside a–z by a random one; this counts it as given.
      const letter = pyStrip(kw.letter).toLowerCase();
      let n = 0;
      for (const ch of v.toLowerCase()) if (ch === letter) n++;
      return compare(n, kw.let_relation, kw.let_frequency);
    },
  },
  "language:response_language": {
    args: { language: "language" },
    check: (v, kw: { language: string }) => {
      const found = detectLanguage(v);
      return found === null || found === kw.language; // LangDetectException counts as followed
    },
  },
  "length_constraints:number_sentences": {
    args: { num_sentences: "count", relation: "relation" },
    check: (v, kw: { num_sentences: number; relation: Relation }) =>
      compare(countSentences(v), kw.relation, kw.num_sentences),
  },
  "length_constraints:number_paragraphs": {
    args: { num_paragraphs: "count" },
    check: (v, kw: { num_paragraphs: number }) => {
      const paragraphs = v.split(DIVIDER);
      let n = paragraphs.length;
      for (let i = 0; i < paragraphs.length; i++) {
        if (pyStrip(paragraphs[i]) !== "") continue;
        if (i === 0 || i === paragraphs.length - 1) n--;
        else return false;
      }
      return n === kw.num_paragraphs;
    },
  },
  "length_constraints:number_words": {
    args: { num_words: "count", relation: "relation" },
    check: (v, kw: { num_words: number; relation: Relation }) =>
      compare(countWords(v), kw.relation, kw.num_words),
  },
  "length_constraints:nth_paragraph_first_word": {
    args: { num_paragraphs: "count", nth_paragraph: "count", first_word: "text" },
    check: (v, kw: { num_paragraphs: number; nth_paragraph: number; first_word: string }) => {
      const paragraphs = v.split("\n\n");
      const n = paragraphs.filter((p) => pyStrip(p) !== "").length;
      if (kw.nth_paragraph > n) return false;
      const paragraph = pyStrip(paragraphs[kw.nth_paragraph - 1]);
      if (paragraph === "") return false;
      const word = pyLstrip(pyLstrip(pyStrip(pySplit(paragraph)[0]), "'"), '"');
      let first = "";
      for (const ch of word) {
        if (`.,?!'"`.includes(ch)) break;
        first += ch.toLowerCase();
      }
      return n === kw.num_paragraphs && first === kw.first_word.toLowerCase();
    },
  },
  "detectable_content:number_placeholders": {
    args: { num_placeholders: "count" },
    check: (v, kw: { num_placeholders: number }) => pyCount(PLACEHOLDER, v) >= kw.num_placeholders,
  },
  "detectable_content:postscript": {
    args: { postscript_marker: "text" },
    check: (v, kw: { postscript_marker: string }) => {
      const marker = pyStrip(kw.postscript_marker);
      const re = marker === "P.P.S"
        ? PPS
        : marker === "P.S."
        ? PS
        : pyRegex(String.raw`\s*${marker.toLowerCase()}.*$`, { multiline: true });
      return pySearch(re, v.toLowerCase());
    },
  },
  "detectable_format:number_bullet_lists": {
    args: { num_bullets: "count" },
    check: (v, kw: { num_bullets: number }) =>
      pyCount(BULLET_STAR, v) + pyCount(BULLET_DASH, v) === kw.num_bullets,
  },
  "detectable_format:constrained_response": {
    args: {},
    check: (v) => CONSTRAINED.some((option) => pyStrip(v).includes(option)),
  },
  "detectable_format:number_highlighted_sections": {
    args: { num_highlights: "count" },
    check: (v, kw: { num_highlights: number }) => {
      let n = 0;
      for (const h of pyFindAll(HIGHLIGHT, v)) if (pyStrip(pyStrip(h, "*")) !== "") n++;
      for (const h of pyFindAll(DOUBLE_HIGHLIGHT, v)) if (pyStrip(h.slice(2, -2)) !== "") n++;
      return n >= kw.num_highlights;
    },
  },
  "detectable_format:multiple_sections": {
    args: { section_spliter: "pattern", num_sections: "count" },
    check: (v, kw: { section_spliter: string; num_sections: number }) => {
      const splitter = pyRegex(String.raw`\s?${pyStrip(kw.section_spliter)}\s?\d+\s?`);
      return pyCount(splitter, v) >= kw.num_sections;
    },
  },
  "detectable_format:json_format": { args: {}, check: (v) => isPythonJson(jsonBody(v)) },
  "detectable_format:title": {
    args: {},
    check: (v) => pyFindAll(TITLE, v).some((t) => pyStrip(pyRstrip(pyLstrip(t, "<"), ">")) !== ""),
  },
  "combination:two_responses": {
    args: {},
    check: (v) => {
      const parts = v.split("******");
      const valid: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (pyStrip(parts[i]) !== "") valid.push(parts[i]);
        else if (i !== 0 && i !== parts.length - 1) return false;
      }
      return valid.length === 2 && pyStrip(valid[0]) !== pyStrip(valid[1]);
    },
  },
  "combination:repeat_prompt": {
    args: { prompt_to_repeat: "text" },
    check: (v, kw: { prompt_to_repeat: string }) =>
      pyStrip(v).toLowerCase().startsWith(pyStrip(kw.prompt_to_repeat).toLowerCase()),
  },
  "startend:end_checker": {
    args: { end_phrase: "text" },
    check: (v, kw: { end_phrase: string }) =>
      pyStrip(pyStrip(v), '"').toLowerCase().endsWith(pyStrip(kw.end_phrase).toLowerCase()),
  },
  "change_case:capital_word_frequency": {
    args: { capital_frequency: "count", capital_relation: "relation" },
    check: (v, kw: { capital_frequency: number; capital_relation: Relation }) =>
      compare(wordTokenize(v).filter(pyIsUpper).length, kw.capital_relation, kw.capital_frequency),
  },
  "change_case:english_capital": {
    args: {},
    check: (v) => pyIsUpper(v) && [null, "en"].includes(detectLanguage(v)),
  },
  "change_case:english_lowercase": {
    args: {},
    check: (v) => pyIsLower(v) && [null, "en"].includes(detectLanguage(v)),
  },
  "punctuation:no_comma": { args: {}, check: (v) => !v.includes(",") },
  "startend:quotation": {
    args: {},
    check: (v) => {
      const s = pyStrip(v);
      return Array.from(s).length > 1 && s.startsWith('"') && s.endsWith('"');
    },
  },
};

/** The registry's checker for `id` (own keys only: "toString" is no instruction). */
function checkerOf(id: string): Checker | undefined {
  return Object.hasOwn(CHECKERS, id) ? CHECKERS[id] : undefined;
}

/** Every instruction id IFEval's registry knows, in the registry's order. */
export const IFEVAL_INSTRUCTION_IDS: readonly string[] = Object.keys(CHECKERS);

/** JsonFormat's unwrapping: the text inside an optional ```json … ``` fence, stripped. */
function jsonBody(value: string): string {
  let s = pyStrip(value);
  for (const prefix of ["```json", "```Json", "```JSON", "```"]) {
    if (s.startsWith(prefix)) s = s.slice(prefix.length);
  }
  if (s.endsWith("```")) s = s.slice(0, -3);
  return pyStrip(s);
}

// ── Items ───────────────────────────────────────────────────────────────────────────────────

/**
 * Validates one item's instruction ids and kwargs as build_description would take them, after
 * lm-eval's `{k: v for k, v in kwargs.items() if v}` (so nulls, the HF parquet's absent keys, and
 * falsy values are dropped). What would make the reference crash (an unknown id or kwarg, a
 * relation or language it rejects) or draw a random value (a missing or non-positive number, an
 * empty text, a paragraph index past the paragraph count) is a ValidationError naming `where`.
 */
export function parseIfevalInstructions(
  ids: readonly string[],
  kwargs: readonly unknown[],
  where: string,
): IfevalInstruction[] {
  const fail = (problem: string): never => {
    throw new ValidationError(where, problem);
  };
  if (ids.length === 0) fail("field 'instruction_id_list' is empty");
  if (kwargs.length !== ids.length) {
    fail(`field 'kwargs' has ${kwargs.length} entries for ${ids.length} instructions`);
  }
  return ids.map((id, i) => {
    const checker = checkerOf(id);
    if (!checker) fail(`instruction_id_list[${i}]: unknown instruction '${id}'`);
    const raw = kwargs[i];
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      fail(`kwargs[${i}] is not an object`);
    }
    const at = `kwargs[${i}] (${id})`;
    const given = Object.entries(raw as Record<string, unknown>).filter(([, v]) => truthy(v));
    const out: Record<string, KwargValue> = {};
    for (const [name, value] of given) {
      const type = Object.hasOwn(checker!.args, name) ? checker!.args[name] : undefined;
      if (!type) fail(`${at}: '${name}' is not an argument of this instruction`);
      out[name] = checkArg(value, type!, `${at}.${name}`, fail);
    }
    for (const name of Object.keys(checker!.args)) {
      if (!(name in out)) {
        fail(`${at}: '${name}' is missing (the reference would draw a random value)`);
      }
    }
    if (id === "length_constraints:nth_paragraph_first_word") {
      if ((out.nth_paragraph as number) > (out.num_paragraphs as number)) {
        fail(`${at}: nth_paragraph ${out.nth_paragraph} is past num_paragraphs`);
      }
    }
    return { id, kwargs: out };
  });
}

/** Python truthiness of a JSON value (lm-eval's `if v`). */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== null && v !== undefined && v !== 0 && v !== "" && v !== false;
}

function checkArg(
  value: unknown,
  type: ArgType,
  at: string,
  fail: (problem: string) => never,
): KwargValue {
  switch (type) {
    case "count":
      if (!Number.isSafeInteger(value) || (value as number) < 1) {
        fail(`${at} must be a positive integer, got ${JSON.stringify(value)}`);
      }
      return value as number;
    case "relation":
      if (!RELATIONS.includes(value as Relation)) {
        fail(`${at} must be 'less than' or 'at least', got ${JSON.stringify(value)}`);
      }
      return value as string;
    case "language":
      if (typeof value !== "string" || !Object.hasOwn(IFEVAL_LANGUAGES, value)) {
        fail(`${at}: '${value}' is not one of IFEval's language codes`);
      }
      return value as string;
    case "letter":
      if (typeof value !== "string" || Array.from(value).length !== 1) {
        fail(`${at} must be one character, got ${JSON.stringify(value)}`);
      }
      return value as string;
    case "patterns":
      if (!Array.isArray(value) || !value.every((w) => typeof w === "string" && w !== "")) {
        fail(`${at} must be a list of words, got ${JSON.stringify(value)}`);
      }
      for (const w of value as string[]) compiles(w, at, fail);
      return value as string[];
    case "text":
    case "pattern":
      if (typeof value !== "string" || pyStrip(value) === "") {
        fail(`${at} must be a non-blank string, got ${JSON.stringify(value)}`);
      }
      if (type === "pattern") compiles(value as string, at, fail);
      return value as string;
  }
}

/** Checks that a dataset pattern has a JS translation (pyRegex). */
function compiles(pattern: string, at: string, fail: (problem: string) => never): void {
  try {
    pyRegex(pattern);
  } catch (e) {
    fail(`${at}: ${(e as Error).message}`);
  }
}

/** One instruction's verdict on one text (check_following), with build_description's kwargs. */
export function followsInstruction(instruction: IfevalInstruction, text: string): boolean {
  const checker = checkerOf(instruction.id);
  if (!checker) throw new ValidationError(instruction.id, "unknown IFEval instruction");
  return checker.check(text, instruction.kwargs);
}

/**
 * The texts the loose test tries, in utils.py's order: the response, it without "*", and the
 * response with its first line, its last line and both removed (each stripped), with and without
 * "*".
 */
export function looseVariants(response: string): string[] {
  const lines = response.split("\n");
  const first = pyStrip(lines.slice(1).join("\n"));
  const last = pyStrip(lines.slice(0, -1).join("\n"));
  const both = pyStrip(lines.slice(1, -1).join("\n"));
  const bare = (s: string) => s.replaceAll("*", "");
  return [response, bare(response), first, last, both, bare(first), bare(last), bare(both)];
}

/** Per-instruction verdicts of one response: strict and loose, in instruction order. */
export interface IfevalVerdicts {
  readonly strict: readonly boolean[];
  readonly loose: readonly boolean[];
}

/**
 * utils.py's test_instruction_following_strict and _loose on one response: an instruction is
 * followed (strictly) when the response is not blank and passes its check, (loosely) when any
 * non-blank loose variant does.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const comma = { id: "punctuation:no_comma", kwargs: {} };
 * deepEqual(ifevalVerdicts([comma], "Sure, here.\nNo commas here"), {
 *   strict: [false],
 *   loose: [true],
 * });
 * ```
 */
export function ifevalVerdicts(
  instructions: readonly IfevalInstruction[],
  response: string,
): IfevalVerdicts {
  const variants = looseVariants(response).filter((r) => pyStrip(r) !== "");
  return {
    strict: instructions.map((ins) =>
      pyStrip(response) !== "" && followsInstruction(ins, response)
    ),
    loose: instructions.map((ins) => variants.some((r) => followsInstruction(ins, r))),
  };
}

/**
 * The four metrics of one item: prompt-level = 1 when every instruction is followed, else 0;
 * instruction-level = the fraction of its instructions followed. lm-eval's inst_level_* pools
 * instructions over items (agg_inst_level_acc: Σ followed / Σ instructions), which is the mean
 * of these fractions weighted by each item's number of instructions (lmEvalInstLevel), not their
 * plain mean.
 */
export function ifevalMetrics(v: IfevalVerdicts): Record<(typeof IFEVAL_METRICS)[number], number> {
  const frac = (xs: readonly boolean[]) => xs.filter(Boolean).length / xs.length;
  return {
    prompt_level_strict_acc: v.strict.every(Boolean) ? 1 : 0,
    inst_level_strict_acc: frac(v.strict),
    prompt_level_loose_acc: v.loose.every(Boolean) ? 1 : 0,
    inst_level_loose_acc: frac(v.loose),
  };
}

/**
 * lm-eval's inst_level_strict_acc / inst_level_loose_acc from per-item fractions and instruction
 * counts: Σ (fraction × instructions) / Σ instructions.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * // 1 of 1 followed, 0 of 3: lm-eval says 1/4; the plain mean of fractions would be 1/2.
 * equal(lmEvalInstLevel([{ fraction: 1, instructions: 1 }, { fraction: 0, instructions: 3 }]), 0.25);
 * ```
 */
export function lmEvalInstLevel(
  items: readonly { readonly fraction: number; readonly instructions: number }[],
): number {
  let followed = 0, total = 0;
  for (const it of items) {
    followed += Math.round(it.fraction * it.instructions);
    total += it.instructions;
  }
  return followed / total;
}
