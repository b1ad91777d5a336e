// Tests for evals/gsm8k.ts. Expected values were produced in Python 3.11.7 (numpy 2.4.6) by
// running what lm-eval runs on the same inputs: re.findall with gsm8k.yaml's two filter patterns
// and RegexFilter's selection, exact_match_hf_evaluate's re.sub / np.char.lower / == steps with
// the YAML's settings, and random.Random(1234).sample for the few-shot draws (identical in
// Python 3.9 to 3.13), then pasted here.

import { deepEqual, equal, notDeepEqual, throws } from "node:assert/strict";
import {
  GSM8K_FALLBACK,
  GSM8K_MAX_NEW_TOKENS,
  GSM8K_SHOTS,
  GSM8K_STOP,
  gsm8kExactMatch,
  gsm8kFlexibleExtract,
  gsm8kNormalize,
  gsm8kPrompt,
  gsm8kStrictMatch,
  lmEvalFewshotIndices,
} from "./gsm8k.ts";

const NATALIA =
  "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72";

Deno.test("settings: gsm8k.yaml's shots, stop strings and lm-eval's default budget", () => {
  equal(GSM8K_SHOTS, 5);
  deepEqual(GSM8K_STOP, ["Question:", "</s>", "<|im_end|>"]);
  equal(GSM8K_MAX_NEW_TOKENS, 256);
});

Deno.test("gsm8kPrompt: shots with the full answer, ' ' before it and '\\n\\n' after; nothing stripped", () => {
  const shots = [
    { question: "Q1?", answer: "a\n#### 1" },
    { question: " Q2? ", answer: "b\n#### 2\n" },
  ];
  equal(
    gsm8kPrompt({ question: "Q3?" }, shots),
    "Question: Q1?\nAnswer: a\n#### 1\n\nQuestion:  Q2? \nAnswer: b\n#### 2\n\n\nQuestion: Q3?\nAnswer:",
  );
  equal(gsm8kPrompt({ question: "Q?" }, []), "Question: Q?\nAnswer:");
});

Deno.test("gsm8kStrictMatch: the first '#### ' number, else [invalid]", () => {
  const cases: [string, string][] = [
    [NATALIA, "72"],
    ["#### 1,234.5", "1,234.5"],
    ["#### -7", "-7"],
    ["x #### 3 and then #### 4", "3"],
    ["#### 5\n#### 6.", "5"],
    ["#### 12.", "12."],
    ["#### .5.\n", ".5."],
    ["#### 7\n", "7"],
    ["####8", GSM8K_FALLBACK],
    ["#### $5", GSM8K_FALLBACK],
    ["#### --5", GSM8K_FALLBACK],
    ["#### -", GSM8K_FALLBACK],
    ["The answer is 5", GSM8K_FALLBACK],
    ["", GSM8K_FALLBACK],
  ];
  for (const [text, want] of cases) equal(gsm8kStrictMatch(text), want, JSON.stringify(text));
  equal(GSM8K_FALLBACK, "[invalid]");
});

Deno.test("gsm8kFlexibleExtract: the last number-like run (two of [$0-9.,] or one digit)", () => {
  const cases: [string, string][] = [
    [NATALIA, "72"],
    ["x #### 3 and then #### 4", "4"],
    ["I have $1,000 and 3 apples", "3"],
    ["Total: 18.", "18."],
    ["It costs $5", "$5"],
    ["#### $5", "$5"],
    ["x = -3", "-3"],
    ["#### --5", "-5"],
    ["Well... 42", "42"],
    ["The answer is 42...", "42..."],
    ["1.5.6", "1.5.6"],
    ["-$5 then 7-", "7"],
    ["$1,000.00", "$1,000.00"],
    ["<<48/2=24>>24", "24"],
    ["####8", "8"],
    ["no digits here", GSM8K_FALLBACK],
    ["a-b", GSM8K_FALLBACK],
    ["A.\n#### B.", GSM8K_FALLBACK],
    ["", GSM8K_FALLBACK],
  ];
  for (const [text, want] of cases) equal(gsm8kFlexibleExtract(text), want, JSON.stringify(text));
});

Deno.test("gsm8kNormalize: the YAML's regexes_to_ignore in order, then lower()", () => {
  const cases: [string, string][] = [
    [NATALIA, "72"],
    ["#### 1,234.5", "1234.5"],
    ["x #### 3 and then #### 4", "4"], // through the LAST "#### "
    ["#### 5\n#### 6.", "6"],
    ["####8", "####8"],
    ["The answer is 5", "the answer is 5"],
    ["Total: 18.", "total: 18"],
    ["$1,000.00", "1000.00"],
    ["The answer is 42...", "the answer is 42.."], // one "." only
    ["5..", "5."],
    // Python's `$` also matches before a final "\n", so that "." goes, the "\n" stays.
    ["5.\n", "5\n"],
    ["#### .5.\n", ".5\n"],
    ["12.\n\n", "12.\n\n"],
    ["A.\n#### B.", "b"],
    ["ΑΣ", "ας"], // final sigma, as Python's lower()
    ["", ""],
  ];
  for (const [text, want] of cases) equal(gsm8kNormalize(text), want, JSON.stringify(text));
});

