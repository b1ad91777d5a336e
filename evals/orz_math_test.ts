// Tests for evals/orz_math.ts and the orz_math task's reading of the published file. The rules
// are ours (evals/orz_math.ts says why: ORZ's sympy path is not reproduced); where a case's
// verdict differs from ORZ's `is_equal`, the comment says what ORZ's string path
// (`is_equiv` with MATH's `_strip_string`, then `normalize_final_answer`) gave when run in
// Python 3.11 on the same pair without sympy's LaTeX parser.

import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import {
  lastBoxed,
  ORZ_INSTRUCTION,
  orzEquivalent,
  orzExtract,
  orzNormalize,
  orzNumber,
  orzPrompt,
  orzScore,
} from "./orz_math.ts";
import { orzMath, orzTarget } from "../tasks/orz_math.ts";
import { loadTestFile } from "../tasks/hub_data.ts";
import { isHeldOut } from "../tasks/held_out.ts";
import { ValidationError } from "../lib/errors.ts";
import { writeFixture } from "../lib/published_files.ts";

Deno.test("orzPrompt: the problem as published, then Qwen2.5-Math's \\boxed{} instruction", () => {
  equal(ORZ_INSTRUCTION, "Please reason step by step, and put your final answer within \\boxed{}.");
  equal(
    orzPrompt("Find $x$ if $2x = 6$."),
    "Find $x$ if $2x = 6$.\nPlease reason step by step, and put your final answer within \\boxed{}.",
  );
});

Deno.test("lastBoxed: the last \\boxed{} (else \\fbox{}), braces balanced, escaped braces ignored", () => {
  equal(lastBoxed("\\boxed{1} then \\boxed{2}"), "2");
  equal(lastBoxed("so \\boxed{\\frac{1}{2}}."), "\\frac{1}{2}");
  equal(lastBoxed("\\boxed {5}"), "5");
  equal(lastBoxed("\\fbox{7}"), "7");
  equal(lastBoxed("\\fbox{7} and \\boxed{8}"), "8");
  equal(lastBoxed("\\boxed{\\{1,2\\}}"), "\\{1,2\\}");
  equal(lastBoxed("\\boxed{\\left\\{ x \\right."), null, "never closes");
  equal(lastBoxed("\\boxed{3"), null);
  equal(lastBoxed("\\boxed 3"), null);
  equal(lastBoxed("no box"), null);
  equal(lastBoxed("\\boxed{}"), "");
});

Deno.test("orzExtract: last box, else what follows the last 'answer is'/'answer:' on its line, else all", () => {
  equal(orzExtract("First \\boxed{1}. Finally \\boxed{ 42 }."), "42");
  equal(orzExtract("The answer is \\boxed{5}, not 6."), "5", "the box wins over 'answer is'");
  equal(orzExtract("So the answer is 12."), "12.");
  equal(orzExtract("Final Answer: 12"), "12");
  equal(orzExtract("The answer is: $\\frac{1}{2}$"), "$\\frac{1}{2}$");
  equal(orzExtract("the answer is 3. Also, the answer is 4\nbecause 2+2=4"), "4");
  equal(orzExtract("\\boxed{3 and the answer is 7"), "7", "an unclosed box is no box");
  equal(orzExtract("  \\frac{3}{4} \n"), "\\frac{3}{4}", "a bare answer: the whole output");
  equal(orzExtract("I think 2 + 2 = 4"), "I think 2 + 2 = 4");
  equal(orzExtract(""), "");
});

