/**
 * Calibrates the memory model (models/memory.ts, docs/metrics.md "Memory model") against what
 * jax-js actually holds: the peak of live bytes in jax-js's wasm allocator over one SFT step of
 * the Llama learner, and over one KV-cached sampling call, for small Llama configurations that
 * vary one dimension at a time (T, V, I, nH, L; rows, prompt length, generation budget), next to
 * the model's estimate of the same.
 *
 *   deno run --allow-read --allow-env bench/memory.ts
 *
 * Live bytes are counted by wrapping the wasm backend's malloc and decRef (jax-js 0.1.25 does not
 * export its backend; the chunk that does is imported by path). What the allocator has reserved
 * can exceed the live peak: it reuses a freed buffer only for a request of the same size class.
 */

import { FAMILIES } from "../models/families.ts";
import type { TrainInstance } from "../models/learner.ts";
import { bucket, type LlamaModelConfig } from "../models/llama.ts";
import type { LlamaPolicy } from "../models/llama_policy.ts";
import { estimateMemory } from "../models/memory.ts";
import { sample } from "../models/sampling.ts";

/** Wraps the wasm backend so that live and peak bytes can be read. */
async function tracker(): Promise<{ live(): number; resetPeak(): void; peak(): number }> {
  const home = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  const url = `file://${home}/npm/registry.npmjs.org/@jax-js/jax/0.1.25/dist/backend-CnjgxpXq.js`;
  const mod = await import(url);
  // deno-lint-ignore no-explicit-any -- jax-js's internal backend object
  const be = (mod as any).s("wasm");
  const sizes = new Map<number, number>();
  let live = 0, peak = 0;
  const malloc = be.malloc.bind(be), decRef = be.decRef.bind(be);
  be.malloc = (size: number, data?: Uint8Array) => {
    const slot = malloc(size, data);
    sizes.set(slot, size);
    live += size;
    peak = Math.max(peak, live);
    return slot;
  };
  be.decRef = (slot: number) => {
    decRef(slot);
    try {
      be.incRef(slot); // still referenced: undo
      decRef(slot);
    } catch {
      const s = sizes.get(slot);
      if (s !== undefined) live -= s;
      sizes.delete(slot);
    }
  };
  return { live: () => live, resetPeak: () => (peak = live), peak: () => peak };
}

const BASE: LlamaModelConfig = {
  model_type: "llama",
  vocab_size: 384,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 4096,
  tie_word_embeddings: true,
};

async function open(config: LlamaModelConfig): Promise<LlamaPolicy> {
  const spec = FAMILIES.llama.parse({ family: "llama", tokenizer: "char", config }, "bench");
  return await FAMILIES.llama.open(spec, { seed: 0, device: "wasm" }) as LlamaPolicy;
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(1);
const t = await tracker();

console.log("SFT step, one row: peak live bytes over the step vs activations + gradients");
console.log("(with a reference: the stage's start, whose KL every SFT step in a recipe computes)");
console.log("config                      T     measured MiB  model MiB  model/measured");
for (
  const [name, over, withRef] of [
    ["base", {}, false],
    ["V 4096", { vocab_size: 4096 }, false],
    ["I 1024", { intermediate_size: 1024 }, false],
    ["nH 8", { num_attention_heads: 8 }, false],
    ["L 4", { num_hidden_layers: 4 }, false],
    ["base, with a reference", {}, true],
    ["V 4096, with a reference", { vocab_size: 4096 }, true],
  ] as const
) {
  const config = { ...BASE, ...over };
  const p = await open(config);
  const reference = withRef ? p.clone() : undefined;
  for (const n of [250, 500, 1000]) {
    const prompt = "ab".repeat(n / 2);
    const inst = {
      request: { kind: "generate", prompt, until: ["\n"], maxTokens: 8 },
      targets: () => ["x"],
    } as unknown as TrainInstance;
    const session = p.learner!([inst], { reference }).begin({ seed: 1 });
    t.resetPeak();
    const before = t.live();
    await session.sft([0], { labelling: "sft1", beta: 0, lr: 1e-4 });
    const measured = t.peak() - before;
    const T = bucket(p.countTokens!(prompt) + 3, 8);
    const e = estimateMemory({ config, microBatch: 1, seqLen: T, klTarget: withRef });
    const model = e.bytes.activations + e.bytes.gradients;
    console.log(
      `${name.padEnd(26)} ${String(T).padStart(5)} ${MiB(measured).padStart(14)} ${
        MiB(model).padStart(10)
      } ${(model / measured).toFixed(2).padStart(15)}`,
    );
    await session.dispose();
  }
  await reference?.dispose();
  await p.dispose();
}

console.log("\nKV-cached sampling: peak live bytes over one call vs the sampling term");
console.log("rows  prompt  new tokens  measured MiB  model MiB  model/measured");
const p = await open(BASE);
for (const [R, P, G] of [[8, 250, 32], [8, 500, 32], [16, 250, 32], [8, 250, 256]]) {
  const prompts = Array.from({ length: R }, () => Array.from({ length: P }, (_, i) => 1 + i % 50));
  t.resetPeak();
  const before = t.live();
  await sample(p.params, prompts, { config: BASE, maxTokens: G, temperature: 1, seed: 1 });
  const measured = t.peak() - before;
  const e = estimateMemory({
    config: BASE,
    microBatch: 1,
    seqLen: 8,
    sampling: { rows: R, length: bucket(P + G, 16), prompt: bucket(P, 16) },
  });
  console.log(
    `${String(R).padStart(4)} ${String(P).padStart(7)} ${String(G).padStart(11)} ${
      MiB(measured).padStart(13)
    } ${MiB(e.bytes.sampling).padStart(10)} ${
      (e.bytes.sampling / measured).toFixed(2).padStart(15)
    }`,
  );
}
await p.dispose();
Deno.exit(0);
