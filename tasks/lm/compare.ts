// General skill `compare` of the tiny LM: compare two numbers.
//
//   cmp:47,52=  -> <   (0-99; `<`, `>` or `=`, ~20% equal)

import { between, pick } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

function cmp(a: number, b: number): string {
  return a < b ? "<" : a > b ? ">" : "=";
}

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
    return { prompt: `cmp:${a},${b}=`, answer: cmp(a, b) };
  },
  // One number replaced by another of as many digits (0-99) that changes the answer:
  // `cmp:47,52=` -> `cmp:47,32=` (answer >).
  corrupt(item, r) {
    const [, x, y] = item.prompt.match(/^cmp:(\d+),(\d+)=$/)!;
    const a = Number(x), b = Number(y);
    const options: { prompt: string; answer: string }[] = [];
    for (let v = 0; v <= 99; v++) {
      if (String(v).length === x.length && cmp(v, b) !== item.answer) {
        options.push({ prompt: `cmp:${v},${y}=`, answer: cmp(v, b) });
      }
      if (String(v).length === y.length && cmp(a, v) !== item.answer) {
        options.push({ prompt: `cmp:${x},${v}=`, answer: cmp(a, v) });
      }
    }
    return options.length === 0 ? null : pick(r, options);
  },
});
