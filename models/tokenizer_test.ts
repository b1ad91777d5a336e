// Tests for models/tokenizer.ts's Hugging Face tokenizers through transformers.js, on the three
// published layouts of models/tokenizer_files.ts: special ids, whether prompts start with BOS
// (tokenizer_config's add_bos_token, else the post-processor: Llama-3 yes, Qwen2.5 no), the
// empty-prompt prefix (EOS without BOS, as lm-eval), decoding that skips specials, chat
// templates for one user turn (and prompts wrapped in them), and one-line errors.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import {
  CHAR_TOKENIZER,
  loadHfTokenizer,
  promptIds,
  tokenizerFilesOf,
  withChat,
} from "./tokenizer.ts";
import {
  byteLevelTokenizer,
  llama3TokenizerFiles,
  qwen2TokenizerFiles,
  type TokenizerFiles,
} from "./tokenizer_files.ts";

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function filesOf(t: TokenizerFiles, config = t.config): Map<string, Uint8Array> {
  return new Map([["tokenizer.json", bytes(t.tokenizer)], [
    "tokenizer_config.json",
    bytes(config),
  ]]);
}

const TEXTS = ["Hello the world", " and of things 1234", "Café crème 日本 🙂\n\tend", ""];

Deno.test("Qwen2.5 layout: no BOS, EOS <|im_end|>, pad <|endoftext|>, ChatML template", async () => {
  const files = qwen2TokenizerFiles();
  const tok = await loadHfTokenizer(filesOf(files), { name: "q", where: "/q" });
  deepEqual(
    [tok.vocabSize, tok.bosId, tok.eosId, tok.padId, tok.addBos],
    [files.vocabSize, null, files.eosId, files.padId, false],
  );
  for (const t of TEXTS) equal(tok.decode(tok.encode(t)), t);
  equal(tok.encode("").length, 0);
  // Special tokens written in the text are their ids; decoding skips them.
  deepEqual(tok.encode("<|im_end|>"), [files.eosId]);
  equal(tok.decode([...tok.encode("hi"), files.eosId, files.padId]), "hi");
  // Prompts start with no special token; an empty one is EOS alone (lm-eval's prefix without BOS).
  deepEqual(promptIds(tok, "hi"), tok.encode("hi"));
  deepEqual(promptIds(tok, ""), [files.eosId]);
  const chat = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful " +
    "assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n";
  equal(tok.chat!("What is 2+2?"), chat);
  const chatted = withChat(tok, "model.chat");
  deepEqual(promptIds(chatted, "What is 2+2?"), tok.encode(chat));
  equal(promptIds(chatted, "x")[0], tok.encode("<|im_start|>")[0]);
  // The files come back for exportOnnx.
  const back = tokenizerFilesOf(tok)!;
  deepEqual([back.bosId, back.eosId, back.padId, back.vocabSize], [
    null,
    files.eosId,
    files.padId,
    files.vocabSize,
  ]);
});

Deno.test("Llama-3 layout: the post-processor's <|begin_of_text|> makes addBos true", async () => {
  const files = llama3TokenizerFiles();
  const tok = await loadHfTokenizer(filesOf(files), { name: "l", where: "/l" });
  deepEqual(
    [tok.bosId, tok.eosId, tok.padId, tok.addBos],
    [files.bosId, files.eosId, files.eosId, true],
  );
  for (const t of TEXTS) equal(tok.decode(tok.encode(t)), t);
  deepEqual(promptIds(tok, "hi"), [files.bosId!, ...tok.encode("hi")]);
  deepEqual(promptIds(tok, ""), [files.bosId!]);
  const chat = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>" +
    "<|start_header_id|>assistant<|end_header_id|>\n\n";
  equal(tok.chat!(" hi "), chat); // the template trims the message
  // The template supplies BOS itself: chat prompts have exactly one.
  const ids = promptIds(withChat(tok, "model.chat"), "hi");
  deepEqual(ids, tok.encode(chat));
  equal(ids.filter((i) => i === files.bosId).length, 1);
});

Deno.test("add_bos_token decides where set; chat_template.jinja stands in for a missing template", async () => {
  const files = byteLevelTokenizer();
  const on = await loadHfTokenizer(filesOf(files), { name: "b", where: "/b" });
  deepEqual([on.bosId, on.addBos], [files.bosId, true]);
  const off = await loadHfTokenizer(filesOf(files, { ...files.config, add_bos_token: false }), {
    name: "b",
    where: "/b",
  });
  equal(off.addBos, false);
  deepEqual(promptIds(off, "a"), off.encode("a"));
  const { chat_template: _, ...noTemplate } = files.config;
  const bare = await loadHfTokenizer(filesOf(files, noTemplate), { name: "b", where: "/b" });
  equal(bare.chat, undefined);
  throws(
    () => withChat(bare, "model.chat"),
    /model\.chat: tokenizer b has no chat template/,
  );
  throws(() => withChat(CHAR_TOKENIZER, "model.chat"), ValidationError);
  const jinja = filesOf(files, noTemplate);
  jinja.set("chat_template.jinja", new TextEncoder().encode("{{ messages[0]['content'] }}!"));
  const withJinja = await loadHfTokenizer(jinja, { name: "b", where: "/b" });
  equal(withJinja.chat!("hey"), "hey!");
  equal(tokenizerFilesOf(withJinja)!.config.chat_template, "{{ messages[0]['content'] }}!");
});

Deno.test("loadHfTokenizer: missing or malformed files are one-line errors naming the file", async () => {
  const files = filesOf(qwen2TokenizerFiles());
  const fails = async (m: Map<string, Uint8Array>, re: RegExp) =>
    await rejects(loadHfTokenizer(m, { name: "q", where: "/q" }), (e: Error) => {
      ok(
        e instanceof ValidationError && !e.message.includes("\n") && re.test(e.message),
        e.message,
      );
      return true;
    });
  const without = new Map(files);
  without.delete("tokenizer_config.json");
  await fails(without, /^\/q\/tokenizer_config\.json: missing/);
  await fails(
    new Map([...files, ["tokenizer.json", new TextEncoder().encode("{")]]),
    /^\/q\/tokenizer\.json: not a JSON object/,
  );
  await fails(
    new Map([...files, ["tokenizer.json", bytes({ model: { type: "Nope" } })]]),
    /^\/q\/tokenizer\.json: transformers\.js cannot load it/,
  );
});
