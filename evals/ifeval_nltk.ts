// nltk's tokenizers as IFEval's instructions_util.py calls them, ported to JS: count_words
// (RegexpTokenizer(r"\w+")), count_sentences (the Punkt sentence tokenizer: the algorithm of nltk
// 3.8–3.9 line for line, its trained English parameters approximated, see PUNKT_ABBREVIATIONS)
// and word_tokenize (NLTKWordTokenizer's Treebank rules over Punkt sentences). Every index is a
// UTF-16 index; the ported logic only compares indices of one string, so it behaves as Python's
// code-point indices do.

import {
  PY_WHITESPACE,
  PY_WORD,
  pyCount,
  pyIsLower,
  pyIsUpper,
  pyRegex,
  pyRstrip,
  pySplit,
  pyStrip,
} from "./ifeval_text.ts";
// ── Words ───────────────────────────────────────────────────────────────────────────────────

const WORD_RUN = new RegExp(`[${PY_WORD}]+`, "gu");

/**
 * instructions_util.count_words: the number of `\w+` runs (nltk RegexpTokenizer(r"\w+")). As in
 * Python, combining marks are not `\w`, so a word in Devanagari or Thai may count as several.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(countWords("Don't stop-me now, 2 times!"), 7);
 * ```
 */
export function countWords(text: string): number {
  return pyCount(WORD_RUN, text);
}

// ── Punkt (nltk.tokenize.punkt, the algorithm of nltk 3.8–3.9) ──────────────────────────────

/**
 * The abbreviations this Punkt knows (a period after one is not a sentence break unless the next
 * word starts a sentence). nltk's English model learned a longer list from news text; these are
 * common abbreviations it is known to hold, so a period after a rarer abbreviation ends a
 * sentence here and may not in nltk.
 */
// deno-fmt-ignore
export const PUNKT_ABBREVIATIONS: ReadonlySet<string> = new Set([
  "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "u.s",
  "u.k", "e.g", "i.e", "a.m", "p.m", "jan", "feb", "aug", "sept", "oct", "nov", "dec", "gov",
  "gen", "sen", "rep", "lt", "col", "mt", "ft",
]);

/**
 * Words this Punkt treats as seen lower-case inside sentences and capitalised at their start (the
 * model's orthographic context for common words): capitalised after an abbreviation or an
 * ellipsis they start a sentence. Every other word has no orthographic context here (nltk's model
 * knows tens of thousands), so a capitalised one after an abbreviation does not.
 */
// deno-fmt-ignore
export const PUNKT_COMMON_WORDS: ReadonlySet<string> = new Set([
  "a", "about", "after", "all", "also", "an", "and", "another", "any", "are", "as", "at", "be",
  "because", "before", "both", "but", "by", "can", "do", "each", "even", "every", "finally",
  "first", "for", "from", "he", "her", "here", "his", "how", "however", "i", "if", "in", "it",
  "its", "just", "last", "let", "many", "may", "more", "most", "my", "next", "no", "not", "now",
  "of", "on", "once", "one", "or", "our", "she", "since", "so", "some", "still", "such", "that",
  "the", "their", "then", "there", "these", "they", "this", "those", "to", "today", "two", "we",
  "what", "when", "where", "which", "while", "who", "why", "with", "yes", "yet", "you", "your",
]);

const ORTHO_BEG_UC = 1 << 1, ORTHO_MID_UC = 1 << 2, ORTHO_BEG_LC = 1 << 4;
const ORTHO_UC = ORTHO_BEG_UC + ORTHO_MID_UC + (1 << 3);
const ORTHO_LC = ORTHO_BEG_LC + (1 << 5) + (1 << 6);
const COMMON_CONTEXT = ORTHO_BEG_UC | (1 << 5);
const PUNCTUATION = [";", ":", ",", ".", "!", "?"];
const SENT_END = [".", "?", "!"];

const NON_WORD = `[)";}\\]*:@'({\\[?!]`;
const MULTI_CHAR = `(?:-{2,}|\\.{2,}|(?:\\.[${PY_WHITESPACE}]){2,}\\.)`;
const WORD_START = `[^("\`{\\[:;&#*@)}\\]\\-,]`;
const PUNKT_WORD = new RegExp(
  `${MULTI_CHAR}|(?=${WORD_START})[^${PY_WHITESPACE}]+?(?=[${PY_WHITESPACE}]|$|${NON_WORD}|${MULTI_CHAR}|,(?=$|[${PY_WHITESPACE}]|${NON_WORD}|${MULTI_CHAR}))|[^${PY_WHITESPACE}]`,
  "gu",
);
const PERIOD_CONTEXT = new RegExp(
  `[.?!](?=(?<after>${NON_WORD}|[${PY_WHITESPACE}]+(?<next>[^${PY_WHITESPACE}]+)))`,
  "dgu",
);
const NUMERIC = /^-?[.,]?\p{Nd}[\p{Nd},.\-]*\.?$/u;
const INITIAL = /^[\p{L}\p{Nl}\p{No}_]\.$/u;
const REALIGN = new RegExp(`^["')\\]}]+?(?:[${PY_WHITESPACE}]+|(?=--)|(?=\\n|$))`, "u");

