// Tests for evals/mmmu.ts. Expected values were produced by running the official MMMU code
// (mmmu/utils/data_utils.py construct_prompt with configs/llava1.5.yaml, mmmu/utils/eval_utils.py)
// and Python's eval() on the same inputs, then pasted here.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { hashString, rng } from "../lib/rng.ts";
import {
  evalOpen,
  type MmmuDoc,
  mmmuPrompt,
  mmmuScore,
  type OpenPrediction,
  parseMultiChoiceResponse,
  parseOpenResponse,
  parseOptions,
} from "./mmmu.ts";

Deno.test("parseOptions: Python list literals as eval() reads them", () => {
  const cases: [string, string[]][] = [
    [`['A cat', "it's", '5']`, ["A cat", "it's", "5"]],
    ["['<image 1>', '<image 2>']", ["<image 1>", "<image 2>"]],
    ["[]", []],
    [
      String
        .raw`['a\nb', 'tab\there', 'back\\slash', 'uni\u00e9', 'hex\x41', 'oct\101', 'keep\q', 'astral\U0001F600']`,
      ["a\nb", "tab\there", "back\\slash", "unié", "hexA", "octA", "keep\\q", "astral😀"],
    ],
    // Adjacent literals concatenate; raw strings keep backslashes; triple quotes; trailing comma.
    [String.raw`['con' "cat", r'raw\n', '''tri'ple''', ]`, ["concat", "raw\\n", "tri'ple"]],
    [String.raw`["$\\frac{1}{2}$", '50%']`, ["$\\frac{1}{2}$", "50%"]],
    ["[\n  'multi',\n  'line'  # comment\n]", ["multi", "line"]],
  ];
  for (const [input, expected] of cases) deepEqual(parseOptions(input), expected, input);
});

Deno.test("parseOptions: malformed input is a SyntaxError that says where", () => {
  const cases: [string, RegExp][] = [
    ["['a', 1]", /expected a string literal at offset 6/],
    ["['a'", /expected ',' or '\]' at end of input/],
    ["['a' 'b'", /expected ',' or '\]' at end of input/],
    ["'a'", /expected '\['/],
    ["['a'] x", /unexpected text after '\]'/],
    ["[b'x']", /unsupported b-prefixed literal/],
    [String.raw`['\N{DASH}']`, /\\N\{name\} escapes are not supported/],
    ["['a\nb']", /newline in a single-quoted string/],
    [String.raw`['\x4']`, /truncated \\x escape/],
    ["['open", /unterminated string/],
  ];
  for (const [input, message] of cases) {
    throws(
      () => parseOptions(input),
      (e: unknown) => e instanceof SyntaxError && message.test(e.message),
    );
  }
});

const MC_DOC: MmmuDoc = {
  id: "validation_Accounting_1",
  question: "<image 1> What is the price? Use <image 2> and <image 1>.",
  options: "['$6', '$7', '<image 3>', '$9']",
  answer: "B",
  question_type: "multiple-choice",
};

const OPEN_DOC: MmmuDoc = {
  id: "validation_Math_15",
  question: "Solve {x} for <image 1>.",
  options: "[]",
  answer: "['24/7', '3.429']",
  question_type: "open",
};

Deno.test("mmmuPrompt: the official construct_prompt text", () => {
  const mc = mmmuPrompt(MC_DOC);
  equal(
    mc.prompt,
    "<image 1> What is the price? Use <image 2> and <image 1>.\n(A) $6\n(B) $7\n(C) <image 3>\n(D) $9\n\nAnswer with the option's letter from the given choices directly.",
  );
  deepEqual(mc.allChoices, ["A", "B", "C", "D"]);
  deepEqual(mc.indexToAns, { A: "$6", B: "$7", C: "<image 3>", D: "$9" });
  // Each image once, in order of first mention; options count too.
  deepEqual(mc.imageKeys, ["image_1", "image_2", "image_3"]);

  const open = mmmuPrompt(OPEN_DOC);
  equal(
    open.prompt,
    "Solve {x} for <image 1>.\nAnswer the question using a single word or phrase.",
  );
  deepEqual(open.allChoices, []);
  deepEqual(open.indexToAns, {});
  deepEqual(open.imageKeys, ["image_1"]);
});

