// The general skills' counterfactuals (GeneratedTaskSpec.corrupt, Task.counterfactual), for
// circuit discovery: every registered task that declares them gives, for most items, a prompt
// of the same length whose correct answer differs and is the answer the task's own draw rule
// gives that prompt; the same (item, seed) gives the same counterfactual.

import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { TASK_LIST } from "../mod.ts";
import type { LmItem } from "./items.ts";
import { accOf } from "./_testing.ts";

const SKILLS = ["copy", "reverse", "sort", "arith", "compare", "brackets", "lookup"];

Deno.test("every general skill declares counterfactuals", () => {
  const have = TASK_LIST.filter((t) => t.counterfactual).map((t) => t.id);
  for (const s of SKILLS) ok(have.includes(s), s);
});

for (const task of TASK_LIST.filter((t) => t.counterfactual)) {
  Deno.test(`${task.id}: counterfactuals keep the length, change the answer, are deterministic`, async () => {
    const { splits } = await task.load({ seed: 0, sizes: { test: 32, train: 64 } });
    const items = [...splits.test, ...splits.train] as LmItem[];
    let made = 0;
    for (const item of items) {
      const cf = task.counterfactual!(item, 7);
      deepEqual(task.counterfactual!(item, 7), cf, item.prompt);
      if (cf === null) continue;
      made++;
      equal(cf.prompt.length, item.prompt.length, `${item.prompt} -> ${cf.prompt}`);
      notEqual(cf.answer, item.answer, cf.prompt);
      notEqual(cf.prompt, item.prompt);
      // The counterfactual's answer is what the task scores right on that prompt.
      const as = { ...item, prompt: cf.prompt, answer: cf.answer };
      equal(await accOf(task, as, cf.answer), 1);
      equal(await accOf(task, as, item.answer), 0);
    }
    // Most items have one (brackets: an unbalanced string of odd length has none).
    ok(made >= 0.6 * items.length, `${task.id}: ${made} of ${items.length}`);
    // Another seed draws other counterfactuals for some items.
    ok(items.some((it) =>
      JSON.stringify(task.counterfactual!(it, 8)) !==
        JSON.stringify(task.counterfactual!(it, 7))
    ));
  });
}
