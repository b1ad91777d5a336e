// Tests for models/tiny_llama.ts and models/tokenizer_files.ts: the fixture folder is complete,
// under 1 MB, byte-identical for a seed (and different across seeds), and its tokenizer loads in
// transformers.js and round-trips arbitrary Unicode.

import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { AutoTokenizer } from "@huggingface/transformers";
import { sha256Hex } from "../lib/hash.ts";
import { writeTinyLlama } from "./tiny_llama.ts";
import { bytesToUnicode } from "./tokenizer_files.ts";

const FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "onnx/model.onnx",
];

async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of FILES) out[f] = await sha256Hex(await Deno.readFile(`${dir}/${f}`));
  return out;
}

async function withDirs(n: number, fn: (dirs: string[]) => Promise<void>): Promise<void> {
  const dirs = await Promise.all(
    Array.from({ length: n }, () => Deno.makeTempDir({ prefix: "tiny-llama-" })),
  );
  try {
    await fn(dirs);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
}

Deno.test("writeTinyLlama: complete folder under 1 MB, byte-identical per seed", async () => {
  await withDirs(3, async ([a, b, c]) => {
    const model = await writeTinyLlama(a, { seed: 11 });
    await writeTinyLlama(b, { seed: 11 });
    await writeTinyLlama(c, { seed: 12 });
    let total = 0;
    for (const f of FILES) total += (await Deno.stat(`${a}/${f}`)).size;
    ok(total < 1_000_000, `folder is ${total} bytes`);
    deepEqual(await hashes(a), await hashes(b));
    const [ha, hc] = [await hashes(a), await hashes(c)];
    notEqual(ha["onnx/model.onnx"], hc["onnx/model.onnx"]);
    equal(ha["tokenizer.json"], hc["tokenizer.json"]);

    const config = JSON.parse(await Deno.readTextFile(`${a}/config.json`));
    equal(config.model_type, "llama");
    deepEqual(config.architectures, ["LlamaForCausalLM"]);
    equal(config.vocab_size, model.tokenizer.vocabSize);
    ok(config.num_key_value_heads < config.num_attention_heads, "exercises GQA");
    equal(config.bos_token_id, 1);
    equal(config.eos_token_id, 2);
  });
});

Deno.test("tokenizer files: transformers.js loads them and every byte and Unicode string round-trips", async () => {
  await withDirs(1, async ([dir]) => {
    await writeTinyLlama(dir, { seed: 0 });
    const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    equal(tok.bos_token_id, 1);
    equal(tok.eos_token_id, 2);
    equal(tok.pad_token_id, 3);
    const samples = [
      "the cat and the hat",
      "  leading, trailing  \n\t\r\n",
      "café naïve ÉCOLE ß ﬁ",
      "日本語のテキスト, 中文, 한국어",
      "emoji 🤗👩‍👩‍👧 and ZWJ",
      "\u0000\u0001\u007f control bytes",
      "mixed 12345 + 0.5e-3 = x²",
      // Every code point below U+0800 (1- and 2-byte UTF-8) plus 3- and 4-byte samples.
      String.fromCodePoint(...Array.from({ length: 0x7ff }, (_, i) => i + 1)) + "\uffff\u{10ffff}",
    ];
    for (const s of samples) {
      const ids = tok.encode(s, { add_special_tokens: false });
      equal(tok.decode(ids), s);
    }
    // The post-processor adds BOS only when special tokens are asked for.
    equal(tok.encode("the", { add_special_tokens: true })[0], 1);
    // Merges apply: " the" is one token.
    equal(tok.encode(" the", { add_special_tokens: false }).length, 1);
    equal(
      tok.apply_chat_template([{ role: "user", content: "hi" }], {
        tokenize: false,
        add_generation_prompt: true,
      }),
      "<s>[INST] hi [/INST]",
    );
  });
});

Deno.test("bytesToUnicode: GPT-2's map, one printable character per byte", () => {
  const m = bytesToUnicode();
  equal(new Set(m).size, 256);
  equal(m[0x20], "Ġ");
  equal(m[0x0a], "Ċ");
  equal(m[0x41], "A");
  equal(m[0xe9], "é");
});
