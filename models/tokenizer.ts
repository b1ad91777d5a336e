// What a trainable language model needs of a tokenizer (models/llama_policy.ts): encoding without
// special tokens, decoding that skips them, the special ids, and (for chat models) the chat
// template. The character tokenizer of the tiny LMs implements it; real checkpoints' tokenizers
// (tokenizer.json + tokenizer_config.json) come through transformers.js (loadHfTokenizer).

import type { PreTrainedTokenizer } from "@huggingface/transformers";
import { ValidationError } from "../lib/errors.ts";
import { charTokenizer as chars } from "./char_tokenizer.ts";
import type { TokenizerFiles } from "./tokenizer_files.ts";

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
  /** Token ids of `text`, no special tokens added (special tokens written in it are kept). */
  encode(text: string): number[];
  /** The text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string;
  /**
   * The chat template applied to one user turn with the generation prompt added (Hugging Face's
   * apply_chat_template), where the tokenizer has a template.
   */
  chat?(prompt: string): string;
  /** Whether prompts are wrapped in the chat template ({@link withChat}; see promptIds). */
  readonly chatPrompts?: boolean;
  /**
   * The Hugging Face files the tokenizer was read from, by file name, copied verbatim into every
   * checkpoint saved from a model that uses it.
   */
  readonly files?: ReadonlyMap<string, Uint8Array>;
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

/**
 * Prompt ids as a model sees them: BOS first where the tokenizer adds it, never empty. With
 * {@link withChat}, the prompt is the user turn of the chat template, whose own special tokens
 * (Llama-3's <|begin_of_text|> included) are the whole prefix: no BOS is added on top.
 */
export function promptIds(tok: Tokenizer, text: string): number[] {
  if (tok.chatPrompts && tok.chat) return tok.encode(tok.chat(text));
  const ids = tok.encode(text);
  const start = tok.bosId ?? tok.eosId;
  if (tok.addBos && tok.bosId !== null) return [tok.bosId, ...ids];
  return ids.length > 0 || start === null ? ids : [start];
}

/**
 * `tok` with prompts wrapped in its chat template (one user turn, generation prompt added), as
 * recipes that ask for chat formatting want; `where` names the setting in the error when the
 * tokenizer has no template.
 */
export function withChat(tok: Tokenizer, where: string): Tokenizer {
  if (!tok.chat) {
    throw new ValidationError(
      where,
      `tokenizer ${tok.name} has no chat template (tokenizer_config.json chat_template or chat_template.jinja)`,
    );
  }
  return { ...tok, chatPrompts: true };
}

/**
 * A Hugging Face tokenizer through transformers.js, from its files' bytes by name (tokenizer.json
 * and tokenizer_config.json required; chat_template.jinja used where tokenizer_config.json has no
 * template, as transformers does). The tokenizer class comes from tokenizer_config.json's
 * tokenizer_class as AutoTokenizer picks it. `addBos` is tokenizer_config.json's add_bos_token
 * where set, else whether the post-processor adds BOS (Llama-3); without BOS (Qwen2.5) prompts
 * start with no special token and an empty context is scored after EOS, as lm-eval does.
 * `where` (the folder) names the files in errors.
 *
 * @example
 * const tok = await loadHfTokenizer(files, { name: "Qwen/Qwen2.5-0.5B-Instruct", where: dir });
 */