Deno.test("orzNormalize: each documented rule", () => {
  const cases: [string, string, string][] = [
    ["delimiters", "$\\frac{1}{2}$", "\\frac{1}{2}"],
    ["delimiters", "\\(5\\)", "5"],
    ["delimiters", "\\[\\displaystyle 5\\]", "5"],
    ["unit in \\text{ }", "20\\text{ cm}", "20"],
    ["unit in \\mbox{ }", "3 \\mbox{ inches}", "3"],
    ["other units stay", "20 cm", "20cm"],
    ["\\text unwrapped", "\\text{Evelyn}", "Evelyn"],
    ["nested wrappers", "\\text{\\textbf{B}}", "B"],
    ["\\mathrm", "\\mathrm{Na}", "Na"],
    ["\\left \\right", "\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"],
    ["\\rightarrow is not \\right", "x \\rightarrow 0", "x\\rightarrow0"],
    ["\\dfrac", "\\dfrac{3}{4}", "\\frac{3}{4}"],
    ["\\tfrac", "\\tfrac{3}{4}", "\\frac{3}{4}"],
    ["degrees", "90^\\circ", "90"],
    ["degrees", "90^{\\circ}", "90"],
    ["degrees", "90°", "90"],
    ["percent", "50\\%", "50"],
    ["percent", "50%", "50"],
    ["spacing", "1\\,000\\!", "1000"],
    ["spacing", "a\\quad b", "ab"],
    ["whitespace", " x^2 + 1 ", "x^2+1"],
    ["thousands", "1,234,567.5", "1234567.5"],
    ["thousands {,}", "12{,}500", "12500"],
    ["a list keeps its commas", "1,-2", "1,-2"],
    ["a point keeps its comma", "(1,2)", "(1,2)"],
    ["not thousands", "1,23", "1,23"],
    ["trailing periods", "12..", "12"],
    ["x=", "x = 5", "5"],
    ["a1=", "a1=7", "7"],
    ["long left sides stay", "xy+1=5", "xy+1=5"],
    ["several = stay", "x=y=5", "x=y=5"],
    ["\\frac12", "\\frac12", "\\frac{1}{2}"],
    ["\\frac1{x}", "\\frac1{x}", "\\frac{1}{x}"],
    ["\\frac{x}2", "\\frac{x}2", "\\frac{x}{2}"],
    ["\\sqrt3", "2\\sqrt3", "2\\sqrt{3}"],
    [".5", ".5", "0.5"],
    ["-.5", "-.5", "-0.5"],
    ["(B)", "(B)", "B"],
    ["\\text{(C)}", "\\text{(C)}", "C"],
    ["case kept", "Yes", "Yes"],
  ];
  for (const [rule, input, want] of cases) equal(orzNormalize(input), want, `${rule}: ${input}`);
});

Deno.test("orzNumber: integers, decimals, fractions a/b and \\frac{a}{b}, exact", () => {
  deepEqual(orzNumber("42"), { n: 42n, d: 1n });
  deepEqual(orzNumber("-0.125"), { n: -125n, d: 1000n });
  deepEqual(orzNumber("3/4"), { n: 3n, d: 4n });
  deepEqual(orzNumber("3/-4"), { n: -3n, d: 4n });
  deepEqual(orzNumber("-\\frac{3}{4}"), { n: -3n, d: 4n });
  deepEqual(orzNumber("\\frac{-3}{-4}"), { n: 3n, d: 4n });
  deepEqual(orzNumber("\\frac{0.5}{2}"), { n: 5n, d: 20n });
  deepEqual(orzNumber("12345678901234567890"), { n: 12345678901234567890n, d: 1n });
  for (const s of ["1/0", "\\frac{1}{0}", "x", "1e5", "1.2.3", "2\\frac{1}{2}", "\\sqrt{2}", ""]) {
    equal(orzNumber(s), null, s);
  }
});