/** A Punkt token and its annotations. */
class PunktToken {
  readonly type: string;
  readonly periodFinal: boolean;
  sentbreak = false;
  abbr = false;
  ellipsis = false;

  constructor(readonly tok: string) {
    const lower = tok.toLowerCase();
    this.type = NUMERIC.test(lower) ? "##number##" : lower;
    this.periodFinal = tok.endsWith(".");
  }

  get typeNoPeriod(): string {
    return this.type.length > 1 && this.type.endsWith(".") ? this.type.slice(0, -1) : this.type;
  }

  get typeNoSentperiod(): string {
    return this.sentbreak ? this.typeNoPeriod : this.type;
  }

  get firstUpper(): boolean {
    return pyIsUpper(String.fromCodePoint(this.tok.codePointAt(0)!));
  }

  get firstLower(): boolean {
    return pyIsLower(String.fromCodePoint(this.tok.codePointAt(0)!));
  }
}

function orthoContext(type: string): number {
  return PUNKT_COMMON_WORDS.has(type) ? COMMON_CONTEXT : 0;
}

/** PunktLanguageVars.word_tokenize over the non-blank lines of `text` (_tokenize_words). */
function punktWords(text: string): PunktToken[] {
  const out: PunktToken[] = [];
  for (const line of text.split("\n")) {
    if (pyStrip(line) === "") continue;
    for (const m of line.matchAll(PUNKT_WORD)) out.push(new PunktToken(m[0]));
  }
  return out;
}

function firstPass(t: PunktToken): void {
  const tok = t.tok;
  if (SENT_END.includes(tok)) t.sentbreak = true;
  else if (/^\.\.+$/.test(tok)) t.ellipsis = true;
  else if (t.periodFinal && !tok.endsWith("..")) {
    const word = tok.slice(0, -1).toLowerCase();
    if (PUNKT_ABBREVIATIONS.has(word) || PUNKT_ABBREVIATIONS.has(word.split("-").at(-1)!)) {
      t.abbr = true;
    } else t.sentbreak = true;
  }
}

/** PunktSentenceTokenizer._ortho_heuristic: true, false or "unknown". */
function orthoHeuristic(t: PunktToken): boolean | "unknown" {
  if (PUNCTUATION.includes(t.tok)) return false;
  const ctx = orthoContext(t.typeNoSentperiod);
  if (t.firstUpper && (ctx & ORTHO_LC) && !(ctx & ORTHO_MID_UC)) return true;
  if (t.firstLower && ((ctx & ORTHO_UC) || !(ctx & ORTHO_BEG_LC))) return false;
  return "unknown";
}

/** PunktSentenceTokenizer._second_pass_annotation (no collocations or sentence starters). */
function secondPass(t1: PunktToken, t2: PunktToken | undefined): void {
  if (!t2 || !t1.periodFinal) return;
  const typ = t1.typeNoPeriod;
  const initial = INITIAL.test(t1.tok);
  if ((t1.abbr || t1.ellipsis) && !initial) {
    if (orthoHeuristic(t2) === true) {
      t1.sentbreak = true;
      return;
    }
  }
  if (initial || typ === "##number##") {
    const starter = orthoHeuristic(t2);
    if (starter === false) {
      t1.sentbreak = false;
      t1.abbr = true;
      return;
    }
    if (
      starter === "unknown" && initial && t2.firstUpper &&
      !(orthoContext(t2.typeNoSentperiod) & ORTHO_LC)
    ) {
      t1.sentbreak = false;
      t1.abbr = true;
    }
  }
}

/** PunktSentenceTokenizer.text_contains_sentbreak: a break followed by another token. */
function containsSentbreak(text: string): boolean {
  const toks = punktWords(text);
  toks.forEach(firstPass);
  let found = false;
  for (let i = 0; i < toks.length; i++) {
    secondPass(toks[i], toks[i + 1]);
    if (found) return true;
    if (toks[i].sentbreak) found = true;
  }
  return false;
}

/** string.whitespace's last index in `text`, 0 when none (nltk's _get_last_whitespace_index). */
function lastAsciiSpace(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (" \t\n\r\v\f".includes(text[i])) return i;
  return 0;
}

/** _slices_from_text: [start, end) of each candidate sentence, before realignment. */
function punktSlices(text: string): [number, number][] {
  const contexts: { m: RegExpExecArray; context: string }[] = [];
  let prev: [number, number] = [0, 0];
  let prevMatch: RegExpExecArray | undefined;
  const emit = (m: RegExpExecArray, s: [number, number]) =>
    contexts.push({ m, context: text.slice(s[0], s[1]) + m[0] + m.groups!.after });
  for (const m of text.matchAll(PERIOD_CONTEXT)) {
    const before = text.slice(prev[1], m.index);
    let start = lastAsciiSpace(before);
    start = start ? start + prev[1] + 1 : prev[0];
    const slice: [number, number] = [start, m.index];
    if (prevMatch && prev[1] <= slice[0]) emit(prevMatch, prev);
    prevMatch = m as RegExpExecArray;
    prev = slice;
  }
  if (prevMatch) emit(prevMatch, prev);
  const out: [number, number][] = [];
  let last = 0;
  for (const { m, context } of contexts) {
    if (!containsSentbreak(context)) continue;
    out.push([last, m.index + 1]);
    last = m.groups!.next !== undefined ? m.indices!.groups!.next![0] : m.index + 1;
  }
  out.push([last, pyRstrip(text).length]);
  return out;
}

