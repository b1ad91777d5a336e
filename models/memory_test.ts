// Tests for models/memory.ts on hand-worked byte counts: a model small enough to count every
// tensor by hand (full fine-tuning, accumulation, LoRA, bfloat16, SFT+KL, RL sampling), the
// worked example of docs/metrics.md "Memory model" (Qwen2.5-3B at 1024 tokens, full vs LoRA
// r 16), sizes as flags write them, and the limits of jax-js's devices.

import { ALL_PROJECTIONS } from "./lora.ts";
import { equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import type { LlamaModelConfig } from "./llama.ts";
import {
  activationsPerToken,
  deviceLimits,
  estimateMemory,
  formatBytes,
  parseBytes,
  samplingBudget,
  samplingRows,
} from "./memory.ts";

/**
 * V 100, H 8, I 16, 2 layers, 2 query heads over 1 KV head of D 4, tied head. Parameters:
 * embedding 100·8 = 800; per layer 8 + q 64 + k 32 + v 32 + o 64 + 8 + gate 128 + up 128 +
 * down 128 = 592, two layers 1184; final norm 8. P = 1992.
 */
const SMALL: LlamaModelConfig = {
  vocab_size: 100,
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 4,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 64,
  tie_word_embeddings: true,
};

Deno.test("activations per token: the per-layer formula by hand", () => {
  // T = 16: per layer 32·8 + 32·2·4 + 12·1·4 + 8·2·16 + 16·16 = 256 + 256 + 48 + 256 + 256 =
  // 1072; two layers 2144, + 8·8 + 16·100 = 3808 elements; a reference adds 11V + 4.5·L·nH·T =
  // 1100 + 288 = 1388.
  equal(activationsPerToken(SMALL, { seqLen: 16 }), 3808);
  equal(activationsPerToken(SMALL, { seqLen: 16, klTarget: true }), 5196);
  // T = 4: attention 8·2·4 = 64 instead of 256: 3808 − 2·192 = 3424.
  equal(activationsPerToken(SMALL, { seqLen: 4 }), 3424);
});

Deno.test("full fine-tuning, accumulation, bfloat16: byte counts by hand", () => {
  // float32, micro-batch 3 × 16 tokens, π0 held: weights = references = gradients = 1992·4 =
  // 7968, moments 15936, activations 3·16·3808·4 = 731136.
  const e = estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1 });
  equal(e.parameters, 1992);
  equal(e.trainable, 1992);
  equal(e.perToken, 15232);
  equal(e.bytes.weights, 7968);
  equal(e.bytes.references, 7968);
  equal(e.bytes.gradients, 7968);
  equal(e.bytes.moments, 15936);
  equal(e.bytes.activations, 731136);
  equal(e.bytes.sampling, 0);
  // 7968 + 7968 + 15936 + (7968 + 731136) = 770976.
  equal(e.bytes.total, 770976);
  // The largest tensor is the logits, 3·16·100·4 = 19200 bytes.
  equal(e.largestTensor, 19200);
  // Accumulating holds the gradient sum and the micro-batch's: + 7968.
  equal(
    estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1, accumulate: 2 }).bytes
      .total,
    778944,
  );
  // bfloat16 halves every term.
  equal(
    estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1, dtype: "bfloat16" })
      .bytes.total,
    385488,
  );
  // With a reference: 3·16·1388·4 = 266496 bytes more (its forward and log-probabilities).
  equal(
    estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1, klTarget: true })
      .bytes.total,
    1037472,
  );
});

Deno.test("LoRA: only the adapter is trained; one merged copy of the targeted weights", () => {
  // r 2 on q_proj (8 → 8) and down_proj (16 → 8): P_A = 2·(16 + 24) = 80 per layer, 160;
  // P_W = 64 + 128 = 192 per layer, 384. weights (1992 + 384 + 160)·4 = 10144; at a second stage
  // the stage's start holds its own merged copy: (2 − 1)·384·4 = 1536; gradients 160·4 = 640,
  // moments 1280; activations as full fine-tuning, 731136.
  const e = estimateMemory({
    config: SMALL,
    microBatch: 3,
    seqLen: 16,
    references: 2,
    lora: { rank: 2, targets: ["q_proj", "down_proj"] },
  });
  equal(e.trainable, 160);
  equal(e.bytes.weights, 10144);
  equal(e.bytes.references, 1536);
  equal(e.bytes.gradients, 640);
  equal(e.bytes.moments, 1280);
  equal(e.bytes.total, 10144 + 1536 + 1280 + 640 + 731136);
  throws(
    () =>
      estimateMemory({
        config: SMALL,
        microBatch: 1,
        seqLen: 4,
        lora: { rank: 2, targets: ["qkv"] },
      }),
    /lora\.targets\[0\]: 'qkv' matches no Linear module/,
  );
});

