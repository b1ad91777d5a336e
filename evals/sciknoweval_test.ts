// Tests for evals/sciknoweval.ts and the sciknoweval tasks' reading of the published files. The
// multiple-choice expectations were produced in Python 3.11 by running SciKnowEval's
// `get_single_score_MCQ` (evaluation/metrics.py at 53addee, the V2 release) on the same
// responses and options, then pasted here. The balancing rules are ours (the reference's
// substring test is not a verifiable reward); the equations are SciKnowEval's own form.

import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import {
  parseEquation,
  sciknowevalEquationScore,
  sciknowevalEquationText,
  sciknowevalMcqLetter,
  sciknowevalMcqPick,
  sciknowevalMcqScore,
  sciknowevalPrompt,
} from "./sciknoweval.ts";
import { sciknoweval, sciknowevalChemL3 } from "../tasks/sciknoweval.ts";
import { loadTestFile } from "../tasks/hub_data.ts";
import { ValidationError } from "../lib/errors.ts";

Deno.test("sciknowevalPrompt: instruction, question, then one 'X. text' line per option", () => {
  const mcq = {
    instruction: "Pick one.",
    question: "What is the molar weight of 'CCO'?",
    options: ["46.069", "44.053", "60.052", "32.042"],
    labels: ["A", "B", "C", "D"],
  };
  equal(
    sciknowevalPrompt(mcq),
    "Pick one.\n\nWhat is the molar weight of 'CCO'?\n\nA. 46.069\nB. 44.053\nC. 60.052\nD. 32.042",
  );
  // Texts and labels paired as far as both go (20 published records list 2, 5 or 6 texts).
  equal(
    sciknowevalPrompt({ ...mcq, options: ["x", "y", "z", "w", "v"] }),
    "Pick one.\n\nWhat is the molar weight of 'CCO'?\n\nA. x\nB. y\nC. z\nD. w",
  );
  equal(
    sciknowevalPrompt({ ...mcq, options: ["x", "y"] }),
    "Pick one.\n\nWhat is the molar weight of 'CCO'?\n\nA. x\nB. y",
  );
  equal(
    sciknowevalPrompt({
      instruction: "Balance it.",
      question:
        "Here is a unbalanced chemical equation:\nH2 + O2 = H2O\nThe balanced chemical equation is:",
      options: [],
      labels: [],
    }),
    "Balance it.\n\nHere is a unbalanced chemical equation:\nH2 + O2 = H2O\nThe balanced chemical equation is:",
  );
});

Deno.test("sciknowevalMcqScore: get_single_score_MCQ's verdicts, 4 options (gold A)", () => {
  const key = {
    labels: ["A", "B", "C", "D"],
    options: ["46.069", "44.053", "60.052", "32.042"],
    answerKey: "A",
  };
  const cases: [string, 0 | 1][] = [
    ["A", 1],
    ["B", 0],
    [" A\n", 1],
    ["a", 0],
    ["A.", 1],
    ["A. 46.069", 1],
    ["(A)", 1],
    ["The answer is A", 0],
    ["The answer is A.", 1],
    ["Answer: A", 1],
    ['"A"', 1],
    ["46.069", 1],
    ["It is 46.069 g/mol", 1],
    ["46.069 or 44.053", 0],
    ["DNA polymerase", 0],
    ["D", 0],
    ["B) 44.053", 0],
    ["A C", 1],
    ["The answer is: (A)", 1],
    ["ABCD", 1],
    ["\nA\n", 1],
    ["Option A is right", 1],
    ["A\nB", 1],
    ["", 0],
    ["   ", 0],
  ];
  for (const [response, want] of cases) {
    equal(sciknowevalMcqScore(response, key), want, JSON.stringify(response));
  }
});

Deno.test("sciknowevalMcqScore: get_single_score_MCQ's verdicts, 2 options (gold B)", () => {
  const key = { labels: ["A", "B"], options: ["MSIQ", "MSIV"], answerKey: "B" };
  const cases: [string, 0 | 1][] = [
    ["B", 1],
    ["A", 0],
    ["MSIV", 1],
    ["MSIQ", 0],
    ["D.", 0],
    ["The answer is B", 0],
    ["B.", 1],
    ["(B)", 1],
    ["MSIV is higher", 1],
    ["A B", 0],
  ];
  for (const [response, want] of cases) {
    equal(sciknowevalMcqScore(response, key), want, JSON.stringify(response));
  }
});

