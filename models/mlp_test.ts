// Tests for models/mlp.ts, the MLP's math: the two training losses against docs/metrics.md formulas
// written out in plain TypeScript and their gradients against central finite differences
// (float64, `cpu` device); initMlp's shapes and determinism; mlpLogProbs against a plain forward
// pass, across padded batches; and the jitted softStep/pgStep: loss and aux from the parameters
// before the update, steps that move the model the way the loss says, bit-identical reruns.
// The optimiser itself is tested in models/optim_test.ts, the Policy in mlp_policy_test.ts.

import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import { defaultDevice, grad, numpy as np, tree } from "@jax-js/jax";
import { rng } from "../lib/rng.ts";
import { startEngine } from "./engine.ts";
import {
  initMlp,
  matrix,
  type MlpConfig,
  mlpLogProbs,
  type MlpParams,
  type PgInputs,
  pgLoss,
  pgStep,
  softLoss,
  softStep,
} from "./mlp.ts";
import { initTrainState, type TrainState } from "./optim.ts";

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
  const [loss, lp] = softLoss(p, {
    x: f64(X, [B, 6]),
    q: f64(Q, [B, C]),
    lp0: f64(LP0, [B, C]),
    beta: scalar(BETA),
  });
  lp.dispose();
  return loss;
}

