// MMMU prompts and answer scoring as the official MMMU code does them (MMMU-Benchmark/MMMU:
// mmmu/utils/data_utils.py `construct_prompt` with mmmu/configs/llava1.5.yaml, and
// mmmu/utils/eval_utils.py), reproducing the Python string and number semantics they rely on.

import { hashString, rng } from "../lib/rng.ts";

/** One MMMU/MMMU row, the fields the prompt and the scorer read (images are separate fields). */
export interface MmmuDoc {
  /** e.g. "validation_Accounting_1"; seeds the random fallback of multiple-choice parsing. */
  id: string;
  /** May contain `<image N>` placeholders (N = 1..7) naming the row's image_N fields. */
  question: string;
  /** A Python list literal of option strings, e.g. "['$6', '$7']"; "[]" for open questions. */
  options: string;
  /** A letter for multiple choice; for open questions a string, a list, or a list literal. */
  answer: string | readonly string[];
  /** "multiple-choice", or anything else (the dataset says "open") for a free answer. */
  question_type: string;
}

/** The official `all_choices` (letters in order) and `index2ans` (letter → option text). */
export interface MultiChoiceInfo {
  allChoices: string[];
  indexToAns: Record<string, string>;
}

/** The prompt for one item, the images it references and its choice letters. */
export interface MmmuPrompt extends MultiChoiceInfo {
  prompt: string;
  /** "image_1".."image_7", once each, in order of first `<image N>` in the prompt. */
  imageKeys: string[];
}

/** One parsed open answer: strings are lowercased text, numbers are rounded to 2 decimals. */
export type OpenPrediction = string | number;

// ---------------------------------------------------------------------------------------------
// Python string semantics

// Python's str.isspace() set: what str.strip() and str.split() treat as whitespace. JS \s and
// trim() differ (they include U+FEFF but not U+001C..U+001F or U+0085).
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f" +
  "\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, "g");
const PY_SPLIT = new RegExp(`[${PY_WS}]+`);

/** Python `s.strip()`. */
function pyStrip(s: string): string {
  return s.replace(PY_STRIP, "");
}

/** Python `s.strip(ch)` for a single character `ch`. */
function pyStripChar(s: string, ch: string): string {
  let a = 0, b = s.length;
  while (a < b && s[a] === ch) a++;
  while (b > a && s[b - 1] === ch) b--;
  return s.slice(a, b);
}

/** Python `len(s.split())`: the number of whitespace-separated words. */
function pyWordCount(s: string): number {
  return s.split(PY_SPLIT).filter((w) => w.length > 0).length;
}

/** Python `len(s)`: code points, not UTF-16 units. */
function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Python list-literal parsing

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/**
 * Parses the `options` field of an MMMU row, a Python list literal of strings such as
 * `['A cat', "it's", '5']`, as the official `eval(sample['options'])` would (lm-eval uses
 * `ast.literal_eval`). Supports single, double and triple quotes, r/u prefixes, adjacent
 * literals concatenated ('a' 'b'), a trailing comma, comments, and every Python escape except
 * `\N{name}`; an unknown escape keeps its backslash, as Python does.
 *
 * Throws SyntaxError, naming the offset, on anything else: a non-string element, bytes or
 * f-strings, an unterminated string, `\N{...}`, or text after the closing bracket.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseOptions(`['A cat', "it's", '5']`), ["A cat", "it's", "5"]);
 * ```
 */
