// General skill `compare` of the tiny LM: compare two numbers.
//
//   cmp:47,52=  -> <   (0-99; `<`, `>` or `=`, ~20% equal)

import { between } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/** Compare two numbers 0-99 with `<`, `>` or `=`: `cmp:47,52=` -> `<`. */
export const compareTask = defineGeneratedTask({
  id: "compare",
  version: "1",
  kind: "general",
  description: "compare two numbers 0-99 (answer <, > or =)",
  generator: "`cmp:<a>,<b>=` with a, b in 0-99, equal in ~20% of items",
  sizes: SKILL_SIZES,
  draw(r) {
    const a = between(r, 0, 99);
    // Uniform pairs are rarely equal; force ~20% so `=` is learnt too.
    const b = r.int(5) === 0 ? a : between(r, 0, 99);
    return { prompt: `cmp:${a},${b}=`, answer: a < b ? "<" : a > b ? ">" : "=" };
  },
});
