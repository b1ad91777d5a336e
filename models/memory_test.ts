// Tests for models/memory.ts on hand-worked byte counts: a model small enough to count every
// tensor by hand (full fine-tuning, accumulation, LoRA, bfloat16, SFT+KL, RL sampling), the
// worked example of docs/metrics.md "Memory model" (Qwen2.5-3B at 1024 tokens, full vs LoRA
// r 16), sizes as flags write them, and the limits of jax-js's devices.

import { equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import type { LlamaModelConfig } from "./llama.ts";
import {
  activationsPerToken,
  deviceLimits,
  estimateMemory,
  formatBytes,
  parseBytes,
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
  // T = 16: per layer 4·8 + 4·2·4 + 3·1·4 + 2·2·16 + 4·16 = 32 + 32 + 12 + 64 + 64 = 204;
  // two layers 408, + 2·8 + 4·100 = 824 elements; SFT+KL adds V = 100.
  equal(activationsPerToken(SMALL, { seqLen: 16 }), 824);
  equal(activationsPerToken(SMALL, { seqLen: 16, klTarget: true }), 924);
  // T = 4: attention 2·2·4 = 16 instead of 64: 824 − 2·48 = 728.
  equal(activationsPerToken(SMALL, { seqLen: 4 }), 728);
});

Deno.test("full fine-tuning, accumulation, bfloat16: byte counts by hand", () => {
  // float32, micro-batch 3 × 16 tokens, π0 held: weights = references = gradients = 1992·4 =
  // 7968, moments 15936, activations 3·16·824·4 = 158208.
  const e = estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1 });
  equal(e.parameters, 1992);
  equal(e.trainable, 1992);
  equal(e.perToken, 3296);
  equal(e.bytes.weights, 7968);
  equal(e.bytes.references, 7968);
  equal(e.bytes.gradients, 7968);
  equal(e.bytes.moments, 15936);
  equal(e.bytes.activations, 158208);
  equal(e.bytes.sampling, 0);
  // 7968 + 7968 + 15936 + (7968 + 158208) = 198048.
  equal(e.bytes.total, 198048);
  // The largest tensor is the logits, 3·16·100·4 = 19200 bytes.
  equal(e.largestTensor, 19200);
  // Accumulating holds the gradient sum and the micro-batch's: + 7968.
  equal(
    estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1, accumulate: 2 }).bytes
      .total,
    206016,
  );
  // bfloat16 halves every term.
  equal(
    estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1, dtype: "bfloat16" })
      .bytes.total,
    99024,
  );
  // SFT+KL: 3·16·100·4 = 19200 bytes of reference log-probabilities more.
  equal(
    estimateMemory({ config: SMALL, microBatch: 3, seqLen: 16, references: 1, klTarget: true })
      .bytes.total,
    217248,
  );
});

Deno.test("LoRA: only the adapter is trained; one merged copy of the targeted weights", () => {
  // r 2 on q_proj (8 → 8) and down_proj (16 → 8): P_A = 2·(16 + 24) = 80 per layer, 160;
  // P_W = 64 + 128 = 192 per layer, 384. weights (1992 + 384 + 160)·4 = 10144; at a second stage
  // the stage's start holds its own merged copy: (2 − 1)·384·4 = 1536; gradients 160·4 = 640,
  // moments 1280; activations as full fine-tuning, 158208.
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
  equal(e.bytes.total, 10144 + 1536 + 1280 + 640 + 158208);
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
  // 6 rows of 12 tokens: KV cache 2·2·1·4·12·6 = 1152, prefill attention 2·6·2·12² = 3456,
  // logits and probabilities 2·6·100 = 1200: 5808 elements, 23232 bytes. The step (1 × 4
  // tokens) needs gradients 7968 + activations 4·728·4 = 11648 = 19616 < 23232, so
  // total = 7968 + 0 + 15936 + 23232 = 47136.
  const e = estimateMemory({
    config: SMALL,
    microBatch: 1,
    seqLen: 4,
    sampling: { rows: 6, length: 12 },
  });
  equal(e.bytes.sampling, 23232);
  equal(e.bytes.activations, 11648);
  equal(e.bytes.total, 47136);
  // Prompts of 8 tokens: prefill attention 2·6·2·8² = 1536 instead of 3456: 1920·4 bytes less.
  const short = estimateMemory({
    config: SMALL,
    microBatch: 1,
    seqLen: 4,
    sampling: { rows: 6, length: 12, prompt: 8 },
  });
  equal(short.bytes.sampling, 23232 - 7680);
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
  // Per token: per layer 8192 + 8192 + 768 + 32768 + 44032 = 93952; × 36 = 3382272, + 4096 +
  // 607744 = 3994112 elements = 15976448 bytes.
  const full = estimateMemory({ config: qwen, microBatch: 1, seqLen: 1024, references: 1 });
  equal(full.parameters, 3085938688);
  equal(full.perToken, 15976448);
  equal(full.bytes.weights, 12343754752);
  equal(full.bytes.moments, 24687509504);
  equal(full.bytes.activations, 16359882752);
  equal(full.bytes.total, 78078656512);
  equal(formatBytes(full.bytes.total), "72.7 GiB");
  // PEFT counts 29,933,568 trainable parameters for r 16 on all seven projections; P_W =
  // 36·77070336 = 2774532096.
  const all = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
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
  equal(lora.bytes.total, 40280702976);
  equal(formatBytes(lora.bytes.total), "37.5 GiB");
  // GRPO, 8 prompts × G 8 of 256 + 768 tokens sampled at once, accumulate 8 (8 rows per
  // micro-batch): KV cache 2·36·2·128·1024·64·4 = 4831838208, prefill 2·64·16·256²·4 = 536870912,
  // logits 2·64·151936·4 = 77791232.
  const rl = estimateMemory({
    config: qwen,
    microBatch: 8,
    seqLen: 1024,
    references: 1,
    accumulate: 8,
    lora: { rank: 16, targets: all },
    sampling: { rows: 64, length: 1024, prompt: 256 },
  });
  equal(rl.bytes.sampling, 4831838208 + 536870912 + 77791232);
  equal(formatBytes(rl.bytes.sampling), "5.1 GiB");
  equal(formatBytes(rl.bytes.activations), "121.9 GiB");
  equal(formatBytes(rl.bytes.total), "144.3 GiB");
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
    "36.4 GiB",
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
