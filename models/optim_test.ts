// Tests for models/optim.ts, the one AdamW of every trainable family, on tiny parameter trees
// with losses whose gradients are known in closed form: two steps worked by hand against
// PyTorch's AdamW algorithm, a longer trajectory against the same algorithm in plain float64
// TypeScript (moments, bias correction, decay, a learning rate that changes every step),
// decoupled weight decay on matrices only, gradient clipping by global norm, and the loss and
// aux reported from the parameters before the update.
//
// PyTorch's AdamW (torch.optim.AdamW, one step t with gradient g at the current θ):
//   θ ← θ·(1 − lr·λ);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//   θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)      with β1 0.9, β2 0.999, ε 1e-8.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { numpy as np, tree } from "@jax-js/jax";
import { startEngine } from "./engine.ts";
import {
  disposeTrainState,
  initTrainState,
  makeTrainStep,
  readScalars,
  type TrainState,
} from "./optim.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

/** A matrix w, a vector b and a 2×1×2 tensor k: what decays is decided by rank. */
type P = { w: np.Array; b: np.Array; k: np.Array };
/** Targets of the quadratic loss, one per parameter. */
type Targets = { w: np.Array; b: np.Array; k: np.Array };

const SHAPES = { w: [2, 2], b: [2], k: [2, 1, 2] } as const;
type Name = keyof typeof SHAPES;
const NAMES: Name[] = ["w", "b", "k"];

type Plain = Record<Name, number[]>;

function arrays(v: Plain): P {
  return {
    w: np.array(Float32Array.from(v.w)).reshape([...SHAPES.w]),
    b: np.array(Float32Array.from(v.b)),
    k: np.array(Float32Array.from(v.k)).reshape([...SHAPES.k]),
  };
}

/** Reads a tree of arrays without consuming it. */
async function read(p: P): Promise<Plain> {
  const out = {} as Plain;
  for (const n of NAMES) out[n] = Array.from((await p[n].ref.data()) as Float32Array);
  return out;
}

/** L = ½ Σ (θ − target)² over every parameter: ∂L/∂θ = θ − target. Aux: Σ w (before update). */
function quadratic(p: P, t: Targets): [np.Array, { wSum: np.Array }] {
  const wSum = p.w.ref.sum();
  const sq = (a: np.Array, b: np.Array) => np.square(a.sub(b)).sum();
  const loss = sq(p.w, t.w).add(sq(p.b, t.b)).add(sq(p.k, t.k)).mul(0.5);
  return [loss, { wSum }];
}

/** PyTorch's AdamW in float64 over plain arrays, on the quadratic loss. */
function reference(
  start: Plain,
  target: Plain,
  opts: { lrs: readonly number[]; weightDecay: number; decays: (n: Name) => boolean },
): Plain[] {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let p = structuredClone(start);
  const m = Object.fromEntries(NAMES.map((n) => [n, start[n].map(() => 0)])) as Plain;
  const v = structuredClone(m);
  const out: Plain[] = [];
  opts.lrs.forEach((lr, i) => {
    const t = i + 1;
    const next = {} as Plain;
    for (const n of NAMES) {
      next[n] = p[n].map((theta, j) => {
        const g = theta - target[n][j];
        const decayed = opts.decays(n) ? theta * (1 - lr * opts.weightDecay) : theta;
        m[n][j] = b1 * m[n][j] + (1 - b1) * g;
        v[n][j] = b2 * v[n][j] + (1 - b2) * g * g;
        const mHat = m[n][j] / (1 - b1 ** t), vHat = v[n][j] / (1 - b2 ** t);
        return decayed - (lr * mHat) / (Math.sqrt(vHat) + eps);
      });
    }
    p = next;
    out.push(structuredClone(p));
  });
  return out;
}

function closeAll(
  actual: readonly number[],
  expected: readonly number[],
  tol: number,
  what: string,
) {
  equal(actual.length, expected.length, what);
  actual.forEach((a, i) =>
    ok(Math.abs(a - expected[i]) <= tol, `${what}[${i}]: ${a} vs ${expected[i]}`)
  );
}