Deno.test("orzEquivalent: equivalent answers, case by case", () => {
  const same: [string, string, string][] = [
    ["integers", "42", "42"],
    ["leading zeros", "042", "42"],
    ["decimals", "0.5", "0.50"], // ORZ's string path: False (sympy's would say True)
    ["decimals", ".5", "0.5"],
    ["a/b and \\frac", "3/4", "\\frac{3}{4}"],
    ["\\dfrac and a decimal", "\\dfrac{3}{4}", "0.75"], // ORZ's string path: False
    ["\\tfrac shorthand", "\\tfrac34", "3/4"],
    ["signs", "-\\frac{1}{2}", "\\frac{-1}{2}"], // ORZ's string path: False
    ["unreduced", "6/8", "3/4"], // ORZ's string path: False
    ["\\text{}", "\\text{Evelyn}", "Evelyn"],
    ["an option letter", "\\text{(C)}", "C"], // ORZ's string path: False
    ["$...$", "$5$", "5"],
    ["\\left \\right", "\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"],
    ["spaces", "x^2 + 1", "x^2+1"],
    ["thousands", "1,000", "1000"],
    ["thousands {,}", "1{,}000", "1000"],
    ["a \\text{ unit}", "20\\text{ cm}", "20"],
    ["degrees", "90^\\circ", "90"],
    ["percent", "50\\%", "50"],
    ["x=", "x=5", "5"],
    ["\\sqrt shorthand", "\\sqrt2", "\\sqrt{2}"],
    ["intervals", "[-1, 3)", "[-1,3)"],
  ];
  for (const [rule, a, b] of same) {
    equal(orzEquivalent(a, b), true, `${rule}: ${a} ~ ${b}`);
    equal(orzEquivalent(b, a), true, `${rule}: ${b} ~ ${a}`);
  }
  const different: [string, string, string][] = [
    ["another integer", "42", "43"],
    ["a digit more", "42", "421"],
    ["another decimal", "2.5", "2.49"],
    ["a rounded fraction", "\\frac{1}{3}", "0.333"],
    ["a point is not a number", "(1,2)", "(12)"], // ORZ's string path: True (commas dropped)
    ["units in words stay", "20 cm", "20"], // ORZ's string path: True
    ["no sympy", "2\\sqrt{3}", "\\sqrt{12}"],
    ["case", "Yes", "yes"],
    ["another word", "\\text{east}", "west"],
    ["a mixed number is not a sum", "2\\frac{1}{2}", "2.5"],
    ["empty", "", ""],
    ["empty", "$ $", "$$"],
  ];
  for (const [rule, a, b] of different) equal(orzEquivalent(a, b), false, `${rule}: ${a} ≁ ${b}`);
});

Deno.test("orzScore: extraction then equivalence, the ground truth extracted alike", () => {
  equal(orzScore("2+3 is \\boxed{5}.", "5"), 1);
  equal(orzScore("Adding, we get \\boxed{\\dfrac{3}{4}}.", "\\frac34"), 1);
  equal(orzScore("The final answer is $\\frac{3}{4}$.", "0.75"), 1);
  equal(orzScore("\\frac{3}{4}", "\\frac{3}{4}"), 1, "a bare answer");
  equal(orzScore("So $x = 5$", "5"), 0, "no final form: the whole output is compared");
  equal(orzScore("\\boxed{5}", "\\boxed{5}"), 1, "a boxed ground truth is unboxed too");
  equal(orzScore("The answer is 0.74", "\\frac{3}{4}"), 0);
  equal(orzScore("\\boxed{}", ""), 0, "empty answers never score");
  equal(orzScore("", "5"), 0);
});

Deno.test("orzTarget: the boxed ground truth, or a form that reads back as it", () => {
  equal(orzTarget("\\frac{3}{28}"), "The answer is \\boxed{\\frac{3}{28}}.");
  // An opening brace without its closing one cannot sit inside \boxed{}.
  const open = "\\left\\{ x \\mid x > 0";
  equal(orzTarget(open), `The answer is \\boxed{${open}}.`, "escaped braces do not count");
  const unbalanced = "f(x) = {x";
  equal(orzTarget(unbalanced), `The answer is ${unbalanced}`);
  const twoLines = "x = 1\nor x = 2 }";
  equal(orzTarget(twoLines), twoLines);
  for (const gt of [open, unbalanced, twoLines, "13,500", "x=5"]) {
    equal(orzScore(orzTarget(gt), gt), 1, gt);
  }
});

