// A character-level tokenizer for the tiny LMs of tasks/lm: one id per printable ASCII character
// (0x20–0x7e) plus "\n", after three special ids, and one id for every other character. Ids are
// fixed by construction:
//
//   0 <pad>   1 <s> (bos)   2 </s> (eos)   3 "\n"   4..98 = " " (0x20) .. "~" (0x7e)   99 unk
//
// charTokenizerFiles writes the same tokenizer as Hugging Face tokenizer files (a BPE with no
// merges over the characters), so a model exported with models/llama_io.ts's exportOnnx is
// tokenized identically by transformers.js.

import { ValidationError } from "../lib/errors.ts";
import { bosPostProcessor, type TokenizerFiles } from "./tokenizer_files.ts";

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
/**
 * Id of every character outside printable ASCII + "\n"; it decodes to U+FFFD (the Unicode
 * replacement character), which is also its token in the tokenizer files.
 */
export const UNK_ID = FIRST_CHAR_ID + (0x7e - 0x20 + 1);
/** Number of ids: 3 specials + "\n" + 95 printable characters + unk. */
export const VOCAB_SIZE = UNK_ID + 1;

const UNK_TEXT = "\uFFFD";

/** The tokenizer as one value, for code that takes a tokenizer argument. */
export const charTokenizer = {
  vocabSize: VOCAB_SIZE,
  padId: PAD_ID,
  bosId: BOS_ID,
  eosId: EOS_ID,
  newlineId: NEWLINE_ID,
  unkId: UNK_ID,
  encode,
  decode,
} as const;

/**
 * Token ids of `text`, one per character (Unicode code point), no bos/eos added. Characters
 * outside printable ASCII + "\n" (tabs, "é", emoji, ...) all become {@link UNK_ID}.
 *
 * @example
 * encode("ab\n"); // [69, 70, 3]
 * encode("é!"); // [99, 5]
 */
export function encode(text: string): number[] {
  const ids: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a) ids.push(NEWLINE_ID);
    else if (c >= 0x20 && c <= 0x7e) ids.push(FIRST_CHAR_ID + c - 0x20);
    else ids.push(UNK_ID);
  }
  return ids;
}

/**
 * The text of `ids`, stopping at the first eos; pad and bos are skipped, unk gives "\uFFFD".
 * Throws a ValidationError on an id outside [0, VOCAB_SIZE).
 */
export function decode(ids: readonly number[]): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === EOS_ID) break;
    if (id === PAD_ID || id === BOS_ID) continue;
    if (id === NEWLINE_ID) s += "\n";
    else if (id === UNK_ID) s += UNK_TEXT;
    else if (Number.isInteger(id) && id >= FIRST_CHAR_ID && id < UNK_ID) {
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

/**
 * The tokenizer as Hugging Face tokenizer files (tokenizer.json + tokenizer_config.json) that
 * transformers.js loads and that encode every string as {@link encode} does: a BPE model with no
 * merges and no pre-tokenizer over the character vocabulary (so one token per character) whose
 * unknown token is U+FFFD (id 99), and a "Fuse" decoder that joins the characters back. With
 * special tokens the post-processor prepends `<s>`, as Llama's does.
 *
 * The specials are deliberately not "added tokens": transformers.js would then match the text
 * "<s>" in input as the bos id, where {@link encode} gives three characters. They are listed as
 * `additional_special_tokens` instead, which is what `decode(ids, { skip_special_tokens: true })`
 * skips. (Python's transformers registers configured special tokens as added tokens, so there
 * a literal "<s>" in text does become bos.)
 *
 * @example
 * await exportOnnx("out/char-lm", { config, params, tokenizer: charTokenizerFiles() });
 */
export function charTokenizerFiles(): TokenizerFiles {
  const vocab: Record<string, number> = { "<pad>": PAD_ID, "<s>": BOS_ID, "</s>": EOS_ID };
  vocab["\n"] = NEWLINE_ID;
  for (let c = 0x20; c <= 0x7e; c++) vocab[String.fromCharCode(c)] = FIRST_CHAR_ID + c - 0x20;
  vocab[UNK_TEXT] = UNK_ID;
  const bos = "<s>";
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: bosPostProcessor(bos, BOS_ID),
    decoder: { type: "Fuse" },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: UNK_TEXT,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: bos,
    eos_token: "</s>",
    pad_token: "<pad>",
    unk_token: UNK_TEXT,
    additional_special_tokens: ["<pad>", bos, "</s>"],
    clean_up_tokenization_spaces: false,
    padding_side: "right",
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  return {
    tokenizer,
    config,
    vocabSize: VOCAB_SIZE,
    bosId: BOS_ID,
    eosId: EOS_ID,
    padId: PAD_ID,
    unkId: UNK_ID,
  };
}
