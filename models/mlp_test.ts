// Tests for models/mlp.ts: the two training losses against METRICS.md formulas written out in
// plain TypeScript and their gradients against central finite differences (float64, `cpu`
// device); logProbs against a plain forward pass, across padded batches; clone independence;
// and a weights → safetensors → fromWeights round trip.

import { equal, ok } from "node:assert/strict";
import { defaultDevice, grad, numpy as np } from "@jax-js/jax";
import { rng } from "../lib/rng.ts";
import { startEngine } from "./engine.ts";
import {
  initMlp,
  type MlpConfig,
  type MlpParams,
  MlpPolicy,
  type NamedWeights,
  type PgInputs,
  pgLoss,
  softLoss,
} from "./mlp.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const CONFIG: MlpConfig = { inputDim: 6, hidden: [16], classes: 4 };

/** Uniform values in [−scale, scale) from a seed. */
function uniform(n: number, seed: number, scale = 1): Float64Array {
  const r = rng(seed, 0x7e57);
  return Float64Array.from({ length: n }, () => (2 * r.next() - 1) * scale);
}

/** Plain-TypeScript log-softmax of one row. */
function logSoftmax(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** Plain-TypeScript forward pass: log-probabilities of `n` rows, in float64. */
function forward(
  ws: readonly ArrayLike<number>[],
  bs: readonly ArrayLike<number>[],
  sizes: readonly number[],
  x: ArrayLike<number>,
): number[][] {
  const n = x.length / sizes[0], out: number[][] = [];
  for (let i = 0; i < n; i++) {
    let h = Array.from({ length: sizes[0] }, (_, k) => x[i * sizes[0] + k]);
    for (let l = 0; l < ws.length; l++) {
      const next = Array.from({ length: sizes[l + 1] }, (_, j) => {
        let s = bs[l][j];
        for (let k = 0; k < sizes[l]; k++) s += h[k] * ws[l][k * sizes[l + 1] + j];
        return s;
      });
      h = l < ws.length - 1 ? next.map((v) => Math.max(v, 0)) : next;
    }
    out.push(logSoftmax(h));
  }
  return out;
}

const SIZES = [CONFIG.inputDim, ...CONFIG.hidden, CONFIG.classes];

// ---- float64 gradient checks on the interpreted cpu backend ----

/** Parameters as plain float64 arrays, leaf order w0, w1, b0, b1. */
interface Leaves {
  w: Float64Array[];
  b: Float64Array[];
}

function toParams(p: Leaves): MlpParams {
  return {
    w: p.w.map((d, l) => f64(d, [SIZES[l], SIZES[l + 1]])),
    b: p.b.map((d, l) => f64(d, [SIZES[l + 1]])),
  };
}

function f64(d: ArrayLike<number>, shape: number[]): np.Array {
  return np.array(Float64Array.from(d)).reshape(shape);
}

function scalar(v: number): np.Array {
  return np.array(v, { dtype: np.float64 });
}

const B = 3, G = 4, C = CONFIG.classes;
const X = uniform(B * CONFIG.inputDim, 1, 1.5);
// Soft targets (rows sum to 1) and a base policy's log-probabilities.
const Q = [0.1, 0.2, 0.3, 0.4, 0.7, 0.1, 0.1, 0.1, 0, 0.5, 0.5, 0];
const LP0 = [[0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.6, 0.1, 0.2]]
  .flat().map(Math.log);
const BETA = 0.7, CLIP = 0.2;
// Sampled outputs, advantages, target ratios ρ = π/π_old and mask for B × G samples. With
// ε = 0.2: ρ = 0.9, 1.1, 0.95, 1.05 are inside the clip range; 0.5, 0.7, 1.3, 1.5 outside,
// with both signs of A, so both branches of the min (clipped: no ratio gradient) are exercised.
const ACTIONS = [0, 1, 1, 3, 2, 2, 0, 1, 3, 0, 2, 1];
const ADV = [1.2, -0.7, 0.4, -1.5, 0.9, -0.3, 1.1, -0.8, 0.5, 0.6, -1.0, 0.2];
const RATIO = [0.5, 1.1, 1.5, 0.7, 0.9, 1.3, 0.95, 1.5, 0.7, 1.05, 0.5, 1.3];
const MASK = [1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0];
const LPREF_NOISE = uniform(B * G, 2, 0.5);

/** Initial float64 parameters from initMlp, biases made non-zero. */
async function initialLeaves(): Promise<Leaves> {
  const p = initMlp(CONFIG, 3, { dtype: np.float64 });
  equal(p.w[0].dtype, np.float64);
  const w = await Promise.all(p.w.map(async (a) => (await a.data()) as Float64Array));
  for (const a of p.b) a.dispose();
  return { w, b: SIZES.slice(1).map((n, l) => uniform(n, 10 + l, 0.3)) };
}

/** The pg inputs for the current parameters: lpOld chosen so that π/π_old = RATIO. */
function pgData(p: Leaves) {
  const lp = forward(p.w, p.b, SIZES, X);
  const lpa = ACTIONS.map((y, k) => lp[Math.floor(k / G)][y]);
  return {
    lpOld: lpa.map((v, k) => v - Math.log(RATIO[k])),
    lpRef: lpa.map((v, k) => v + LPREF_NOISE[k]),
  };
}

function pgInputs(d: { lpOld: number[]; lpRef: number[] }): PgInputs {
  const act = new Float64Array(B * G * C);
  ACTIONS.forEach((y, k) => (act[k * C + y] = 1));
  const kept = MASK.reduce((a, v) => a + v, 0);
  return {
    act: f64(act, [B, G, C]),
    adv: f64(ADV, [B, G]),
    lpOld: f64(d.lpOld, [B, G]),
    lpRef: f64(d.lpRef, [B, G]),
    mask: f64(MASK, [B, G]),
    lo: scalar(1 - CLIP),
    hi: scalar(1 + CLIP),
    beta: scalar(BETA),
    invCount: scalar(1 / kept),
  };
}

type LossFn = (p: MlpParams) => np.Array;

function softOnly(p: MlpParams): np.Array {
  const [loss, lp] = softLoss(p, f64(X, [B, 6]), f64(Q, [B, C]), f64(LP0, [B, C]), scalar(BETA));
  lp.dispose();
  return loss;
}

function pgOnly(d: { lpOld: number[]; lpRef: number[] }): LossFn {
  return (p) => {
    const [loss, lp] = pgLoss(p, f64(X, [B, 6]), pgInputs(d));
    lp.dispose();
    return loss;
  };
}

async function lossAt(f: LossFn, p: Leaves): Promise<number> {
  const out = f(toParams(p));
  equal(out.dtype, np.float64);
  return (await out.data())[0];
}

/**
 * Compares grad(f) with central differences on 8 entries of every parameter; returns the
 * analytic gradients sampled. Relative error |g − fd| / max(|g|, |fd|, 1e-3): the floor
 * covers entries whose gradient is ~0 (ReLU units inactive on the batch), where the round-off
 * of the differences (~1e-16 / h ≈ 1e-10) would dominate a pure ratio.
 */
async function gradCheck(f: LossFn, p: Leaves, what: string): Promise<number[]> {
  const g = grad(f)(toParams(p)) as MlpParams;
  const gw = await Promise.all(g.w.map((a) => a.data()));
  const gb = await Promise.all(g.b.map((a) => a.data()));
  const h = 1e-6, r = rng(4, 0x6ad), seen: number[] = [];
  for (const [kind, leaves, grads] of [["w", p.w, gw], ["b", p.b, gb]] as const) {
    for (const [l, leaf] of leaves.entries()) {
      for (let s = 0; s < 8; s++) {
        const j = r.int(leaf.length), orig = leaf[j];
        leaf[j] = orig + h;
        const up = await lossAt(f, p);
        leaf[j] = orig - h;
        const down = await lossAt(f, p);
        leaf[j] = orig;
        const fd = (up - down) / (2 * h), an = grads[l][j];
        const rel = Math.abs(an - fd) / Math.max(Math.abs(an), Math.abs(fd), 1e-3);
        ok(rel < 1e-6, `${what}: d/d${kind}${l}[${j}] grad ${an} vs finite difference ${fd}`);
        seen.push(an);
      }
    }
  }
  return seen;
}

Deno.test("softLoss equals CE + β·KL(π0‖π) and its float64 gradient matches", opts, async () => {
  await startEngine("cpu");
  defaultDevice("cpu");
  const p = await initialLeaves();
  // The loss value against METRICS.md "SFT+KL" in plain TypeScript.
  const lp = forward(p.w, p.b, SIZES, X);
  let ce = 0, kl = 0;
  for (let i = 0; i < B; i++) {
    for (let y = 0; y < C; y++) {
      ce -= Q[i * C + y] * lp[i][y];
      kl += Math.exp(LP0[i * C + y]) * (LP0[i * C + y] - lp[i][y]);
    }
  }
  const loss = await lossAt(softOnly, p);
  ok(Math.abs(loss - (ce + BETA * kl) / B) < 1e-12, `loss ${loss} vs ${(ce + BETA * kl) / B}`);
  ok(kl > 0.1, "the KL term must contribute for the check to test β");
  const g = await gradCheck(softOnly, p, "softLoss");
  ok(g.filter((v) => Math.abs(v) > 1e-3).length >= g.length / 2, "most gradients non-trivial");
});

Deno.test(
  "pgLoss equals the clipped objective + β·k3 and its float64 gradient matches",
  opts,
  async () => {
    await startEngine("cpu");
    defaultDevice("cpu");
    const p = await initialLeaves();
    const d = pgData(p);
    // The loss value against METRICS.md "GRPO" in plain TypeScript.
    const lp = forward(p.w, p.b, SIZES, X);
    let sum = 0;
    ACTIONS.forEach((y, k) => {
      const lpa = lp[Math.floor(k / G)][y];
      const rho = Math.exp(lpa - d.lpOld[k]);
      ok(Math.abs(rho - RATIO[k]) < 1e-12);
      const clipped = Math.min(Math.max(rho, 1 - CLIP), 1 + CLIP);
      const obj = Math.min(rho * ADV[k], clipped * ADV[k]);
      const lr = d.lpRef[k] - lpa;
      sum += MASK[k] * (BETA * (Math.exp(lr) - lr - 1) - obj);
    });
    const expected = sum / MASK.reduce((a, v) => a + v, 0);
    const loss = await lossAt(pgOnly(d), p);
    ok(Math.abs(loss - expected) < 1e-12, `loss ${loss} vs ${expected}`);
    const g = await gradCheck(pgOnly(d), p, "pgLoss");
    ok(g.filter((v) => Math.abs(v) > 1e-3).length >= g.length / 2, "most gradients non-trivial");
  },
);

// ---- the policy on the default wasm device ----

const WIDE: MlpConfig = { inputDim: 6, hidden: [16], classes: 10 };

function inputs(n: number, seed: number): Float32Array {
  return Float32Array.from(uniform(n * WIDE.inputDim, seed, 2));
}

async function plainLogProbs(policy: MlpPolicy, x: Float32Array): Promise<number[][]> {
  const w = await policy.weights();
  const layers = policy.config.hidden.length + 1;
  const sizes = [policy.config.inputDim, ...policy.config.hidden, policy.config.classes];
  return forward(
    Array.from({ length: layers }, (_, l) => w.get(`w${l}`)!.data),
    Array.from({ length: layers }, (_, l) => w.get(`b${l}`)!.data),
    sizes,
    x,
  );
}

/** A policy moved off its initialisation (non-zero biases) by a few SFT steps. */
async function trainedPolicy(seed: number): Promise<MlpPolicy> {
  const policy = MlpPolicy.init(WIDE, seed);
  const x = inputs(8, seed + 100), q = new Float32Array(8 * 10);
  for (let i = 0; i < 8; i++) q[i * 10 + (i % 10)] = 1;
  const adam = policy.adam({ lr: 0.05 });
  for (let s = 0; s < 3; s++) await adam.soft(x, { q, lp0: new Float32Array(80), beta: 0 });
  adam.dispose();
  return policy;
}

// jax-js 0.1.25's wasm `log` is a 4-term atanh series on the mantissa: up to 1.25e-5 absolute
// error on [1, 10] (measured), so wasm log-probabilities are good to ~1.3e-5, not float32's
// ~1e-6. The interpreted cpu backend uses Math.log and is held to 1e-6.
const FORWARD_TOL = { cpu: 1e-6, wasm: 3e-5 } as const;

for (const device of ["cpu", "wasm"] as const) {
  Deno.test(
    `logProbs rows are normalised and match a plain forward pass (${device})`,
    opts,
    async () => {
      await startEngine(device);
      const tol = FORWARD_TOL[device];
      const policy = await trainedPolicy(5);
      const x = inputs(20, 6);
      const lp = await policy.logProbs(x);
      equal(lp.length, 20 * 10);
      const want = await plainLogProbs(policy, x);
      for (let i = 0; i < 20; i++) {
        const row = Array.from(lp.subarray(i * 10, (i + 1) * 10));
        const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
        ok(Math.abs(lse) < tol, `row ${i}: logsumexp ${lse}`);
        row.forEach((v, y) =>
          ok(Math.abs(v - want[i][y]) < tol, `row ${i} class ${y}: ${v} vs ${want[i][y]}`)
        );
      }
      // Trained rows are far from uniform, so the comparison checks more than normalisation.
      ok(Math.max(...want.flat()) > Math.log(0.2));
      policy.dispose();
    },
  );
}

Deno.test("logProbs over several padded batches equals row-by-row results", opts, async () => {
  await startEngine("wasm");
  const policy = await trainedPolicy(7);
  const n = 600, x = inputs(n, 8); // 256 + 256 + 88 rows: the last batch is padded
  const all = await policy.logProbs(x);
  const oneByOne = await policy.logProbs(x, { batch: 1 });
  const want = await plainLogProbs(policy, x);
  equal(all.length, n * 10);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < 10; y++) {
      const k = i * 10 + y;
      equal(all[k], oneByOne[k], `row ${i} class ${y}: ${all[k]} vs ${oneByOne[k]}`);
      ok(
        Math.abs(all[k] - want[i][y]) < FORWARD_TOL.wasm,
        `row ${i} class ${y} vs plain forward pass: ${all[k]} vs ${want[i][y]}`,
      );
    }
  }
  policy.dispose();
});

