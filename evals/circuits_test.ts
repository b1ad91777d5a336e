// Tests for evals/circuits.ts: the pure measures on hand-computed values; models/llama.ts's head
// patching (no patch, m = 1 and m = 0 with the clean heads as "counterfactual" are bit-identical
// to llamaForward); and discovery on a 2-layer Llama whose lookup circuit is known by
// construction: a previous-token head (layer 0, head 0) and a lookup head (layer 1, head 1),
// beside two decoy heads that read the same tokens but write where nothing reads.

import { deepEqual, equal, ok } from "node:assert/strict";
import { numpy as np, tree } from "@jax-js/jax";
import { rng } from "../lib/rng.ts";
import { startEngine } from "../models/engine.ts";
import {
  llamaForward,
  llamaForwardHeads,
  type LlamaModelConfig,
  llamaParamShapes,
  padBatch,
  paramsFromWeights,
} from "../models/llama.ts";
import {
  accuracy,
  answerStats,
  circuitHeads,
  type CircuitItem,
  circuitSize,
  discoverCircuit,
  evaluateCircuit,
  faithfulness,
  maskShift,
  necessity,
  retention,
  vulnerableHeads,
} from "./circuits.ts";
import { randomLlamaWeights, TIED_CONFIG } from "../models/tiny_llama.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("circuit measures: hand-computed values", () => {
  const base = [[1, 0, 1], [0, 1, 1]];
  deepEqual(circuitHeads(base), [
    { layer: 0, head: 0 },
    { layer: 0, head: 2 },
    { layer: 1, head: 1 },
    { layer: 1, head: 2 },
  ]);
  equal(circuitSize(base), 4);
  equal(circuitSize([[0.49, 0.5]]), 1);
  // (0.45 + 0.3) / 2 over (0.9 + 0.6) / 2 = 0.375 / 0.75.
  equal(faithfulness([0.45, 0.3], [0.9, 0.6]), 0.5);
  // mean full 0.75; head (0,0) ablated mean 0.25 → 0.5; head (0,1) mean 0.75 → 0.
  deepEqual(necessity([0.9, 0.6], [[[0.2, 0.3], [0.9, 0.6]]]), [[0.5, 0]]);
  const tuned = [[0.25, 0.5, 1], [0, 0, 1]];
  deepEqual(maskShift(base, tuned), [[-0.75, 0.5, 0], [0, -1, 0]]);
  // Base circuit (0,0), (0,2), (1,1), (1,2); tuned keeps (0,2) and (1,2): 2 / 4.
  equal(retention(base, tuned), 0.5);
  ok(Number.isNaN(retention([[0, 0]], [[1, 1]])));
  // δ = 0.3: (0,0) RL −0.2 kept, SFT −0.5 lost → vulnerable; (0,2) RL −0.5 lost → not; (1,1)
  // SFT −0.25 is not below −0.3 → not; (1,2) SFT −1, RL 0 → vulnerable; (0,1) not in base.
  const rl = [[0.8, 0, 0.5], [0, 1, 1]];
  const sft = [[0.5, 0, 1], [0, 0.75, 0]];
  deepEqual(vulnerableHeads({ base, rl, sft }, 0.3), [{ layer: 0, head: 0 }, {
    layer: 1,
    head: 2,
  }]);
});

Deno.test(
  "llamaForwardHeads: unpatched, m = 1 and m = 0 on clean heads are llamaForward's bits",
  opts,
  async () => {
    await startEngine("wasm");
    const config = TIED_CONFIG;
    const params = paramsFromWeights(randomLlamaWeights(config, 3), { config });
    const seqs = [[1, 5, 9, 2, 7], [3, 3, 8]];
    const want = await llamaForward(tree.ref(params), padBatch(seqs), { config }).data();
    const plain = llamaForwardHeads(tree.ref(params), padBatch(seqs), { config, capture: true });
    deepEqual(await plain.logits.data(), want);
    const L = config.num_hidden_layers, NH = config.num_attention_heads;
    equal(plain.heads.length, L);
    for (const fill of [1, 0]) {
      const mask = np.full([L, NH], fill);
      const out = llamaForwardHeads(tree.ref(params), padBatch(seqs), {
        config,
        patch: { mask, cf: plain.heads.map((a) => a.ref) },
      });
      tree.dispose(out.heads);
      deepEqual(await out.logits.data(), want, `m = ${fill}`);
    }
    tree.dispose([params, plain.heads]);
  },
);

