// Writes Hugging Face byte-level BPE tokenizers (tokenizer.json + tokenizer_config.json) that
// transformers.js and HF tokenizers load: 256 byte tokens in GPT-2's byte↔unicode alphabet, so
// every Unicode string round-trips, a few fixed merges, and special tokens in one of three
// published layouts: Llama-2-style (<s>, </s>; the default), Qwen2.5-Instruct's (ChatML, no BOS)
// and Llama-3's (<|begin_of_text|> added by the post-processor). Also the TokenizerFiles shape
// every tokenizer that writes such files shares.

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
  /** BOS id; null for tokenizers without one (Qwen2). */
  readonly bosId: number | null;
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
  readonly bosId: number;
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

// ---- Qwen2.5's and Llama-3's layouts: bytes and merges first, special tokens after ----

/** GPT-2's byte order (printable bytes first, as bytes_to_unicode lists them), the ids 0..255 of
 * GPT-2-derived vocabularies such as Qwen2's and Llama-3's. */
function gpt2ByteOrder(): number[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  for (let b = 0; b < 256; b++) if (!keep.includes(b)) keep.push(b);
  return keep;
}

/** Byte tokens in GPT-2's order, then one id per merge. */
function bytesAndMerges(merges: readonly (readonly [string, string])[]): Record<string, number> {
  const chars = bytesToUnicode(), vocab: Record<string, number> = {};
  gpt2ByteOrder().forEach((b, i) => (vocab[chars[b]] = i));
  for (const [a, b] of merges) {
    if (!(a in vocab) || !(b in vocab)) throw new RangeError(`merge ${a} ${b}: part not in vocab`);
    if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length;
  }
  return vocab;
}

/** An added_tokens entry of tokenizer.json. */
function addedToken(id: number, content: string) {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
}

/** tokenizer_config.json's added_tokens_decoder for the same tokens. */
function addedDecoder(tokens: readonly { id: number; content: string }[]) {
  return Object.fromEntries(tokens.map(({ id, content }) => {
    const { id: _, ...rest } = addedToken(id, content);
    return [String(id), rest];
  }));
}

/** The split regex of Qwen2's pre-tokenizer (digits one at a time). */
const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The split regex of Llama-3's pre-tokenizer (digits in groups of up to three). */
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Qwen2.5-Instruct's chat template (ChatML with its default system prompt and tool calls). */
export const QWEN2_CHAT_TEMPLATE = `{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
`;

/** Meta-Llama-3-Instruct's chat template. */
export const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

/** Qwen2's special tokens, in id order after the merges (the first three of the published 22). */
export const QWEN2_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

/** Llama-3.1's first special tokens, in id order after the merges (of the published 256). */
export const LLAMA3_SPECIAL_TOKENS = [
  "<|begin_of_text|>",
  "<|end_of_text|>",
  "<|reserved_special_token_0|>",
  "<|reserved_special_token_1|>",
  "<|finetune_right_pad_id|>",
  "<|reserved_special_token_2|>",
  "<|start_header_id|>",
  "<|end_header_id|>",
  "<|eom_id|>",
  "<|eot_id|>",
  "<|python_tag|>",
] as const;

/** The ByteLevel step with the given flags (pre-tokenizer, post-processor or decoder). */
function byteLevel(o: { prefix: boolean; trim: boolean; regex: boolean }) {
  return {
    type: "ByteLevel",
    add_prefix_space: o.prefix,
    trim_offsets: o.trim,
    use_regex: o.regex,
  };
}

/** tokenizer.json's BPE model over `vocab` and `merges`. */
function bpeModel(
  vocab: Record<string, number>,
  merges: readonly (readonly [string, string])[],
  o: { ignoreMerges: boolean; emptyAffixes: boolean },
) {
  return {
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: o.emptyAffixes ? "" : null,
    end_of_word_suffix: o.emptyAffixes ? "" : null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: o.ignoreMerges,
    vocab,
    merges: merges.map(([a, b]) => `${a} ${b}`),
  };
}

