// Tests for models/llama_io.ts: saveLlama → loadLlama round trips (llama and qwen2), loadLlama's
// one-line errors naming the file and the tensor or field (parseLlamaConfig's checks, Llama-3's
// rope_scaling and transformers v5's rope_parameters), and exportOnnx folders (byte-level BPE and
// character tokenizers; the tiny Qwen2.5 and Llama-3 checkpoints with their own tokenizers) that
// transformers.js scores as the jax-js policy does within 1e-4. Needs --allow-ffi --allow-sys
// (transformers.js loads onnxruntime-node). Checkpoint folders: models/checkpoint_test.ts.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
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
import { loadLlamaPolicy } from "./llama_policy.ts";
import { loadOnnxLm } from "./onnx_lm.ts";
import type { ChoicesOutput, Request } from "./policy.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "./safetensors.ts";
import {
  GQA_CONFIG as GQA,
  randomLlamaWeights,
  randomTokens as tokens,
  TIED_CONFIG as TIED,
} from "./tiny_llama.ts";
import { writeTinyLlama3, writeTinyQwen2 } from "./tiny_checkpoints.ts";
import { tokenizerFilesOf } from "./tokenizer.ts";
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
      JSON.stringify({ ...cfg, rope_scaling: { type: "linear", factor: 2 } }),
    );
    await fails(/config\.json: field 'rope_scaling' has rope_type "linear"; .* "llama3"/);
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

Deno.test("parseLlamaConfig: Llama-3 rope_scaling (rope_type or type), rope_parameters, refusals", () => {
  const base = {
    model_type: "llama",
    vocab_size: 40,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    max_position_embeddings: 128,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
  };
  const llama3 = {
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
  };
  const want = { rope_type: "llama3", ...llama3 };
  deepEqual(
    parseLlamaConfig({ ...base, rope_scaling: { rope_type: "llama3", ...llama3 } }, "c")
      .rope_scaling,
    want,
  );
  deepEqual(
    parseLlamaConfig({ ...base, rope_scaling: { type: "llama3", ...llama3 } }, "c").rope_scaling,
    want,
  );
  // No scaling: the field is absent (configs keep their shape and jit keys).
  ok(!("rope_scaling" in parseLlamaConfig({ ...base, rope_scaling: null }, "c")));
  ok(
    !("rope_scaling" in parseLlamaConfig({ ...base, rope_scaling: { rope_type: "default" } }, "c")),
  );
  // transformers v5 writes rope_parameters instead of rope_theta and rope_scaling.
  const { rope_theta: _, ...noTheta } = base;
  const v5 = parseLlamaConfig(
    { ...noTheta, rope_parameters: { rope_theta: 1e4, rope_type: "llama3", ...llama3 } },
    "c",
  );
  deepEqual([v5.rope_theta, v5.rope_scaling], [1e4, want]);
  equal(
    parseLlamaConfig({ ...noTheta, rope_parameters: { rope_theta: 7, rope_type: "default" } }, "c")
      .rope_theta,
    7,
  );
  // Qwen2: biases always; sliding windows refused only when switched on.
  const qwen = parseLlamaConfig({
    ...base,
    model_type: "qwen2",
    use_sliding_window: false,
    sliding_window: 4096,
  }, "c");
  deepEqual([qwen.model_type, qwen.attention_bias], ["qwen2", true]);
  for (
    const [extra, re] of [
      [
        { rope_scaling: { rope_type: "yarn", factor: 4 } },
        /^c: field 'rope_scaling' has rope_type "yarn"/,
      ],
      [
        { rope_scaling: { rope_type: "llama3", ...llama3, factor: 0 } },
        /^c: field 'rope_scaling\.factor' must be a positive number, got 0$/,
      ],
      [
        { rope_scaling: { rope_type: "llama3", ...llama3, original_max_position_embeddings: 1.5 } },
        /field 'rope_scaling\.original_max_position_embeddings' must be a positive integer/,
      ],
      [{ rope_scaling: "llama3" }, /field 'rope_scaling' must be an object or null/],
      [{ use_sliding_window: true }, /field 'use_sliding_window' has true/],
      [{ model_type: "gemma" }, /field 'model_type' must be "llama" or "qwen2"/],
      [
        { architectures: ["MistralForCausalLM"] },
        /field 'architectures' must be \["LlamaForCausalLM"\]/,
      ],
      [{ rope_theta: undefined }, /field 'rope_theta' must be a positive number/],
    ] as const
  ) {
    throws(() => parseLlamaConfig({ ...base, ...extra }, "c"), (e: Error) => {
      ok(
        e instanceof ValidationError && re.test(e.message) && !e.message.includes("\n"),
        e.message,
      );
      return true;
    });
  }
});

for (const [name, write] of [["qwen2", writeTinyQwen2], ["llama3", writeTinyLlama3]] as const) {
  Deno.test(
    `exportOnnx: the tiny ${name} checkpoint scores through transformers.js within 1e-4 of jax-js`,
    opts,
    async () => {
      await startEngine("wasm");
      await withDir(async (dir) => {
        await write(`${dir}/src`, { seed: 8 });
        const policy = await loadLlamaPolicy(`${dir}/src`);
        const tokenizer = tokenizerFilesOf(policy.tokenizer)!;
        await exportOnnx(`${dir}/onnx`, {
          config: policy.config,
          params: policy.params,
          tokenizer,
        });
        const json = JSON.parse(await Deno.readTextFile(`${dir}/onnx/config.json`));
        equal(json.model_type, name === "qwen2" ? "qwen2" : "llama");
        const lm = await loadOnnxLm(`${dir}/onnx`, {
          device: "cpu",
          addBos: policy.tokenizer.addBos,
        });
        try {
          const requests: Request[] = [
            { kind: "choices", context: "The cat sat", continuations: [" on the mat", " in 1999"] },
            { kind: "choices", context: "Q: 2+2? A: ", continuations: ["4", "5 or 6"] },
            { kind: "choices", context: "", continuations: ["Café", " crème 日本"] },
            { kind: "choices", context: "x".repeat(40) + " and", continuations: [" y", " the"] },
          ];
          const [a, b] = [await policy.run(requests), await lm.run(requests)];
          let worst = 0;
          a.forEach((o, i) => {
            const x = (o as ChoicesOutput).logliks, y = (b[i] as ChoicesOutput).logliks;
            x.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - y[k]))));
          });
          console.log(`${name}: max |onnx − jax-js| log-likelihood = ${worst.toExponential(2)}`);
          ok(worst < 1e-4, `largest difference ${worst}`);
          if (name === "qwen2") {
            // Greedy generation agrees too (KV-cached on both sides).
            const gens: Request[] = [
              { kind: "generate", prompt: "The cat", until: ["\n"], maxTokens: 6 },
              { kind: "generate", prompt: "Q: why?", until: ["e"], maxTokens: 8 },
            ];
            deepEqual(await policy.run(gens), await lm.run(gens));
          }
        } finally {
          await lm.dispose();
          await policy.dispose();
        }
      });
    },
  );
}