Deno.test("sciknowevalMcqPick and sciknowevalMcqLetter: what the scorer reads, D to A first", () => {
  const key = { labels: ["A", "B", "C", "D"], options: ["w", "x", "y", "z"], answerKey: "C" };
  equal(sciknowevalMcqPick("", key), null);
  equal(sciknowevalMcqPick("q", key), "q", "one character is taken as it is");
  equal(sciknowevalMcqPick("it is y", key), "C", "the gold text alone");
  equal(sciknowevalMcqPick("B. or D.", key), "D", "D is tried first");
  equal(sciknowevalMcqPick("none", key), null);
  equal(sciknowevalMcqLetter("A) or B)"), "B");
  equal(sciknowevalMcqLetter('choose "C'), "C");
  equal(sciknowevalMcqLetter("Dimension"), "D", "a response starting with the letter");
  // Texts beyond the labels are not options (zip), so quoting one does not block the gold text.
  const ragged = { labels: ["A", "B"], options: ["x", "y", "x y"], answerKey: "B" };
  equal(sciknowevalMcqPick("y", ragged), "y");
  equal(sciknowevalMcqPick("so y", ragged), "B");
});

Deno.test("parseEquation: SciKnowEval's equations, coefficients summed per species", () => {
  const sides = (text: string) => {
    const eq = parseEquation(text);
    return eq && [[...eq.left], [...eq.right]];
  };
  deepEqual(sides("Na2CrO4(aq) + 2LiBr(aq) = Li2CrO4(aq) + 2NaBr(s)"), [
    [["Na2CrO4(aq)", 1], ["LiBr(aq)", 2]],
    [["Li2CrO4(aq)", 1], ["NaBr(s)", 2]],
  ]);
  deepEqual(sides("3Br2 + 2SO2 + 4H2O = 6Br{-} + 2SO4{-} + 8H{+}"), [
    [["Br2", 3], ["SO2", 2], ["H2O", 4]],
    [["Br{-}", 6], ["SO4{-}", 2], ["H{+}", 8]],
  ]);
  deepEqual(sides("2(NH4)3PO4 + 3Zn{+2} = Zn3(PO4)2 + 6NH4{+}"), [
    [["(NH4)3PO4", 2], ["Zn{+2}", 3]],
    [["Zn3(PO4)2", 1], ["NH4{+}", 6]],
  ]);
  deepEqual(sides("2CoCl2*6H2O + H2O2 = 2[Co(NH3)5]Cl3 + 14H2O"), [
    [["CoCl2*6H2O", 2], ["H2O2", 1]],
    [["[Co(NH3)5]Cl3", 2], ["H2O", 14]],
  ]);
  deepEqual(sides("2 H2+O2 -> 2 H2 O"), [[["H2", 2], ["O2", 1]], [["H2O", 2]]]);
  deepEqual(sides("H2O + H2O = 2H2O"), [[["H2O", 2]], [["H2O", 2]]]);
  deepEqual(sides("2H2 + O2 → 2H2O"), [[["H2", 2], ["O2", 1]], [["H2O", 2]]]);
  for (
    const bad of [
      "2H2 + O2",
      "H2 + O2 = H2O = H2O",
      "H2 + = H2O",
      "= H2O",
      "0H2 + O2 = H2O",
      "2 + O2 = H2O",
      "Fe3+ + e = Fe2+",
      "(H2 + O2 = H2O",
      "",
    ]
  ) equal(parseEquation(bad), null, bad);
});

Deno.test("sciknowevalEquationText: the last line with an arrow, after its last colon, unwrapped", () => {
  equal(sciknowevalEquationText("2H2 + O2 = 2H2O"), "2H2 + O2 = 2H2O");
  equal(sciknowevalEquationText("Balanced:\nAnswer: 2H2 + O2 = 2H2O."), "2H2 + O2 = 2H2O");
  equal(sciknowevalEquationText("H2 + O2 = H2O\nso: $2H2 + O2 = 2H2O$"), "2H2 + O2 = 2H2O");
  equal(sciknowevalEquationText("`2H2 + O2 -> 2H2O`"), "2H2 + O2 -> 2H2O");
  equal(sciknowevalEquationText("no equation here"), null);
});

