// Tests for models/llama.ts on wasm: the architecture (initLlama's names, shapes and
// distribution), logits against the float64 reference (models/llama_ref.ts; GQA, tied head,
// head_dim ≠ hidden/heads, right and left padding), Qwen2 biases against a float64 reference
// written out here, and per-token log-probs and exact KL. Sampling is tested in
// models/sampling_test.ts, losses in llama_losses_test.ts, weights I/O in llama_io_test.ts.

import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import { numpy as np, tree } from "@jax-js/jax";
import { rng } from "../lib/rng.ts";
import { startEngine } from "./engine.ts";
import {
  exactKlPerToken,
  initLlama,
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  llamaParamShapes,
  padBatch,
  paramsFromWeights,
  scoreKl,
  scoreKlAndTokens,
  scoreTokens,
  tokenLogProbs,
} from "./llama.ts";
import { llamaLogits, logSoftmax } from "./llama_ref.ts";
import { resolveLlamaConfig } from "./onnx/llama.ts";
import {
  GQA_CONFIG as GQA,
  maxAbsDiff as maxDiff,
  randomLlamaWeights,
  randomTokens as tokens,
  TIED_CONFIG as TIED,
} from "./tiny_llama.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

// Measured max |Δ| 2e-6 on logits; wasm's log (≤ 1.3e-5) dominates log-probabilities.
const TOL = 1e-4;

function model(config: LlamaModelConfig, seed: number) {
  const weights = randomLlamaWeights(config, seed);
  return { weights, params: paramsFromWeights(weights, { config }) };
}

for (const [name, config] of [["GQA, untied", GQA], ["tied, head_dim 16", TIED]] as const) {
  Deno.test(`llamaForward matches the float64 reference (${name})`, opts, async () => {
    await startEngine("wasm");
    const { weights, params } = model(config, 7);
    const seqs = [tokens(37, 1), tokens(5, 2), tokens(1, 3)];
    const V = config.vocab_size;
    // Right padding (default positions) and left padding (explicit positions).
    const right = await llamaForward(tree.ref(params), padBatch(seqs), { config }).data();
    const T = 40;
    const ids = new Int32Array(3 * T), mask = new Float32Array(3 * T), pos = new Int32Array(3 * T);
    seqs.forEach((s, i) => {
      const off = i * T + T - s.length;
      ids.set(s, off);
      mask.fill(1, off, (i + 1) * T);
      s.forEach((_, t) => (pos[off + t] = t));
    });
    const left = await llamaForward(tree.ref(params), {
      tokens: np.array(ids, { dtype: np.int32 }).reshape([3, T]),
      attnMask: np.array(mask).reshape([3, T]),
      positions: np.array(pos, { dtype: np.int32 }).reshape([3, T]),
    }, { config }).data();
    seqs.forEach((s, i) => {
      const want = llamaLogits(weights, config, s);
      want.forEach((row, t) => {
        const r = maxDiff(right.subarray((i * T + t) * V, (i * T + t + 1) * V), row);
        const l = maxDiff(
          left.subarray((i * T + T - s.length + t) * V, (i * T + T - s.length + t + 1) * V),
          row,
        );
        ok(r < TOL && l < TOL, `seq ${i} pos ${t}: |Δ| right ${r}, left ${l}`);
      });
    });
    // The weights give logits with a spread of several nats, so the check has teeth.
    const spread = Math.max(...llamaLogits(weights, config, seqs[0])[36]) -
      Math.min(...llamaLogits(weights, config, seqs[0])[36]);
    ok(spread > 3, `logit spread ${spread}`);
    tree.dispose(params);
  });
}

// ---- Qwen2: q/k/v biases, checked against a float64 reference written out here ----