const START: Plain = { w: [1, -2, 0.5, 3], b: [1, -2], k: [0.25, -0.75, 2, -1] };
const ZERO: Plain = { w: [0, 0, 0, 0], b: [0, 0], k: [0, 0, 0, 0] };

Deno.test("AdamW: two steps worked by hand equal PyTorch's formula", opts, async () => {
  await startEngine("wasm");
  const step = makeTrainStep(quadratic, { weightDecay: 0.5 });
  let state: TrainState<P> = initTrainState(arrays(START));
  equal(state.t, 0);
  // Step 1, lr 0.1, target 0, so g = θ. Bias correction makes m̂ = g and v̂ = g²: the update is
  // lr·g/(|g| + ε) ≈ 0.1·sign(g).
  //   b (no decay): [1, −2] → [0.9, −1.9].
  //   w[0] = 1 (a matrix, λ = 0.5): 1·(1 − 0.1·0.5) − 0.1 = 0.85.
  const r1 = await step.step(state, arrays(ZERO), { lr: 0.1 });
  state = r1.state;
  equal(state.t, 1);
  let p = await read(state.params);
  closeAll(p.b, [0.9, -1.9], 1e-6, "b after 1");
  closeAll([p.w[0]], [0.85], 1e-6, "w[0] after 1");
  // m = 0.1·g, v = 0.001·g².
  closeAll(Array.from((await state.m.b.ref.data()) as Float32Array), [0.1, -0.2], 1e-7, "m");
  closeAll(Array.from((await state.v.b.ref.data()) as Float32Array), [0.001, 0.004], 1e-9, "v");
  // Step 2, lr 0.1, b: g = [0.9, −1.9];
  //   m = 0.9·[0.1, −0.2] + 0.1·[0.9, −1.9] = [0.18, −0.37]
  //   v = 0.999·[0.001, 0.004] + 0.001·[0.81, 3.61] = [0.001809, 0.007606]
  //   m̂ = m / (1 − 0.9²) = m / 0.19 = [0.947368, −1.947368]
  //   √v̂ = √(v / (1 − 0.999²)) = √(v / 0.001999) = [0.951290, 1.950616]
  //   b = [0.9, −1.9] − 0.1·m̂/√v̂ = [0.9 − 0.099588, −1.9 + 0.099834] = [0.800412, −1.800166]
  // w[0]: g = 0.85; decay 0.85·0.95 = 0.8075; m = 0.09 + 0.085 = 0.175;
  //   v = 0.000999 + 0.0007225 = 0.0017215; 0.1·(0.175/0.19)/√(0.0017215/0.001999) = 0.099252;
  //   w[0] = 0.8075 − 0.099252 = 0.708248.
  const r2 = await step.step(state, arrays(ZERO), { lr: 0.1 });
  state = r2.state;
  p = await read(state.params);
  closeAll(p.b, [0.800412, -1.800166], 2e-6, "b after 2");
  closeAll([p.w[0]], [0.708248], 2e-6, "w[0] after 2");
  step.dispose();
  disposeTrainState(state);
});

Deno.test(
  "AdamW: a trajectory with a per-step lr matches the float64 reference",
  opts,
  async () => {
    await startEngine("wasm");
    const target: Plain = { w: [0.3, 0.1, -0.4, 0.2], b: [-0.5, 0.7], k: [1, 0, -1, 0.5] };
    // A warmup-then-decay schedule: the same compiled step at every learning rate.
    const lrs = [0.01, 0.05, 0.1, 0.08, 0.03, 0, 0.02];
    const want = reference(START, target, { lrs, weightDecay: 0.1, decays: (n) => n !== "b" });
    const step = makeTrainStep(quadratic, { weightDecay: 0.1 });
    let state: TrainState<P> = initTrainState(arrays(START));
    let before = START;
    for (const [i, lr] of lrs.entries()) {
      const r = await step.step(state, arrays(target), { lr });
      state = r.state;
      // The loss and the aux are those of the parameters before the update.
      const loss = NAMES.reduce(
        (a, n) => a + before[n].reduce((s, th, j) => s + 0.5 * (th - target[n][j]) ** 2, 0),
        0,
      );
      ok(
        Math.abs(r.loss - loss) < 1e-5 * Math.max(1, loss),
        `step ${i + 1}: loss ${r.loss} vs ${loss}`,
      );
      const { wSum } = await readScalars(r.aux);
      ok(Math.abs(wSum - before.w.reduce((a, x) => a + x, 0)) < 1e-5, `step ${i + 1}: aux`);
      const p = await read(state.params);
      for (const n of NAMES) closeAll(p[n], want[i][n], 1e-5, `step ${i + 1} ${n}`);
      before = want[i];
    }
    equal(state.t, lrs.length);
    step.dispose();
    disposeTrainState(state);
  },
);

