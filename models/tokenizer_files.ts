// Writes a Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) that
// transformers.js and HF tokenizers load: 256 byte tokens in GPT-2's byte↔unicode alphabet, so
// every Unicode string round-trips, a few fixed merges, and Llama-style special tokens. Also the
// TokenizerFiles shape every tokenizer that writes such files shares.

import { writeTextAtomic } from "../lib/atomic.ts";

/** GPT-2's byte → printable unicode character map (bytes_to_unicode in HF tokenizers). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const map = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  }
  return map;
}

/**
 * Merges for common English pieces plus one UTF-8 pair, written as byte-level strings ("Ġ" is
 * a space). Each merge's parts exist before it, so the list is valid BPE in this order.
 */
export const DEFAULT_MERGES: readonly (readonly [string, string])[] = [
  ["Ġ", "t"],
  ["h", "e"],
  ["Ġt", "he"],
  ["i", "n"],
  ["e", "r"],
  ["a", "n"],
  ["o", "n"],
  ["Ġ", "a"],
  ["r", "e"],
  ["Ġ", "s"],
  ["e", "n"],
  ["a", "t"],
  ["o", "r"],
  ["Ġ", "w"],
  ["Ġ", "o"],
  ["e", "s"],
  ["Ġ", "c"],
  ["i", "s"],
  ["Ġa", "n"],
  ["Ġan", "d"],
  ["Ġ", "i"],
  ["Ġ", "f"],
  ["Ġo", "f"],
  ["n", "g"],
  ["i", "ng"],
  ["Ġ", "p"],
  ["e", "d"],
  ["Ġ", "1"],
  ["Ġ", "2"],
  ["Ã", "©"], // é in UTF-8 (C3 A9)
];

/** Special tokens, in id order 0..3 (the Llama convention for unk/bos/eos). */
export const SPECIAL_TOKENS = { unk: "<unk>", bos: "<s>", eos: "</s>", pad: "<pad>" } as const;

/** A Llama-2-style chat template over the special tokens above. */
export const CHAT_TEMPLATE = "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}" +
  "{% elif message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
  "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}" +
  "{% endif %}{% endfor %}";

/**
 * Any tokenizer as Hugging Face tokenizer files: the two JSON documents a model folder holds and
 * the ids its config.json and generation_config.json name. {@link byteLevelTokenizer} and
 * models/char_tokenizer.ts's charTokenizerFiles produce one; {@link writeTokenizerFiles} writes it.
 */
export interface TokenizerFiles {
  /** tokenizer.json contents. */
  readonly tokenizer: Record<string, unknown>;
  /** tokenizer_config.json contents. */
  readonly config: Record<string, unknown>;
  /** Number of ids the tokenizer can produce (the model's vocab may be larger). */
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /** The id of unknown text, when the tokenizer has one. */
  readonly unkId?: number;
}

/**
 * Llama's post-processor: BOS (`bos`, id `id`) before each sequence when special tokens are
 * requested.
 */
export function bosPostProcessor(bos: string, id: number): Record<string, unknown> {
  return {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: bos, type_id: 1 } },
      { Sequence: { id: "B", type_id: 1 } },
    ],
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
}

/** The byte-level BPE tokenizer's files: {@link TokenizerFiles} with unk, bos, eos, pad = 0..3. */
export interface ByteLevelTokenizer extends TokenizerFiles {
  readonly unkId: number;
}

/**
 * Builds a byte-level BPE tokenizer: ids 0-3 special, 4-259 the bytes 0x00-0xff, then one id
 * per merge, then one per `extraSpecialTokens` entry (e.g. a vision-language model's `<image>`),
 * each an added special token that the text around it never merges into. The post-processor
 * prepends `<s>` when special tokens are requested, as Llama's does. `chatTemplate` replaces the
 * Llama-2-style CHAT_TEMPLATE.
 */
export function byteLevelTokenizer(
  opts: {
    merges?: readonly (readonly [string, string])[];
    modelMaxLength?: number;
    extraSpecialTokens?: readonly string[];
    chatTemplate?: string;
  } = {},
): ByteLevelTokenizer {
  const merges = opts.merges ?? DEFAULT_MERGES;
  const specials = [SPECIAL_TOKENS.unk, SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos, SPECIAL_TOKENS.pad];
  const vocab: Record<string, number> = {};
  specials.forEach((t, i) => (vocab[t] = i));
  bytesToUnicode().forEach((ch, b) => (vocab[ch] = specials.length + b));
  for (const [a, b] of merges) {
    if (!(a in vocab) || !(b in vocab)) throw new RangeError(`merge ${a} ${b}: part not in vocab`);
    if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length;
  }
  const added: { id: number; content: string }[] = specials.map((content, id) => ({ id, content }));
  for (const content of opts.extraSpecialTokens ?? []) {
    if (content in vocab) throw new RangeError(`special token ${content} is already in the vocab`);
    vocab[content] = Object.keys(vocab).length;
    added.push({ id: vocab[content], content });
  }
  const vocabSize = Object.keys(vocab).length;
  const bos = SPECIAL_TOKENS.bos;
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added.map(({ id, content }) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: bosPostProcessor(bos, vocab[bos]),
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: SPECIAL_TOKENS.bos,
    eos_token: SPECIAL_TOKENS.eos,
    unk_token: SPECIAL_TOKENS.unk,
    pad_token: SPECIAL_TOKENS.pad,
    chat_template: opts.chatTemplate ?? CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: opts.modelMaxLength ?? 2048,
    padding_side: "right",
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  return { tokenizer, config, vocabSize, unkId: 0, bosId: 1, eosId: 2, padId: 3 };
}

/**
 * Writes tokenizer.json and tokenizer_config.json into `dir` (which must exist), atomically; the
 * default is the byte-level BPE tokenizer.
 */
export async function writeTokenizerFiles(
  dir: string,
  tok: TokenizerFiles = byteLevelTokenizer(),
): Promise<void> {
  await writeTextAtomic(`${dir}/tokenizer.json`, JSON.stringify(tok.tokenizer, null, 2) + "\n");
  await writeTextAtomic(
    `${dir}/tokenizer_config.json`,
    JSON.stringify(tok.config, null, 2) + "\n",
  );
}
