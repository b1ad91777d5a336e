// Python semantics IFEval's checkers (evals/ifeval.ts) depend on, where JS differs: str.strip,
// split, isupper and islower with Python's whitespace and case rules; Python `re` patterns
// translated to JS (checkers build patterns from the dataset's keywords, section splitters and
// postscript markers, and their own patterns rely on Python's `.`, `$`, `\w` and `\b`); and
// json.loads's grammar. nltk's tokenizers are in evals/ifeval_nltk.ts.

// ── Python's character classes ──────────────────────────────────────────────────────────────

/** Python's str whitespace (str.isspace, `\s` of a str pattern), as a JS class body. */
export const PY_WHITESPACE =
  "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/**
 * Python's `\w` for str patterns (str.isalnum() or "_"), as a JS class body: letters and numbers.
 * (Python also counts the few symbols with a numeric value, such as ㈠, as `\w`; JS does not.)
 */
export const PY_WORD = "\\p{L}\\p{N}_";
const IS_WS = new RegExp(`^[${PY_WHITESPACE}]$`, "u");
const BOUNDARY = `(?:(?<=[${PY_WORD}])(?![${PY_WORD}])|(?<![${PY_WORD}])(?=[${PY_WORD}]))`;
const NON_BOUNDARY = `(?:(?<=[${PY_WORD}])(?=[${PY_WORD}])|(?<![${PY_WORD}])(?![${PY_WORD}]))`;

/** Python's str.strip(chars): both ends, whitespace by default. */
export function pyStrip(s: string, chars?: string): string {
  return pyRstrip(pyLstrip(s, chars), chars);
}

/** Python's str.lstrip(chars). */
export function pyLstrip(s: string, chars?: string): string {
  const cps = Array.from(s);
  let i = 0;
  while (i < cps.length && stripped(cps[i], chars)) i++;
  return cps.slice(i).join("");
}

/** Python's str.rstrip(chars). */
export function pyRstrip(s: string, chars?: string): string {
  const cps = Array.from(s);
  let j = cps.length;
  while (j > 0 && stripped(cps[j - 1], chars)) j--;
  return cps.slice(0, j).join("");
}

function stripped(cp: string, chars: string | undefined): boolean {
  return chars === undefined ? IS_WS.test(cp) : chars.includes(cp);
}

/** Python's str.split() with no separator: runs of whitespace split, empty pieces dropped. */
export function pySplit(s: string): string[] {
  return s.split(new RegExp(`[${PY_WHITESPACE}]+`, "u")).filter((w) => w !== "");
}

/** Python's str.isupper(): some uppercase character and no lowercase or titlecase one. */
export function pyIsUpper(s: string): boolean {
  return !/[\p{Lowercase}\p{Lt}]/u.test(s) && /\p{Uppercase}/u.test(s);
}

/** Python's str.islower(): some lowercase character and no uppercase or titlecase one. */
export function pyIsLower(s: string): boolean {
  return !/[\p{Uppercase}\p{Lt}]/u.test(s) && /\p{Lowercase}/u.test(s);
}

// ── Python `re` patterns in JS ──────────────────────────────────────────────────────────────

/** Options of pyRegex: Python's re.IGNORECASE and re.MULTILINE. */
export interface PyRegexOptions {
  readonly ignoreCase?: boolean;
  readonly multiline?: boolean;
}

const JS_SYNTAX = "^$\\.*+?()[]{}|/";

/**
 * A Python `re` pattern (str, Unicode) as a global JS RegExp with the same matches: `\w`, `\b`,
 * `\d`, `\s` are Unicode-aware as Python's are, `.` stops only at "\n", `^`/`$` follow Python's
 * rules with and without MULTILINE (`$` also before a final "\n"), `(?P<name>…)`, `(?P=name)`,
 * `(?#…)`, a leading `(?i)`, `\A`, `\Z` and Python's literal braces and escapes are translated.
 * What has no JS equivalent here (other inline flags, `\N{…}`, `\W`/`\S`/`\D` inside a class,
 * octal escapes) is a SyntaxError, never a silent difference.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(pyRegex(String.raw`\bcafé\b`, { ignoreCase: true }).test("Un CAFÉ noir"), true);
 * ```
 */