const CHOICES = {
  allChoices: ["A", "B", "C", "D"],
  indexToAns: { A: "cat", B: "dog", C: "red fox", D: "42" },
};

Deno.test("parseMultiChoiceResponse: matches parse_multi_choice_response", () => {
  const cases: [string, string][] = [
    ["B", "B"],
    ["(B)", "B"],
    ["The answer is (B).", "B"],
    ["(A) or (C)? I think (C)", "C"], // last bracketed mention wins
    ["A and B", "B"], // last " X " mention wins
    ["I would pick the dog since it is fluffy", "B"], // > 5 words: option text
    ["cat or dog, definitely the cat here ok", "A"], // the text occurring last
    ["'C'.", "C"], // ' and . stripped from the ends
    ["Answer: D", "D"],
    ["A.", "A"],
    ["Between (A) and B I choose (A) over (D)", "D"], // brackets beat bare letters
    ["The best one here is a red fox, not the 42", "D"],
    ["It is B or maybe C but B", "B"],
  ];
  for (const [response, expected] of cases) {
    equal(parseMultiChoiceResponse(response, CHOICES, { seed: 0 }), expected, response);
  }
  // Two options with the same text found at the same place: np.argmax takes the first.
  const twins = { allChoices: ["A", "B"], indexToAns: { A: "red", B: "red" } };
  equal(
    parseMultiChoiceResponse("I think the correct answer is red here", twins, { seed: 0 }),
    "A",
  );
});

Deno.test("parseMultiChoiceResponse: unparseable replies fall back to a seeded pick", () => {
  // "a" (lower case) and "E" name no choice, and neither reply has more than 5 words.
  for (const reply of ["a", "E", "no idea"]) {
    for (const seed of [0, 1, 2, 12345]) {
      const pick = parseMultiChoiceResponse(reply, CHOICES, { seed });
      equal(pick, CHOICES.allChoices[rng(seed).int(4)]);
      equal(parseMultiChoiceResponse(reply, CHOICES, { seed }), pick); // same seed, same pick
    }
  }
  const picks = new Set(
    Array.from({ length: 40 }, (_, s) => parseMultiChoiceResponse("?", CHOICES, { seed: s })),
  );
  equal(picks.size, 4); // every letter is reachable
  throws(
    () => parseMultiChoiceResponse("A", { allChoices: [], indexToAns: {} }, { seed: 0 }),
    RangeError,
  );
});

/** Order-free view of a prediction list (the official code returns a set). */
function asSet(preds: readonly OpenPrediction[]): string[] {
  return preds.map((p) => JSON.stringify(p)).sort();
}

Deno.test("parseOpenResponse: matches parse_open_response", () => {
  const cases: [string, OpenPrediction[]][] = [
    // The comma pattern takes "1,250", the plain pattern "250.456" → 250.46.
    ["The total is 1,250.456 dollars.", ["1,250.456 dollars", 1250, 250.46]],
    ["So the answer is 42", [42]],
    ["x = 3.5e3\nTherefore, y = -2", [-2]], // "=" only counts on the last line
    ["1/64", ["1/64", 1, 64]],
    ["The answer is C.", [" c", "c "]],
    ["Final answer: 12.97", ["answer: 12.97", 12.97]],
    ["It could be 0.125 or 2.675", ["0.125 or 2.675", 0.12, 2.67]], // round half even, binary
    ["Tampa, Florida", ["tampa, florida"]],
    ["The value is .", ["the value is"]],
    ["so the answer is 5 so", ["5 so", 5]],
    ["١٢ apples", ["١٢ apples", 12]], // Unicode digits, as Python's \d and float()
    ["1_000 units", ["1_000 units", 0]],
    [
      "The result is 1,000,000 and 7e-3 then 3.14159",
      ["1,000,000 and 7e-3 then 3.14159", -3, 0, 0.01, 1000000, 3.14],
    ],
    ["  Transformation.  ", ["transformation"]],
    ["the ratio is 24/7 = 3.429", [3.43]],
  ];
  for (const [response, expected] of cases) {
    deepEqual(asSet(parseOpenResponse(response)), asSet(expected), response);
  }
  // round(-0.001, 2) is -0.0 in Python, and the set keeps it.
  const zero = parseOpenResponse("-0.001");
  equal(zero.length, 1);
  ok(Object.is(zero[0], -0));
});

