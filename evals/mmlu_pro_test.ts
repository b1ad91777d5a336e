// Tests for evals/mmlu_pro.ts. Every expected value was produced by running the official
// TIGER-Lab functions (evaluate_from_local.py extract_answer / generate_cot_prompt) in Python 3.11.7
// on the same input; the cases pick out each place where a literal JS port of the regexes differs.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  extractMmluProAnswer,
  fitMmluProPrompt,
  MMLU_PRO_INITIAL_PROMPT,
  MMLU_PRO_MAX_MODEL_LENGTH,
  MMLU_PRO_MAX_NEW_TOKENS,
  MMLU_PRO_STOP,
  type MmluProExample,
  mmluProPrompt,
  selectFewshot,
} from "./mmlu_pro.ts";

function expectAll(cases: [string, string | null][]): void {
  for (const [text, expected] of cases) {
    equal(extractMmluProAnswer(text), expected, `extract(${JSON.stringify(text)})`);
  }
}

Deno.test("extract level 1: first `answer is \\(?([A-J])\\)?`", () => {
  expectAll([
    ["The answer is (C).", "C"],
    ["the answer is D and more", "D"],
    ["answer is (E", "E"],
    // The first occurrence wins, not the last.
    ["the answer is (A). Later the answer is (B).", "A"],
  ]);
});

Deno.test("extract level 2: `.*[aA]nswer:\\s*([A-J])`, last in the first matching line", () => {
  expectAll([
    // "Answer is" is not level 1 (case-sensitive) and has no colon: level 3 finds B.
    ["Answer is (B)", "B"],
    // Level 1 only knows A–J, so K falls through to level 2.
    ["the answer is (K) then Answer: F", "F"],
    ["Answer: B\nMore text Answer: C", "B"],
    ["foo answer: D bar Answer: E\nAnswer: F", "E"],
    // \s* crosses newlines even though `.` does not.
    ["Answer:\n\n  G", "G"],
    ["answer: \r\nJ", "J"],
    // A non-letter after the colon fails level 2 on that occurrence; the greedy `.*` then backs
    // off to an earlier one on the same line.
    ["Answer: Z but answer: A later", "A"],
  ]);
});

Deno.test("extract level 3: last standalone letter A–J", () => {
  expectAll([
    ["answer:   h then I", "I"],
    ["I choose A, then B. Final: C is it.", "C"],
    ["A\nB\nC", "C"],
    ["(D)", "D"],
    ["The answer is: (H)", "H"],
    ["ÅA B", "B"],
    ["C\rD", "D"],
  ]);
});

Deno.test("extract: no match gives null", () => {
  expectAll([
    ["no letters here", null],
    ["", null],
    ["K L M", null],
    ["a b c", null],
    ["A1", null],
    ["1A", null],
    ["AB CD", null],
    ["Answer: K", null],
  ]);
});

Deno.test("extract: Python `.` crosses \\r, U+2028 and U+2029 (JS `.` does not)", () => {
  expectAll([
    // Greedy `.*` reaches the second "Answer:" on the same Python line; a JS `.` port gives A.
    ["Answer: A\rAnswer: B", "B"],
    ["Answer: A\u2028Answer: B", "B"],
    ["Answer: A\u2029Answer: B", "B"],
    // "\r" is not a line break: "x\rAnswer: C" is the first line, so C, not D.
    ["x\rAnswer: C\ny Answer: D", "C"],
  ]);
});

Deno.test("extract: Python `\\s` has \\x1c-\\x1f and \\x85 but not \\ufeff (JS: the reverse)", () => {
  expectAll([
    ["Answer:\x1cB and C", "B"],
    ["Answer:\x1fB and C", "B"],
    ["Answer:\x85B and C", "B"],
    // U+FEFF is not Python whitespace: level 2 fails, level 3 takes the last letter.
    ["Answer:\ufeffB and C", "C"],
    ["Answer:\u00a0\u3000B then C", "B"],
  ]);
});

Deno.test("extract: Python `\\b` is a Unicode word boundary", () => {
  expectAll([
    // Letters of any script, including astral ones, are word characters.
    ["éA", null],
    ["ÀB", null],
    ["Aé", null],
    ["𝐀B", null],
    ["ǅA", null], // Lt
    ["ʰA", null], // Lm
    // Digits and numerals of any kind (Nd, Nl, No) too.
    ["١C", null],
    ["A٠", null],
    ["x²A", null],
    ["ⅫD", null],
    ["〇A", null],
    // Underscore is a word character in both engines.
    ["A_", null],
    ["_J", null],
    // Separated by a non-word character, the letter stands alone.
    ["é A", "A"],
    ["𝐀 B", "B"],
    // Combining marks (Mn) and lone surrogates are not word characters in Python.
    ["F\u0301", "F"],
    ["\ud800A", "A"],
    ["A\udc00", "A"],
    ["Option A.\x85", "A"],
  ]);
});

Deno.test("extract: long single-line inputs stay fast", () => {
  // Python's level-2 and level-3 regexes are quadratic here; ours must not be.
  const long = "x ".repeat(200_000);
  const t0 = performance.now();
  equal(extractMmluProAnswer(long), null);
  equal(extractMmluProAnswer(long + "A " + long), "A");
  equal(extractMmluProAnswer("Answer: C " + long + "answer: D"), "D");
  ok(performance.now() - t0 < 2000, "extraction took over 2 s");
});

