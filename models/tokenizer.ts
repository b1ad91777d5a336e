// What a trainable language model needs of a tokenizer (models/llama_policy.ts): encoding without
// special tokens, decoding that skips them, and the special ids. The character tokenizer of the
// tiny LMs implements it; real checkpoints' tokenizers come through transformers.js.

import { charTokenizer as chars } from "./char_tokenizer.ts";

/** A tokenizer as the in-process language models use it. */
export interface Tokenizer {
  /** A name for manifests (`char`, or the tokenizer's folder). */
  readonly name: string;
  /** Ids the tokenizer can produce (the model's vocabulary may be larger). */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number;
  /** Whether prompts and contexts start with BOS (Hugging Face's add_bos_token). */
  readonly addBos: boolean;
  /** Token ids of `text`, no special tokens added. */
  encode(text: string): number[];
  /** The text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string;
}

/** The character tokenizer of the tiny LMs (models/char_tokenizer.ts); prompts start with BOS. */
export const CHAR_TOKENIZER: Tokenizer = {
  name: "char",
  vocabSize: chars.vocabSize,
  bosId: chars.bosId,
  eosId: chars.eosId,
  padId: chars.padId,
  addBos: true,
  encode: chars.encode,
  decode: chars.decode,
};

/** Tokenizers a recipe can name. */
export const TOKENIZERS: Readonly<Record<string, Tokenizer>> = { char: CHAR_TOKENIZER };

/** Prompt ids as a model sees them: BOS first where the tokenizer adds it, never empty. */
export function promptIds(tok: Tokenizer, text: string): number[] {
  const ids = tok.encode(text);
  const start = tok.bosId ?? tok.eosId;
  if (tok.addBos && tok.bosId !== null) return [tok.bosId, ...ids];
  return ids.length > 0 || start === null ? ids : [start];
}
