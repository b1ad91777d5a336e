// Tests for models/char_tokenizer.ts: fixed ids, round trips, unk for other characters, eos
// handling, one-line errors, and the Hugging Face tokenizer files, loaded by transformers.js,
// agreeing with encode/decode on every kind of string. Needs --allow-ffi --allow-sys (as every
// transformers.js test: it loads onnxruntime-node).

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { AutoTokenizer, env } from "@huggingface/transformers";
import { ValidationError } from "../lib/errors.ts";
import {
  BOS_ID,
  charTokenizerFiles,
  decode,
  encode,
  EOS_ID,
  NEWLINE_ID,
  PAD_ID,
  UNK_ID,
  VOCAB_SIZE,
} from "./char_tokenizer.ts";
import { writeTokenizerFiles } from "./tokenizer_files.ts";

Deno.test("char tokenizer: fixed ids for specials, newline, printable ASCII and unk", () => {
  deepEqual([PAD_ID, BOS_ID, EOS_ID, NEWLINE_ID], [0, 1, 2, 3]);
  equal(UNK_ID, 99);
  equal(VOCAB_SIZE, 100);
  deepEqual(encode(" ~\n"), [4, 98, 3]);
  deepEqual(encode("ab"), [69, 70]);
  deepEqual(encode(""), []);
});

Deno.test("char tokenizer: every printable character and newline round-trips", () => {
  let all = "\n";
  for (let c = 0x20; c <= 0x7e; c++) all += String.fromCharCode(c);
  const ids = encode(all);
  equal(new Set(ids).size, all.length);
  ok(ids.every((id) => id >= 3 && id < UNK_ID));
  equal(decode(ids), all);
  equal(decode(encode("kv:a=3 b=71;b=")), "kv:a=3 b=71;b=");
});

Deno.test("char tokenizer: other characters are one unk each, decoded as U+FFFD", () => {
  // Tab, carriage return, Latin-1, CJK, an emoji (two UTF-16 units, one character), U+FFFD.
  deepEqual(encode("a\tb\r"), [FIRST + 65, UNK_ID, FIRST + 66, UNK_ID]);
  deepEqual(encode("é日😀\uFFFD"), [UNK_ID, UNK_ID, UNK_ID, UNK_ID]);
  equal(decode(encode("Café 😀\n")), "Caf\uFFFD \uFFFD\n");
});

/** Id of " ", so that FIRST + 65 is "a". */
const FIRST = 4;

Deno.test("char tokenizer: decode skips pad/bos and stops at eos", () => {
  equal(decode([BOS_ID, ...encode("12"), NEWLINE_ID, EOS_ID, ...encode("zz")]), "12\n");
  equal(decode([PAD_ID, ...encode("x"), PAD_ID]), "x");
});

Deno.test("char tokenizer: decode errors name the id and its position", () => {
  throws(() => decode([4, 100]), (e) => {
    ok(e instanceof ValidationError);
    ok(/id 100 at position 1/.test(e.message), e.message);
    ok(!e.message.includes("\n"));
    return true;
  });
  throws(() => decode([-1]), /id -1 at position 0/);
  throws(() => decode([1.5]), ValidationError);
});

Deno.test(
  "charTokenizerFiles: transformers.js encodes and decodes exactly as encode/decode",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "char-tok-" });
    try {
      const files = charTokenizerFiles();
      deepEqual(
        [files.vocabSize, files.bosId, files.eosId, files.padId, files.unkId],
        [VOCAB_SIZE, BOS_ID, EOS_ID, PAD_ID, UNK_ID],
      );
      await writeTokenizerFiles(dir, files);
      env.allowLocalModels = true;
      const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
      let printable = "";
      for (let c = 0x20; c <= 0x7e; c++) printable += String.fromCharCode(c);
      const texts = [
        "",
        "a",
        "hello world",
        "  two  spaces, trailing ",
        " leading space",
        "0123456789 3.14 -42 1e9",
        printable,
        "a\nb\n\nc\n",
        "\n",
        "kv:a=3 b=71;b=",
        "<s> </s> <pad> <unk>", // special tokens' text is plain characters here
        "don't stop: isn't it?!",
        "Café crème brûlée",
        "日本語のテキスト",
        "tab\there\r\nCRLF",
        "emoji 😀 and \uFFFD itself",
        printable.repeat(4), // past transformers.js's 256-character BPE cache limit
      ];
      for (const text of texts) {
        const ids = encode(text);
        const bare = Array.from(tok.encode(text, { add_special_tokens: false }), Number);
        deepEqual(bare, ids, `encode ${JSON.stringify(text)}`);
        const withBos = Array.from(tok.encode(text), Number);
        deepEqual(withBos, [BOS_ID, ...ids], `encode with specials ${JSON.stringify(text)}`);
        const back = tok.decode([...withBos, EOS_ID], { skip_special_tokens: true });
        equal(back, decode([...withBos, EOS_ID]), `decode ${JSON.stringify(text)}`);
        ok(ids.includes(UNK_ID) || back === text, `${JSON.stringify(text)} round-trips`);
      }
      // Ids transformers.js resolves from tokenizer_config.json.
      deepEqual(
        [tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id],
        [BOS_ID, EOS_ID, PAD_ID, UNK_ID],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