Deno.test(
  "AdamW: lr 0 leaves parameters as they are but still advances the moments",
  opts,
  async () => {
    await startEngine("wasm");
    const step = makeTrainStep(quadratic, { weightDecay: 0.5 });
    const r = await step.step(initTrainState(arrays(START)), arrays(ZERO), { lr: 0 });
    deepEqual(await read(r.state.params), await read(arrays(START)));
    equal(r.state.t, 1);
    closeAll(Array.from((await r.state.m.b.ref.data()) as Float32Array), [0.1, -0.2], 1e-7, "m");
    step.dispose();
    disposeTrainState(r.state);
  },
);

Deno.test(
  "AdamW: weight decay applies to matrices and higher ranks, not vectors",
  opts,
  async () => {
    await startEngine("wasm");
    // A loss that ignores the parameters: g = 0, so m = v = 0 and the Adam term is 0/(0 + ε) = 0;
    // only the decay θ·(1 − lr·λ) = θ·(1 − 0.1·0.5) = 0.95·θ can move anything.
    const flat = makeTrainStep(
      (p: P, _b: Record<string, never>): [np.Array, Record<string, never>] => {
        const zero = p.w.ref.sum().mul(0);
        tree.dispose(p);
        return [zero, {}];
      },
      { weightDecay: 0.5 },
    );
    const r = await flat.step(initTrainState(arrays(START)), {}, { lr: 0.1 });
    const p = await read(r.state.params);
    closeAll(p.w, START.w.map((x) => 0.95 * x), 1e-7, "matrix decays");
    closeAll(p.k, START.k.map((x) => 0.95 * x), 1e-7, "3-d tensor decays");
    deepEqual(p.b, START.b, "vectors (biases, norms) do not decay");
    equal(r.gradNorm, 0);
    flat.dispose();
    disposeTrainState(r.state);
    // Without weight decay nothing moves at all.
    const none = makeTrainStep(
      (p: P, _b: Record<string, never>): [np.Array, Record<string, never>] => {
        const zero = p.w.ref.sum().mul(0);
        tree.dispose(p);
        return [zero, {}];
      },
    );
    const r0 = await none.step(initTrainState(arrays(START)), {}, { lr: 0.1 });
    deepEqual(await read(r0.state.params), await read(arrays(START)));
    none.dispose();
    disposeTrainState(r0.state);
  },
);

Deno.test(
  "AdamW: clipping scales the gradient to the global norm across the tree",
  opts,
  async () => {
    await startEngine("wasm");
    // With target 0, g = θ: the global norm over w, b and k together is
    // √(1 + 4 + 0.25 + 9 + 1 + 4 + 0.0625 + 0.5625 + 4 + 1) = √24.875.
    const norm = Math.sqrt(24.875);
    const all = NAMES.flatMap((n) => START[n]);
    ok(Math.abs(Math.sqrt(all.reduce((a, x) => a + x * x, 0)) - norm) < 1e-12);
    for (const clipNorm of [undefined, 1, 100]) {
      const step = makeTrainStep(quadratic, clipNorm === undefined ? {} : { clipNorm });
      const r = await step.step(initTrainState(arrays(START)), arrays(ZERO), { lr: 0.1 });
      // gradNorm is reported before clipping.
      ok(Math.abs(r.gradNorm - norm) < 1e-5, `gradNorm ${r.gradNorm} vs ${norm}`);
      // m = (1 − β1)·g_clipped; g_clipped = g·min(1, c/(‖g‖ + 1e-6)).
      const scale = clipNorm === undefined ? 1 : Math.min(1, clipNorm / (norm + 1e-6));
      for (const n of NAMES) {
        const m = Array.from((await r.state.m[n].ref.data()) as Float32Array);
        closeAll(m, START[n].map((g) => 0.1 * g * scale), 1e-7, `m.${n} with clipNorm ${clipNorm}`);
      }
      // Clipping to norm 1 leaves a unit-norm gradient: Σ (m/0.1)² = 1.
      if (clipNorm === 1) {
        let sq = 0;
        for (const n of NAMES) {
          for (const x of (await r.state.m[n].ref.data()) as Float32Array) sq += (x / 0.1) ** 2;
        }
        ok(Math.abs(Math.sqrt(sq) - 1) < 1e-5, `clipped norm ${Math.sqrt(sq)}`);
      }
      step.dispose();
      disposeTrainState(r.state);
    }
  },
);