/**
 * A byte-level BPE tokenizer in Qwen2.5-Instruct's layout: NFC normaliser, Qwen2's split regex
 * then ByteLevel, no BOS and no post-processor template, `<|endoftext|>`, `<|im_start|>`,
 * `<|im_end|>` after the merges; tokenizer_config.json as Qwen2.5-Instruct's (add_bos_token
 * false, bos_token null, eos `<|im_end|>`, pad `<|endoftext|>`, the ChatML template).
 *
 * @example
 * await writeTokenizerFiles(dir, qwen2TokenizerFiles());
 */
export function qwen2TokenizerFiles(
  opts: { merges?: readonly (readonly [string, string])[]; modelMaxLength?: number } = {},
): TokenizerFiles {
  const merges = opts.merges ?? DEFAULT_MERGES;
  const vocab = bytesAndMerges(merges);
  const specials = QWEN2_SPECIAL_TOKENS.map((content, i) => ({
    id: Object.keys(vocab).length + i,
    content,
  }));
  const id = (t: string) => specials.find((s) => s.content === t)!.id;
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map(({ id, content }) => addedToken(id, content)),
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: QWEN2_SPLIT }, behavior: "Isolated", invert: false },
        byteLevel({ prefix: false, trim: false, regex: false }),
      ],
    },
    post_processor: byteLevel({ prefix: false, trim: false, regex: false }),
    decoder: byteLevel({ prefix: false, trim: false, regex: false }),
    model: bpeModel(vocab, merges, { ignoreMerges: false, emptyAffixes: true }),
  };
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedDecoder(specials),
    additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
    bos_token: null,
    chat_template: QWEN2_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: opts.modelMaxLength ?? 131072,
    pad_token: "<|endoftext|>",
    split_special_tokens: false,
    tokenizer_class: "Qwen2Tokenizer",
    unk_token: null,
  };
  return {
    tokenizer,
    config,
    vocabSize: Object.keys(vocab).length + specials.length,
    bosId: null,
    eosId: id("<|im_end|>"),
    padId: id("<|endoftext|>"),
  };
}

/**
 * A byte-level BPE tokenizer in Llama-3's layout: Llama-3's split regex then ByteLevel,
 * ignore_merges, the specials of {@link LLAMA3_SPECIAL_TOKENS} after the merges, and a
 * post-processor (ByteLevel, then TemplateProcessing) that adds `<|begin_of_text|>` when special
 * tokens are requested; tokenizer_config.json as Meta-Llama-3-Instruct's (no add_bos_token, no
 * pad token, eos `<|eot_id|>`, its chat template). padId is EOS's, as transformers falls back.
 */
export function llama3TokenizerFiles(
  opts: { merges?: readonly (readonly [string, string])[]; modelMaxLength?: number } = {},
): TokenizerFiles {
  const merges = opts.merges ?? DEFAULT_MERGES;
  const vocab = bytesAndMerges(merges);
  const specials = LLAMA3_SPECIAL_TOKENS.map((content, i) => ({
    id: Object.keys(vocab).length + i,
    content,
  }));
  const id = (t: string) => specials.find((s) => s.content === t)!.id;
  const bos = "<|begin_of_text|>";
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map(({ id, content }) => addedToken(id, content)),
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: LLAMA3_SPLIT }, behavior: "Isolated", invert: false },
        byteLevel({ prefix: false, trim: true, regex: false }),
      ],
    },
    post_processor: {
      type: "Sequence",
      processors: [
        byteLevel({ prefix: true, trim: false, regex: true }),
        bosPostProcessor(bos, id(bos)),
      ],
    },
    decoder: byteLevel({ prefix: true, trim: true, regex: true }),
    model: bpeModel(vocab, merges, { ignoreMerges: true, emptyAffixes: false }),
  };
  const config = {
    added_tokens_decoder: addedDecoder(specials),
    bos_token: bos,
    chat_template: LLAMA3_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: true,
    eos_token: "<|eot_id|>",
    model_input_names: ["input_ids", "attention_mask"],
    model_max_length: opts.modelMaxLength ?? 131072,
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  return {
    tokenizer,
    config,
    vocabSize: Object.keys(vocab).length + specials.length,
    bosId: id(bos),
    eosId: id("<|eot_id|>"),
    padId: id("<|eot_id|>"),
  };
}
