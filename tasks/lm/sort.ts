// General skill `sort` of the tiny LM: sort the characters of a short string by char code.
//
//   srt:314=  -> 134   (2-4 digits, or 2-4 letters; by char code)

import { between, corruptString, DIGITS, LETTERS, randomString } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/** Sort 2-4 digits or 2-4 letters: `srt:314=` -> `134`. */
export const sortTask = defineGeneratedTask({
  id: "sort",
  version: "1",
  kind: "general",
  description: "sort 2-4 digits or 2-4 letters by character code",
  generator: "`srt:<s>=` with s 2-4 random digits (half the items) or letters",
  sizes: SKILL_SIZES,
  draw(r) {
    const s = randomString(r, r.int(2) === 0 ? DIGITS : LETTERS, between(r, 2, 4));
    return { prompt: `srt:${s}=`, answer: [...s].sort().join("") };
  },
  // One character changed within its alphabet (digits or letters), which changes the multiset
  // and so the sorted answer: `srt:314=` -> `srt:374=` (answer 347).
  corrupt: (item, r) =>
    corruptString(r, item, {
      tag: "srt:",
      alphabet: (s) => (DIGITS.includes(s[0]) ? DIGITS : LETTERS),
      answer: (s) => [...s].sort().join(""),
    }),
});