function pgOnly(d: { lpOld: number[]; lpRef: number[] }): LossFn {
  return (p) => {
    const [loss, lp] = pgLoss(p, { x: f64(X, [B, 6]), a: pgInputs(d) });
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
  // The loss value against docs/metrics.md "Trainers" (SFT+KL) in plain TypeScript.
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
    // The loss value against docs/metrics.md "Trainers" (GRPO) in plain TypeScript.
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

// ---- initMlp, mlpLogProbs and the jitted steps on the default wasm device ----

const WIDE: MlpConfig = { inputDim: 6, hidden: [16], classes: 10 };
const WIDE_SIZES = [WIDE.inputDim, ...WIDE.hidden, WIDE.classes];

function inputs(n: number, seed: number): Float32Array {
  return Float32Array.from(uniform(n * WIDE.inputDim, seed, 2));
}

/** Copies the parameters out as plain arrays (the parameters stay alive). */
async function leavesOf(p: MlpParams): Promise<{ w: Float32Array[]; b: Float32Array[] }> {
  const read = (a: np.Array) => a.ref.data() as Promise<Float32Array>;
  return { w: await Promise.all(p.w.map(read)), b: await Promise.all(p.b.map(read)) };
}

/** The plain-TypeScript forward pass of WIDE parameters. */
async function plainLogProbs(p: MlpParams, x: Float32Array): Promise<number[][]> {
  const { w, b } = await leavesOf(p);
  return forward(w, b, WIDE_SIZES, x);
}

/** A soft batch of one-hot targets `label(i)` for the rows of `x`, with an optional π0 term. */
function softBatch(
  x: Float32Array,
  label: (i: number) => number,
  o: { lp0?: Float32Array; beta?: number } = {},
) {
  const n = x.length / WIDE.inputDim, c = WIDE.classes;
  const q = new Float32Array(n * c);
  for (let i = 0; i < n; i++) q[i * c + label(i)] = 1;
  return {
    x: matrix(x, WIDE.inputDim),
    q: matrix(q, c),
    lp0: matrix(o.lp0 ?? new Float32Array(n * c), c),
    beta: np.array(o.beta ?? 0),
  };
}

/** Parameters moved off their initialisation (non-zero biases) by a few SFT steps. */
async function trained(seed: number, steps = 3): Promise<MlpParams> {
  let state: TrainState<MlpParams> = initTrainState(initMlp(WIDE, seed));
  const x = inputs(8, seed + 100);
  for (let s = 0; s < steps; s++) {
    const r = await softStep().step(state, softBatch(x, (i) => i % 10), { lr: 0.05 });
    r.aux.dispose();
    state = r.state;
  }
  tree.dispose([state.m, state.v]);
  return state.params;
}

Deno.test("initMlp: shapes, zero biases, He scale, and determinism in the seed", opts, async () => {
  await startEngine("wasm");
  const p = initMlp(WIDE, 4);
  deepEqual(p.w.map((a) => a.shape), [[6, 16], [16, 10]]);
  deepEqual(p.b.map((a) => a.shape), [[16], [10]]);
  equal(p.w[0].dtype, np.float32);
  const leaves = await leavesOf(p);
  ok(leaves.b.every((b) => b.every((v) => v === 0)), "biases start at 0");
  deepEqual(await leavesOf(initMlp(WIDE, 4)), leaves, "same seed, same weights");
  notDeepEqual((await leavesOf(initMlp(WIDE, 5))).w[0], leaves.w[0], "another seed");
  // He-normal: standard deviation √(2 / fan_in); 20,000 draws estimate it to ~0.5%.
  const big = initMlp({ inputDim: 200, hidden: [100], classes: 2 }, 1);
  const w0 = (await big.w[0].ref.data()) as Float32Array;
  const sd = Math.sqrt(w0.reduce((a, v) => a + v * v, 0) / w0.length);
  ok(Math.abs(sd / Math.sqrt(2 / 200) - 1) < 0.03, `sd ${sd} vs ${Math.sqrt(2 / 200)}`);
  tree.dispose([p, big]);
});

// jax-js 0.1.25's wasm `log` is a 4-term atanh series on the mantissa: up to 1.25e-5 absolute
// error on [1, 10] (measured), so wasm log-probabilities are good to ~1.3e-5, not float32's
// ~1e-6. The interpreted cpu backend uses Math.log and is held to 1e-6.
const FORWARD_TOL = { cpu: 1e-6, wasm: 3e-5 } as const;

for (const device of ["cpu", "wasm"] as const) {
  Deno.test(
    `mlpLogProbs rows are normalised and match a plain forward pass (${device})`,
    opts,
    async () => {
      await startEngine(device);
      const tol = FORWARD_TOL[device];
      const params = await trained(5);
      const x = inputs(20, 6);
      const lp = await mlpLogProbs(params, x, { config: WIDE });
      equal(lp.length, 20 * 10);
      const want = await plainLogProbs(params, x);
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
      tree.dispose(params);
    },
  );
}

Deno.test("mlpLogProbs over several padded batches equals row-by-row results", opts, async () => {
  await startEngine("wasm");
  const params = await trained(7);
  const n = 600, x = inputs(n, 8); // 256 + 256 + 88 rows: the last batch is padded
  const all = await mlpLogProbs(params, x, { config: WIDE });
  const oneByOne = await mlpLogProbs(params, x, { config: WIDE, batch: 1 });
  const want = await plainLogProbs(params, x);
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
  tree.dispose(params);
});

Deno.test("softStep: loss and log-probs of the parameters before the update", opts, async () => {
  await startEngine("wasm");
  const params = await trained(9);
  const ref = await trained(10);
  const x = inputs(12, 11);
  const lp0 = await mlpLogProbs(ref, x, { config: WIDE });
  const before = await plainLogProbs(params, x);
  // CE + β·KL(π0‖π) over the batch, with targets y_i = (2i) mod 10 and β = 0.5.
  let ce = 0, kl = 0;
  for (let i = 0; i < 12; i++) {
    ce -= before[i][(2 * i) % 10];
    for (let y = 0; y < 10; y++) kl += Math.exp(lp0[i * 10 + y]) * (lp0[i * 10 + y] - before[i][y]);
  }
  const expected = (ce + 0.5 * kl) / 12;
  ok(kl > 0.1, "π0 differs from π, so β is tested");
  const r = await softStep().step(
    initTrainState(params),
    softBatch(x, (i) => (2 * i) % 10, { lp0, beta: 0.5 }),
    { lr: 0.01 },
  );
  ok(Math.abs(r.loss - expected) < 1e-4, `loss ${r.loss} vs ${expected}`);
  const aux = (await r.aux.data()) as Float32Array;
  before.flat().forEach((v, k) => ok(Math.abs(aux[k] - v) < FORWARD_TOL.wasm, `aux[${k}]`));
  // The step changed the parameters (the aux above was computed before it).
  const after = await plainLogProbs(r.state.params, x);
  ok(after.flat().some((v, k) => Math.abs(v - before.flat()[k]) > 1e-3), "the step moved π");
  tree.dispose([r.state.params, r.state.m, r.state.v, ref]);
});

Deno.test(
  "softStep: steps towards one class raise its log-probability and lower the loss",
  opts,
  async () => {
    await startEngine("wasm");
    let state: TrainState<MlpParams> = initTrainState(await trained(12));
    const x = inputs(16, 13);
    const start = await plainLogProbs(state.params, x);
    const losses: number[] = [];
    for (let s = 0; s < 10; s++) {
      const r = await softStep().step(state, softBatch(x, () => 3), { lr: 0.02 });
      r.aux.dispose();
      losses.push(r.loss);
      state = r.state;
    }
    const end = await plainLogProbs(state.params, x);
    const gain = end.reduce((a, row, i) => a + row[3] - start[i][3], 0) / 16;
    ok(gain > 0.5, `log π(3|x) rose by ${gain} on average`);
    ok(losses[9] < losses[0] / 2, `loss ${losses[0]} → ${losses[9]}`);
    // The first loss is the cross-entropy of class 3 at the start.
    const ce0 = -start.reduce((a, row) => a + row[3], 0) / 16;
    ok(Math.abs(losses[0] - ce0) < 1e-4, `first loss ${losses[0]} vs ${ce0}`);
    tree.dispose([state.params, state.m, state.v]);
  },
);

Deno.test(
  "pgStep: the clipped loss at ratio 1, and advantages move log π their way",
  opts,
  async () => {
    await startEngine("wasm");
    const params = await trained(14);
    const n = 8, g = 2, c = WIDE.classes;
    const x = inputs(n, 15);
    const lp = await mlpLogProbs(params, x, { config: WIDE });
    // Sample k of row i is class (i + 5k) mod 10, with advantage +1 (k = 0) or −1 (k = 1); the
    // last row is masked out. π_old = π_ref = π, so ρ = 1, k3 = 0 and the loss is
    // −(1/N) Σ m·A = −(7·1 − 7·1)/14 = 0; with A = +1 on k = 0 only, −7/14 = −0.5.
    const act = new Float32Array(n * g * c), lpOld = new Float32Array(n * g);
    const actions = (i: number, k: number) => (i + 5 * k) % 10;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < g; k++) {
        act[(i * g + k) * c + actions(i, k)] = 1;
        lpOld[i * g + k] = lp[i * c + actions(i, k)];
      }
    }
    const mask = Float32Array.from({ length: n * g }, (_, j) => (j < (n - 1) * g ? 1 : 0));
    const batch = (adv: Float32Array) => ({
      x: matrix(x, WIDE.inputDim),
      a: {
        act: np.array(act).reshape([n, g, c]),
        adv: matrix(adv, g),
        lpOld: matrix(lpOld, g),
        lpRef: matrix(lpOld, g),
        mask: matrix(mask, g),
        lo: np.array(0.8),
        hi: np.array(1.2),
        beta: np.array(0.1),
        invCount: np.array(1 / 14),
      } satisfies PgInputs,
    });
    const both = Float32Array.from({ length: n * g }, (_, j) => (j % g === 0 ? 1 : -1));
    const first = Float32Array.from({ length: n * g }, (_, j) => (j % g === 0 ? 1 : 0));
    const r0 = await pgStep().step(initTrainState(tree.ref(params)), batch(first), { lr: 0 });
    ok(Math.abs(r0.loss + 0.5) < 1e-5, `loss ${r0.loss} vs −0.5`);
    tree.dispose([r0.state.params, r0.state.m, r0.state.v, r0.aux]);
    let state: TrainState<MlpParams> = initTrainState(params);
    for (let s = 0; s < 3; s++) {
      const r = await pgStep().step(state, batch(both), { lr: 0.01 });
      if (s === 0) ok(Math.abs(r.loss) < 1e-5, `loss ${r.loss} vs 0`);
      r.aux.dispose();
      state = r.state;
    }
    const after = await mlpLogProbs(state.params, x, { config: WIDE });
    let up = 0, down = 0;
    for (let i = 0; i < n - 1; i++) {
      up += after[i * c + actions(i, 0)] - lp[i * c + actions(i, 0)];
      down += after[i * c + actions(i, 1)] - lp[i * c + actions(i, 1)];
    }
    ok(up > 0.05, `positive advantages: log π rose by ${up} in total`);
    ok(down < -0.05, `negative advantages: log π fell by ${-down} in total`);
    tree.dispose([state.params, state.m, state.v]);
  },
);

Deno.test(
  "training is deterministic: the same seed and data give bit-identical weights",
  opts,
  async () => {
    await startEngine("wasm");
    const [a, b, other] = [await trained(16, 4), await trained(16, 4), await trained(17, 4)];
    const la = await leavesOf(a);
    deepEqual(await leavesOf(b), la);
    notDeepEqual((await leavesOf(other)).w[0], la.w[0]);
    ok(la.b[0].some((v) => v !== 0), "the steps moved the biases");
    tree.dispose([a, b, other]);
  },
);
