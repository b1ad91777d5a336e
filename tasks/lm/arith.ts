// General skill `arith` of the tiny LM: add or subtract small numbers.
//
//   12+3=  / 17-13=  -> 15 / 4   (operands 0-20, results 0-40)
//
// Capacity: only ~670 distinct prompts (~540 train, ~140 test), which is why pretraining draws
// its corpus with repeats (tasks/lm/generated.ts) and a test split of more than ~140 throws.

import { between, pick } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/** Add or subtract operands 0-20 (never below 0): `17-13=` -> `4`. */
export const arithTask = defineGeneratedTask({
  id: "arith",
  version: "1",
  kind: "general",
  description: "add or subtract two numbers 0-20 (results 0-40)",
  generator: "`<a>+<b>=` or `<a>-<b>=` with a, b in 0-20 and b <= a for subtraction",
  sizes: SKILL_SIZES,
  draw(r) {
    const a = between(r, 0, 20);
    if (r.int(2) === 0) {
      const b = between(r, 0, 20);
      return { prompt: `${a}+${b}=`, answer: String(a + b) };
    }
    const b = between(r, 0, a);
    return { prompt: `${a}-${b}=`, answer: String(a - b) };
  },
  // One operand replaced by another of as many digits (still 0-20, b <= a for subtraction), so
  // the prompt keeps its length and the result changes: `17-13=` -> `17-11=` (answer 6).
  corrupt(item, r) {
    const [, x, op, y] = item.prompt.match(/^(\d+)([+-])(\d+)=$/)!;
    const a = Number(x), b = Number(y);
    const answer = (p: number, q: number) => String(op === "+" ? p + q : p - q);
    const options: { prompt: string; answer: string }[] = [];
    for (let v = 0; v <= 20; v++) {
      if (v !== a && String(v).length === x.length && (op === "+" || v >= b)) {
        options.push({ prompt: `${v}${op}${y}=`, answer: answer(v, b) });
      }
      if (v !== b && String(v).length === y.length && (op === "+" || v <= a)) {
        options.push({ prompt: `${x}${op}${v}=`, answer: answer(a, v) });
      }
    }
    return options.length === 0 ? null : pick(r, options);
  },
});