export function parseOptions(optionsString: string): string[] {
  const src = optionsString;
  let i = 0;
  function fail(msg: string): never {
    throw new SyntaxError(
      `parseOptions: ${msg} at ${i < src.length ? `offset ${i}` : "end of input"} of ` +
        JSON.stringify(src.slice(0, 120)),
    );
  }
  // Inside brackets Python joins lines implicitly, so newlines and comments are whitespace too.
  function skipSpace(): void {
    while (i < src.length) {
      const c = src[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f") i++;
      else if (c === "\\" && (src[i + 1] === "\n" || src[i + 1] === "\r")) i += 2;
      else if (c === "#") {
        while (i < src.length && src[i] !== "\n" && src[i] !== "\r") i++;
      } else break;
    }
  }
  // Returns the prefix length if a string literal starts at i, else -1.
  function literalStart(): number {
    let j = i;
    while (j < src.length && j - i < 2 && /[a-zA-Z]/.test(src[j])) j++;
    if (src[j] !== "'" && src[j] !== '"') return -1;
    const prefix = src.slice(i, j).toLowerCase();
    if (prefix === "" || prefix === "r" || prefix === "u") return j - i;
    if (/^(b|br|rb|f|fr|rf)$/.test(prefix)) fail(`unsupported ${prefix}-prefixed literal`);
    return -1;
  }
  function hex(len: number, what: string): number {
    const digits = src.slice(i, i + len);
    if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) fail(`truncated \\${what} escape`);
    i += len;
    return Number.parseInt(digits, 16);
  }
  function escape(): string {
    // i is just past the backslash.
    const c = src[i];
    if (c === undefined) fail("unterminated string");
    if (c === "\n" || c === "\r") {
      // Backslash-newline continues the line and adds nothing.
      i += c === "\r" && src[i + 1] === "\n" ? 2 : 1;
      return "";
    }
    if (c in SIMPLE_ESCAPES) {
      i++;
      return SIMPLE_ESCAPES[c];
    }
    if (/[0-7]/.test(c)) {
      let j = i;
      while (j < src.length && j - i < 3 && /[0-7]/.test(src[j])) j++;
      const code = Number.parseInt(src.slice(i, j), 8);
      i = j;
      return String.fromCodePoint(code);
    }
    if (c === "x" || c === "u" || c === "U") {
      i++;
      const code = hex(c === "x" ? 2 : c === "u" ? 4 : 8, c);
      if (code > 0x10ffff) fail(`\\${c} escape beyond U+10FFFF`);
      return String.fromCodePoint(code);
    }
    if (c === "N") fail("\\N{name} escapes are not supported");
    return "\\"; // unknown escape: Python keeps the backslash and the character
  }
  function stringLiteral(prefixLen: number): string {
    const raw = src.slice(i, i + prefixLen).toLowerCase() === "r";
    i += prefixLen;
    const q = src[i];
    const triple = src[i + 1] === q && src[i + 2] === q;
    const quote = triple ? q.repeat(3) : q;
    i += quote.length;
    let out = "";
    for (;;) {
      if (i >= src.length) fail("unterminated string");
      if (src.startsWith(quote, i)) {
        i += quote.length;
        return out;
      }
      const c = src[i];
      if (!triple && (c === "\n" || c === "\r")) fail("newline in a single-quoted string");
      if (c === "\\") {
        i++;
        if (raw) {
          // A raw string keeps the backslash, and the next character cannot end the string.
          if (i >= src.length) fail("unterminated string");
          out += "\\" + src[i++];
        } else {
          out += escape();
        }
        continue;
      }
      out += c;
      i++;
    }
  }
  function element(): string {
    let prefix = literalStart();
    if (prefix < 0) fail("expected a string literal");
    let out = "";
    // Adjacent literals concatenate ('a' "b" == 'ab').
    while (prefix >= 0) {
      out += stringLiteral(prefix);
      skipSpace();
      prefix = literalStart();
    }
    return out;
  }

  i = pyStrip(src).length === 0 ? 0 : src.search(new RegExp(`[^${PY_WS}]`));
  if (src[i] !== "[") fail("expected '['");
  i++;
  skipSpace();
  const items: string[] = [];
  if (src[i] === "]") i++;
  else {
    for (;;) {
      items.push(element());
      skipSpace();
      if (src[i] === "]") {
        i++;
        break;
      }
      if (src[i] !== ",") fail("expected ',' or ']'");
      i++;
      skipSpace();
      if (src[i] === "]") {
        i++;
        break;
      }
    }
  }
  if (pyStrip(src.slice(i)).length !== 0) fail("unexpected text after ']'");
  return items;
}