export async function loadHfTokenizer(
  files: ReadonlyMap<string, Uint8Array>,
  opts: { name: string; where: string },
): Promise<Tokenizer> {
  const json = (file: string) => {
    const bytes = files.get(file);
    if (!bytes) {
      throw new ValidationError(
        `${opts.where}/${file}`,
        'missing: a model folder needs tokenizer.json and tokenizer_config.json (or name tokenizer: "char")',
      );
    }
    try {
      const v = JSON.parse(new TextDecoder().decode(bytes));
      if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
      return v as Record<string, unknown>;
    } catch (e) {
      throw new ValidationError(`${opts.where}/${file}`, `not a JSON object (${firstLine(e)})`);
    }
  };
  const tokenizerJson = json("tokenizer.json"), config = { ...json("tokenizer_config.json") };
  const jinja = files.get("chat_template.jinja");
  if (config.chat_template === undefined && jinja) {
    config.chat_template = new TextDecoder().decode(jinja);
  }
  // Imported on demand: transformers.js loads ONNX Runtime's native addon, which runs that only
  // use the character tokenizer never need.
  const tf = await import("@huggingface/transformers");
  let tok: PreTrainedTokenizer;
  try {
    const name = String(config.tokenizer_class ?? "PreTrainedTokenizer").replace(/Fast$/, "");
    const found = (tf as unknown as Record<string, unknown>)[name];
    const Cls = typeof found === "function" &&
        (found === tf.PreTrainedTokenizer || found.prototype instanceof tf.PreTrainedTokenizer)
      ? found as typeof tf.PreTrainedTokenizer
      : tf.PreTrainedTokenizer;
    tok = new Cls(tokenizerJson, config);
  } catch (e) {
    throw new ValidationError(
      `${opts.where}/tokenizer.json`,
      `transformers.js cannot load it: ${firstLine(e)}`,
    );
  }
  return hfTokenizer(tok, { name: opts.name, files, config });
}

/** The Tokenizer view of a transformers.js tokenizer. */
function hfTokenizer(
  tok: PreTrainedTokenizer,
  o: { name: string; files: ReadonlyMap<string, Uint8Array>; config: Record<string, unknown> },
): Tokenizer {
  const id = (v: number | null | undefined) => (typeof v === "number" ? v : null);
  const bosId = id(tok.bos_token_id), eosId = id(tok.eos_token_id);
  let vocabSize = 0;
  for (const v of tok.get_vocab().values()) vocabSize = Math.max(vocabSize, v + 1);
  for (const v of tok.all_special_ids) vocabSize = Math.max(vocabSize, v + 1);
  const addBosSetting = o.config.add_bos_token;
  const withSpecials = tok.encode("a", { add_special_tokens: true });
  const addBos = typeof addBosSetting === "boolean"
    ? addBosSetting
    : bosId !== null && withSpecials[0] === bosId;
  const hasTemplate = tok.chat_template !== null && tok.chat_template !== undefined;
  return {
    name: o.name,
    vocabSize,
    bosId,
    eosId,
    padId: id(tok.pad_token_id) ?? eosId ?? 0,
    addBos,
    encode: (text) => (text === "" ? [] : tok.encode(text, { add_special_tokens: false })),
    decode: (ids) => (ids.length === 0 ? "" : tok.decode([...ids], { skip_special_tokens: true })),
    ...(hasTemplate
      ? {
        chat: (prompt: string) =>
          tok.apply_chat_template([{ role: "user", content: prompt }], {
            tokenize: false,
            add_generation_prompt: true,
          }) as string,
      }
      : {}),
    files: o.files,
  };
}

/**
 * The tokenizer's Hugging Face files as {@link TokenizerFiles} (what exportOnnx writes), for a
 * tokenizer read by {@link loadHfTokenizer}; null for one without files (the character
 * tokenizer has models/char_tokenizer.ts's charTokenizerFiles).
 */
export function tokenizerFilesOf(tok: Tokenizer): TokenizerFiles | null {
  const tj = tok.files?.get("tokenizer.json"), tc = tok.files?.get("tokenizer_config.json");
  if (!tj || !tc || tok.eosId === null) return null;
  const config = JSON.parse(new TextDecoder().decode(tc)) as Record<string, unknown>;
  const jinja = tok.files?.get("chat_template.jinja");
  if (config.chat_template === undefined && jinja) {
    config.chat_template = new TextDecoder().decode(jinja);
  }
  return {
    tokenizer: JSON.parse(new TextDecoder().decode(tj)),
    config,
    vocabSize: tok.vocabSize,
    bosId: tok.bosId,
    eosId: tok.eosId,
    padId: tok.padId,
  };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