Deno.test("evalOpen: matches eval_open on parsed responses", () => {
  const cases: [string | string[], string, boolean][] = [
    ["1250.46", "The total is 1,250.456 dollars.", false],
    ["1250.45", "The total is 1,250.456 dollars.", false],
    ["250.46", "The total is 1,250.456 dollars.", true],
    [["24/7", "3.429"], "the ratio is 24/7 = 3.429", true],
    ["3.43", "the ratio is 24/7 = 3.429", true],
    ["C", "The answer is C.", true],
    ["C", "The answer is Cobalt", false],
    ["Transformation", "  Transformation.  ", true],
    ["12", "١٢ apples", true],
    ["0.12", "It could be 0.125 or 2.675", true],
    ["2.68", "It could be 0.125 or 2.675", false],
    ["florida", "Tampa, Florida", true],
    ["1000", "1_000 units", false],
  ];
  for (const [gold, response, expected] of cases) {
    equal(evalOpen(gold, parseOpenResponse(response)), expected, `${gold} vs ${response}`);
  }
  equal(evalOpen("nan", [NaN]), false); // NaN never equals NaN
});

Deno.test("mmmuScore: multiple choice", () => {
  equal(mmmuScore(MC_DOC, "(B) $7"), 1);
  equal(mmmuScore(MC_DOC, "The answer is B."), 1);
  equal(mmmuScore(MC_DOC, "(D)"), 0);
  equal(mmmuScore({ ...MC_DOC, answer: ["A", "B"] }, "A"), 1);
  // The fallback is seeded by the item id: a fixed score for a fixed reply.
  const fallback = ["A", "B", "C", "D"][rng(hashString(MC_DOC.id)).int(4)];
  equal(mmmuScore(MC_DOC, "no idea"), fallback === "B" ? 1 : 0);
  throws(() => mmmuScore({ ...MC_DOC, options: "['$6'," }, "A"), SyntaxError);
  throws(() => mmmuScore({ ...MC_DOC, options: "[]" }, "A"), RangeError);
});

Deno.test("mmmuScore: open questions, including list answers stored as literals", () => {
  equal(mmmuScore(OPEN_DOC, "the ratio is 24/7 = 3.429"), 1);
  equal(mmmuScore(OPEN_DOC, "The answer is 24/7"), 1);
  equal(mmmuScore(OPEN_DOC, "3.5"), 0);
  equal(mmmuScore({ ...OPEN_DOC, answer: ["24/7", "3.429"] }, "3.429"), 1);
  // "1.06 m" is text, but the number 1.06 is extracted from it.
  equal(mmmuScore({ ...OPEN_DOC, answer: "1.06" }, "The answer is 1.06 m"), 1);
  equal(mmmuScore({ ...OPEN_DOC, answer: "1.06" }, "1.064"), 1); // both round to 1.06
  equal(mmmuScore({ ...OPEN_DOC, answer: "1.06" }, "about 1.1"), 0);
  // A bracketed answer that is not a list literal stays a string.
  equal(mmmuScore({ ...OPEN_DOC, answer: "[1, 2]" }, "[1, 2]"), 1);
});
