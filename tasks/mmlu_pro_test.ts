// MMLU-Pro's task module: prompts keep as many shots as fit the model's budget, as the official
// evaluate_from_local.py does, and all five when no model is at hand.

import { equal, ok } from "node:assert/strict";
import { mmluPro, type MmluProDoc } from "./mmlu_pro.ts";

const doc = (id: number, question: string): MmluProDoc => ({
  id: String(id),
  question,
  options: ["1", "2", "3", "4"],
  answer: "B",
  answerIndex: 1,
  cot_content: "A: Let's think step by step. " + "Long reasoning. ".repeat(40) +
    "The answer is (B).",
  category: "math",
  src: "x",
});

Deno.test("mmlu_pro: the prompt drops shots until it fits 4096 − 2048 tokens of the model", () => {
  const shots = [1, 2, 3, 4, 5].map((i) => doc(i, `Shot question ${i}?`));
  const q = doc(99, "What is 1 + 1?");
  const count = (s: string) => s.split("Question:").length - 1; // shots + the question itself
  const full = mmluPro.request(q, { shots });
  ok(full.kind === "generate");
  equal(count(full.prompt), 6, "no model: five shots");
  const chars = (s: string) => s.length; // a one-char-per-token model
  const fitted = mmluPro.request(q, { shots, countTokens: chars });
  ok(fitted.kind === "generate");
  ok(chars(fitted.prompt) < 2048 && count(fitted.prompt) < 6, `${count(fitted.prompt)} parts`);
  ok(chars(fitted.prompt) + 700 >= 2048, "as many shots as fit, not fewer");
});