// ---------------------------------------------------------------------------------------------
// Prompt

// mmmu/configs/llava1.5.yaml after YAML folding (a blank line in a double-quoted scalar is one
// newline): "{}\n{}\nAnswer with ..." and "{}\nAnswer the question ...". task_instructions is
// "", so nothing is prepended. (lm-eval's mmmu task reads the YAML as if each blank line were
// kept and so puts "\n\n" between the parts; we follow the official code.)
const MULTI_CHOICE_SUFFIX = "Answer with the option's letter from the given choices directly.";
const SHORT_ANSWER_SUFFIX = "Answer the question using a single word or phrase.";

/**
 * The official MMMU prompt (`construct_prompt` in mmmu/utils/data_utils.py with
 * configs/llava1.5.yaml). Multiple choice:
 * `question + "\n" + "(A) opt1\n(B) opt2\n..." + "\n" + "Answer with the option's letter from
 * the given choices directly."`; open: `question + "\nAnswer the question using a single word or
 * phrase."`. `<image N>` placeholders stay in the text, as in the official code.
 *
 * Also returns `allChoices`/`indexToAns` (empty for open questions) and `imageKeys`: the row's
 * image fields named by `<image N>` placeholders in the prompt (question, then options), each
 * once, in order of first appearance. (The official LLaVA runner feeds only image_1.)
 *
 * Throws SyntaxError when a multiple-choice row's `options` is not a list of strings.
 *
 * @example
 * ```ts
 * import { deepEqual, equal } from "node:assert/strict";
 * const p = mmmuPrompt({
 *   question: "<image 1> Price?",
 *   options: "['$6', '$7']",
 *   question_type: "multiple-choice",
 * });
 * equal(p.prompt.split("\n\n")[0], "<image 1> Price?\n(A) $6\n(B) $7");
 * deepEqual(p.imageKeys, ["image_1"]);
 * ```
 */
export function mmmuPrompt(
  doc: Pick<MmmuDoc, "question" | "options" | "question_type">,
): MmmuPrompt {
  const allChoices: string[] = [];
  const indexToAns: Record<string, string> = {};
  let prompt: string;
  if (doc.question_type === "multiple-choice") {
    let example = "";
    parseOptions(doc.options).forEach((option, k) => {
      const letter = String.fromCharCode("A".charCodeAt(0) + k);
      example += `(${letter}) ${option}\n`;
      allChoices.push(letter);
      indexToAns[letter] = option;
    });
    prompt = `${doc.question}\n${example}\n${MULTI_CHOICE_SUFFIX}`;
  } else {
    prompt = `${doc.question}\n${SHORT_ANSWER_SUFFIX}`;
  }
  const imageKeys: string[] = [];
  for (const m of prompt.matchAll(/<image ([1-7])>/g)) {
    const key = `image_${m[1]}`;
    if (!imageKeys.includes(key)) imageKeys.push(key);
  }
  return { prompt, imageKeys, allChoices, indexToAns };
}

// ---------------------------------------------------------------------------------------------
// Multiple-choice parsing

/** numpy argmax: first index of the maximum. */
function firstArgmax(xs: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < xs.length; k++) if (xs[k] > xs[best]) best = k;
  return best;
}

