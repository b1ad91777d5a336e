// Tests for models/llama_losses.ts and the AdamW step (models/optim.ts) on Llama parameters:
// sftLoss and grpoLoss values against docs/metrics.md formulas with float64 gradients checked by
// finite differences (cpu device), grpoWeights by hand, one AdamW step worked out by hand, and
// SFT (+KL) and GRPO steps on wasm that move a tiny model the way they should.

import { deepEqual, equal, ok } from "node:assert/strict";
import { grad, jit, numpy as np, tree } from "@jax-js/jax";
import { rng } from "../lib/rng.ts";
import { advantages } from "../trainers/policy_gradient.ts";
import { startEngine } from "./engine.ts";
import {
  initLlama,
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  llamaParamShapes,
  nextTokenLogProbs,
  padBatch,
  paramsFromWeights,
  scoreKl,
  scoreTokens,
  weightsOf,
} from "./llama.ts";
import {
  type Example,
  type GrpoBatch,
  grpoBatch,
  grpoLoss,
  grpoWeights,
  type Metrics,
  referenceLogProbs,
  type SftBatch,
  sftBatch,
  sftLoss,
} from "./llama_losses.ts";
import { logSoftmax } from "./llama_ref.ts";
import { disposeTrainState, initTrainState, makeTrainStep, readScalars } from "./optim.ts";
import { sample } from "./sampling.ts";
import { GQA_CONFIG as GQA, maxAbsDiff as maxDiff, randomLlamaWeights } from "./tiny_llama.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

// ---- losses: values against docs/metrics.md formulas and float64 gradients (cpu device) ----

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
  "sftLoss and grpoLoss: values match docs/metrics.md formulas, float64 gradients match finite differences (cpu)",
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
    }, { weightDecay: 0.5 });
    const r = await lin.step(initTrainState(p0), { x: np.array(x).reshape([24, 32]) }, {
      lr: 0.01,
    });
    const after = await weightsOf(r.state.params);
    const gnorm = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
    ok(Math.abs(r.gradNorm - gnorm) < 1e-3 * gnorm, `gradNorm ${r.gradNorm}`);
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
  const sft = makeTrainStep((p: LlamaParams, b: SftBatch) => sftLoss(p, b, { config: COPY }), {
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
    const res = await sft.step(state, withKl, { lr: 1e-2 });
    const metrics = await readScalars(res.aux);
    state = res.state;
    losses.push(res.loss);
    if (i % 2 === 1) {
      ok(Math.abs(res.loss - (metrics.ce + 0.1 * metrics.kl)) < 1e-5, "loss = ce + β·kl");
      kl = metrics.kl;
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
  const grpo = makeTrainStep((p: LlamaParams, b: GrpoBatch) => grpoLoss(p, b, { config }));
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
    const res = await grpo.step(state, batch, { lr: 1e-2 });
    const metrics = await readScalars(res.aux);
    state = res.state;
    // On-policy: the ratio is 1 up to float32 round-off, nothing is clipped.
    ok(
      Math.abs(metrics.ratio - 1) < 1e-4 && metrics.clipFrac === 0,
      JSON.stringify(metrics),
    );
  }
  const p1 = await pEven(state.params);
  ok(p1 > p0 + 0.05, `P(first token even) ${p0} → ${p1}`);
  grpo.dispose();
  disposeTrainState(state);
  tree.dispose(base);
});

Deno.test(
  "GRPO on-policy step (μ = 1): loss, gradient and KL equal the π_old path's with π_old = π",
  opts,
  async () => {
    await startEngine("wasm");
    const config = COPY, r = rng(5);
    const params = initLlama(config, { seed: 4, std: 0.3 });
    const ref = initLlama(config, { seed: 6, std: 0.3 });
    const examples = copyExamples(6, r).map((e, i) => ({
      ...e,
      completion: e.completion.slice(0, 2 + (i % 4)),
    }));
    const seqs = examples.map((e) => [...e.prompt, ...e.completion]);
    const lp = await scoreTokens(params, seqs, { config });
    const rollouts = examples.map((e, i) => ({
      ...e,
      logProbs: lp[i].slice(e.prompt.length),
      advantage: [1, -0.5, 0.25, -1, 0.75, 0][i],
    }));
    const o = {
      clip: 0.2,
      normalization: "sequence-mean" as const,
      length: 16,
      keep: [true, true, false, true, true, true],
    };
    const lossAndGrad = async (b: GrpoBatch) => {
      const g = grad((p: LlamaParams, x: GrpoBatch) => grpoLoss(p, x, { config })[0]);
      const [loss, m] = grpoLoss(tree.ref(params), tree.ref(b), { config });
      const gr = g(tree.ref(params), b) as LlamaParams;
      const grads = new Map<string, Float32Array>();
      for (const [k, v] of Object.entries(gr)) grads.set(k, (await v.data()) as Float32Array);
      return { loss: (await loss.data())[0], m: await readScalars(m), grads };
    };
    const old = await lossAndGrad(grpoBatch(rollouts, o));
    const b = grpoBatch(rollouts, { ...o, onPolicy: true });
    equal(b.lpOld, undefined);
    b.refNext = referenceLogProbs(ref, { tokens: b.tokens, attnMask: b.attnMask }, { config });
    const now = await lossAndGrad(b);
    ok(Math.abs(now.loss - old.loss) < 1e-6, `loss ${now.loss} vs ${old.loss}`);
    equal(now.m.ratio, 1);
    equal(now.m.clipFrac, 0);
    for (const [k, g] of old.grads) {
      const scale = Math.max(1e-3, ...g.map(Math.abs));
      ok(maxDiff(now.grads.get(k)!, g) < 1e-4 * scale, `gradient of ${k}`);
    }
    // refKl: the exact KL(π0‖π) over every completion (filtered rows too), mean over rows.
    const kl = await scoreKl([ref, params], seqs, { config });
    const want = kl.reduce(
      (a, row, i) => a + row.slice(examples[i].prompt.length).reduce((x, y) => x + y, 0),
      0,
    ) / examples.length;
    ok(Math.abs(now.m.refKl - want) < 1e-4 * Math.max(1, want), `refKl ${now.m.refKl} vs ${want}`);
    tree.dispose([params, ref]);
  },
);
