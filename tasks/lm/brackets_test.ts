// Tests for the brackets skill: isBalanced on hand-written strings, answers checked by an
// independent reduction, and a mix of balanced and unbalanced strings.

import { deepEqual, equal, ok } from "node:assert/strict";
import { bracketsTask, isBalanced } from "./brackets.ts";
import { accOf, splitsOf } from "./_testing.ts";

Deno.test("isBalanced: nesting and kinds must match", () => {
  for (const s of ["", "()", "[]", "([])", "()[]", "[([]())]"]) ok(isBalanced(s), s);
  for (const s of ["(", ")", "(]", "([)]", "())(", "[[]"]) ok(!isBalanced(s), s);
});

Deno.test("brackets: yes iff balanced (by reduction); both answers, about half yes", async () => {
  const { train, all } = await splitsOf(bracketsTask, { seed: 7, n: 100 });
  for (const item of all) {
    const [, body] = item.prompt.match(/^bal:([()[\]]{1,8})=$/)!;
    // Repeatedly delete innermost pairs: balanced iff nothing is left.
    let s = body, prev = "";
    while (s !== prev) [prev, s] = [s, s.replace(/\(\)|\[\]/g, "")];
    equal(item.answer, s === "" ? "yes" : "no", item.prompt);
    equal(await accOf(bracketsTask, item, item.answer === "yes" ? "no" : "yes"), 0);
  }
  deepEqual([...new Set(all.map((i) => i.answer))].sort(), ["no", "yes"]);
  const yes = train.filter((i) => i.answer === "yes").length;
  ok(yes > 25 && yes < 60, `${yes} balanced of 100`);
});
