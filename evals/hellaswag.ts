// HellaSwag documents turned into the log-likelihood requests lm-evaluation-harness sends
// (lm_eval/tasks/hellaswag: utils.py `preprocess`/`process_docs`, hellaswag.yaml), with the
// Python string semantics (str.strip, str.capitalize, re `.`) those functions rely on.

import { mcContinuations, type McRequest } from "./multiple_choice.ts";

/** One row of the Rowan/hellaswag dataset, the fields lm-eval reads. */
export interface HellaswagDoc {
  activity_label: string;
  ctx_a: string;
  ctx_b: string;
  endings: readonly string[];
  /** "0".."3" in the dataset (a string); "" in the unlabelled test split. */
  label: string | number;
}

/** lm-eval's processed document: `query` is the context, `choices` the endings. */
export interface HellaswagItem {
  query: string;
  choices: string[];
  gold: number;
}

// Python's str.isspace() set (what str.strip() removes); JS trim() differs (it strips U+FEFF
// but not U+001C..U+001F or U+0085).
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f" +
  "\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, "g");

/**
 * lm-eval's HellaSwag `preprocess` (lm_eval/tasks/hellaswag/utils.py): strip whitespace,
 * " [title]" → ". ", delete every non-greedy `[...]` (WikiHow artefacts), then replace each
 * double space with one space (a single left-to-right pass, so four spaces become two).
 *
 * Python's `.` matches any character but "\n", so a bracket pair may span "\r" or U+2028
 * (JS `.` would not); the strip uses Python's whitespace set.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(preprocess(" Intro [title] Step one [step] done. "), "Intro. Step one done.");
 * ```
 */
export function preprocess(text: string): string {
  return text
    .replace(PY_STRIP, "")
    .replaceAll(" [title]", ". ")
    .replace(/\[[^\n]*?\]/g, "")
    .replaceAll("  ", " ");
}

// Characters whose Unicode titlecase (what Python's capitalize applies to the first character)
// is not their uppercase, from SpecialCasing.txt / UnicodeData.txt, apart from the ranges
// handled in `titleCase`.
const TITLE_SPECIAL: Record<number, string> = {
  0xdf: "Ss",
  0x587: "\u0535\u0582",
  0x1fb2: "\u1fba\u0345",
  0x1fb3: "\u1fbc",
  0x1fb4: "\u0386\u0345",
  0x1fb7: "\u0391\u0342\u0345",
  0x1fbc: "\u1fbc",
  0x1fc2: "\u1fca\u0345",
  0x1fc3: "\u1fcc",
  0x1fc4: "\u0389\u0345",
  0x1fc7: "\u0397\u0342\u0345",
  0x1fcc: "\u1fcc",
  0x1ff2: "\u1ffa\u0345",
  0x1ff3: "\u1ffc",
  0x1ff4: "\u038f\u0345",
  0x1ff7: "\u03a9\u0342\u0345",
  0x1ffc: "\u1ffc",
  0xfb00: "Ff",
  0xfb01: "Fi",
  0xfb02: "Fl",
  0xfb03: "Ffi",
  0xfb04: "Ffl",
  0xfb05: "St",
  0xfb06: "St",
  0xfb13: "\u0544\u0576",
  0xfb14: "\u0544\u0565",
  0xfb15: "\u0544\u056b",
  0xfb16: "\u054e\u0576",
  0xfb17: "\u0544\u056d",
};

/** Full Unicode titlecase mapping of one code point (JS only offers uppercase). */
function titleCase(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp in TITLE_SPECIAL) return TITLE_SPECIAL[cp];
  // The DŽ/LJ/NJ/DZ digraphs have a distinct titlecase letter (Dž, Lj, Nj, Dz).
  if (cp >= 0x1c4 && cp <= 0x1c6) return "\u01c5";
  if (cp >= 0x1c7 && cp <= 0x1c9) return "\u01c8";
  if (cp >= 0x1ca && cp <= 0x1cc) return "\u01cb";
  if (cp >= 0x1f1 && cp <= 0x1f3) return "\u01f2";
  // Greek with ypogegrammeni: titlecase is the prosgegrammeni form, 8 code points up.
  if (cp >= 0x1f80 && cp <= 0x1faf) return String.fromCodePoint(cp | 0x8);
  // Georgian Mkhedruli letters are their own titlecase (their uppercase is Mtavruli).
  if (cp >= 0x10d0 && cp <= 0x10ff) return ch;
  return ch.toUpperCase();
}