Deno.test(
  "initTrainState: zero moments of the same shapes; readScalars reads metrics",
  opts,
  async () => {
    await startEngine("wasm");
    const s = initTrainState(arrays(START));
    equal(s.t, 0);
    for (const n of NAMES) {
      deepEqual(s.m[n].shape, [...SHAPES[n]]);
      deepEqual(s.v[n].shape, [...SHAPES[n]]);
      ok(((await s.m[n].ref.data()) as Float32Array).every((x) => x === 0));
      ok(((await s.v[n].ref.data()) as Float32Array).every((x) => x === 0));
    }
    deepEqual(await read(s.params), await read(arrays(START)));
    disposeTrainState(s);
    deepEqual(await readScalars({ a: np.array(1.5), b: np.array(-2) }), { a: 1.5, b: -2 });
  },
);

/** Row targets [n, ...shape] per parameter: the batch of a loss that is a mean over rows. */
type Rows = { w: np.Array; b: np.Array; k: np.Array };

function rowTargets(rows: readonly Plain[]): Rows {
  const stack = (n: Name) =>
    np.array(Float32Array.from(rows.flatMap((r) => r[n]))).reshape([rows.length, ...SHAPES[n]]);
  return { w: stack("w"), b: stack("b"), k: stack("k") };
}

/** L = mean over rows i of ½ Σ (θ − target_i)²: ∂L/∂θ = θ − mean_i target_i. Aux: Σ w. */
function meanQuadratic(p: P, t: Rows): [np.Array, { wSum: np.Array }] {
  const wSum = p.w.ref.sum();
  const n = t.w.shape[0];
  const sq = (a: np.Array, b: np.Array) =>
    np.square(a.reshape([1, ...a.shape]).sub(b)).reshape([n, -1]).sum(-1);
  const perRow = sq(p.w, t.w).add(sq(p.b, t.b)).add(sq(p.k, t.k)).mul(0.5);
  return [perRow.mean(), { wSum }];
}

/** Six rows of targets, deterministic. */
const ROWS: Plain[] = Array.from({ length: 6 }, (_, i) => ({
  w: [0.3 * i, -0.2, 0.1 * i - 0.4, 0.5],
  b: [i % 2 ? 1 : -1, 0.25 * i],
  k: [0.1, -0.1 * i, 0.7, i / 3],
}));