// Hand-built validation split: the law example must be skipped, the "N/A" option dropped, and the
// second math example keeps its question's newline/trailing space, its option padding and tab,
// the second "A: Let's think…" inside its cot_content and its trailing newline.
const validation: MmluProExample[] = [
  {
    question: "What is 1+1?",
    options: ["1", "2", "3", "N/A"],
    category: "math",
    cot_content: "A: Let's think step by step. One plus one is two. The answer is (B).",
  },
  {
    question: "Pick {$}.",
    options: ["x", "y"],
    category: "law",
    cot_content: "A: Let's think step by step. Law. The answer is (A).",
  },
  {
    question: "Line one\nline two ",
    options: ["  padded  ", "tab\there"],
    category: "math",
    cot_content:
      "A: Let's think step by step. Again: A: Let's think step by step. The answer is (A).\n",
  },
];
const item = { question: "Which is prime?", options: ["4", "N/A", "6", "7", "N/A"] };

const HEAD =
  'The following are multiple choice questions (with answers) about math. Think step by step and then finish your answer with "the answer is (X)" where X is the correct letter choice.\n\n\n\n';
const SHOT1 =
  "Question:\nWhat is 1+1?\nOptions:\nA. 1\nB. 2\nC. 3\nAnswer: Let's think step by step. One plus one is two. The answer is (B).\n\n";
const SHOT2 =
  "Question:\nLine one\nline two \nOptions:\nA.   padded  \nB. tab\there\nAnswer: Let's think step by step. Again: Answer: Let's think step by step. The answer is (A).\n\n\n";
const ITEM =
  "Question:\nWhich is prime?\nOptions:\nA. 4\nB. 6\nC. 7\nAnswer: Let's think step by step.";

Deno.test("mmluProPrompt: matches the official generate_cot_prompt for k = 5, 1, 0", () => {
  const prompt = (k: number) =>
    mmluProPrompt(item, selectFewshot(validation, { category: "math", k }), { category: "math" });
  equal(prompt(5), HEAD + SHOT1 + SHOT2 + ITEM);
  equal(prompt(1), HEAD + SHOT1 + ITEM);
  equal(prompt(0), HEAD + ITEM);
});

Deno.test("mmluProPrompt: the category is inserted literally", () => {
  // "$&" would be expanded by String.replace; "{$}" in a category is not substituted again.
  equal(
    mmluProPrompt({ question: "Q", options: ["a"] }, [], { category: "$& {$}" }),
    'The following are multiple choice questions (with answers) about $& {$}. Think step by step and then finish your answer with "the answer is (X)" where X is the correct letter choice.\n\n\n\nQuestion:\nQ\nOptions:\nA. a\nAnswer: Let\'s think step by step.',
  );
  ok(MMLU_PRO_INITIAL_PROMPT.endsWith("choice.\n\n\n"));
});

Deno.test("mmluProPrompt: more than 10 options throws", () => {
  const options = Array.from({ length: 11 }, (_, i) => String(i));
  throws(() => mmluProPrompt({ question: "Q", options }, [], { category: "math" }), RangeError);
  // "N/A" padding does not count.
  const padded = [...options.slice(0, 10), "N/A"];
  ok(mmluProPrompt({ question: "Q", options: padded }, [], { category: "math" }).includes("J. 9"));
});

Deno.test("selectFewshot: first k of the category in split order", () => {
  deepEqual(selectFewshot(validation, { category: "math" }), [validation[0], validation[2]]);
  deepEqual(selectFewshot(validation, { category: "math", k: 1 }), [validation[0]]);
  deepEqual(selectFewshot(validation, { category: "law", k: 5 }), [validation[1]]);
  deepEqual(selectFewshot(validation, { category: "history" }), []);
  throws(() => selectFewshot(validation, { category: "math", k: -1 }), RangeError);
  throws(() => selectFewshot(validation, { category: "math", k: 1.5 }), RangeError);
});

Deno.test("fitMmluProPrompt: drops shots until the prompt is under 4096 − 2048 tokens", () => {
  // One "token" per character; the limit is < 2048.
  const countTokens = (s: string) => s.length;
  const full = HEAD + SHOT1 + SHOT2 + ITEM;
  const fit = (pad: number) =>
    fitMmluProPrompt({ ...item, question: item.question + " ".repeat(pad) }, validation, {
      category: "math",
      countTokens,
    });
  equal(fit(0).shots, 2);
  equal(fit(0).prompt, full);
  // Exactly 2048 is too long (strict <), so one shot is dropped.
  equal(fit(2048 - full.length).shots, 1);
  equal(fit(2047 - full.length).shots, 2);
  equal(fit(2048 - (HEAD + ITEM).length - 1).shots, 0);
  throws(() => fit(2048), RangeError);
});

Deno.test("generation settings are the official ones", () => {
  deepEqual(MMLU_PRO_STOP, ["Question:"]);
  equal(MMLU_PRO_MAX_NEW_TOKENS, 2048);
  equal(MMLU_PRO_MAX_MODEL_LENGTH, 4096);
});
