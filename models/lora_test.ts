// Tests for models/lora.ts and the LoRA parts of LlamaPolicy and the Llama learner, on the tiny
// LM of the trainer suite: PEFT's module matching and initialisation (a fresh adapter leaves the
// model exactly as it was), LoRA steps that move only the adapter (base weights bit-identical),
// the merged checkpoint against the adapter applied in the forward pass, the PEFT folder round
// trip, and the one-line errors for targets that match nothing and for dropout.

import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import { jit, tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { TINY_LM_CONFIG } from "../tests/tiny_lm.ts";
import { startEngine } from "./engine.ts";
import type { TrainInstance } from "./learner.ts";
import {
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  padBatch,
  type TokenBatch,
  weightsOf,
} from "./llama.ts";
import { LlamaPolicy, loadLlamaPolicy } from "./llama_policy.ts";
import {
  ALL_PROJECTIONS,
  initLora,
  linearModules,
  loraModules,
  loraParamCount,
  type LoraParams,
  mergedWeights,
  mergeLora,
  peftMatches,
} from "./lora.ts";
import { decodeSafetensors } from "./safetensors.ts";
import { CHAR_TOKENIZER, promptIds } from "./tokenizer.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const CONFIG: LlamaModelConfig = { ...TINY_LM_CONFIG, max_position_embeddings: 32 };
const ALL = [...ALL_PROJECTIONS];
const LORA = { rank: 4, alpha: 8, targets: ALL };

/** "p:d=" → the digit's parity, as text (the trainer suite's task). */
function instances(n = 16): TrainInstance[] {
  return Array.from({ length: n }, (_, i) => ({
    request: { kind: "generate", prompt: `p:${i % 10}=`, until: ["\n"], maxTokens: 2 },
    targets: (name: string) => (name === "sft1" ? [String(i % 2)] : undefined),
    reward: (y) => (y === String(i % 2) ? 1 : 0),
  }));
}

/** Token rows the logits are compared on. */
function probe(): TokenBatch {
  return padBatch(
    ["p:3=1", "p:8=0", "p:5="].map((t) => promptIds(CHAR_TOKENIZER, t)),
    { length: 8 },
  );
}

async function logits(params: LlamaParams): Promise<Float32Array> {
  return (await llamaForward(tree.ref(params), probe(), { config: CONFIG }).data()) as Float32Array;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function base(): Promise<LlamaPolicy> {
  await startEngine("wasm");
  return LlamaPolicy.init(CONFIG, { seed: 0, tokenizer: CHAR_TOKENIZER });
}

/** A clone of `p` trained for `steps` LoRA SFT steps. */
async function trained(p: LlamaPolicy, steps = 3): Promise<LlamaPolicy> {
  const policy = p.clone();
  const session = policy.learner(instances(), { lora: LORA }).begin({ seed: 1 });
  for (let s = 0; s < steps; s++) {
    await session.sft([0, 1, 2, 3, 4, 5, 6, 7].map((i) => (i + 8 * s) % 16), {
      labelling: "sft1",
      beta: 0,
      lr: 0.02,
    });
  }
  session.dispose();
  return policy;
}

Deno.test("lora: targets match module paths as PEFT's list matching does", () => {
  const key = "model.layers.0.self_attn.q_proj";
  ok(peftMatches(key, "q_proj") && peftMatches(key, "self_attn.q_proj") && peftMatches(key, key));
  ok(!peftMatches(key, "proj") && !peftMatches(key, "_proj") && !peftMatches(key, "q"));
  const all = linearModules(CONFIG);
  // Tied embeddings: 7 Linear layers per layer and no lm_head; the embedding is not a Linear.
  deepEqual(all.map((m) => m.module.split(".").at(-1)), ALL);
  const down = loraModules(CONFIG, { targets: ["mlp.down_proj"], where: "lora" });
  deepEqual(down, [{ module: "model.layers.0.mlp.down_proj", out: 32, in: 64 }]);
  // q [32, 32], k and v [16, 32], o [32, 32], gate and up [64, 32], down [32, 64]:
  // r·Σ(in + out) = 4·(64 + 48 + 48 + 64 + 96 + 96 + 96) = 4·512 = 2048.
  equal(loraParamCount(loraModules(CONFIG, { targets: ALL, where: "lora" }), 4), 2048);
  const untied = { ...CONFIG, tie_word_embeddings: false };
  deepEqual(loraModules(untied, { targets: ["lm_head"], where: "lora" }).map((m) => m.module), [
    "lm_head",
  ]);
});

Deno.test(
  "lora: PEFT's initialisation, seeded; a fresh adapter equals the base",
  opts,
  async () => {
    const p = await base();
    const modules = loraModules(CONFIG, { targets: ALL, where: "lora" });
    const a = initLora(modules, { rank: 4, seed: 5 }), b = initLora(modules, { rank: 4, seed: 5 });
    const c = initLora(modules, { rank: 4, seed: 6 });
    const q = "model.layers.0.self_attn.q_proj", gate = "model.layers.0.mlp.down_proj";
    deepEqual(await a[`${q}.lora_A.weight`].ref.data(), await b[`${q}.lora_A.weight`].ref.data());
    notDeepEqual(
      await a[`${q}.lora_A.weight`].ref.data(),
      await c[`${q}.lora_A.weight`].ref.data(),
    );
    // kaiming_uniform_(a=√5) on [r, in]: U(−1/√in, 1/√in), whose variance is 1/(3·in).
    for (const [m, fanIn] of [[q, 32], [gate, 64]] as const) {
      const A = (await a[`${m}.lora_A.weight`].ref.data()) as Float32Array;
      const bound = 1 / Math.sqrt(fanIn);
      ok(A.every((x) => Math.abs(x) <= bound), `${m}: |A| ≤ ${bound}`);
      ok(Math.max(...A) > 0.8 * bound && Math.min(...A) < -0.8 * bound, `${m}: spans the range`);
      deepEqual(a[`${m}.lora_A.weight`].shape, [4, fanIn]);
      const B = (await a[`${m}.lora_B.weight`].ref.data()) as Float32Array;
      ok(B.every((x) => x === 0), "B = 0");
    }
    const variance = async (name: string) => {
      const A = (await a[name].ref.data()) as Float32Array;
      return A.reduce((s, x) => s + x * x, 0) / A.length;
    };
    const v = await variance(`${gate}.lora_A.weight`);
    ok(Math.abs(v - 1 / (3 * 64)) < 0.25 / (3 * 64), `var ${v} ≈ ${1 / 192}`);
    // W + s·B·A with B = 0 is W bit for bit, and the attached model's logits are the base's.
    const state = { options: LORA, modules, base: tree.ref(p.params), weights: a };
    const merged = mergedWeights(state, { config: CONFIG });
    deepEqual(await weightsOf(merged), await weightsOf(p.params));
    const attached = p.clone();
    attached.attachLora(LORA, { seed: 5 });
    deepEqual(await logits(attached.params), await logits(p.params));
    tree.dispose([merged, b, c, state.base, state.weights]);
    await attached.dispose();
    await p.dispose();
  },
);

Deno.test(
  "lora: steps move only the adapter; the base stays bit-identical; merged = unmerged",
  opts,
  async () => {
    const p = await base();
    const before = await weightsOf(p.params);
    const policy = await trained(p);
    const lora = policy.lora!;
    // The frozen base is bit-identical to the model trained from, and so is the original.
    deepEqual(await weightsOf(lora.base), before);
    deepEqual(await weightsOf(p.params), before);
    // Untargeted tensors of the live model are the base's own arrays (no copy, never trained).
    for (const name of ["model.embed_tokens.weight", "model.norm.weight"]) {
      ok(policy.params[name] === lora.base[name], `${name} shared with the base`);
    }
    // Every adapter moved: B away from 0, A away from its initialisation.
    const init = initLora(lora.modules, { rank: 4, seed: 1 });
    for (const name of Object.keys(init)) {
      const now = (await lora.weights[name].ref.data()) as Float32Array;
      const was = (await init[name].ref.data()) as Float32Array;
      ok(maxDiff(now, was) > 1e-4, `${name} trained`);
    }
    tree.dispose(init);
    // Every targeted weight differs from the base in the live model.
    const live = await weightsOf(policy.params);
    for (const m of lora.modules) {
      ok(maxDiff(live.get(`${m.module}.weight`)!, before.get(`${m.module}.weight`)!) > 0);
    }
    // The adapter applied inside the forward pass (as training computes it) against the merged
    // checkpoint written by save() and read back.
    const unmerged = jit((b: LlamaParams, a: LoraParams, batch: TokenBatch) =>
      llamaForward(mergeLora(b, a, { modules: lora.modules, scale: 2 }), batch, { config: CONFIG })
    );
    const u =
      (await unmerged(tree.ref(lora.base), tree.ref(lora.weights), probe()).data()) as Float32Array;
    const dir = await Deno.makeTempDir();
    try {
      await policy.save(dir);
      const merged = await loadLlamaPolicy(dir, { tokenizer: CHAR_TOKENIZER });
      const m = await logits(merged.params);
      const d = maxDiff(u, m);
      ok(d < 1e-5, `merged vs unmerged logits: ${d}`);
      ok(maxDiff(m, await logits(p.params)) > 1e-3, "and the adapter changed the model");
      await merged.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    unmerged.dispose();
    await policy.dispose();
    await p.dispose();
  },
);

Deno.test("lora: the PEFT adapter folder round trip", opts, async () => {
  const p = await base();
  const policy = await trained(p, 2);
  const dir = await Deno.makeTempDir();
  try {
    await policy.saveAdapter(dir, { baseModel: "forgetbench/tiny" });
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/adapter_config.json`));
    equal(cfg.peft_type, "LORA");
    equal(cfg.r, 4);
    equal(cfg.lora_alpha, 8);
    equal(cfg.lora_dropout, 0);
    deepEqual(cfg.target_modules, [...ALL].sort());
    equal(cfg.base_model_name_or_path, "forgetbench/tiny");
    equal(cfg.bias, "none");
    equal(cfg.task_type, "CAUSAL_LM");
    const st = decodeSafetensors(await Deno.readFile(`${dir}/adapter_model.safetensors`), "t");
    equal(st.weights.size, 14);
    const q = "base_model.model.model.layers.0.self_attn.q_proj";
    deepEqual(st.weights.get(`${q}.lora_A.weight`)!.shape, [4, 32]);
    deepEqual(
      st.weights.get("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight")!.shape,
      [16, 4],
    );
    deepEqual(
      st.weights.get("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight")!.shape,
      [4, 64],
    );
    // Loaded onto the untrained base: the same adapter, the same model.
    const back = p.clone();
    await back.loadAdapter(dir);
    deepEqual(back.lora!.options, { rank: 4, alpha: 8, targets: [...ALL].sort(), dropout: 0 });
    deepEqual(
      await weightsOf(back.lora!.weights as LlamaParams),
      await weightsOf(policy.lora!.weights as LlamaParams),
    );
    deepEqual(await logits(back.params), await logits(policy.params));
    await rejects(() => back.loadAdapter(dir), /already carries a LoRA adapter/);
    // An adapter of another model is refused naming the tensor.
    const other = LlamaPolicy.init({ ...CONFIG, hidden_size: 48, num_attention_heads: 3 }, {
      seed: 0,
      tokenizer: CHAR_TOKENIZER,
    });
    await rejects(() => other.loadAdapter(dir), /has shape \[4,32\], want \[4,48\]/);
    await Promise.all([back.dispose(), other.dispose()]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await policy.dispose();
  await p.dispose();
});

Deno.test(
  "lora: unmatched targets and dropout are one-line errors naming the field",
  opts,
  async () => {
    const p = await base();
    const bad = (lora: object, re: RegExp) =>
      throws(() => p.learner(instances(), { lora: lora as typeof LORA }), (e: unknown) => {
        ok(e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"), String(e));
        return true;
      });
    bad(
      { ...LORA, targets: ["q_proj", "qproj"] },
      /^lora\.targets\[1\]: 'qproj' matches no Linear module of this model \(its Linear modules end in q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj\)$/,
    );
    bad(
      { ...LORA, targets: ["embed_tokens"] },
      /lora\.targets\[0\]: 'embed_tokens' matches no Linear module/,
    );
    bad(
      { ...LORA, dropout: 0.05 },
      /^lora\.dropout: must be 0 \(forgetbench implements LoRA without dropout\), got 0\.05$/,
    );
    bad({ ...LORA, rank: 0 }, /^lora\.rank: must be a positive integer, got 0$/);
    bad({ ...LORA, alpha: -1 }, /^lora\.alpha: must be a positive number/);
    // A different adapter on a model that carries one is refused; merging first allows it.
    const q = p.clone();
    q.attachLora(LORA, { seed: 0 });
    throws(
      () => q.attachLora({ ...LORA, rank: 8 }, { seed: 0 }),
      /already carries a LoRA adapter of r 4/,
    );
    q.mergeAndUnload();
    equal(q.lora, null);
    await q.dispose();
    await p.dispose();
  },
);