// ---- a Llama whose lookup circuit is known by construction ----

// Tokens: keys 0..3, values 4..7. Prompt [k1 v1 k2 v2 k3 v3 q], answer the value bound to q.
const NK = 4, NV = 4, H = 32, D = 16;
// Residual dims: token identity E 0..7, constant C, key flag KF, a pad dim making every token's
// norm equal, previous key P 11..14, answer O 15..18, decoy outputs J1 19..26, J2 27..30.
const E = 0, C = 8, KF = 9, EVEN = 10, P = 11, O = 15, J1 = 19, J2 = 27;

const LOOKUP: LlamaModelConfig = {
  vocab_size: 16,
  hidden_size: H,
  intermediate_size: 4,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  head_dim: D,
  rms_norm_eps: 1e-6,
  // Pair 0 of each head turns by 1 rad per position; pairs ≥ 1 by ≤ 1e-2.5: content dims.
  rope_theta: 1e20,
  max_position_embeddings: 64,
  tie_word_embeddings: false,
};

/**
 * Layer 0 head 0 attends to the previous position (RoPE pair 0, score ∝ cos(Δ − 1)) and copies
 * its key identity into P; layer 1 head 1 attends from the query (a key) to the position whose
 * P matches it, never to key tokens, and copies that value into O, which lm_head reads. Decoys:
 * layer 0 head 1 attends to itself and copies its token into J1; layer 1 head 0 does head 1's
 * lookup but writes into J2. MLPs are zero. Nothing reads J1 or J2.
 */
function lookupWeights(): Map<string, Float32Array> {
  const w = new Map<string, Float32Array>();
  for (const [name, shape] of llamaParamShapes(LOOKUP)) {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (shape.length === 1) a.fill(1);
    w.set(name, a);
  }
  const set = (name: string, row: number, col: number, v: number) => {
    const shape = llamaParamShapes(LOOKUP).get(name)!;
    w.get(name)![row * shape[1] + col] = v;
  };
  for (let t = 0; t < NK + NV; t++) {
    set("model.embed_tokens.weight", t, E + t, 1);
    set("model.embed_tokens.weight", t, C, 1);
    set("model.embed_tokens.weight", t, t < NK ? KF : EVEN, 1);
  }
  // Layer 0 reads unit entries as u0 = 1/rms = √(32/3) (every token has norm² 3).
  const u0 = Math.sqrt(H / 3), beta = 14;
  const l0 = "model.layers.0.self_attn";
  set(`${l0}.q_proj.weight`, 0, C, (beta * Math.cos(1)) / u0);
  set(`${l0}.q_proj.weight`, D / 2, C, (-beta * Math.sin(1)) / u0);
  set(`${l0}.k_proj.weight`, 0, C, beta / u0);
  for (let j = 0; j < NK; j++) {
    set(`${l0}.v_proj.weight`, j, E + j, 1 / u0);
    set(`${l0}.o_proj.weight`, P + j, j, 1);
  }
  // Decoy: score ∝ cos(Δ), peaks on itself.
  set(`${l0}.q_proj.weight`, D, C, beta / u0);
  set(`${l0}.k_proj.weight`, D, C, beta / u0);
  for (let j = 0; j < NK + NV; j++) {
    set(`${l0}.v_proj.weight`, D + j, E + j, 1 / u0);
    set(`${l0}.o_proj.weight`, J1 + j, D + j, 1);
  }
  // Layer 1: residual norm² 4 or 5, so unit entries read as 2.5–2.8.
  const rho = 4, M = 20, l1 = "model.layers.1.self_attn";
  for (const [head, out] of [[1, O], [0, J2]]) {
    const off = head * D;
    for (let j = 0; j < NK; j++) {
      set(`${l1}.q_proj.weight`, off + 1 + j, E + j, rho);
      set(`${l1}.k_proj.weight`, off + 1 + j, P + j, rho);
      set(`${l1}.v_proj.weight`, off + j, E + NK + j, 1);
      set(`${l1}.o_proj.weight`, out + j, off + j, 0.4);
    }
    set(`${l1}.q_proj.weight`, off + 1 + NK, C, 1);
    set(`${l1}.k_proj.weight`, off + 1 + NK, KF, -M);
  }
  for (let j = 0; j < NV; j++) set("lm_head.weight", NK + j, O + j, 5);
  for (const n of ["gate_proj", "up_proj", "down_proj"]) {
    for (const l of [0, 1]) w.get(`model.layers.${l}.mlp.${n}.weight`)!.fill(0);
  }
  return w;
}

