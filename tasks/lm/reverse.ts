// General skill `reverse` of the tiny LM: write a short string backwards.
//
//   rev:abc=  -> cba   (2-4 letters/digits)

import { ALNUM, between, corruptString, randomString } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/**
 * Reverse a 2-4 character string: `rev:abc=` -> `cba`.
 *
 * @example
 * const { splits } = await reverseTask.load({ seed: 1, sizes: { train: 1 } });
 * // splits.train: [{ prompt: "rev:nr=", answer: "rn", id: "reverse/train/0" }]
 */
export const reverseTask = defineGeneratedTask({
  id: "reverse",
  version: "1",
  kind: "general",
  description: "reverse a 2-4 character string of letters and digits",
  generator: "`rev:<s>=` with s 2-4 random letters or digits",
  sizes: SKILL_SIZES,
  draw(r) {
    const s = randomString(r, ALNUM, between(r, 2, 4));
    return { prompt: `rev:${s}=`, answer: [...s].reverse().join("") };
  },
  // One character of the string changed: `rev:abc=` -> `rev:axc=` (answer cxa).
  corrupt: (item, r) =>
    corruptString(r, item, {
      tag: "rev:",
      alphabet: () => ALNUM,
      answer: (s) => [...s].reverse().join(""),
    }),
});
