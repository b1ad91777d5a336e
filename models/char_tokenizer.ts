// A character-level tokenizer for the tiny LMs of tasks/lm: one id per printable ASCII character
// (0x20–0x7e) plus "\n", after three special ids. Ids are fixed by construction:
//
//   0 <pad>   1 <s> (bos)   2 </s> (eos)   3 "\n"   4..98 = " " (0x20) .. "~" (0x7e)
//
// No Hugging Face tokenizer files are written for it: the byte-level BPE of
// models/tokenizer_files.ts assigns different ids, and a matching one is not needed yet.

import { ValidationError } from "../lib/errors.ts";

/** Padding id (never predicted; masked out of losses). */
export const PAD_ID = 0;
/** Beginning-of-sequence id, prepended to prompts. */
export const BOS_ID = 1;
/** End-of-sequence id: {@link decode} stops at it. */
export const EOS_ID = 2;
/** Id of "\n", the answer terminator of tasks/lm. */
export const NEWLINE_ID = 3;
/** Id of the first printable character, " " (0x20); "~" (0x7e) is FIRST_CHAR_ID + 94. */
const FIRST_CHAR_ID = 4;
/** Number of ids: 3 specials + "\n" + 95 printable characters. */
export const VOCAB_SIZE = FIRST_CHAR_ID + (0x7e - 0x20 + 1);

/** The tokenizer as one value, for code that takes a tokenizer argument. */
export const charTokenizer = {
  vocabSize: VOCAB_SIZE,
  padId: PAD_ID,
  bosId: BOS_ID,
  eosId: EOS_ID,
  newlineId: NEWLINE_ID,
  encode,
  decode,
} as const;

/**
 * Token ids of `text`, one per character (no bos/eos added). Throws a ValidationError naming
 * the first character outside printable ASCII + "\n" and its position.
 *
 * @example
 * encode("ab\n"); // [69, 70, 3]
 */
export function encode(text: string): number[] {
  const ids = new Array<number>(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) ids[i] = NEWLINE_ID;
    else if (c >= 0x20 && c <= 0x7e) ids[i] = FIRST_CHAR_ID + c - 0x20;
    else {
      throw new ValidationError(
        "char tokenizer",
        `character ${JSON.stringify(text[i])} (U+${
          c.toString(16).toUpperCase().padStart(4, "0")
        }) at position ${i} is not printable ASCII or "\\n"`,
      );
    }
  }
  return ids;
}

/**
 * The text of `ids`, stopping at the first eos; pad and bos are skipped. Throws a
 * ValidationError on an id outside [0, VOCAB_SIZE).
 */
export function decode(ids: readonly number[]): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === EOS_ID) break;
    if (id === PAD_ID || id === BOS_ID) continue;
    if (id === NEWLINE_ID) s += "\n";
    else if (Number.isInteger(id) && id >= FIRST_CHAR_ID && id < VOCAB_SIZE) {
      s += String.fromCharCode(0x20 + id - FIRST_CHAR_ID);
    } else {
      throw new ValidationError(
        "char tokenizer",
        `id ${id} at position ${i} is outside [0, ${VOCAB_SIZE})`,
      );
    }
  }
  return s;
}