Deno.test("clone() trains independently of the original", opts, async () => {
  await startEngine("wasm");
  const policy = await trainedPolicy(9);
  const x = inputs(16, 10);
  const before = await policy.logProbs(x);
  const copy = policy.clone();
  equal(Array.from(await copy.logProbs(x)).join(), Array.from(before).join());
  const q = new Float32Array(16 * 10).map((_, k) => (k % 10 === 3 ? 1 : 0));
  const adam = copy.adam({ lr: 0.05 });
  for (let s = 0; s < 3; s++) await adam.soft(x, { q, lp0: before, beta: 0 });
  adam.dispose();
  const trained = await copy.logProbs(x), after = await policy.logProbs(x);
  // The clone moved towards class 3 …
  let gain = 0;
  for (let i = 0; i < 16; i++) gain += trained[i * 10 + 3] - before[i * 10 + 3];
  ok(gain / 16 > 0.1, `clone's log π(3|x) rose by ${gain / 16} on average`);
  // … and the original is bit-for-bit unchanged.
  equal(Array.from(after).join(), Array.from(before).join());
  copy.dispose();
  policy.dispose();
});

Deno.test("weights → safetensors → fromWeights gives identical logProbs", opts, async () => {
  await startEngine("wasm");
  const policy = await trainedPolicy(11);
  const w: NamedWeights = await policy.weights();
  equal([...w.keys()].sort().join(), "b0,b1,w0,w1");
  equal(w.get("w0")!.shape.join(), "6,16");
  const bytes = encodeSafetensors(w);
  const back = MlpPolicy.fromWeights(WIDE, decodeSafetensors(bytes, "mem").weights);
  const x = inputs(30, 12);
  equal(Array.from(await back.logProbs(x)).join(), Array.from(await policy.logProbs(x)).join());
  back.dispose();
  policy.dispose();
});