/**
 * The official `parse_multi_choice_response` (mmmu/utils/eval_utils.py): strip , . ! ? ; : '
 * from both ends (one character kind after another), pad with spaces, then take candidates
 * written "(A)"; else " A "; else, for replies of more than 5 words, options whose text occurs
 * in the reply (case-insensitive). Several candidates: the one occurring LAST wins (first
 * candidate on a tie). No candidate: the official code calls the global `random.choice`, whose
 * state depends on every earlier fallback; here the pick is `rng(opts.seed)` so that an item
 * always gets the same letter (mmmuScore seeds with hashString(doc.id)).
 *
 * Throws RangeError when `choices.allChoices` is empty.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const choices = { allChoices: ["A", "B"], indexToAns: { A: "cat", B: "dog" } };
 * equal(parseMultiChoiceResponse("The answer is (B).", choices, { seed: 1 }), "B");
 * ```
 */
export function parseMultiChoiceResponse(
  response: string,
  choices: MultiChoiceInfo,
  opts: { seed: number },
): string {
  const { allChoices, indexToAns } = choices;
  if (allChoices.length === 0) throw new RangeError("parseMultiChoiceResponse: no choices");
  for (const ch of [",", ".", "!", "?", ";", ":", "'"]) response = pyStripChar(response, ch);
  response = " " + response + " "; // so that " A " cannot match inside a word

  let indexAns = true;
  let withBrackets = false;
  const candidates: string[] = [];
  for (const c of allChoices) {
    if (response.includes(`(${c})`)) {
      candidates.push(c);
      withBrackets = true;
    }
  }
  if (candidates.length === 0) {
    for (const c of allChoices) if (response.includes(` ${c} `)) candidates.push(c);
  }
  if (candidates.length === 0 && pyWordCount(response) > 5) {
    const lower = response.toLowerCase();
    for (const [index, ans] of Object.entries(indexToAns)) {
      if (lower.includes(ans.toLowerCase())) {
        candidates.push(index);
        indexAns = false; // matched the option text, not the letter
      }
    }
  }

  if (candidates.length === 0) return allChoices[rng(opts.seed).int(allChoices.length)];
  if (candidates.length === 1) return candidates[0];
  const lower = response.toLowerCase();
  const starts = candidates.map((c) =>
    !indexAns
      ? lower.lastIndexOf(indexToAns[c].toLowerCase())
      : withBrackets
      ? response.lastIndexOf(`(${c})`)
      : response.lastIndexOf(` ${c} `)
  );
  return candidates[firstArgmax(starts)];
}

// ---------------------------------------------------------------------------------------------
// Open-answer parsing

// Python's `\d` and `\b` in a str pattern are Unicode-aware: \d is any decimal digit (Nd) and
// \w is roughly letters, numbers and "_".
const D = "\\p{Nd}";
const W = "[\\p{L}\\p{N}_]";
const B = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
const NUMBER_COMMAS = new RegExp(`-?${B}${D}{1,3}(?:,${D}{3})+${B}`, "gu");
const NUMBER_SCIENTIFIC = new RegExp(`-?${D}+(?:\\.${D}+)?[eE][+-]?${D}+`, "gu");
const NUMBER_SIMPLE = new RegExp(
  `-?(?:${D}+\\.${D}+|\\.${D}+|${D}+${B})(?![eE][+-]?${D}+)(?![,${D}])`,
  "gu",
);
const IS_DIGIT = /^\p{Nd}$/u;
const PY_FLOAT = new RegExp(
  `^[+-]?(?:inf|infinity|nan|(?:${D}(?:_?${D})*(?:\\.(?:${D}(?:_?${D})*)?)?|\\.${D}(?:_?${D})*)` +
    `(?:[eE][+-]?${D}(?:_?${D})*)?)$`,
  "iu",
);

/** The official `extract_numbers`: comma-grouped, then scientific, then plain numbers. */
function extractNumbers(s: string): string[] {
  return [
    ...[...s.matchAll(NUMBER_COMMAS)].map((m) => m[0]),
    ...[...s.matchAll(NUMBER_SCIENTIFIC)].map((m) => m[0]),
    ...[...s.matchAll(NUMBER_SIMPLE)].map((m) => m[0]),
  ];
}