// ── The published file ──────────────────────────────────────────────────────────────────────

const turns = (q: string, gt: unknown) => [
  { from: "human", value: q },
  { from: "assistant", ground_truth: { value: gt, pass_at_n: 0.25 } },
];

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench-orz-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("orz_math reads the published JSON array of conversations: rows are ids, numbers are text, empty ground truths skipped", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "orz_math_57k_collected.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify([
        turns("1+1?", "2"),
        turns("2+2?", 4),
        turns("3+3?", " "),
        turns("4+4?", "8"),
        turns("5+5?", null),
      ]),
    );
    const loaded = await loadTestFile(orzMath, path);
    deepEqual(loaded.splits.test.map((d) => [d.id, d.question, d.answer]), [
      ["0", "1+1?", "2"],
      ["1", "2+2?", "4"],
      ["3", "4+4?", "8"],
    ]);
    equal(loaded.skipped, 2, "an empty and a null ground truth");
  });
});

Deno.test("orz_math: a malformed conversation is one error naming the file, row and field", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "bad.json");
    const bad = async (row: unknown, message: string) => {
      await Deno.writeTextFile(path, JSON.stringify([turns("1+1?", "2"), row]));
      await rejects(
        loadTestFile(orzMath, path),
        (e) => e instanceof ValidationError && e.message === `${path} row 1: ${message}`,
      );
    };
    await bad([{ from: "human", value: "q" }], "field '1' missing");
    await bad(
      [{ from: "human" }, { from: "assistant", ground_truth: { value: "1" } }],
      "field '0': field 'value' missing",
    );
    await bad(
      [{ from: "human", value: "q" }, { from: "assistant", value: "1" }],
      "field '1': field 'ground_truth' missing",
    );
    await bad(
      [{ from: "human", value: "q" }, { from: "assistant", ground_truth: { pass_at_n: 1 } }],
      "field '1'.ground_truth: field 'value' missing",
    );
    await bad(
      [{ from: "human", value: "q" }, { from: "assistant", ground_truth: { value: [1] } }],
      "field '1'.ground_truth.value is object, expected a string (or a number)",
    );
  });
});

Deno.test("orz_math: a parquet export ({'0', '1'} struct columns) reads like the JSON file", async () => {
  await withDir(async (dir) => {
    const rows = [turns("1+1?", "2"), turns("2+2?", "4")].map((t) => ({ "0": t[0], "1": t[1] }));
    const path = await writeFixture(dir, "train-00000-of-00001", rows, "parquet");
    const loaded = await loadTestFile(orzMath, path);
    deepEqual(loaded.splits.test.map((d) => d.answer), ["2", "4"]);
  });
});

Deno.test("orz_math load: one in ten questions held out for test by their text, the rest train", async () => {
  await withDir(async (dir) => {
    const questions = Array.from({ length: 60 }, (_, i) => `What is ${i} + ${i}?`);
    const rows = questions.map((q, i) => turns(q, String(2 * i)));
    await Deno.writeTextFile(join(dir, "orz_math_57k_collected.json"), JSON.stringify(rows));
    const data = { dataPath: dir, offline: true, cacheDir: join(dir, "cache") };
    const loaded = await orzMath.load({ seed: 1, data });
    const held = questions.flatMap((q, i) => isHeldOut(q) ? [String(i)] : []);
    deepEqual(loaded.splits.test.map((d) => d.id), held);
    deepEqual(
      loaded.splits.train.map((d) => d.id),
      questions.flatMap((q, i) => isHeldOut(q) ? [] : [String(i)]),
    );
    equal(held.length > 0 && held.length < 20, true, `${held.length} of 60 held out`);
    const onlyTest = await orzMath.load({ seed: 2, splits: ["test"], data });
    deepEqual(Object.keys(onlyTest.splits), ["test"]);
    deepEqual(onlyTest.splits.test, loaded.splits.test, "the seed does not move the split");
  });
});
