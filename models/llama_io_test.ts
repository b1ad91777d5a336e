// Tests for models/llama_io.ts: saveLlama → loadLlama round trips (llama and qwen2), loadLlama's
// one-line errors naming the file and the tensor or field (parseLlamaConfig's checks), and
// exportOnnx folders (byte-level BPE and character tokenizers) that transformers.js scores
// exactly as jax-js does. Needs --allow-ffi --allow-sys (transformers.js loads onnxruntime-node).

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { tree } from "@jax-js/jax";
import { AutoTokenizer } from "@huggingface/transformers";
import { ValidationError } from "../lib/errors.ts";
import {
  BOS_ID,
  charTokenizerFiles,
  encode,
  EOS_ID,
  PAD_ID,
  VOCAB_SIZE,
} from "./char_tokenizer.ts";
import { startEngine } from "./engine.ts";
import {
  initLlama,
  llamaForward,
  type LlamaModelConfig,
  padBatch,
  paramsFromWeights,
  scoreTokens,
} from "./llama.ts";
import { exportOnnx, loadLlama, parseLlamaConfig, saveLlama } from "./llama_io.ts";
import { loadOnnxLm } from "./onnx_lm.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "./safetensors.ts";
import {
  GQA_CONFIG as GQA,
  randomLlamaWeights,
  randomTokens as tokens,
  TIED_CONFIG as TIED,
} from "./tiny_llama.ts";
import { byteLevelTokenizer } from "./tokenizer_files.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

// ---- weights I/O and ONNX export ----

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "llama-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test(
  "saveLlama → loadLlama gives identical logits (llama tied, qwen2 with biases)",
  opts,
  async () => {
    await startEngine("wasm");
    for (const config of [TIED, { ...GQA, model_type: "qwen2" } as LlamaModelConfig]) {
      await withDir(async (dir) => {
        const params = initLlama(config, { seed: 4, std: 0.3 });
        await saveLlama(dir, { config, params, extra: { eos_token_id: 2 } });
        const json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
        equal(json.model_type, config.model_type ?? "llama");
        equal(json.eos_token_id, 2);
        const back = await loadLlama(dir);
        deepEqual(back.config, parseLlamaConfig(json, "x"));
        const batch = () => padBatch([tokens(9, 1), tokens(4, 2)]);
        const a = await llamaForward(params, batch(), { config }).data();
        const b = await llamaForward(back.params, batch(), { config: back.config }).data();
        deepEqual(b, a);
      });
    }
  },
);

Deno.test("loadLlama: one-line errors naming the file and the tensor or field", opts, async () => {
  await startEngine("wasm");
  await withDir(async (dir) => {
    const config = GQA;
    await saveLlama(dir, { config, params: initLlama(config, { seed: 0 }) });
    const st = `${dir}/model.safetensors`;
    const good = decodeSafetensors(await Deno.readFile(st), st).weights;
    const rewrite = async (edit: (w: NamedWeights) => void) => {
      const w: NamedWeights = new Map(good);
      edit(w);
      await Deno.writeFile(st, encodeSafetensors(w));
    };
    const fails = async (pattern: RegExp) => {
      const e = await loadLlama(dir).then(() => null, (e) => e);
      ok(e instanceof ValidationError, `expected a ValidationError, got ${e}`);
      ok(pattern.test(e.message) && !e.message.includes("\n"), e.message);
    };
    await rewrite((w) =>
      w.set("model.layers.0.self_attn.q_proj.bias", { shape: [32], data: new Float32Array(32) })
    );
    await fails(
      /model\.safetensors: unexpected tensor 'model\.layers\.0\.self_attn\.q_proj\.bias'/,
    );
    await rewrite((w) => w.delete("model.layers.1.mlp.up_proj.weight"));
    await fails(/model\.safetensors: missing tensor 'model\.layers\.1\.mlp\.up_proj\.weight'/);
    await rewrite((w) => w.set("model.norm.weight", { shape: [31], data: new Float32Array(31) }));
    await fails(
      /model\.safetensors: tensor 'model\.norm\.weight' has shape \[31\], config\.json implies \[32\]/,
    );
    await rewrite(() => {});
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...cfg, hidden_size: "32" }));
    await fails(/config\.json: field 'hidden_size' must be a positive integer, got "32"/);
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ ...cfg, rope_scaling: { type: "linear" } }),
    );
    await fails(/config\.json: field 'rope_scaling' .* not implement/);
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ ...cfg, num_key_value_heads: 3 }),
    );
    await fails(/config\.json: num_key_value_heads 3 must divide/);
  });
});

