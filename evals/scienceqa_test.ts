// Tests for evals/scienceqa.ts: the prompt as LLaVA-1.5's ScienceQA questions with
// `--single-pred-prompt` read (and lmms-eval's sqa_doc_to_text builds), and the letter reading
// of llava/eval/eval_science_qa.py, case by case from its three rules.

import { equal, throws } from "node:assert/strict";
import {
  optionLetter,
  SCIENCEQA_INSTRUCTION,
  scienceqaExtract,
  scienceqaPrompt,
  scienceqaScore,
} from "./scienceqa.ts";

Deno.test("scienceqaPrompt: Context line only with a hint, lettered options, the instruction", () => {
  equal(
    scienceqaPrompt({
      question: "Which tense does the sentence use?\nMona will print her name.",
      hint: "",
      choices: ["future tense", "present tense", "past tense"],
    }),
    "Which tense does the sentence use?\nMona will print her name.\nA. future tense\nB. present tense\nC. past tense\n" +
      "Answer with the option's letter from the given choices directly.",
  );
  equal(
    scienceqaPrompt({
      question: "Which animal's feet are also adapted for swimming?",
      hint: "Ducks live near water. The feet of the duck are adapted for swimming.",
      choices: ["sea otter", "tokay gecko"],
    }),
    "Context: Ducks live near water. The feet of the duck are adapted for swimming.\n" +
      "Which animal's feet are also adapted for swimming?\nA. sea otter\nB. tokay gecko\n" +
      SCIENCEQA_INSTRUCTION,
  );
});

Deno.test("optionLetter: A, B, … and no letter past Z", () => {
  equal(optionLetter(0), "A");
  equal(optionLetter(4), "E");
  throws(() => optionLetter(26), RangeError);
  throws(() => optionLetter(-1), RangeError);
});

Deno.test("scienceqaExtract: the letter itself, 'X. ', or one 'The answer is X.'; else nothing", () => {
  const cases: [string, string | null][] = [
    ["A", "A"],
    ["  C\n", "C"], // model_vqa_science.py strips the decoded text
    ["E", "E"], // any of A–E, even past the choices (scored as no prediction)
    ["B. sea otter", "B"],
    ["B. ", null], // stripped to "B.", too short for the "X. " rule
    ["B.", null], // fewer than 3 characters: not the "X. " rule
    ["B.sea otter", null],
    ["b", null],
    ["(B)", null],
    ["F", null],
    ["The answer is B.", "B"],
    ["Sea otters swim. The answer is A. Indeed.", "A"],
    ["The answer is B", null], // the pattern needs a character after the letter
    ["The answer is A. No wait, the answer is B. The answer is B.", null], // two matches
    ["The answer is Z!", "Z"],
    ["The answer is A\nThe rest", null], // Python's `.` does not match a newline
    ["", null],
  ];
  for (const [text, want] of cases) equal(scienceqaExtract(text, 3), want, JSON.stringify(text));
});

Deno.test("scienceqaScore: 1 only for the answer's letter among the item's options", () => {
  const doc = { answer: 1, choices: ["frog", "cat", "trout"] };
  equal(scienceqaScore("B", doc), 1);
  equal(scienceqaScore("B. cat", doc), 1);
  equal(scienceqaScore("Cats are mammals. The answer is B.", doc), 1);
  equal(scienceqaScore("A", doc), 0);
  equal(scienceqaScore("cat", doc), 0);
  // D and E are letters eval_science_qa.py accepts, but get_pred_idx maps them past the choices.
  equal(scienceqaScore("D", doc), 0);
  equal(scienceqaScore("The answer is Z.", doc), 0);
  equal(scienceqaScore("E", { answer: 4, choices: ["a", "b", "c", "d", "e"] }), 1);
});
