// Tests for evals/ifeval_text.ts. Expected values were produced in Python 3.11 (re.findall with
// the flags shown, str.strip/split/isupper/islower) and pasted here; json.loads's verdicts too.

import { deepEqual, equal, throws } from "node:assert/strict";
import {
  isPythonJson,
  pyCount,
  pyFindAll,
  pyIsLower,
  pyIsUpper,
  pyRegex,
  pySearch,
  pySplit,
  pyStrip,
} from "./ifeval_text.ts";

/** [Python pattern, flags (i: IGNORECASE, m: MULTILINE), text, re.findall's matches]. */
const REGEX: readonly (readonly [string, string, string, readonly string[]])[] = [
  ["\\bcaf\u00e9\\b", "i", "Un CAFÉ noir, cafés", ["CAFÉ"]],
  ["\\w+", "", "naïve_x 42 नमस्ते", ["naïve_x", "42", "नमस", "त"]],
  ["^\\s*\\*[^\\*].*$", "m", "* a\n  * b\r\n**c\n*\nd", ["* a", "  * b\r", "*\nd"]],
  ["^\\s*-.*$", "m", "- a\n\n- b\nc - d", ["- a", "\n- b"]],
  ["p\\.\\s?s\\..*$", "m", "text\np. s. hi\nP.S. no", ["p. s. hi"]],
  ["a.b", "", "a\nb a\rb axb", ["a\rb", "axb"]],
  ["end$", "", "the end\n", ["end"]],
  ["end$", "", "the end\n\n", []],
  ["x{2}", "", "xxxxx", ["xx", "xx"]],
  ["x{,2}y", "", "xxxy y", ["xxy", "y"]],
  ["{}", "", "a{}b{}", ["{}", "{}"]],
  ["\\d+", "", "12 ٣٤ ７", ["12", "٣٤", "７"]],
  ["(?P<w>o)(?P=w)", "", "foo boo bo", ["oo", "oo"]],
  ["(?i)HeLLo", "", "hello HELLO", ["hello", "HELLO"]],
  ["[\\w-]+", "", "well-known foo_bar", ["well-known", "foo_bar"]],
  ["\\s?Section\\s?\\d+\\s?", "", "Section 1\nSection2 Section X", ["Section 1\n", "Section2 "]],
  ["[]a]+", "", "a]]b", ["a]]"]],
  ["don\\'t", "i", "DON'T don't", ["DON'T", "don't"]],
  ["\\Ahi", "", "hi hi", ["hi"]],
];

Deno.test("pyRegex: Python `re` matches (Unicode \\w \\b \\d \\s, `.` and `$` rules, braces, (?P…), (?i), \\A)", () => {
  for (const [pattern, flags, text, want] of REGEX) {
    const re = pyRegex(pattern, {
      ignoreCase: flags.includes("i"),
      multiline: flags.includes("m"),
    });
    deepEqual(pyFindAll(re, text), want, `${pattern} on ${JSON.stringify(text)}`);
    equal(pyCount(re, text), want.length);
    equal(pySearch(re, text), want.length > 0);
  }
});

Deno.test("pyRegex: what has no faithful translation is a SyntaxError naming the pattern", () => {
  for (const p of ["(?x)a", "\\N{BULLET}", "[\\W]", "a\\q", "[abc", "\\"]) {
    throws(
      () => pyRegex(p),
      (e) => e instanceof SyntaxError && e.message.includes(JSON.stringify(p)),
      p,
    );
  }
});

/** [text, str.isupper(), str.islower()]. */
const CASES: readonly (readonly [string, boolean, boolean])[] = [
  ["HELLO", true, false],
  ["HELLO 123", true, false],
  ["123", false, false],
  ["Hello", false, false],
  ["ǅ", false, false],
  ["ÉCOLE", true, false],
  ["ß", false, true],
  ["hello", false, true],
  ["hello ǅ", false, false],
  ["ΑΘΗΝΑ", true, false],
];

Deno.test("pyIsUpper / pyIsLower: Python's cased-character rules (titlecase ǅ is neither)", () => {
  for (const [text, upper, lower] of CASES) {
    equal(pyIsUpper(text), upper, text);
    equal(pyIsLower(text), lower, text);
  }
});

/** [text, str.strip(), str.strip("*"), str.split()]. */
const STRIPS: readonly (readonly [string, string, string, readonly string[]])[] = [
  ["\u3000 a \u001c\u0085", "a", "\u3000 a \u001c\u0085", ["a"]],
  ["\ufeffa\ufeff", "\ufeffa\ufeff", "\ufeffa\ufeff", ["\ufeffa\ufeff"]],
  ["**x**", "**x**", "x", ["**x**"]],
  ["\t\n", "", "\t\n", []],
];

Deno.test("pyStrip / pySplit: Python's whitespace (\\x1c–\\x1f, \\x85, \\u3000 yes; BOM no)", () => {
  for (const [text, strip, stars, split] of STRIPS) {
    equal(pyStrip(text), strip);
    equal(pyStrip(text, "*"), stars);
    deepEqual(pySplit(text), split);
  }
});

Deno.test("isPythonJson: json.loads's grammar, NaN and ±Infinity included", () => {
  const cases: [string, boolean][] = [
    ['{"a": 1}', true],
    ["[NaN, Infinity, -Infinity]", true],
    ['{"s": "NaN is fine in a string"}', true],
    ['"a \\" NaN"', true],
    ["nan", false],
    ["[1NaN]", false],
    ["-NaN", false],
    ["{'a': 1}", false],
    ["", false],
    ["1 2", false],
  ];
  for (const [text, want] of cases) equal(isPythonJson(text), want, text);
});