/** ASCII value of a Unicode decimal digit: Nd digits come in contiguous runs of 0..9. */
function digitValue(ch: string): string {
  let cp = ch.codePointAt(0)!;
  if (cp < 0x80) return ch;
  const start = cp;
  while (IS_DIGIT.test(String.fromCodePoint(cp - 1))) cp--;
  return String((start - cp) % 10);
}

/** Python `float(s)`, or undefined where Python raises ValueError. */
function pyFloat(s: string): number | undefined {
  const t = pyStrip(s);
  if (!PY_FLOAT.test(t)) return undefined;
  const lower = t.toLowerCase();
  const sign = lower.startsWith("-") ? -1 : 1;
  const body = lower.replace(/^[+-]/, "");
  if (body === "inf" || body === "infinity") return sign * Infinity;
  if (body === "nan") return NaN;
  const ascii = [...body].filter((c) => c !== "_").map((c) => IS_DIGIT.test(c) ? digitValue(c) : c)
    .join("");
  return sign * Number(ascii); // correctly rounded, as Python's float()
}

/**
 * Python `round(x, 2)`: the double nearest to x rounded to 2 decimals, halves to even on x's
 * exact binary value (round(2.675, 2) = 2.67 because 2.675 is stored below it).
 */
function pyRound2(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  // An exact half at the 3rd decimal needs x = odd/200 exactly, which as a binary fraction means
  // x·8 is an odd integer; toFixed would round that away from zero, Python to even.
  const x8 = x * 8;
  if (Number.isInteger(x8) && Math.abs(x8 % 2) === 1) {
    const lo = Math.floor(x * 100); // exact: x·100 = odd·12.5
    return (lo % 2 === 0 ? lo : lo + 1) / 100;
  }
  return Number(x.toFixed(2)); // toFixed picks the n/100 nearest to x's exact value
}

/**
 * The official `normalize_str`: a string that Python's `float()` accepts after removing commas
 * becomes [round(value, 2)]; any other string is lowercased, and a single character c becomes
 * [" c", "c "] so that it cannot match inside a word.
 */
function normalizeStr(s: string): OpenPrediction[] {
  s = pyStrip(s);
  const value = pyFloat(s.replaceAll(",", ""));
  if (value !== undefined) return [pyRound2(value)];
  s = s.toLowerCase();
  if (pyLen(s) === 1) return [" " + s, s + " "];
  return [s];
}

const KEY_INDICATORS = [
  "could be ",
  "so ",
  "is ",
  "thus ",
  "therefore ",
  "final ",
  "answer ",
  "result ",
];
const TRIVIAL = [":", ",", ".", "!", "?", ";", "'"];

/** The official `get_key_subresponses`: the shortest tail after an indicator, per line. */
function keySubresponses(response: string): string[] {
  response = pyStripChar(pyStrip(response), ".").toLowerCase();
  // The official split runs after lowercasing, so its "\.\s(?=[A-Z])" branch never fires on
  // ASCII text; kept as written.
  const subs = response.split(new RegExp(`\\.[${PY_WS}](?=[A-Z])|\\n`));
  const keys: string[] = [];
  subs.forEach((resp, index) => {
    // The last sentence may be a bare equation, so "=" also counts there.
    const indicators = index === subs.length - 1 ? [...KEY_INDICATORS, "="] : KEY_INDICATORS;
    let shortest: string | null = null;
    for (const indicator of indicators) {
      if (!resp.includes(indicator)) continue;
      const tail = pyStrip(resp.split(indicator).at(-1)!);
      // Python's `if not shortest`: an empty tail is replaced by the next indicator's tail.
      if (!shortest || pyLen(tail) < pyLen(shortest)) shortest = tail;
    }
    if (shortest && !TRIVIAL.includes(pyStrip(shortest))) keys.push(shortest);
  });
  return keys.length === 0 ? [response] : keys;
}