Deno.test(
  "accumulate: k micro-batches of a mean loss equal one step on the whole batch",
  opts,
  async () => {
    await startEngine("wasm");
    for (const clipNorm of [undefined, 1]) {
      const step = makeTrainStep(meanQuadratic, { weightDecay: 0.1, clipNorm });
      let whole: TrainState<P> = initTrainState(arrays(START));
      let acc2: TrainState<P> = initTrainState(arrays(START));
      let acc3: TrainState<P> = initTrainState(arrays(START));
      let uneven: TrainState<P> = initTrainState(arrays(START));
      let worst = 0;
      for (const lr of [0.05, 0.1, 0.02]) {
        const w = await step.step(whole, rowTargets(ROWS), { lr });
        whole = w.state;
        // Equal halves and thirds: the mean of the micro-batch means is the whole mean.
        const a2 = await step.accumulate(acc2, [
          rowTargets(ROWS.slice(0, 3)),
          rowTargets(ROWS.slice(3)),
        ], {
          lr,
        });
        acc2 = a2.state;
        const thirds = [0, 2, 4].map((s) => rowTargets(ROWS.slice(s, s + 2)));
        const a3 = await step.accumulate(acc3, thirds, { lr });
        acc3 = a3.state;
        // Unequal micro-batches (1 and 5 rows) weighted by their share of the rows.
        const u = await step.accumulate(
          uneven,
          [rowTargets(ROWS.slice(0, 1)), rowTargets(ROWS.slice(1))],
          { lr, weights: [1 / 6, 5 / 6] },
        );
        uneven = u.state;
        for (const r of [a2, a3, u]) {
          ok(Math.abs(r.loss - w.loss) < 1e-5 * Math.max(1, w.loss), `loss ${r.loss} vs ${w.loss}`);
          ok(Math.abs(r.gradNorm - w.gradNorm) < 1e-5, `gradNorm ${r.gradNorm} vs ${w.gradNorm}`);
        }
        equal(a3.aux.length, 3);
        const wSum = (await readScalars(w.aux)).wSum;
        for (const a of a3.aux) equal((await readScalars(a)).wSum, wSum, "aux before the update");
        tree.dispose([a2.aux, u.aux]);
        const want = await read(whole.params);
        for (const s of [acc2, acc3, uneven]) {
          const got = await read(s.params);
          for (const n of NAMES) {
            got[n].forEach((x, j) => (worst = Math.max(worst, Math.abs(x - want[n][j]))));
          }
        }
      }
      equal(acc2.t, 3);
      ok(worst < 1e-6, `clipNorm ${clipNorm}: max |accumulated − whole| = ${worst}`);
      step.dispose();
      for (const s of [whole, acc2, acc3, uneven]) disposeTrainState(s);
    }
  },
);

Deno.test(
  "accumulate: one micro-batch is step() bit for bit; weights must match the micro-batches",
  opts,
  async () => {
    await startEngine("wasm");
    const step = makeTrainStep(meanQuadratic, { clipNorm: 1 });
    let a: TrainState<P> = initTrainState(arrays(START));
    let b: TrainState<P> = initTrainState(arrays(START));
    for (const lr of [0.1, 0.05]) {
      const r1 = await step.step(a, rowTargets(ROWS), { lr });
      const r2 = await step.accumulate(b, [rowTargets(ROWS)], { lr });
      a = r1.state;
      b = r2.state;
      equal(r2.loss, r1.loss);
      equal(r2.gradNorm, r1.gradNorm);
      tree.dispose([r1.aux, r2.aux]);
      deepEqual(await read(b.params), await read(a.params));
      deepEqual(await read(b.m), await read(a.m));
      deepEqual(await read(b.v), await read(a.v));
    }
    const state = initTrainState(arrays(START));
    await rejects(
      () => step.accumulate(state, [rowTargets(ROWS)], { lr: 0.1, weights: [0.5, 0.5] }),
      /accumulate: 1 micro-batches with 2 finite weights/,
    );
    step.dispose();
    for (const s of [a, b, state]) disposeTrainState(s);
  },
);

Deno.test(
  "accumulate: the step's learning rate applies once per update (lr 0 moves nothing)",
  opts,
  async () => {
    await startEngine("wasm");
    const step = makeTrainStep(meanQuadratic, { weightDecay: 0.5 });
    const halves = () => [rowTargets(ROWS.slice(0, 3)), rowTargets(ROWS.slice(3))];
    const r0 = await step.accumulate(initTrainState(arrays(START)), halves(), { lr: 0 });
    deepEqual(await read(r0.state.params), await read(arrays(START)));
    equal(r0.state.t, 1);
    tree.dispose(r0.aux);
    // A schedule's next lr on the same state: one AdamW step of that size, bias-corrected for t=2.
    const whole = await step.step(
      initTrainState(arrays(START)),
      rowTargets(ROWS),
      { lr: 0 },
    );
    const a = await step.accumulate(r0.state, halves(), { lr: 0.05 });
    const w = await step.step(whole.state, rowTargets(ROWS), { lr: 0.05 });
    const pa = await read(a.state.params), pw = await read(w.state.params);
    for (const n of NAMES) closeAll(pa[n], pw[n], 1e-6, `t=2 ${n}`);
    tree.dispose([a.aux, w.aux, whole.aux]);
    step.dispose();
    disposeTrainState(a.state);
    disposeTrainState(w.state);
  },
);
