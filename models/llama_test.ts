// Tests for models/llama.ts on wasm: logits against the float64 reference (models/llama_ref.ts;
// GQA, tied head, head_dim ≠ hidden/heads, right and left padding), Qwen2 biases against a
// float64 reference written out here, per-token log-probs and exact KL, and KV-cached sampling
// against full recomputation (greedy tokens, every sampled log-prob, top-p, seeds, stop token).

import { deepEqual, equal, notDeepEqual, ok, rejects } from "node:assert/strict";
import { grad, jit, numpy as np, tree } from "@jax-js/jax";
import { AutoTokenizer } from "@huggingface/transformers";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { rng } from "../lib/rng.ts";
import { advantages } from "../trainers/policy_gradient.ts";
import { startEngine } from "./engine.ts";
import {
  exactKlPerToken,
  initLlama,
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  llamaParamShapes,
  nextTokenLogProbs,
  padBatch,
  paramsFromWeights,
  sample,
  scoreKl,
  scoreTokens,
  tokenLogProbs,
  weightsOf,
} from "./llama.ts";
import {
  disposeTrainState,
  type Example,
  type GrpoBatch,
  grpoBatch,
  grpoLoss,
  grpoWeights,
  initTrainState,
  makeTrainStep,
  type Metrics,
  referenceLogProbs,
  type SftBatch,
  sftBatch,
  sftLoss,
} from "./llama_losses.ts";
import { exportOnnx, loadLlama, parseLlamaConfig, saveLlama } from "./llama_io.ts";
import { llamaGreedy, llamaLogits, logSoftmax } from "./llama_ref.ts";
import type { NamedWeights } from "./mlp.ts";
import { loadOnnxLm } from "./onnx_lm.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import { byteLevelTokenizer } from "./tokenizer_files.ts";
import { resolveLlamaConfig } from "./onnx/llama.ts";
import { randomLlamaWeights } from "./tiny_llama.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

// Measured max |Δ| 2e-6 on logits; wasm's log (≤ 1.3e-5) dominates log-probabilities.
const TOL = 1e-4;

/** 4 query heads sharing 2 kv heads, untied head. */
const GQA: LlamaModelConfig = {
  vocab_size: 40,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
};

/** Tied head, no GQA, head_dim 16 with 2 heads over hidden 24 (q width ≠ hidden). */
const TIED: LlamaModelConfig = {
  ...GQA,
  hidden_size: 24,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  head_dim: 16,
  rope_theta: 500,
  tie_word_embeddings: true,
};

function tokens(n: number, seed: number, vocab = 40): number[] {
  const r = rng(seed, 0x70c);
  return Array.from({ length: n }, () => r.int(vocab));
}