/**
 * nltk's Punkt sentence tokenizer (`tokenize(text)`, boundaries realigned) with this module's
 * parameters (PUNKT_ABBREVIATIONS, PUNKT_COMMON_WORDS; no collocations or sentence starters):
 * "." "?" "!" end a sentence where the following text starts a new token, except after a known
 * abbreviation, an initial or a number followed by a lower-case word; newlines alone never do.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(punktSentences("Mr. Smith came. He left!\nBye"), ["Mr. Smith came.", "He left!\nBye"]);
 * ```
 */
export function punktSentences(text: string): string[] {
  const slices = punktSlices(text);
  const out: string[] = [];
  let realign = 0;
  for (let i = 0; i < slices.length; i++) {
    const s1: [number, number] = [slices[i][0] + realign, slices[i][1]];
    const s2 = slices[i + 1];
    if (!s2) {
      if (s1[0] < s1[1]) out.push(text.slice(s1[0], s1[1]));
      continue;
    }
    const m = text.slice(s2[0], s2[1]).match(REALIGN);
    if (m) {
      out.push(text.slice(s1[0], s2[0] + pyRstrip(m[0]).length));
      realign = m[0].length;
    } else {
      realign = 0;
      if (s1[0] < s1[1]) out.push(text.slice(s1[0], s1[1]));
    }
  }
  return out;
}

/** instructions_util.count_sentences: the number of Punkt sentences. */
export function countSentences(text: string): number {
  return punktSentences(text).length;
}

// ── nltk.word_tokenize ──────────────────────────────────────────────────────────────────────

type Rule = readonly [RegExp, string];
const py = (p: string, ignoreCase = false) => pyRegex(p, { ignoreCase });

const STARTING_QUOTES: readonly Rule[] = [
  [py("([«“‘„]|[`]+)"), " $1 "],
  [py('^\\"'), "``"],
  [py("(``)"), " $1 "],
  [py(`([ \\(\\[{<])(\\"|\\'{2})`), "$1 `` "],
  [py("(\\')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", true), "$1 $2"],
];
const ENDING_QUOTES: readonly Rule[] = [
  [py("([»”’])"), " $1 "],
  [py("''"), " '' "],
  [py('"'), " '' "],
  [py("([^' ])('[sS]|'[mM]|'[dD]|') "), "$1 $2 "],
  [py("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), "$1 $2 "],
];
const PUNCTUATION_RULES: readonly Rule[] = [
  [py(`([^\\.])(\\.)([\\]\\)}>"\\'»”’ ]*)\\s*$`), "$1 $2 $3 "],
  [py("([:,])([^\\d])"), " $1 $2"],
  [py("([:,])$"), " $1 "],
  [py("\\.{2,}"), " $& "],
  [py("[;@#$%&]"), " $& "],
  [py(`([^\\.])(\\.)([\\]\\)}>"\\']*)\\s*$`), "$1 $2$3 "],
  [py("[?!]"), " $& "],
  [py("([^'])' "), "$1 ' "],
  [py("[*]"), " $& "],
  [py("[\\]\\[\\(\\)\\{\\}\\<\\>]"), " $& "],
  [py("--"), " -- "],
];
const CONTRACTIONS: readonly Rule[] = [
  "\\b(can)(not)\\b",
  "\\b(d)('ye)\\b",
  "\\b(gim)(me)\\b",
  "\\b(gon)(na)\\b",
  "\\b(got)(ta)\\b",
  "\\b(lem)(me)\\b",
  "\\b(more)('n)\\b",
  "\\b(wan)(na)(?=\\s)",
  " ('t)(is)\\b",
  " ('t)(was)\\b",
].map((p) => [py(p, true), " $1 $2 "] as const);

/** NLTKWordTokenizer.tokenize (the Treebank rules nltk's word_tokenize applies per sentence). */
export function treebankWords(sentence: string): string[] {
  let text = sentence;
  for (const [re, to] of [...STARTING_QUOTES, ...PUNCTUATION_RULES]) text = text.replace(re, to);
  text = ` ${text} `;
  for (const [re, to] of [...ENDING_QUOTES, ...CONTRACTIONS]) text = text.replace(re, to);
  return pySplit(text);
}

/**
 * nltk.word_tokenize(text): Treebank tokens of each Punkt sentence, as capital_word_frequency
 * counts them ("DON'T" is "DO" and "N'T"; a sentence's final period is its own token).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(wordTokenize("I DON'T know."), ["I", "DO", "N'T", "know", "."]);
 * ```
 */
export function wordTokenize(text: string): string[] {
  return punktSentences(text).flatMap(treebankWords);
}
