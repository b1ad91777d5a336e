// General skill `copy` of the tiny LM: repeat a short string of letters and digits.
//
//   cpy:k3xq=  -> k3xq   (2-5 letters/digits)

import { ALNUM, between, corruptString, randomString } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/** Copy a 2-5 character string: `cpy:k3xq=` -> `k3xq`. */
export const copyTask = defineGeneratedTask({
  id: "copy",
  version: "1",
  kind: "general",
  description: "copy a 2-5 character string of letters and digits",
  generator: "`cpy:<s>=` with s 2-5 random letters or digits",
  sizes: SKILL_SIZES,
  draw(r) {
    const s = randomString(r, ALNUM, between(r, 2, 5));
    return { prompt: `cpy:${s}=`, answer: s };
  },
  // One character of the string changed: `cpy:k3xq=` -> `cpy:k3aq=` (answer k3aq).
  corrupt: (item, r) =>
    corruptString(r, item, { tag: "cpy:", alphabet: () => ALNUM, answer: (s) => s }),
});