/**
 * Lookup items: 3 distinct keys bound to 3 distinct values, a query among them; the
 * counterfactual swaps the query's key with another pair's key, so the query is bound elsewhere.
 */
function lookupItems(n: number, seed: number): CircuitItem[] {
  const r = rng(seed);
  const pick = (from: number[], k: number) => {
    const pool = [...from], out: number[] = [];
    for (let i = 0; i < k; i++) out.push(pool.splice(r.int(pool.length), 1)[0]);
    return out;
  };
  return Array.from({ length: n }, () => {
    const keys = pick([0, 1, 2, 3], 3), vals = pick([4, 5, 6, 7], 3);
    const qi = r.int(3), other = (qi + 1 + r.int(2)) % 3;
    const swapped = [...keys];
    [swapped[qi], swapped[other]] = [swapped[other], swapped[qi]];
    const ctx = (ks: number[]) => ks.flatMap((k, i) => [k, vals[i]]);
    return {
      prompt: [...ctx(keys), keys[qi]],
      answer: [vals[qi]],
      counterfactual: [...ctx(swapped), keys[qi]],
    };
  });
}

Deno.test("discoverCircuit finds the constructed lookup circuit exactly", opts, async () => {
  await startEngine("wasm");
  const config = LOOKUP;
  const params = paramsFromWeights(lookupWeights(), { config });
  const items = lookupItems(32, 5);
  const found = await discoverCircuit(params, items, { config, seed: 1 });
  const full = await answerStats(params, items, { config, mask: [[1, 1], [1, 1]] });
  equal(accuracy(full), 1, "the constructed model does the lookup");
  ok(Math.min(...full.p) > 0.99, "with confidence");
  deepEqual(found.mask, [[1, 0], [0, 1]]);
  const rep = await evaluateCircuit(params, items, { config, mask: found.mask });
  equal(rep.size, 2);
  ok(rep.faithfulness >= 0.9, `faithfulness ${rep.faithfulness}`);
  // Chance: always answering the most common value.
  const counts = new Map<number, number>();
  for (const it of items) counts.set(it.answer[0], (counts.get(it.answer[0]) ?? 0) + 1);
  const chance = Math.max(...counts.values()) / items.length;
  ok(
    accuracy(rep.ablated.counterfactual) <= chance,
    `cf-ablated ${accuracy(rep.ablated.counterfactual)}`,
  );
  ok(
    accuracy(rep.ablated.mean) <= chance,
    `mean-ablated ${accuracy(rep.ablated.mean)} > ${chance}`,
  );
  // Each circuit head is necessary alone; the decoys are not.
  ok(rep.necessity[0][0] > 0.5 && rep.necessity[1][1] > 0.5, `${rep.necessity}`);
  ok(Math.abs(rep.necessity[0][1]) < 0.05 && Math.abs(rep.necessity[1][0]) < 0.05);
  // The decoys alone are not faithful.
  const decoys = await evaluateCircuit(params, items, { config, mask: [[0, 1], [1, 0]] });
  ok(decoys.faithfulness < 0.1, `decoys' faithfulness ${decoys.faithfulness}`);
  // Same inputs and seed: byte-identical masks and logits θ.
  const again = await discoverCircuit(params, items, { config, seed: 1 });
  deepEqual(new Uint8Array(again.thetaBits.buffer), new Uint8Array(found.thetaBits.buffer));
  deepEqual(again.mask, found.mask);
  tree.dispose(params);
});