export function pyRegex(pattern: string, opts: PyRegexOptions = {}): RegExp {
  const cps = Array.from(pattern);
  const fail = (why: string): never => {
    throw new SyntaxError(`Python pattern ${JSON.stringify(pattern)}: ${why}`);
  };
  let ignoreCase = opts.ignoreCase ?? false;
  let out = "";
  let i = 0;
  while (i < cps.length) {
    const c = cps[i];
    if (c === "\\") {
      out += translateEscape(cps, i + 1, false, fail);
      i += escapeLength(cps, i + 1);
    } else if (c === "[") {
      const r = translateClass(cps, i, fail);
      out += r.text;
      i = r.end;
    } else if (c === "(" && cps[i + 1] === "?") {
      const rest = cps.slice(i).join("");
      let m: RegExpMatchArray | null;
      if ((m = rest.match(/^\(\?P<(\w+)>/))) out += `(?<${m[1]}>`;
      else if ((m = rest.match(/^\(\?P=(\w+)\)/))) out += `\\k<${m[1]}>`;
      else if ((m = rest.match(/^\(\?#[^)]*\)/))) out += "";
      else if ((m = rest.match(/^\(\?([aiLmsux]+)\)/))) {
        if (i !== 0 || m[1] !== "i") fail(`inline flags (?${m[1]}) are not supported`);
        ignoreCase = true;
      } else if ((m = rest.match(/^\(\?(?::|=|!|<=|<!)/))) out += m[0];
      else m = fail(`group ${rest.slice(0, 4)}… is not supported`);
      i += Array.from(m![0]).length;
    } else if (c === "{") {
      const m = cps.slice(i).join("").match(/^\{(\d*)(,?)(\d*)\}/);
      if (m && (m[1] !== "" || m[2] !== "")) {
        out += `{${m[1] || "0"}${m[2]}${m[3]}}`;
        i += m[0].length;
      } else {
        out += "\\{";
        i++;
      }
    } else {
      if (c === ".") out += "[^\\n]";
      else if (c === "^") out += opts.multiline ? "(?<![^\\n])" : "^";
      else if (c === "$") out += opts.multiline ? "(?=\\n|$)" : "(?=\\n?$)";
      else if (c === "}" || c === "]") out += `\\${c}`;
      else out += c;
      i++;
    }
  }
  return new RegExp(out, ignoreCase ? "giu" : "gu");
}

/** How many code points the escape starting after the backslash at `at` takes, with it. */
function escapeLength(cps: readonly string[], at: number): number {
  const n = cps[at];
  if (n === "x") return 4;
  if (n === "u") return 6;
  if (n === "U") return 10;
  if (n !== undefined && /[1-9]/.test(n) && /[0-9]/.test(cps[at + 1] ?? "")) return 3;
  return 2;
}

/** The JS text of the Python escape whose letter is at `at` (inside a class or not). */
function translateEscape(
  cps: readonly string[],
  at: number,
  inClass: boolean,
  fail: (why: string) => never,
): string {
  const n = cps[at];
  if (n === undefined) return fail("a trailing backslash");
  const body = (s: string) => (inClass ? s : `[${s}]`);
  switch (n) {
    case "w":
      return body(PY_WORD);
    case "s":
      return body(PY_WHITESPACE);
    case "d":
      return "\\p{Nd}";
    case "W":
    case "S":
    case "D":
      if (inClass) fail(`\\${n} inside a character class is not supported`);
      return n === "W" ? `[^${PY_WORD}]` : n === "S" ? `[^${PY_WHITESPACE}]` : "\\P{Nd}";
    case "b":
      return inClass ? "\\x08" : BOUNDARY;
    case "B":
      return inClass ? fail("\\B inside a class") : NON_BOUNDARY;
    case "A":
      return inClass ? fail("\\A inside a class") : "^";
    case "Z":
      return inClass ? fail("\\Z inside a class") : "$";
    case "n":
    case "t":
    case "r":
    case "f":
    case "v":
      return `\\${n}`;
    case "a":
      return "\\x07";
    case "x":
    case "u": {
      const hex = cps.slice(at + 1, at + (n === "x" ? 3 : 5)).join("");
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== (n === "x" ? 2 : 4)) {
        fail(`a bad \\${n} escape`);
      }
      return `\\${n}${hex}`;
    }
    case "U": {
      const hex = cps.slice(at + 1, at + 9).join("");
      if (!/^[0-9a-fA-F]{8}$/.test(hex)) fail("a bad \\U escape");
      return `\\u{${hex.replace(/^0+(?=.)/, "")}}`;
    }
  }
  if (/[1-9]/.test(n) && !inClass) {
    const two = /[0-9]/.test(cps[at + 1] ?? "") ? n + cps[at + 1] : n;
    return `\\${two}`;
  }
  if (/[0-9A-Za-z]/.test(n)) return fail(`the escape \\${n} is not supported`);
  if (inClass) return "\\]^-[".includes(n) ? `\\${n}` : n;
  return JS_SYNTAX.includes(n) ? `\\${n}` : n;
}

/** Translates the class opening at `start`; returns its JS text and where it ends. */
function translateClass(
  cps: readonly string[],
  start: number,
  fail: (why: string) => never,
): { text: string; end: number } {
  let i = start + 1;
  let text = "[";
  if (cps[i] === "^") text += "^", i++;
  if (cps[i] === "]") text += "\\]", i++; // Python: a "]" first is a literal
  while (i < cps.length && cps[i] !== "]") {
    const c = cps[i];
    if (c === "\\") {
      text += translateEscape(cps, i + 1, true, fail);
      i += escapeLength(cps, i + 1);
    } else {
      text += c === "[" ? "\\[" : c;
      i++;
    }
  }
  if (i >= cps.length) fail("an unterminated character set");
  return { text: text + "]", end: i + 1 };
}

/** Python's re.search: whether `re` (from pyRegex) matches anywhere in `s`. */
export function pySearch(re: RegExp, s: string): boolean {
  return s.search(re) !== -1;
}

/** len(re.findall(pattern, s)): the number of non-overlapping matches. */
export function pyCount(re: RegExp, s: string): number {
  let n = 0;
  for (const _ of s.matchAll(re)) n++;
  return n;
}

/** re.findall(pattern, s) of a pattern without groups: the matched texts. */
export function pyFindAll(re: RegExp, s: string): string[] {
  return [...s.matchAll(re)].map((m) => m[0]);
}

/**
 * Whether Python's json.loads accepts `text`: JSON, plus the NaN, Infinity and -Infinity that
 * Python's decoder also takes as values.
 */
export function isPythonJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    // Python's constants, outside strings, as a plain value (spaced so that "1NaN" stays invalid).
    let out = "", inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        out += c;
        if (c === "\\") out += text[++i] ?? "";
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      const m = /^(?:-Infinity|Infinity|NaN)/.exec(text.slice(i, i + 9));
      if (m) {
        out += " 0 ";
        i += m[0].length - 1;
      } else out += c;
    }
    try {
      JSON.parse(out);
      return true;
    } catch {
      return false;
    }
  }
}
