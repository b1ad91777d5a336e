// Tests for the shared LM item machinery: prompt-hash splits, distinct draws, failure on an
// exhausted space, and the output/character conventions every task relies on.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../../lib/errors.ts";
import { answerText, generateDistinct, isPrintableAscii, type LmItem, splitOf } from "./items.ts";

Deno.test("splitOf: a function of task and prompt, about one prompt in five held out", () => {
  equal(splitOf("t", "abc"), splitOf("t", "abc"));
  const prompts = Array.from({ length: 5000 }, (_, i) => `p${i}`);
  const held = prompts.filter((p) => splitOf("t", p) === "heldout").length;
  ok(held > 850 && held < 1150, `${held} of 5000 held out`);
  // The task salts the hash: another task splits the same prompts differently.
  ok(prompts.some((p) => splitOf("t", p) !== splitOf("u", p)));
});

Deno.test("generateDistinct: distinct prompts of the asked split, deterministic ids", () => {
  const draw = (r: { int(n: number): number }) => ({ prompt: `x${r.int(1000)}`, answer: "y" });
  const a = generateDistinct<LmItem>("t", { seed: 3, n: 100, split: "train", draw });
  deepEqual(a, generateDistinct<LmItem>("t", { seed: 3, n: 100, split: "train", draw }));
  equal(new Set(a.map((i) => i.prompt)).size, 100);
  ok(a.every((i) => splitOf("t", i.prompt) === "train"));
  equal(a[7].id, "t/train/7");
  const h = generateDistinct<LmItem>("t", { seed: 3, n: 50, split: "heldout", draw });
  ok(h.every((i) => !a.some((j) => j.prompt === i.prompt)), "splits share no prompt");
  equal(generateDistinct<LmItem>("t", { seed: 3, n: 0, split: "train", draw }).length, 0);
});

Deno.test("generateDistinct: bad n or split, or an exhausted space, is a ValidationError", () => {
  const draw = (r: { int(n: number): number }) => ({ prompt: `x${r.int(20)}`, answer: "y" });
  const fails = (n: number, split: string, re: RegExp) =>
    throws(
      () => generateDistinct<LmItem>("t", { seed: 1, n, split: split as "train", draw }),
      (e) => e instanceof ValidationError && re.test(e.message),
    );
  fails(-1, "train", /n must be a non-negative integer/);
  fails(1.5, "train", /n must be a non-negative integer/);
  fails(1, "test", /split must be 'train' or 'heldout'/);
  fails(21, "train", /^tasks\/lm 't': found only \d+ distinct train items of 21/);
});

Deno.test("answerText drops trailing whitespace only; isPrintableAscii", () => {
  equal(answerText("12\n"), "12");
  equal(answerText("12 \r\n\n"), "12");
  equal(answerText(" 12"), " 12");
  equal(answerText("12\nmore"), "12\nmore");
  ok(isPrintableAscii("a=3 b=~{}!"));
  ok(isPrintableAscii(""));
  ok(!isPrintableAscii("a\nb"));
  ok(!isPrintableAscii("caf\u00e9"));
  ok(!isPrintableAscii("\t"));
});
