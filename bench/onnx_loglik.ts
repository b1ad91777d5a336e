/**
 * Overhead of the ONNX LM backend's loglikelihood (models/onnx_lm.ts) over bare onnxruntime:
 * writes a random Llama with the production exporter (default hidden 512, 8 layers, 8 heads /
 * 4 kv heads, vocab 16384) into a temp dir and times, on the same padded batches,
 *   (a) InferenceSession.run alone, on tensors prepared beforehand, and
 *   (b) loglikelihood end to end (tokenize, pad, transformers.js forward, log-softmax).
 *
 *   deno run --allow-read --allow-write --allow-env --allow-ffi bench/onnx_loglik.ts \
 *     [--requests 32] [--batch 8] [--repeats 5] [--hidden 512] [--layers 8] [--vocab 16384]
 *
 * One warm-up pass each, then --repeats alternating passes over all requests; medians and
 * minima in ms (the minimum is the steadier figure on a shared machine).
 */
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { AutoTokenizer } from "@huggingface/transformers";
import { rng } from "../lib/rng.ts";
import type { LoglikRequest } from "../models/onnx_lm.ts";
import type { LlamaConfig } from "../models/onnx/llama.ts";
import { loadOnnxLm } from "../models/onnx_lm.ts";
import { writeOnnxFolder } from "../models/onnx/folder.ts";
import { randomLlamaWeights } from "../models/tiny_llama.ts";
import { byteLevelTokenizer } from "../models/tokenizer_files.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "32" },
    batch: { type: "string", default: "8" },
    repeats: { type: "string", default: "5" },
    hidden: { type: "string", default: "512" },
    layers: { type: "string", default: "8" },
    vocab: { type: "string", default: "16384" },
  },
}).values;
const nRequests = Number(args.requests), batchSize = Number(args.batch);
const repeats = Number(args.repeats), hidden = Number(args.hidden);

const tokenizer = byteLevelTokenizer();
const config: LlamaConfig = {
  // The model's vocab is larger than the tokenizer's, as with padded hub vocabularies: the
  // logits (and their log-softmax) are as wide as a real model's.
  vocab_size: Math.max(Number(args.vocab), tokenizer.vocabSize),
  hidden_size: hidden,
  intermediate_size: Math.round((hidden * 8) / 3 / 64) * 64,
  num_hidden_layers: Number(args.layers),
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: hidden / 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 2048,
};

const WORDS = (
  "the of and to in is was for on that with as by at from his her it an are were which this " +
  "be or have had not but all they one their there been has when who will more no if out so " +
  "said what up its about into than them can only other new some could time these two may " +
  "café naïve 日本 über"
).split(" ");

/** Deterministic requests: contexts of 8–40 words, continuations of 1–6 words. */
function makeRequests(n: number): LoglikRequest[] {
  const r = rng(7);
  const words = (k: number) =>
    Array.from({ length: k }, () => WORDS[r.int(WORDS.length)]).join(" ");
  return Array.from({ length: n }, () => ({
    context: words(8 + r.int(33)) + (r.int(4) === 0 ? " " : ""),
    continuation: " " + words(1 + r.int(6)),
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const dir = await Deno.makeTempDir({ prefix: "onnx-loglik-bench-" });
try {
  const t0 = performance.now();
  await writeOnnxFolder(dir, { config, weights: randomLlamaWeights(config, 1), tokenizer });
  const onnxBytes = (await Deno.stat(`${dir}/onnx/model.onnx`)).size;
  console.log(
    `random Llama: hidden ${hidden}, ${config.num_hidden_layers} layers, 8 heads / 4 kv heads, ` +
      `ffn ${config.intermediate_size}, vocab ${config.vocab_size}; ` +
      `model.onnx ${(onnxBytes / 2 ** 20).toFixed(0)} MiB, written in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
  );

  const requests = makeRequests(nRequests);

  // (a)'s feeds: the same tokenization, order, padding and empty cache loglikelihood uses.
  const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const enc = (s: string) => (s === "" ? [] : tok.encode(s, { add_special_tokens: false }));
  const inputs = requests.map(({ context, continuation }) => {
    const n = context.length - context.trimEnd().length;
    const ctx = enc(context.slice(0, context.length - n));
    const whole = enc(context + continuation);
    return [...ctx, ...whole.slice(ctx.length)].slice(0, -1);
  });
  const order = inputs.map((_, i) => i).sort((a, b) =>
    inputs[b].length - inputs[a].length || a - b
  );
  const feeds: Record<string, ort.Tensor>[] = [];
  let tokens = 0;
  for (let s = 0; s < order.length; s += batchSize) {
    const rows = order.slice(s, s + batchSize).map((i) => inputs[i]);
    const B = rows.length, L = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(B * L).fill(BigInt(tokenizer.padId));
    const mask = new BigInt64Array(B * L), pos = new BigInt64Array(B * L).fill(1n);
    rows.forEach((row, b) =>
      row.forEach((t, j) => {
        ids[b * L + j] = BigInt(t);
        mask[b * L + j] = 1n;
        pos[b * L + j] = BigInt(j);
      })
    );
    tokens += B * L;
    const f: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [B, L]),
      attention_mask: new ort.Tensor("int64", mask, [B, L]),
      position_ids: new ort.Tensor("int64", pos, [B, L]),
    };
    for (let l = 0; l < config.num_hidden_layers; l++) {
      for (const kind of ["key", "value"]) {
        f[`past_key_values.${l}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
          B,
          4,
          0,
          hidden / 8,
        ]);
      }
    }
    feeds.push(f);
  }

  const session = await ort.InferenceSession.create(`${dir}/onnx/model.onnx`);
  const lm = await loadOnnxLm(dir, { device: "cpu" });
  const raw = async () => {
    for (const f of feeds) await session.run(f);
  };
  const ours = async () => {
    await lm.loglikelihood(requests, { batchSize });
  };
  await raw();
  await ours();
  const rawMs: number[] = [], oursMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    await raw();
    rawMs.push(performance.now() - t);
    t = performance.now();
    await ours();
    oursMs.push(performance.now() - t);
  }
  const a = median(rawMs), b = median(oursMs);
  const aMin = Math.min(...rawMs), bMin = Math.min(...oursMs);
  const f = (x: number, d = 0) => x.toFixed(d).padStart(8);
  console.log(
    `${nRequests} requests in ${feeds.length} batches of ≤${batchSize}, ${tokens} padded tokens; ` +
      `${navigator.hardwareConcurrency} CPU threads; medians of ${repeats}`,
  );
  console.log(`${"".padEnd(44)}   median      min (ms)`);
  console.log(`(a) InferenceSession.run, prepared tensors  ${f(a)} ${f(aMin)}`);
  console.log(`(b) loglikelihood end to end                ${f(b)} ${f(bMin)}`);
  console.log(`ratio (b)/(a)                               ${f(b / a, 3)} ${f(bMin / aMin, 3)}`);
  await session.release();
  await lm.dispose();
} finally {
  await Deno.remove(dir, { recursive: true });
}
// onnxruntime-node keeps the event loop alive; exit explicitly.
Deno.exit(0);
