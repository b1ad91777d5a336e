// Tests for models/mlp_engine.ts, the onnxruntime MLP engine, against the jax-js reference of
// models/mlp.ts (the losses there are tested against formulas and finite differences): forward
// logits, one soft-target AdamW step (β > 0) and one clipped policy-gradient step (clipped and
// unclipped samples, masked ones, k3 penalty) from the same parameters and batch; stacked groups
// whose members' numbers equal the same members run alone, bit for bit; bit-identical reruns.

import { deepEqual, equal, ok } from "node:assert/strict";
import { numpy as np } from "@jax-js/jax";
import { rng } from "../lib/rng.ts";
import { startEngine } from "./engine.ts";
import { matrix, type MlpConfig, mlpLogits, type MlpParams, pgStep, softStep } from "./mlp.ts";
import {
  AdamArena,
  adamScalars,
  layoutOf,
  logSoftmaxRows,
  MlpEngine,
  pgGrad,
  softGrad,
} from "./mlp_engine.ts";
import { initTrainState } from "./optim.ts";
import { MlpPolicy } from "./mlp_policy.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const CONFIG: MlpConfig = { inputDim: 12, hidden: [16, 8], classes: 5 };
const B = 6, G = 4;

function uniform(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed, 0xe9);
  return Float32Array.from({ length: n }, () => (2 * r.next() - 1) * scale);
}

/** A flat parameter vector as the jax-js tree of models/mlp.ts. */
function tree(flat: Float32Array): MlpParams {
  const lay = layoutOf(CONFIG);
  return {
    w: lay.layers.map((ly) =>
      np.array(flat.slice(ly.w, ly.w + ly.fanIn * ly.fanOut)).reshape([ly.fanIn, ly.fanOut])
    ),
    b: lay.layers.map((ly) => np.array(flat.slice(ly.b, ly.b + ly.fanOut))),
  };
}

async function flatOf(p: MlpParams): Promise<Float32Array> {
  const lay = layoutOf(CONFIG), out = new Float32Array(lay.total);
  for (const [l, ly] of lay.layers.entries()) {
    out.set((await p.w[l].data()) as Float32Array, ly.w);
    out.set((await p.b[l].data()) as Float32Array, ly.b);
  }
  return out;
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  equal(got.length, want.length, what);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  ok(worst <= tol, `${what}: max |Δ| ${worst} > ${tol}`);
}

/** An AdamW state whose members start from `params` (zero moments). */
function arena(params: Float32Array[]): AdamArena {
  const P = layoutOf(CONFIG).total, a = new AdamArena(params.length, P);
  params.forEach((p, j) => a.params.set(p, j * P));
  return a;
}

/** A policy's parameters with non-zero biases. */
function start(seed: number): Float32Array {
  const p = MlpPolicy.init(CONFIG, seed).params.slice();
  for (const ly of layoutOf(CONFIG).layers) p.set(uniform(ly.fanOut, seed + 50, 0.1), ly.b);
  return p;
}

Deno.test("AdamW in WebAssembly SIMD: per member, bit for bit the float32 formula", () => {
  const R = 3, P = 1003, f = Math.fround; // P mod 4 = 3: the JavaScript tail too
  const a = new AdamArena(R, P);
  const u = (seed: number, scale: number) => uniform(R * P, seed, scale);
  a.params.set(u(1, 1));
  a.m.set(u(2, 0.01));
  a.v.set(u(3, 1e-4).map(Math.abs));
  a.grad.set(u(4, 0.1));
  const [p0, m0, v0] = [a.params.slice(), a.m.slice(), a.v.slice()];
  const s = [1e-3, 3e-3, 1e-2], c2 = [0.03, 0.04, 0.05];
  a.step(s, c2);
  for (let i = 0; i < R * P; i++) {
    const r = Math.floor(i / P), g = a.grad[i];
    const m = f(f(m0[i] * f(0.9)) + f(g * f(1 - 0.9)));
    const v = f(f(v0[i] * f(0.999)) + f(f(g * g) * f(1 - 0.999)));
    const p = f(p0[i] - f(f(m * f(s[r])) / f(f(f(Math.sqrt(v)) / f(c2[r])) + f(1e-8))));
    ok(Object.is(a.m[i], m) && Object.is(a.v[i], v) && Object.is(a.params[i], p), `element ${i}`);
  }
});