Deno.test("RL: sampling's KV cache and prefill, when they exceed the step", () => {
  // 6 rows of 12 tokens: KV cache 2·2·1·4·12·6 = 1152, prefill attention 9·6·2·12² = 15552,
  // its other intermediates 6·12·(16·8 + 8·16) = 18432, logits and probabilities 2·6·100 =
  // 1200: 36336 elements, 145344 bytes. The step (1 × 4 tokens) needs gradients 7968 +
  // activations 4·3424·4 = 54784 = 62752 < 145344, so total = 7968 + 0 + 15936 + 145344 =
  // 169248.
  const e = estimateMemory({
    config: SMALL,
    microBatch: 1,
    seqLen: 4,
    sampling: { rows: 6, length: 12 },
  });
  equal(e.bytes.sampling, 145344);
  equal(e.bytes.activations, 54784);
  equal(e.bytes.total, 169248);
  // Prompts of 8 tokens: prefill attention 9·6·2·8² = 6912 instead of 15552, intermediates
  // 6·8·256 = 12288 instead of 18432: 14784·4 bytes less.
  const short = estimateMemory({
    config: SMALL,
    microBatch: 1,
    seqLen: 4,
    sampling: { rows: 6, length: 12, prompt: 8 },
  });
  equal(short.bytes.sampling, 145344 - 59136);
});

Deno.test("the worked example: Qwen2.5-3B at 1024 tokens, full fine-tuning vs LoRA r 16", () => {
  const qwen: LlamaModelConfig = {
    model_type: "qwen2",
    vocab_size: 151936,
    hidden_size: 2048,
    intermediate_size: 11008,
    num_hidden_layers: 36,
    num_attention_heads: 16,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1e6,
    max_position_embeddings: 32768,
    tie_word_embeddings: true,
  };
  // Per token: per layer 65536 + 65536 + 3072 + 131072 + 176128 = 441344; × 36 = 15888384,
  // + 16384 + 2430976 = 18335744 elements = 73342976 bytes.
  const full = estimateMemory({ config: qwen, microBatch: 1, seqLen: 1024, references: 1 });
  equal(full.parameters, 3085938688);
  equal(full.perToken, 73342976);
  equal(full.bytes.weights, 12343754752);
  equal(full.bytes.moments, 24687509504);
  equal(full.bytes.activations, 75103207424);
  equal(full.bytes.total, 136821981184);
  equal(formatBytes(full.bytes.total), "127.4 GiB");
  // PEFT counts 29,933,568 trainable parameters for r 16 on all seven projections; P_W =
  // 36·77070336 = 2774532096.
  const all = [...ALL_PROJECTIONS];
  const lora = estimateMemory({
    config: qwen,
    microBatch: 1,
    seqLen: 1024,
    references: 1,
    lora: { rank: 16, targets: all },
  });
  equal(lora.trainable, 29933568);
  equal(lora.bytes.weights, (3085938688 + 2774532096 + 29933568) * 4);
  equal(lora.bytes.references, 0);
  equal(lora.bytes.gradients, 119734272);
  equal(lora.bytes.moments, 239468544);
  equal(lora.bytes.total, 99024027648);
  equal(formatBytes(lora.bytes.total), "92.2 GiB");
  // GRPO, 8 prompts × G 8 of 256 + 768 tokens, accumulate 64: one rollout per micro-batch,
  // sampled one row at a time. KV cache 2·36·2·128·1024·4 = 75497472, prefill attention
  // 9·16·256²·4 = 37748736, its other intermediates 256·(16·2048 + 8·11008)·4 = 123731968,
  // logits 2·151936·4 = 1215488; the step (one row of 1024 tokens, a gradient sum) dominates.
  const rl = estimateMemory({
    config: qwen,
    microBatch: 1,
    seqLen: 1024,
    references: 1,
    accumulate: 64,
    lora: { rank: 16, targets: all },
    sampling: { rows: 1, length: 1024, prompt: 256 },
  });
  equal(rl.bytes.sampling, 75497472 + 37748736 + 123731968 + 1215488);
  equal(formatBytes(rl.bytes.sampling), "227.2 MiB");
  equal(formatBytes(rl.bytes.activations), "69.9 GiB");
  equal(formatBytes(rl.bytes.total), "92.3 GiB");
  // Full fine-tuning of the same step: 138.9 GiB, over an H200's 141 GB (131.3 GiB).
  equal(
    formatBytes(
      estimateMemory({
        config: qwen,
        microBatch: 1,
        seqLen: 1024,
        references: 1,
        accumulate: 64,
        sampling: { rows: 1, length: 1024, prompt: 256 },
      }).bytes.total,
    ),
    "138.9 GiB",
  );
  // In bfloat16 every term halves.
  equal(
    formatBytes(
      estimateMemory({
        config: qwen,
        microBatch: 1,
        seqLen: 1024,
        references: 1,
        dtype: "bfloat16",
      })
        .bytes.total,
    ),
    "63.7 GiB",
  );
});