function model(config: LlamaModelConfig, seed: number) {
  const weights = randomLlamaWeights(config, seed);
  return { weights, params: paramsFromWeights(weights, { config }) };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
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

// ---- KV-cached sampling ----

Deno.test(
  "sample: KV-cached greedy decoding equals full recomputation (ragged prompts)",
  opts,
  async () => {
    await startEngine("wasm");
    for (const config of [GQA, TIED]) {
      const { weights, params } = model(config, 11);
      // Lengths 1, 6 and 17: the prompt width rounds up to 32, and rows start decoding at
      // different cache slots.
      const prompts = [tokens(1, 21), tokens(6, 22), tokens(17, 23)];
      const out = await sample(params, prompts, { config, maxTokens: 20 });
      prompts.forEach((p, i) => {
        deepEqual(out.tokens[i], llamaGreedy(weights, config, { prompt: p, maxTokens: 20 }));
        equal(out.logProbs[i].length, 20);
        ok(out.logProbs[i].every((v) => v <= 0 && v > -50));
      });
      deepEqual(out.stopped, [false, false, false]);
      // A stop token ends its row (and is kept) but not the others.
      const stop = out.tokens[1][4];
      const cut = await sample(params, prompts, { config, maxTokens: 20, stopToken: stop });
      prompts.forEach((_, i) => {
        const at = out.tokens[i].indexOf(stop);
        deepEqual(cut.tokens[i], at < 0 ? out.tokens[i] : out.tokens[i].slice(0, at + 1));
        equal(cut.stopped[i], at >= 0);
      });
      tree.dispose(params);
    }
  },
);

Deno.test(
  "sample: every sampled log-prob equals the recomputed one; seeds; top-p",
  opts,
  async () => {
    await startEngine("wasm");
    const { params } = model(GQA, 12);
    const prompts = [tokens(3, 31), tokens(9, 32), tokens(1, 33), tokens(4, 34)];
    const o = { config: GQA, maxTokens: 24, temperature: 1.5, seed: 5 };
    const a = await sample(params, prompts, o);
    deepEqual(await sample(params, prompts, o), a, "same seed, same samples");
    notDeepEqual((await sample(params, prompts, { ...o, seed: 6 })).tokens, a.tokens);
    // Recompute each full sequence without a cache at the same temperature.
    const full = prompts.map((p, i) => [...p, ...a.tokens[i]]);
    const re = await scoreTokens(params, full, { config: GQA, temperature: 1.5 });
    prompts.forEach((p, i) => {
      const d = maxDiff(a.logProbs[i], re[i].slice(p.length));
      ok(d < TOL, `row ${i}: cached vs recomputed log-probs differ by ${d}`);
    });
    // A nucleus smaller than any single token's mass is the argmax: greedy tokens.
    const greedy = await sample(params, prompts, { config: GQA, maxTokens: 10 });
    const nucleus = await sample(params, prompts, {
      ...o,
      maxTokens: 10,
      temperature: 1,
      topP: 1e-6,
    });
    deepEqual(nucleus.tokens, greedy.tokens);
    // topP 0.5 only picks tokens whose more probable rivals hold < 0.5 of the mass (the nucleus),
    // judged on logits recomputed without a cache.
    const half = await sample(params, prompts, { ...o, temperature: 1, topP: 0.5, seed: 9 });
    const seqs = prompts.map((p, i) => [...p, ...half.tokens[i]]);
    const T = 40, V = GQA.vocab_size;
    const logits = await llamaForward(tree.ref(params), padBatch(seqs, { length: T }), {
      config: GQA,
    }).data();
    let outsideTop1 = 0;
    prompts.forEach((p, i) =>
      half.tokens[i].forEach((tok, k) => {
        const row = logSoftmax(
          Float64Array.from(logits.subarray((i * T + p.length + k - 1) * V).subarray(0, V)),
        );
        let above = 0;
        for (let v = 0; v < V; v++) if (row[v] > row[tok]) above += Math.exp(row[v]);
        ok(above < 0.5 + 1e-4, `row ${i} step ${k}: token outside the nucleus (${above} above)`);
        if (above > 0) outsideTop1++;
      })
    );
    ok(outsideTop1 > 0, "the nucleus sometimes holds more than the argmax");
    await rejects(sample(params, [[]], { config: GQA, maxTokens: 1 }), UsageError);
    tree.dispose(params);
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

// ---- losses: values against METRICS.md formulas and float64 gradients (cpu device) ----

/** Two layers, GQA, untied, Qwen2 biases: every kind of parameter gets a gradient. */
const TINY: LlamaModelConfig = {
  model_type: "qwen2",
  vocab_size: 7,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 4,
  rms_norm_eps: 1e-6,
  rope_theta: 100,
  max_position_embeddings: 16,
  tie_word_embeddings: false,
};

/** Float64 leaves: spread-out random weights, non-zero biases. */
function tinyLeaves(seed: number): Map<string, Float64Array> {
  const base = randomLlamaWeights(TINY, seed), out = new Map<string, Float64Array>();
  for (const [n, s] of llamaParamShapes(TINY)) {
    const r = rng(seed, n.length, s[0]);
    out.set(
      n,
      base.has(n)
        ? Float64Array.from(base.get(n)!)
        : Float64Array.from({ length: s[0] }, () => r.next() - 0.5),
    );
  }
  return out;
}

const f64 = (d: ArrayLike<number>, shape: number[]) =>
  np.array(Float64Array.from(d)).reshape(shape);

// Rows: prompt then completion, right-padded (row 1 has two pads) to T = 6.
const SEQS = [[1, 4, 2, 6, 0, 3], [5, 2, 2, 1]];
const T6 = 6;
const TARGETS = [0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0]; // completions: row 0 from t=2, row 1 from t=1
const BETA = 0.7, CLIP = 0.2;
// Target ratios π/π_old per completion token: inside and outside [0.8, 1.2], both signs of A.
const RATIO = [1, 1, 0.5, 1.1, 1.5, 0.9, 1, 1.3, 0.95, 0.7, 1, 1];
const ADV = [0.8, -1.1];

function tinyBatch(): TokenBatchF64 {
  const b = padBatch(SEQS, { length: T6 });
  return { tokens: b.tokens, attnMask: b.attnMask!.astype(np.float64) };
}
type TokenBatchF64 = { tokens: np.Array; attnMask: np.Array };

/** A loss of the float64 leaves, and its value computed in plain TypeScript from log-probs. */
type Probe = { loss: (p: LlamaParams) => np.Array; expected: number };

async function logProbsF64(leaves: Map<string, Float64Array>): Promise<number[][][]> {
  const p = paramsFromWeights(leaves, { config: TINY, dtype: np.float64 });
  const lp = await nextTokenLogProbs(p, tinyBatch(), { config: TINY }).data();
  return [0, 1].map((i) =>
    Array.from(
      { length: T6 },
      (_, t) => Array.from(lp.subarray((i * T6 + t) * 7, (i * T6 + t + 1) * 7)),
    )
  );
}

async function sftProbe(leaves: Map<string, Float64Array>, ref: number[][][]): Promise<Probe> {
  const lp = await logProbsF64(leaves);
  let ce = 0, kl = 0, n = 0;
  SEQS.forEach((s, i) =>
    s.forEach((tok, t) => {
      if (!TARGETS[i * T6 + t]) return;
      n++;
      ce -= lp[i][t][tok];
      for (let v = 0; v < 7; v++) kl += Math.exp(ref[i][t][v]) * (ref[i][t][v] - lp[i][t][v]);
    })
  );
  return {
    expected: (ce + BETA * kl) / n,
    loss: (p) => {
      const [loss, m] = sftLoss(p, {
        ...tinyBatch(),
        targetsMask: f64(TARGETS, [2, T6]),
        refLogProbs: f64(ref.flat(2), [2, T6, 7]),
        beta: np.array(BETA, { dtype: np.float64 }),
      }, { config: TINY });
      tree.dispose(m);
      return loss;
    },
  };
}

async function grpoProbe(leaves: Map<string, Float64Array>, ref: number[][][]): Promise<Probe> {
  const lp = await logProbsF64(leaves);
  const tokLp = (l: number[][][]) =>
    SEQS.map((s, i) =>
      Array.from({ length: T6 }, (_, t) => t < s.length && t > 0 ? l[i][t][s[t]] : 0)
    ).flat();
  const cur = tokLp(lp), refTok = tokLp(ref);
  const lpOld = cur.map((v, k) => TARGETS[k] ? v - Math.log(RATIO[k]) : 0);
  const weights = grpoWeights(Float32Array.from(TARGETS), {
    rows: 2,
    normalization: "sequence-mean",
  });
  let expected = 0;
  TARGETS.forEach((m, k) => {
    if (!m) return;
    const rho = Math.exp(cur[k] - lpOld[k]), A = ADV[Math.floor(k / T6)];
    const obj = Math.min(rho * A, Math.min(Math.max(rho, 1 - CLIP), 1 + CLIP) * A);
    const d = refTok[k] - cur[k];
    expected += weights[k] * (-obj + BETA * (Math.exp(d) - d - 1));
  });
  return {
    expected,
    loss: (p) => {
      const [loss, m] = grpoLoss(p, {
        ...tinyBatch(),
        weights: f64(weights, [2, T6]),
        lpOld: f64(lpOld, [2, T6]),
        adv: f64(ADV, [2]),
        clipLo: np.array(1 - CLIP, { dtype: np.float64 }),
        clipHi: np.array(1 + CLIP, { dtype: np.float64 }),
        lpRef: f64(refTok, [2, T6]),
        beta: np.array(BETA, { dtype: np.float64 }),
      }, { config: TINY });
      tree.dispose(m);
      return loss;
    },
  };
}

const compiled = new WeakMap<Probe, (p: LlamaParams) => np.Array>();

async function lossAt(probe: Probe, leaves: Map<string, Float64Array>): Promise<number> {
  // One compiled program per probe: the interpreted backend runs it much faster than op by op.
  if (!compiled.has(probe)) compiled.set(probe, jit(probe.loss));
  const out = compiled.get(probe)!(paramsFromWeights(leaves, { config: TINY, dtype: np.float64 }));
  equal(out.dtype, np.float64);
  return (await out.data())[0];
}

/**
 * grad(loss) against central differences along one random direction u per tensor:
 * (L(W + hu) − L(W − hu)) / 2h vs Σ ∂L/∂W · u, so every entry of every tensor takes part at two
 * evaluations per tensor. Relative error with a 1e-3 floor (round-off of the differences is
 * ~1e-10).
 */
async function gradCheck(probe: Probe, leaves: Map<string, Float64Array>, what: string) {
  const g = grad(probe.loss)(paramsFromWeights(leaves, { config: TINY, dtype: np.float64 }));
  const h = 1e-6, r = rng(8, what.length);
  for (const [name, leaf] of leaves) {
    const an = await g[name].data(), orig = Float64Array.from(leaf);
    const u = leaf.map(() => 2 * r.next() - 1);
    const at = async (sign: number) => {
      leaf.set(orig.map((v, j) => v + sign * h * u[j]));
      return await lossAt(probe, leaves);
    };
    const fd = ((await at(1)) - (await at(-1))) / (2 * h);
    leaf.set(orig);
    let dot = 0;
    for (let j = 0; j < u.length; j++) dot += an[j] * u[j];
    const rel = Math.abs(dot - fd) / Math.max(Math.abs(dot), Math.abs(fd), 1e-3);
    ok(rel < 1e-6, `${what}: ∂/∂${name}·u = ${dot} vs finite difference ${fd}`);
    ok(Math.abs(dot) > 1e-4, `${what}: ∂/∂${name} is ~0, so the check says little`);
  }
}

Deno.test(
  "sftLoss and grpoLoss: values match METRICS.md formulas, float64 gradients match finite differences (cpu)",
  opts,
  async () => {
    await startEngine("cpu");
    const leaves = tinyLeaves(3);
    // The reference: the same model with every weight moved by up to ±0.15 (KL of a few tenths).
    const r = rng(5);
    const moved = new Map(
      [...leaves].map(([n, w]) => [n, w.map((v) => v + 0.3 * (r.next() - 0.5))]),
    );
    const ref = await logProbsF64(moved);
    const sft = await sftProbe(leaves, ref);
    const gotSft = await lossAt(sft, leaves);
    ok(
      Math.abs(gotSft - sft.expected) < 1e-12 * sft.expected,
      `sft loss ${gotSft} vs ${sft.expected}`,
    );
    await gradCheck(sft, leaves, "sftLoss");
    const pg = await grpoProbe(leaves, ref);
    const gotPg = await lossAt(pg, leaves);
    ok(Math.abs(gotPg - pg.expected) < 1e-12, `grpo loss ${gotPg} vs ${pg.expected}`);
    await gradCheck(pg, leaves, "grpoLoss");
  },
);

Deno.test("grpoWeights: sequence-mean, token-mean and Dr. GRPO's constant, by hand", () => {
  const mask = Float32Array.from([1, 1, 0, 1, 0, 0, 0, 0, 0]); // 3 rows: 2, 1 and 0 tokens
  const w = (normalization: "sequence-mean" | "token-mean" | "constant") =>
    Array.from(grpoWeights(mask, { rows: 3, normalization, constant: 4 }));
  deepEqual(w("sequence-mean"), [1 / 6, 1 / 6, 0, 1 / 3, 0, 0, 0, 0, 0].map(Math.fround));
  deepEqual(w("token-mean"), [1 / 3, 1 / 3, 0, 1 / 3, 0, 0, 0, 0, 0].map(Math.fround));
  deepEqual(w("constant"), [1 / 12, 1 / 12, 0, 1 / 12, 0, 0, 0, 0, 0].map(Math.fround));
});

// ---- training on wasm ----

/** A small copy task: prompt <s> a b c d SEP, target a b c d </s>. */
const COPY: LlamaModelConfig = {
  ...GQA,
  vocab_size: 24,
  max_position_embeddings: 32,
  tie_word_embeddings: true,
};

function copyExamples(n: number, r: ReturnType<typeof rng>): Example[] {
  return Array.from({ length: n }, () => {
    const s = Array.from({ length: 4 }, () => 4 + r.int(20));
    return { prompt: [1, ...s, 3], completion: [...s, 2] };
  });
}

Deno.test(
  "AdamW: one step is −lr·sign(g) with decoupled decay on matrices only",
  opts,
  async () => {
    await startEngine("wasm");
    const config = COPY, E = "model.embed_tokens.weight";
    const p0 = initLlama(config, { seed: 2 });
    const before = await weightsOf(p0);
    const x = Float32Array.from({ length: 24 * 32 }, (_, i) => Math.sin(i) + 0.1);
    // L = Σ W_embed ⊙ X: ∂L/∂W_embed = X, every other gradient 0.
    type B = { x: np.Array };
    const lin = makeTrainStep((p: LlamaParams, b: B): [np.Array, Metrics] => {
      const e = p[E].ref;
      tree.dispose(p);
      return [e.mul(b.x).sum(), {}];
    }, { lr: 0.01, weightDecay: 0.5 });
    const r = await lin.step(initTrainState(p0), { x: np.array(x).reshape([24, 32]) });
    const after = await weightsOf(r.state.params);
    const gnorm = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
    ok(Math.abs(r.metrics.gradNorm - gnorm) < 1e-3 * gnorm, `gradNorm ${r.metrics.gradNorm}`);
    const keep = 1 - 0.01 * 0.5;
    const e0 = before.get(E)!, e1 = after.get(E)!;
    ok(maxDiff(e1, e0.map((v, i) => v * keep - 0.01 * Math.sign(x[i]))) < 1e-6, "embedding update");
    const q = "model.layers.0.self_attn.q_proj.weight";
    ok(maxDiff(after.get(q)!, before.get(q)!.map((v) => v * keep)) < 1e-7, "matrix decays");
    deepEqual(
      after.get("model.norm.weight"),
      before.get("model.norm.weight"),
      "norms do not decay",
    );
    lin.dispose();
    disposeTrainState(r.state);
  },
);

Deno.test("SFT (+KL) steps on a copy task lower the loss", opts, async () => {
  await startEngine("wasm");
  const r = rng(3);
  const sft = makeTrainStep((p, b: SftBatch) => sftLoss(p, b, { config: COPY }), {
    lr: 1e-2,
    clipNorm: 1,
  });
  let state = initTrainState(initLlama(COPY, { seed: 0 }));
  const base = tree.ref(state.params);
  const held = copyExamples(32, rng(99));
  const heldLoss = async (p: LlamaParams) => {
    const lps = await scoreTokens(p, held.map((e) => [...e.prompt, ...e.completion]), {
      config: COPY,
    });
    return -lps.reduce((a, lp) => a + lp.slice(6).reduce((x, y) => x + y, 0), 0) / (32 * 5);
  };
  const start = await heldLoss(state.params);
  ok(Math.abs(start - Math.log(24)) < 0.1, `initial loss ${start} ≈ ln 24`);
  const losses: number[] = [];
  let kl = 0;
  for (let i = 0; i < 16; i++) {
    const batch = sftBatch(copyExamples(16, r));
    // Every other step with β·KL(π0‖π) to the initial model.
    const withKl = i % 2 === 1
      ? {
        ...batch,
        refLogProbs: referenceLogProbs(base, batch, { config: COPY }),
        beta: np.array(0.1),
      }
      : batch;
    const res = await sft.step(state, withKl);
    state = res.state;
    losses.push(res.loss);
    if (i % 2 === 1) {
      ok(Math.abs(res.loss - (res.metrics.ce + 0.1 * res.metrics.kl)) < 1e-5, "loss = ce + β·kl");
      kl = res.metrics.kl;
    }
  }
  const end = await heldLoss(state.params);
  ok(end < start - 0.5, `held-out loss ${start} → ${end}`);
  ok(kl > 0.01, `KL to the initial model grew to ${kl}`);
  ok(losses.at(-1)! < losses[0], `training loss ${losses[0]} → ${losses.at(-1)}`);
  sft.dispose();
  disposeTrainState(state);
  tree.dispose(base);
});

Deno.test("GRPO steps move probability toward rewarded samples", opts, async () => {
  await startEngine("wasm");
  const config = COPY, prompt = [1, 7, 3], G = 16;
  const grpo = makeTrainStep((p, b: GrpoBatch) => grpoLoss(p, b, { config }), { lr: 1e-2 });
  let state = initTrainState(initLlama(config, { seed: 1 }));
  const base = tree.ref(state.params);
  // Reward: the first completion token is even. Its exact probability under the policy:
  const pEven = async (p: LlamaParams) => {
    const z = await llamaForward(tree.ref(p), padBatch([prompt], { length: 3 }), { config }).data();
    const row = logSoftmax(Float64Array.from(z.subarray(2 * 24, 3 * 24)));
    return row.reduce((a, v, j) => a + (j % 2 === 0 ? Math.exp(v) : 0), 0);
  };
  const p0 = await pEven(state.params);
  for (let it = 0; it < 3; it++) {
    const s = await sample(state.params, Array(G).fill(prompt), {
      config,
      maxTokens: 3,
      temperature: 1,
      seed: it,
    });
    const rewards = s.tokens.map((t) => (t[0] % 2 === 0 ? 1 : 0));
    const adv = advantages(rewards, "grpo");
    const refLp = await scoreTokens(base, s.tokens.map((t) => [...prompt, ...t]), { config });
    const batch = grpoBatch(
      s.tokens.map((t, i) => ({
        prompt,
        completion: t,
        logProbs: s.logProbs[i],
        advantage: adv[i],
        refLogProbs: refLp[i].slice(prompt.length),
      })),
      {
        clip: 0.2,
        beta: 0.04,
        normalization: it === 2 ? "constant" : "sequence-mean",
        constant: 3,
      },
    );
    const res = await grpo.step(state, batch);
    state = res.state;
    // On-policy: the ratio is 1 up to float32 round-off, nothing is clipped.
    ok(
      Math.abs(res.metrics.ratio - 1) < 1e-4 && res.metrics.clipFrac === 0,
      JSON.stringify(res.metrics),
    );
  }
  const p1 = await pEven(state.params);
  ok(p1 > p0 + 0.05, `P(first token even) ${p0} → ${p1}`);
  grpo.dispose();
  disposeTrainState(state);
  tree.dispose(base);
});

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