Deno.test("mlp engine: forward logits equal the jax-js forward", opts, async () => {
  await startEngine("wasm");
  const e = await MlpEngine.for(CONFIG), p = start(1), x = uniform(B * CONFIG.inputDim, 2);
  const { logits } = await e.forward(p, x, { members: 1 });
  const want = (await mlpLogits(tree(p), matrix(x, CONFIG.inputDim)).data()) as Float32Array;
  close(logits, want, 1e-5, "logits");
});

Deno.test("mlp engine: a soft-target step (β > 0) equals jax-js's softStep", opts, async () => {
  await startEngine("wasm");
  const e = await MlpEngine.for(CONFIG), c = CONFIG.classes;
  const x = uniform(B * CONFIG.inputDim, 3);
  const q = new Float32Array(B * c);
  for (let i = 0; i < B; i++) q[i * c + (i % c)] = 1;
  const lp0 = Float32Array.from(logSoftmaxRows(uniform(B * c, 4, 2), c));
  const state = arena([start(5)]);
  let jx = initTrainState(tree(state.params.slice()));
  for (let t = 1; t <= 3; t++) {
    const lr = 0.01;
    const act = await e.forward(state.params, x, { members: 1, keep: true });
    const g = softGrad(logSoftmaxRows(act.logits, c), { q, lp0, beta: 0.5, classes: c });
    const k = adamScalars(t, lr);
    await e.update(state, act, g.dlogits, { stepSize: [k.stepSize], bc2Sqrt: [k.bc2Sqrt] });
    const r = await softStep().step(jx, {
      x: matrix(x, CONFIG.inputDim),
      q: matrix(q, c),
      lp0: matrix(lp0, c),
      beta: np.array(0.5),
    }, { lr });
    r.aux.dispose();
    jx = r.state;
    ok(
      Math.abs(g.loss - r.loss) < 1e-5 * Math.max(1, Math.abs(r.loss)),
      `loss ${g.loss} vs ${r.loss}`,
    );
  }
  close(state.params, await flatOf(jx.params), 2e-5, "parameters after 3 steps");
});