Deno.test("parseBytes: sizes with units; anything else is one line naming the flag", () => {
  equal(parseBytes("16GiB", "--memory"), 17179869184);
  equal(parseBytes("512mib", "--memory"), 536870912);
  equal(parseBytes("80GB", "--memory"), 80e9);
  equal(parseBytes(" 1.5 TB ", "--memory"), 1.5e12);
  equal(parseBytes("2048B", "--memory"), 2048);
  for (const bad of ["16", "16 GB!", "-1GB", "GiB", "0GB", "1e3GB", "16 gigs"]) {
    throws(() => parseBytes(bad, "--memory"), (e: unknown) => {
      equal(e instanceof UsageError, true);
      const m = (e as Error).message;
      equal(m.startsWith(`--memory: '${bad}' `), true, m);
      equal(m.includes("\n"), false);
      return true;
    });
  }
  equal(formatBytes(17179869184), "16.0 GiB");
  equal(formatBytes(1536), "1.5 KiB");
  equal(formatBytes(12), "12 B");
});

Deno.test("deviceLimits: wasm's 32-bit memory, WebGPU's buffer limit once started", () => {
  equal(deviceLimits("wasm").total, 4294967296);
  equal(deviceLimits("cpu").total, null);
  equal(deviceLimits("webgpu").buffer, null);
  const gpu = () => ({ limits: { maxStorageBufferBindingSize: 2 ** 27 } });
  equal(deviceLimits("webgpu", { webgpuDevice: gpu }).buffer, 2 ** 27);
  const notStarted = () => {
    throw new Error("WebGPU backend not initialized");
  };
  equal(deviceLimits("webgpu", { webgpuDevice: notStarted }).buffer, null);
});

Deno.test("samplingRows: as many rows as the sampling estimate fits, at least one", () => {
  // Per row of 12 tokens (prompt 12): KV 2·2·1·4·12 = 192, prefill 9·2·12² = 2592, other
  // intermediates 12·(16·8 + 8·16) = 3072, logits 2·100 = 200: 6056 elements, 24224 bytes.
  const s = { rows: 6, length: 12, prompt: 12 };
  equal(samplingRows(SMALL, s, 100000), 4);
  equal(samplingRows(SMALL, s, samplingBudget("wasm")), 6);
  equal(samplingBudget("webgpu"), 16 * 2 ** 30);
  equal(samplingRows(SMALL, s, 1e9), 6);
  equal(samplingRows(SMALL, s, 10), 1);
  // The same per-row bytes as the estimate's sampling term.
  const e = estimateMemory({ config: SMALL, microBatch: 1, seqLen: 4, sampling: s });
  equal(e.bytes.sampling, 6 * 24224);
});
