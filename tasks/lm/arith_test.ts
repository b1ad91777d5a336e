// Tests for the arith skill: answers recomputed from the prompt, in range; strict scoring of
// hand-written outputs; the small space that makes the pretraining corpus repeat.

import { equal, ok } from "node:assert/strict";
import { arithTask } from "./arith.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("arith: answers recomputed from the prompt, 0-40, both operations", async () => {
  const { all } = await splitsOf(arithTask, { seed: 7, n: 100 });
  for (const item of all) {
    const [, a, op, b] = item.prompt.match(/^(\d+)([+-])(\d+)=$/)!;
    ok(+a <= 20 && +b <= 20, item.prompt);
    equal(item.answer, String(op === "+" ? +a + +b : +a - +b), item.prompt);
    ok(+item.answer >= 0 && +item.answer <= 40, item.prompt);
  }
  ok(all.some((i) => i.prompt.includes("-")) && all.some((i) => i.prompt.includes("+")));
});

Deno.test("arith: only the exact decimal scores", async () => {
  const add = { id: "x", prompt: "12+34=", answer: "46" };
  equal(await accOf(arithTask, add, "46"), 1);
  equal(await accOf(arithTask, add, "46\n"), 1);
  for (const bad of ["47", "046", "46.0", "forty-six", "4 6", "+46"]) {
    equal(await accOf(arithTask, add, bad), 0, bad);
  }
});

Deno.test("arith: about 670 prompts in all, so a test split of 200 cannot be drawn", async () => {
  const { splits } = await arithTask.load({ seed: 0, sizes: { train: 500, test: 130 } });
  equal(splits.train.length + splits.test.length, 630);
  const err = await arithTask.load({ seed: 0, sizes: { test: 200 } }).catch((e) => e);
  ok(err instanceof Error && /found only 1\d\d distinct test items of 200/.test(err.message));
});