Deno.test("sciknowevalEquationScore: same species, same coefficients, each side", () => {
  const ref = "Na2CrO4(aq) + 2LiBr(aq) = Li2CrO4(aq) + 2NaBr(s)";
  const cases: [string, string, 0 | 1][] = [
    ["the reference itself", ref, 1],
    ["spacing", "Na2CrO4(aq)+2 LiBr(aq) =Li2CrO4(aq) + 2NaBr(s)", 1],
    ["a written coefficient 1", "1Na2CrO4(aq) + 2LiBr(aq) = 1Li2CrO4(aq) + 2NaBr(s)", 1],
    ["order within a side", "2LiBr(aq) + Na2CrO4(aq) = 2NaBr(s) + Li2CrO4(aq)", 1],
    ["an arrow", "Na2CrO4(aq) + 2LiBr(aq) → Li2CrO4(aq) + 2NaBr(s)", 1],
    ["after an explanation", `Balancing Li and Br:\n${ref}`, 1],
    ["the unbalanced equation", "Na2CrO4(aq) + LiBr(aq) = Li2CrO4(aq) + NaBr(s)", 0],
    ["twice every coefficient", "2Na2CrO4(aq) + 4LiBr(aq) = 2Li2CrO4(aq) + 4NaBr(s)", 0],
    ["sides swapped", "Li2CrO4(aq) + 2NaBr(s) = Na2CrO4(aq) + 2LiBr(aq)", 0],
    ["a state symbol changed", "Na2CrO4(aq) + 2LiBr(aq) = Li2CrO4(aq) + 2NaBr(aq)", 0],
    ["a state symbol dropped", "Na2CrO4(aq) + 2LiBr(aq) = Li2CrO4(aq) + 2NaBr", 0],
    ["a species missing", "Na2CrO4(aq) + 2LiBr(aq) = 2NaBr(s)", 0],
    ["an extra species", `${ref} + H2O`, 0],
    ["a coefficient off", "Na2CrO4(aq) + 3LiBr(aq) = Li2CrO4(aq) + 2NaBr(s)", 0],
    ["no equation", "I cannot balance this.", 0],
    ["empty", "", 0],
  ];
  for (const [rule, response, want] of cases) {
    equal(sciknowevalEquationScore(response, ref), want, rule);
  }
  // Charges keep their signs: Fe{3+} is not Fe{2+}.
  equal(
    sciknowevalEquationScore("Al + 3Fe{3+} = Al{3+} + 3Fe{2+}", "Al + 3Fe{3+} = Al{3+} + 3Fe{2+}"),
    1,
  );
  equal(
    sciknowevalEquationScore("Al + 3Fe{2+} = Al{3+} + 3Fe{3+}", "Al + 3Fe{3+} = Al{3+} + 3Fe{2+}"),
    0,
  );
  // A reference that is not one equation is compared as text.
  equal(sciknowevalEquationScore(" Ba + Cl2 = BaCl2 = BaCl2", "Ba + Cl2 = BaCl2 = BaCl2"), 1);
  equal(sciknowevalEquationScore("Ba + Cl2 = BaCl2", "Ba + Cl2 = BaCl2 = BaCl2"), 0);
});

// ── The published files ─────────────────────────────────────────────────────────────────────

const MCQ = "Given a question and four options, please select the right answer.";

/** A published record, field for field. */
function rec(over: Record<string, unknown>): Record<string, unknown> {
  return {
    prompt: { default: MCQ },
    question: "Which gas?",
    choices: { text: ["O2", "N2", "H2", "CO2"], label: ["A", "B", "C", "D"] },
    answerKey: "C",
    type: "mcq-4-choices",
    domain: "Chemistry",
    details: { level: "L3", task: "t", subtask: "s", source: "x" },
    answer: "",
    ...over,
  };
}

const filling = (task: string, answer: string, level = "L3") =>
  rec({
    prompt: { default: "Balance it." },
    question: "H2 + O2 = H2O",
    choices: { text: [], label: [] },
    answerKey: "",
    type: "filling",
    details: { level, task, subtask: task, source: "web" },
    answer,
  });