/**
 * Python 3.8+ `str.capitalize()`, which lm-eval applies to HellaSwag's `ctx_b`: the first code
 * point in TITLEcase and ALL the rest lowercased ("hello World" → "Hello world"). The rest is
 * lowercased in the context of the whole string, as Python does, so a final capital sigma
 * becomes "ς" ("ΑΣ" → "Ας"). Casing tables are the JS engine's Unicode version; the few
 * titlecase ≠ uppercase characters (ß → "Ss", ǆ → "ǅ", ﬁ → "Fi", ...) are mapped here.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(pythonCapitalize("then THE man"), "Then the man");
 * ```
 */
export function pythonCapitalize(s: string): string {
  if (s.length === 0) return s;
  const first = String.fromCodePoint(s.codePointAt(0)!);
  // toLowerCase maps the first character to the same length whether alone or in context
  // (only sigma is context-dependent, and it stays one unit), so slicing it off is safe.
  return titleCase(first) + s.toLowerCase().slice(first.toLowerCase().length);
}

/** Python `int(label)` for the dataset's label strings; throws on anything else. */
function parseLabel(label: string | number): number {
  if (typeof label === "number") {
    if (Number.isInteger(label)) return label;
  } else if (/^\s*[+-]?\d+\s*$/.test(label)) {
    return Number.parseInt(label.trim(), 10);
  }
  throw new RangeError(`hellaswag: label ${JSON.stringify(label)} is not an integer`);
}

/**
 * lm-eval's HellaSwag `process_docs` for one row (lm_eval/tasks/hellaswag/utils.py):
 * query = preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)),
 * choices = preprocess(each ending), gold = int(label).
 *
 * Throws RangeError when `label` is not an integer (e.g. "" in the test split).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const doc = {
 *   activity_label: "Cooking",
 *   ctx_a: "A man boils water.",
 *   ctx_b: "he",
 *   endings: ["adds pasta."],
 *   label: "0",
 * };
 * deepEqual(processHellaswagDoc(doc), {
 *   query: "Cooking: A man boils water. He",
 *   choices: ["adds pasta."],
 *   gold: 0,
 * });
 * ```
 */
export function processHellaswagDoc(doc: HellaswagDoc): HellaswagItem {
  const ctx = doc.ctx_a + " " + pythonCapitalize(doc.ctx_b);
  return {
    query: preprocess(doc.activity_label + ": " + ctx),
    choices: doc.endings.map(preprocess),
    gold: parseLabel(doc.label),
  };
}

/**
 * The zero-shot requests lm-eval sends for one HellaSwag row: context = the processed `query`
 * (hellaswag.yaml `doc_to_text: "{{query}}"`, no description, no few-shot), continuations =
 * " " + choice (default `target_delimiter`), plus the bare choices for `acc_norm` and the
 * gold index. Score with `mcAcc` / `mcAccNorm` (hellaswag.yaml reports both).
 *
 * lm-eval's HF model wrapper then moves any trailing whitespace of the context onto the front
 * of the continuation before tokenising; that is the model side's job, not done here.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const doc = { activity_label: "X", ctx_a: "Hot.", ctx_b: "", endings: ["Done."], label: 0 };
 * deepEqual(hellaswagRequest(doc).continuations, [" Done."]);
 * ```
 */
export function hellaswagRequest(doc: HellaswagDoc): McRequest & { gold: number } {
  const item = processHellaswagDoc(doc);
  return {
    context: item.query,
    choices: item.choices,
    continuations: mcContinuations(item.choices),
    gold: item.gold,
  };
}