/**
 * The official `parse_open_response` (mmmu/utils/eval_utils.py): lowercase the reply, keep per
 * line the shortest text after "could be ", "so ", "is ", "thus ", "therefore ", "final ",
 * "answer ", "result " (and "=" on the last line), or the whole reply if none occurs; add every
 * number found in those texts; normalise each (numbers → round(x, 2), text → lowercase) and
 * drop duplicates. Order is first occurrence (the official `set` has no order; only membership
 * matters to `evalOpen`).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * // "1,250" and "250.456" are the numbers found (the comma pattern stops at the ".").
 * const preds = parseOpenResponse("The total is 1,250.456 dollars.");
 * deepEqual(preds, ["1,250.456 dollars", 1250, 250.46]);
 * ```
 */
export function parseOpenResponse(response: string): OpenPrediction[] {
  const keys = keySubresponses(response);
  const preds = [...keys];
  for (const k of keys) preds.push(...extractNumbers(k));
  // Deduplicate by ===, as Python's set by ==: 0 and -0 are one value (the first kept; a JS Set
  // would turn -0 into 0), NaN is never a duplicate.
  const out: OpenPrediction[] = [];
  for (const v of preds.flatMap(normalizeStr)) if (!out.some((o) => o === v)) out.push(v);
  return out;
}

/**
 * The official `eval_open` (mmmu/utils/eval_utils.py): the gold answer(s) are normalised like
 * predictions; correct if some string prediction CONTAINS a string gold, or some numeric
 * prediction EQUALS a numeric gold (after rounding to 2 decimals; NaN never matches).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(evalOpen("250.46", parseOpenResponse("The total is 1,250.456 dollars.")), true);
 * ```
 */
export function evalOpen(
  gold: string | readonly string[],
  pred: readonly OpenPrediction[],
): boolean {
  const norm = (typeof gold === "string" ? [gold] : gold).flatMap(normalizeStr);
  return pred.some((p) =>
    typeof p === "string"
      ? norm.some((g) => typeof g === "string" && p.includes(g))
      : norm.some((g) => g === p)
  );
}

/**
 * The gold answer as the official answer file holds it: the dataset stores list answers of open
 * questions as a Python list literal string ("['24/7', '3.429']"), the official answer file as
 * a list, so a string that parses as a list of strings becomes that list.
 */
function goldAnswer(answer: string | readonly string[]): string | readonly string[] {
  if (typeof answer !== "string" || !pyStrip(answer).startsWith("[")) return answer;
  try {
    return parseOptions(answer);
  } catch {
    return answer;
  }
}

/**
 * Scores one MMMU reply, 1 if correct else 0, as the official `evaluate`
 * (mmmu/utils/eval_utils.py) after `parse_multi_choice_response` / `parse_open_response`.
 * Multiple choice: the parsed letter must equal the gold letter (or one of a gold list); the
 * random fallback for an unparseable reply is seeded by hashString(doc.id), so a given reply to
 * a given item always scores the same. Open: `evalOpen` on `parseOpenResponse(response)`.
 *
 * Throws SyntaxError when a multiple-choice row's `options` is malformed, RangeError when it
 * has no options.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const doc = {
 *   id: "validation_Art_1",
 *   question: "Which colour is the sky?",
 *   options: "['red', 'blue']",
 *   answer: "B",
 *   question_type: "multiple-choice",
 * };
 * equal(mmmuScore(doc, "(B) blue"), 1);
 * ```
 */
export function mmmuScore(doc: MmmuDoc, response: string): 0 | 1 {
  const gold = goldAnswer(doc.answer);
  if (doc.question_type === "multiple-choice") {
    const pred = parseMultiChoiceResponse(response, mmmuPrompt(doc), {
      seed: hashString(doc.id),
    });
    const golds = typeof gold === "string" ? [gold] : gold;
    return golds.includes(pred) ? 1 : 0;
  }
  return evalOpen(gold, parseOpenResponse(response)) ? 1 : 0;
}