async function withFile(
  records: Record<string, unknown>[],
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench-ske-" });
  try {
    const path = join(dir, "sciknoweval_chemistry_test.jsonl");
    await Deno.writeTextFile(path, records.map((r) => JSON.stringify(r) + "\n").join(""));
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sciknoweval: multiple choice and balancing are items numbered by row; other kinds skipped and counted", async () => {
  const records = [
    rec({}),
    rec({ type: "true_or_false", choices: { text: [], label: [] }, answerKey: "", answer: "Yes" }),
    filling("balancing_chemical_equation", "2H2 + O2 = 2H2O"),
    filling("reaction_prediction", "CCO"),
    rec({ type: "open-ended-qa", answer: "Because.", domain: "Physics" }),
    rec({
      type: ["mcq-2-choices"],
      choices: { text: ["x", "y"], label: ["A", "B"] },
      answerKey: "B",
    }),
    rec({ domain: "Biology", details: { level: "L1", task: "t", subtask: "s" } }),
    rec({ choices: { text: ["a", "b", "c", "d", "e", "f"], label: ["A", "B", "C", "D"] } }),
    rec({ choices: { text: [1639.9, 1674.8, 1683, 1583.7], label: ["A", "B", "C", "D"] } }),
    rec({ answerKey: "E" }),
    rec({ choices: { text: ["x", "y"], label: ["A", "B", "C", "D"] } }),
    filling("balancing_chemical_equation", " "),
  ];
  await withFile(records, async (path) => {
    const all = await loadTestFile(sciknoweval, path);
    deepEqual(
      all.splits.test.map((d) => [d.id, d.kind, d.answer]),
      [
        ["0", "mcq", "C"],
        ["2", "balance", "2H2 + O2 = 2H2O"],
        ["5", "mcq", "B"],
        ["6", "mcq", "C"],
        ["7", "mcq", "C"],
        ["8", "mcq", "C"],
      ],
    );
    equal(all.skipped, 6, "true/false, the other fill-in task, open-ended, no reference (3)");
    deepEqual(all.splits.test[5].options, ["1639.9", "1674.8", "1683", "1583.7"]);
    equal(all.splits.test[2].type, "mcq-2-choices", "a one-element type list is read");
    const l3 = await loadTestFile(sciknowevalChemL3, path);
    deepEqual(l3.splits.test.map((d) => d.id), ["0", "2", "5", "7", "8"]);
    equal(l3.skipped, 7, "and the Biology L1 question");
  });
});

Deno.test("sciknoweval: the reference answer scores 1, another option or coefficient 0", async () => {
  await withFile(
    [rec({}), filling("balancing_chemical_equation", "2H2 + O2 = 2H2O")],
    async (path) => {
      const items = (await loadTestFile(sciknoweval, path)).splits.test;
      const score = (i: number, text: string) => {
        const s = sciknoweval.score(items[i], { kind: "generate", outputs: [text] }, {});
        return (s as { metrics: { acc: number } }).metrics.acc;
      };
      equal(sciknoweval.target(items[0]), "C");
      equal(score(0, sciknoweval.target(items[0])), 1);
      equal(score(0, "D"), 0);
      equal(score(0, "H2"), 1, "the gold option's text alone");
      equal(score(1, sciknoweval.target(items[1])), 1);
      equal(score(1, "H2 + O2 = H2O"), 0);
      equal(sciknoweval.train!.reward!(items[1], "O2 + 2H2 = 2H2O"), 1);
      deepEqual(sciknoweval.train!.labellings.sft1(items[0]), ["C"]);
      const s = sciknoweval.score(
        items[0],
        { kind: "generate", outputs: ["The answer is C."] },
        {},
      );
      equal((s as { extracted: string }).extracted, "C");
    },
  );
});

Deno.test("sciknoweval: a malformed record is one error naming the file, line and field", async () => {
  const bad = async (record: Record<string, unknown>, message: string) => {
    await withFile([rec({}), record], async (path) => {
      await rejects(
        loadTestFile(sciknoweval, path),
        (e) => e instanceof ValidationError && e.message === `${path}:2: ${message}`,
      );
    });
  };
  await bad(rec({ choices: undefined }), "field 'choices' missing for mcq-4-choices");
  await bad(rec({ details: { task: "t" } }), "field 'details': field 'level' missing");
  await bad(rec({ prompt: { other: "x" } }), "field 'prompt': field 'default' missing");
  await bad(rec({ type: 3 }), "field 'type' must be a string (or a list of one)");
  await bad(
    rec({ choices: { text: ["a", null], label: ["A", "B"] }, answerKey: "A" }),
    "field 'choices.text[1]' holds object, expected strings",
  );
});