Deno.test("mlp engine: a clipped policy-gradient step equals jax-js's pgStep", opts, async () => {
  await startEngine("wasm");
  const e = await MlpEngine.for(CONFIG), c = CONFIG.classes;
  const x = uniform(B * CONFIG.inputDim, 6);
  const p0 = start(7);
  const act0 = await e.forward(p0, x, { members: 1 });
  const lp = logSoftmaxRows(act0.logits, c);
  const r = rng(8, 1);
  const actions = Int32Array.from({ length: B * G }, () => r.int(c));
  // π_old away from π so that some ratios leave [1 − ε, 1 + ε] on either side.
  const lpOld = Float32Array.from(
    actions,
    (y, k) => lp[Math.floor(k / G) * c + y] + (r.next() - 0.5),
  );
  const lpRef = Float32Array.from(
    actions,
    (y, k) => lp[Math.floor(k / G) * c + y] + 0.3 * (r.next() - 0.5),
  );
  const adv = uniform(B * G, 9, 1.5);
  const mask = Float32Array.from({ length: B * G }, (_, k) => (Math.floor(k / G) === 2 ? 0 : 1));
  let kept = 0;
  for (const m of mask) kept += m;
  const u = { clip: 0.2, beta: 0.1, invCount: 1 / kept };
  const g = pgGrad(lp, { actions, adv, lpOld, lpRef, mask, ...u, classes: c, group: G });
  const k = adamScalars(1, 0.01);
  const act = await e.forward(p0, x, { members: 1, keep: true });
  const got = arena([p0]);
  await e.update(got, act, g.dlogits, { stepSize: [k.stepSize], bc2Sqrt: [k.bc2Sqrt] });
  const onehot = new Float32Array(B * G * c);
  actions.forEach((y, i) => (onehot[i * c + y] = 1));
  const want = await pgStep().step(initTrainState(tree(p0)), {
    x: matrix(x, CONFIG.inputDim),
    a: {
      act: np.array(onehot).reshape([B, G, c]),
      adv: matrix(adv, G),
      lpOld: matrix(lpOld, G),
      lpRef: matrix(lpRef, G),
      mask: matrix(mask, G),
      lo: np.array(1 - u.clip),
      hi: np.array(1 + u.clip),
      beta: np.array(u.beta),
      invCount: np.array(u.invCount),
    },
  }, { lr: 0.01 });
  want.aux.dispose();
  ok(Math.abs(g.loss - want.loss) < 1e-5, `loss ${g.loss} vs ${want.loss}`);
  // One Adam step moves each weight by ≈ lr·sign(g): compare the moves.
  close(
    got.params.map((v, i) => v - p0[i]),
    (await flatOf(want.state.params)).map((v, i) => v - p0[i]),
    1e-4,
    "update",
  );
});

Deno.test(
  "mlp engine: a stacked group's members equal the same models run alone, bit for bit",
  opts,
  async () => {
    const e = await MlpEngine.for(CONFIG), c = CONFIG.classes, P = layoutOf(CONFIG).total;
    const R = 3, lrs = [1e-3, 3e-3, 1e-2];
    const xs = [0, 1, 2].map((r) => uniform(B * CONFIG.inputDim, 20 + r));
    const ps = [0, 1, 2].map((r) => start(30 + r));
    const q = new Float32Array(B * c);
    for (let i = 0; i < B; i++) q[i * c + ((i * 3) % c)] = 1;
    const lp0 = new Float32Array(B * c).fill(Math.log(1 / c));
    const stepOf = async (members: number[], states: AdamArena, t: number) => {
      const x = new Float32Array(members.length * xs[0].length);
      members.forEach((m, j) => x.set(xs[m], j * xs[0].length));
      const act = await e.forward(states.params, x, { members: members.length, keep: true });
      const dl = new Float32Array(act.logits.length);
      members.forEach((_, j) => {
        const lp = logSoftmaxRows(act.logits.subarray(j * B * c, (j + 1) * B * c), c);
        dl.set(softGrad(lp, { q, lp0, beta: 0.2, classes: c }).dlogits, j * B * c);
      });
      const ks = members.map((m) => adamScalars(t, lrs[m]));
      await e.update(states, act, dl, {
        stepSize: ks.map((k) => k.stepSize),
        bc2Sqrt: ks.map((k) => k.bc2Sqrt),
      });
    };
    const group = arena(ps);
    const alone = ps.map((p) => arena([p]));
    for (let t = 1; t <= 3; t++) {
      await stepOf([0, 1, 2], group, t);
      for (let m = 0; m < R; m++) await stepOf([m], alone[m], t);
    }
    for (let m = 0; m < R; m++) {
      deepEqual(group.params.slice(m * P, (m + 1) * P), alone[m].params, `member ${m}`);
      const gv = group.v.slice(m * P, (m + 1) * P);
      const bad = gv.findIndex((x, i) => !Object.is(x, alone[m].v[i]));
      equal(bad, -1, `member ${m}: second moment ${gv[bad]} vs ${alone[m].v[bad]} at ${bad}`);
    }
    // And a rerun gives the same bits.
    const again = arena(ps);
    for (let t = 1; t <= 3; t++) await stepOf([0, 1, 2], again, t);
    deepEqual(again.params, group.params);
  },
);