Deno.test("gsm8kExactMatch: as exact_match_hf_evaluate with gsm8k.yaml's settings", () => {
  const cases: [string, string, 0 | 1][] = [
    ["72", NATALIA, 1],
    ["$1,000.", "Half of 2000 is 1000.\n#### 1000", 1],
    ["1000.00", "#### 1000", 0],
    ["42...", "#### 42", 0],
    ["12.\n", "#### 12", 0],
    ["5.\n", "#### 5\n", 1],
    [GSM8K_FALLBACK, "#### 5", 0],
    ["#### 72", "#### 72", 1],
    ["ΑΣ", "ας", 1],
    // numpy string arrays drop trailing NULs after every re.sub step; a leading NUL stays.
    ["5.\0", "#### 5", 1],
    ["5\0,", "#### 5", 1],
    ["5\0.", "5", 1],
    ["\x005", "5", 0],
  ];
  for (const [p, r, want] of cases) {
    equal(gsm8kExactMatch(p, r), want, `${JSON.stringify(p)} vs ${JSON.stringify(r)}`);
  }
});

Deno.test("lmEvalFewshotIndices: random.Random(1234).sample draws, one per test row in order", () => {
  const pool = { poolSize: 7473 }; // the GSM8K train split
  deepEqual(lmEvalFewshotIndices(0, pool), [6374, 3610, 957, 61, 742]);
  deepEqual(lmEvalFewshotIndices(1, pool), [7462, 6610, 4769, 286, 5501]);
  deepEqual(lmEvalFewshotIndices(2, pool), [5677, 687, 806, 6279, 2905]);
  deepEqual(lmEvalFewshotIndices(1318, pool), [220, 4179, 6064, 5599, 5541]); // the last test row
  // Asking out of order gives the same answers (the draws are replayed from the seed).
  deepEqual(lmEvalFewshotIndices(0, pool), [6374, 3610, 957, 61, 742]);
  deepEqual(lmEvalFewshotIndices(0, { ...pool, seed: 0 }), [6917, 3155, 6209, 7292, 3445]);
  deepEqual(lmEvalFewshotIndices(0, { ...pool, seed: 2 ** 40 + 5 }), [4131, 4234, 2200, 5437, 224]);
});

Deno.test("lmEvalFewshotIndices: small pools take sample()'s other branch, and k changes the set size", () => {
  deepEqual(lmEvalFewshotIndices(0, { poolSize: 6 }), [3, 0, 4, 5, 2]);
  deepEqual(lmEvalFewshotIndices(1, { poolSize: 6 }), [5, 0, 4, 1, 3]);
  deepEqual(lmEvalFewshotIndices(2, { poolSize: 6 }), [0, 5, 4, 1, 2]);
  deepEqual(lmEvalFewshotIndices(1, { poolSize: 5 }), [0, 4, 1, 3, 2]);
  // k = 6: the pool branch up to 85 items, the set branch above (same first draw, not second).
  deepEqual(lmEvalFewshotIndices(0, { poolSize: 80, k: 6 }), [56, 14, 0, 11, 74, 4]);
  deepEqual(lmEvalFewshotIndices(0, { poolSize: 90, k: 6 }), [56, 14, 0, 11, 74, 4]);
  deepEqual(lmEvalFewshotIndices(1, { poolSize: 80, k: 6 }), [10, 12, 45, 30, 2, 3]);
  deepEqual(lmEvalFewshotIndices(1, { poolSize: 90, k: 6 }), [85, 88, 10, 12, 45, 30]);
  deepEqual(lmEvalFewshotIndices(0, { poolSize: 10, k: 0 }), []);
  // Pools up to 2^32 − 1 (getrandbits of 32 bits or fewer); 2^31 + 1 needs 32 bits too.
  deepEqual(lmEvalFewshotIndices(0, { poolSize: 2 ** 32 - 1, k: 3 }), [
    4150886329,
    3342196574,
    1892932127,
  ]);
  deepEqual(lmEvalFewshotIndices(0, { poolSize: 2 ** 31 + 1, k: 3 }), [
    1892932127,
    501869158,
    32175636,
  ]);
});

Deno.test("lmEvalFewshotIndices: a copy each time; too small a pool or a bad row throws", () => {
  const a = lmEvalFewshotIndices(3, { poolSize: 7473 });
  a[0] = -1;
  notDeepEqual(lmEvalFewshotIndices(3, { poolSize: 7473 }), a);
  throws(() => lmEvalFewshotIndices(0, { poolSize: 4 }), RangeError);
  throws(() => lmEvalFewshotIndices(0, { poolSize: 2 ** 32 }), RangeError);
  throws(() => lmEvalFewshotIndices(-1, { poolSize: 7473 }), RangeError);
  throws(() => lmEvalFewshotIndices(0.5, { poolSize: 7473 }), RangeError);
});