Deno.test("exportOnnx: transformers.js log-likelihoods equal jax-js log-probs", opts, async () => {
  await startEngine("wasm");
  const tokenizer = byteLevelTokenizer();
  const config: LlamaModelConfig = { ...GQA, vocab_size: tokenizer.vocabSize };
  const params = paramsFromWeights(randomLlamaWeights(config, 13), { config });
  await withDir(async (dir) => {
    await exportOnnx(dir, { config, params, tokenizer });
    const lm = await loadOnnxLm(dir, { device: "cpu" });
    const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const requests = [
      { context: "The cat sat", continuation: " on the mat" },
      { context: "Q: 2+2? A:", continuation: " 4" },
      { context: "Café", continuation: " crème 日本" },
    ];
    try {
      const got = await lm.loglikelihood(requests);
      const enc = (s: string) => tok.encode(s, { add_special_tokens: false });
      const seqs = requests.map((r) => enc(r.context + r.continuation));
      const lps = await scoreTokens(params, seqs, { config });
      requests.forEach((r, i) => {
        const n = enc(r.context).length;
        const want = lps[i].slice(n).reduce((a, v) => a + v, 0);
        equal(got[i].tokens, seqs[i].length - n);
        ok(Math.abs(got[i].logprob - want) < 1e-4, `${i}: onnx ${got[i].logprob} vs jax ${want}`);
      });
    } finally {
      await lm.dispose();
    }
    // The same folder also loads back as jax-js parameters.
    deepEqual((await loadLlama(dir)).config.vocab_size, config.vocab_size);
  });
  const qwen = { ...config, model_type: "qwen2" } as LlamaModelConfig;
  await rejects(
    exportOnnx("/nonexistent", { config: qwen, params: initLlama(qwen, { seed: 0 }), tokenizer }),
    /no bias terms/,
  );
  tree.dispose(params);
});

Deno.test(
  "exportOnnx takes any TokenizerFiles: a character-level model scores the same in transformers.js",
  opts,
  async () => {
    await startEngine("wasm");
    const tokenizer = charTokenizerFiles();
    const config: LlamaModelConfig = { ...GQA, vocab_size: VOCAB_SIZE };
    const params = paramsFromWeights(randomLlamaWeights(config, 14), { config });
    await withDir(async (dir) => {
      await exportOnnx(dir, { config, params, tokenizer });
      const json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
      deepEqual(
        [json.bos_token_id, json.eos_token_id, json.pad_token_id, json.vocab_size],
        [BOS_ID, EOS_ID, PAD_ID, VOCAB_SIZE],
      );
      const lm = await loadOnnxLm(dir, { device: "cpu" });
      const requests = [
        { context: "kv:a=3 b=71;b", continuation: "=71\n" },
        { context: "Q: 2+2? A:", continuation: " 4" },
        { context: "Café", continuation: " crème" }, // non-ASCII: unk ids on both sides
      ];
      try {
        const got = await lm.loglikelihood(requests);
        const seqs = requests.map((r) => encode(r.context + r.continuation));
        const lps = await scoreTokens(params, seqs, { config });
        requests.forEach((r, i) => {
          const n = encode(r.context).length;
          const want = lps[i].slice(n).reduce((a, v) => a + v, 0);
          equal(got[i].tokens, r.continuation.length);
          ok(Math.abs(got[i].logprob - want) < 1e-4, `${i}: onnx ${got[i].logprob} vs jax ${want}`);
        });
      } finally {
        await lm.dispose();
      }
    });
    tree.dispose(params);
  },
);