/** Float64 logits of one unpadded sequence for a model with q/k/v biases (HF Qwen2 semantics). */
function qwenReference(
  w: Map<string, Float64Array>,
  opts: { config: LlamaModelConfig; seq: number[] },
): number[][] {
  const c = resolveLlamaConfig(opts.config);
  const H = c.hidden_size, D = c.head_dim, NH = c.num_attention_heads, KV = c.num_key_value_heads;
  const lin = (name: string, x: number[], bias?: string) => {
    const W = w.get(name)!, out = W.length / x.length;
    return Array.from({ length: out }, (_, o) => {
      let s = bias ? w.get(bias)![o] : 0;
      for (let i = 0; i < x.length; i++) s += W[o * x.length + i] * x[i];
      return s;
    });
  };
  const norm = (x: number[], name: string) => {
    const r = 1 / Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length + c.rms_norm_eps);
    return x.map((v, i) => v * r * w.get(name)![i]);
  };
  // RoPE, rotate_half convention: pairs (e, e + D/2) of each head turn by p·θ^(−2k/D).
  const rot = (x: number[], p: number) =>
    x.map((v, j) => {
      const h = Math.floor(j / D), e = j % D, k = e % (D / 2);
      const a = p / Math.pow(c.rope_theta, (2 * k) / D);
      const other = e < D / 2 ? -x[h * D + e + D / 2] : x[h * D + e - D / 2];
      return v * Math.cos(a) + other * Math.sin(a);
    });
  let xs = opts.seq.map((t) =>
    Array.from(w.get("model.embed_tokens.weight")!.subarray(t * H, (t + 1) * H))
  );
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`, a = `${p}.self_attn`;
    const xn = xs.map((x) => norm(x, `${p}.input_layernorm.weight`));
    const q = xn.map((x, t) => rot(lin(`${a}.q_proj.weight`, x, `${a}.q_proj.bias`), t));
    const k = xn.map((x, t) => rot(lin(`${a}.k_proj.weight`, x, `${a}.k_proj.bias`), t));
    const v = xn.map((x) => lin(`${a}.v_proj.weight`, x, `${a}.v_proj.bias`));
    xs = xs.map((x, t) => {
      const att = new Array(NH * D).fill(0);
      for (let h = 0; h < NH; h++) {
        const g = Math.floor(h / (NH / KV));
        const s = Array.from({ length: t + 1 }, (_, j) => {
          let d = 0;
          for (let e = 0; e < D; e++) d += q[t][h * D + e] * k[j][g * D + e];
          return d / Math.sqrt(D);
        });
        const lp = logSoftmax(Float64Array.from(s));
        for (let j = 0; j <= t; j++) {
          for (let e = 0; e < D; e++) att[h * D + e] += Math.exp(lp[j]) * v[j][g * D + e];
        }
      }
      const o = lin(`${a}.o_proj.weight`, att);
      const x1 = x.map((u, i) => u + o[i]);
      const hn = norm(x1, `${p}.post_attention_layernorm.weight`);
      const gate = lin(`${p}.mlp.gate_proj.weight`, hn), up = lin(`${p}.mlp.up_proj.weight`, hn);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = lin(`${p}.mlp.down_proj.weight`, act);
      return x1.map((u, i) => u + down[i]);
    });
  }
  return xs.map((x) => lin("lm_head.weight", norm(x, "model.norm.weight")));
}

Deno.test("Qwen2 q/k/v biases: logits match a float64 reference with biases", opts, async () => {
  await startEngine("wasm");
  const config: LlamaModelConfig = { ...GQA, model_type: "qwen2" };
  const base = randomLlamaWeights(GQA, 9);
  const w = new Map<string, Float64Array>();
  for (const [n, s] of llamaParamShapes(config)) {
    const r = rng(4, s.length, n.length);
    w.set(
      n,
      base.has(n)
        ? Float64Array.from(base.get(n)!)
        : Float64Array.from({ length: s[0] }, () => r.next() - 0.5),
    );
  }
  ok(w.has("model.layers.1.self_attn.k_proj.bias"));
  const params = paramsFromWeights(w, { config });
  const seq = tokens(20, 5);
  const got = await llamaForward(params, padBatch([seq]), { config }).data();
  const want = qwenReference(w, { config, seq });
  const V = config.vocab_size;
  want.forEach((row, t) => {
    const d = maxDiff(got.subarray(t * V, (t + 1) * V), row);
    ok(d < TOL, `pos ${t}: |Δ| ${d}`);
  });
  // The biases matter: the reference without them differs by far more than the tolerance.
  const plain = llamaLogits(base, GQA, seq);
  ok(maxDiff(plain.flatMap((r) => Array.from(r)), want.flat()) > 0.1);
});

Deno.test(
  "tokenLogProbs and exactKlPerToken equal the reference's log-softmax sums",
  opts,
  async () => {
    await startEngine("wasm");
    const a = model(GQA, 1), b = model(GQA, 2);
    const seqs = [tokens(12, 6), tokens(7, 7)];
    const lp = await scoreTokens(a.params, seqs, { config: GQA });
    const kl = await scoreKl([a.params, b.params], seqs, { config: GQA });
    const self = await scoreKl([a.params, a.params], seqs, { config: GQA });
    seqs.forEach((s, i) => {
      const la = llamaLogits(a.weights, GQA, s).map(logSoftmax);
      const lb = llamaLogits(b.weights, GQA, s).map(logSoftmax);
      equal(lp[i].length, s.length);
      equal(lp[i][0], 0);
      equal(kl[i][0], 0);
      for (let t = 1; t < s.length; t++) {
        const wantLp = la[t - 1][s[t]];
        let wantKl = 0;
        for (let v = 0; v < GQA.vocab_size; v++) {
          wantKl += Math.exp(la[t - 1][v]) * (la[t - 1][v] - lb[t - 1][v]);
        }
        ok(Math.abs(lp[i][t] - wantLp) < TOL, `lp seq ${i} pos ${t}: ${lp[i][t]} vs ${wantLp}`);
        ok(Math.abs(kl[i][t] - wantKl) < TOL, `kl seq ${i} pos ${t}: ${kl[i][t]} vs ${wantKl}`);
        ok(wantKl > 0.05, "the two models differ");
        ok(Math.abs(self[i][t]) < 1e-5, `KL(P‖P) = ${self[i][t]}`);
      }
    });
    // The pure forms, with a targets mask: only masked-in positions survive.
    const batch = padBatch(seqs, { length: 12 });
    const m = new Float32Array(24).fill(1, 3, 9);
    const masked = await tokenLogProbs(tree.ref(a.params), tree.ref(batch), {
      config: GQA,
      targetsMask: np.array(m).reshape([2, 12]),
    }).data();
    const klMasked = await exactKlPerToken([tree.ref(a.params), tree.ref(b.params)], batch, {
      config: GQA,
      targetsMask: np.array(m).reshape([2, 12]),
    }).data();
    for (let t = 0; t < 12; t++) {
      const inside = t >= 3 && t < 9;
      ok(inside ? Math.abs(masked[t] - lp[0][t]) < 1e-5 : masked[t] === 0, `masked lp at ${t}`);
      ok(inside ? Math.abs(klMasked[t] - kl[0][t]) < 1e-5 : klMasked[t] === 0, `masked kl at ${t}`);
      equal(masked[12 + t], 0);
    }
    tree.dispose([a.params, b.params]);
  },
);

Deno.test("initLlama: HF names and shapes, deterministic per seed, N(0, 0.02²)", opts, async () => {
  await startEngine("wasm");
  const config: LlamaModelConfig = { ...GQA, model_type: "qwen2" };
  const p: LlamaParams = initLlama(config, { seed: 1 });
  const shapes = llamaParamShapes(config);
  deepEqual(Object.keys(p).sort(), [...shapes.keys()].sort());
  for (const [n, s] of shapes) deepEqual(p[n].shape, s, n);
  const w = Array.from(await p["model.layers.0.mlp.up_proj.weight"].ref.data());
  const mean = w.reduce((a, v) => a + v, 0) / w.length;
  const sd = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
  ok(Math.abs(mean) < 1e-3 && Math.abs(sd - 0.02) < 1e-3, `mean ${mean} sd ${sd}`);
  deepEqual(Array.from(await p["model.norm.weight"].ref.data()), new Array(32).fill(1));
  deepEqual(
    Array.from(await p["model.layers.0.self_attn.q_proj.bias"].ref.data()),
    new Array(32).fill(0),
  );
  const again = initLlama(config, { seed: 1 }), other = initLlama(config, { seed: 2 });
  const e0 = await p["model.embed_tokens.weight"].ref.data();
  deepEqual(await again["model.embed_tokens.weight"].ref.data(), e0);
  notDeepEqual(await other["model.embed_tokens.weight"].ref.data(), e0);
  tree.dispose([p, again, other]);
});

Deno.test(
  "scoreKlAndTokens: scoreKl and the second model's scoreTokens in one pass",
  opts,
  async () => {
    await startEngine("wasm");
    const p = paramsFromWeights(randomLlamaWeights(GQA, 1), { config: GQA });
    const q = paramsFromWeights(randomLlamaWeights(GQA, 2), { config: GQA });
    // 21 sequences in chunks of 8: the last chunk is padded with empty rows.
    const seqs = Array.from({ length: 21 }, (_, i) => tokens(3 + (i % 9), 50 + i));
    const o = { config: GQA, batchSize: 8 };
    const both = await scoreKlAndTokens([p, q], seqs, o);
    const kl = await scoreKl([p, q], seqs, o), lp = await scoreTokens(q, seqs, o);
    seqs.forEach((s, i) => {
      equal(both.kl[i].length, s.length);
      equal(both.logProbs[i].length, s.length);
      ok(maxDiff(both.kl[i], kl[i]) < 1e-6, `kl row ${i}`);
      ok(maxDiff(both.logProbs[i], lp[i]) < 1e-6, `log-prob row ${i}`);
    });
    tree.dispose([p, q]);
  },
);
