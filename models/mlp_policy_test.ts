// Tests for models/mlp_policy.ts, the MLP as a Policy: run answers the argmax label of each
// classify request and refuses anything else; request log-probabilities are computed once per
// parameter set; KL is exact over the classes, checked against the sum written out by hand; the
// learner's SFT steps update the policy in place; a clone trains without touching the original;
// and weights → save → loadMlp gives bit-identical answers, while a broken folder is a one-line
// error naming the file. tests/policy_suite_test.ts runs the checks every family shares.

import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { rng } from "../lib/rng.ts";
import { startEngine } from "./engine.ts";
import type { TrainInstance } from "./learner.ts";
import type { MlpConfig } from "./mlp.ts";
import { argmaxRow, asMlp, loadMlp, MlpPolicy, stackInputs } from "./mlp_policy.ts";
import type { ClassifyRequest, Policy, Request } from "./policy.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const CONFIG: MlpConfig = { inputDim: 6, hidden: [16], classes: 10 };

/** `n` classify requests with inputs uniform in [−2, 2). */
function requests(n: number, seed: number): ClassifyRequest[] {
  const r = rng(seed, 0x9011c7);
  return Array.from({ length: n }, () => ({
    kind: "classify",
    x: Float32Array.from({ length: CONFIG.inputDim }, () => 4 * r.next() - 2),
    classes: CONFIG.classes,
  }));
}

/** Training instances over `reqs` whose sft1 label is `label(i)`. */
function instances(
  reqs: readonly ClassifyRequest[],
  label: (i: number) => number,
): TrainInstance[] {
  return reqs.map((request, i) => ({
    request,
    targets: (name) => (name === "sft1" ? [label(i)] : undefined),
  }));
}

/** `steps` full-batch SFT steps of `policy` towards the sft1 labels; returns the last result. */
async function sft(
  policy: MlpPolicy,
  data: readonly TrainInstance[],
  o: { steps: number; lr?: number; beta?: number; reference?: Policy },
) {
  const session = policy.learner(data, { reference: o.reference }).begin({ seed: 0 });
  const idx = data.map((_, i) => i);
  let last = { loss: NaN, kl: NaN };
  for (let s = 0; s < o.steps; s++) {
    last = await session.sft(idx, { labelling: "sft1", beta: o.beta ?? 0, lr: o.lr ?? 0.05 });
  }
  session.dispose();
  return last;
}

/** A policy moved off its initialisation (non-zero biases) by a few SFT steps. */
async function trainedPolicy(seed: number): Promise<MlpPolicy> {
  const policy = MlpPolicy.init(CONFIG, seed);
  await sft(policy, instances(requests(8, seed + 100), (i) => i % 10), { steps: 3 });
  return policy;
}

/** Log-probability rows of a policy on requests. */
async function rows(policy: MlpPolicy, reqs: readonly Request[]): Promise<number[][]> {
  const lp = await policy.requestLogProbs(reqs), c = CONFIG.classes;
  return Array.from({ length: reqs.length }, (_, i) => Array.from(lp.subarray(i * c, i * c + c)));
}

const same = (a: Float32Array, b: Float32Array) =>
  equal(Array.from(a).join(), Array.from(b).join());

Deno.test("argmaxRow: the largest of a row, the first on ties", () => {
  equal(argmaxRow([0, 3, 1, 3], { offset: 0, classes: 4 }), 1);
  equal(argmaxRow([9, 9, -1, -2, -0.5, -3], { offset: 2, classes: 4 }), 2); // −0.5 at index 2
  equal(argmaxRow([5, 5, 5], { offset: 0, classes: 3 }), 0);
});

Deno.test(
  "init: family, request kinds, id, and the same seed gives the same policy",
  opts,
  async () => {
    await startEngine("wasm");
    const [a, b, c] = [
      MlpPolicy.init(CONFIG, 3),
      MlpPolicy.init(CONFIG, 3),
      MlpPolicy.init(CONFIG, 4),
    ];
    deepEqual([a.family, a.kinds, a.id], ["mlp", ["classify"], "initialised from seed 3"]);
    const x = stackInputs(requests(5, 1), CONFIG.inputDim);
    same(await a.logProbs(x), await b.logProbs(x));
    notDeepEqual(await c.logProbs(x), await a.logProbs(x));
    await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
  },
);

Deno.test("run: the argmax label of each request's log-probabilities", opts, async () => {
  await startEngine("wasm");
  const policy = await trainedPolicy(5);
  const reqs = requests(30, 2);
  const out = await policy.run(reqs);
  const lp = await rows(policy, reqs);
  equal(out.length, 30);
  out.forEach((o, i) => {
    const best = lp[i].indexOf(Math.max(...lp[i]));
    deepEqual(o, { kind: "classify", label: best }, `request ${i}`);
  });
  // Trained towards several labels, the policy does not answer one label to everything.
  ok(new Set(out.map((o) => (o as { label: number }).label)).size > 1);
  // stackInputs lays the requests' inputs out row by row for logProbs.
  const x = stackInputs(reqs, CONFIG.inputDim);
  deepEqual(x.subarray(6, 12), reqs[1].x);
  same(await policy.logProbs(x), await policy.requestLogProbs(reqs));
  await policy.dispose();
});

Deno.test(
  "run: a request of another kind or shape is a ValidationError naming it",
  opts,
  async () => {
    await startEngine("wasm");
    const policy = MlpPolicy.init(CONFIG, 1);
    const good = requests(2, 3);
    const choices: Request = { kind: "choices", context: "a", continuations: ["b"] };
    await rejects(
      policy.run([...good, choices]),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message === "request 2: an MLP answers classify requests, not choices",
    );
    const narrow: Request = { kind: "classify", x: new Float32Array(5), classes: 10 };
    await rejects(policy.run([narrow]), /request 0: has 5 inputs and 10 classes; this MLP takes 6/);
    const fewer: Request = { kind: "classify", x: new Float32Array(6), classes: 2 };
    await rejects(policy.run([fewer]), /request 0: has 6 inputs and 2 classes/);
    await policy.dispose();
  },
);

Deno.test("requestLogProbs: computed once per parameter set and request list", opts, async () => {
  await startEngine("wasm");
  const policy = MlpPolicy.init(CONFIG, 2);
  const reqs = requests(6, 4);
  const first = policy.requestLogProbs(reqs);
  equal(policy.requestLogProbs(reqs), first, "the same list: the same promise");
  ok(policy.requestLogProbs([...reqs]) !== first, "another list: computed again");
  // A training step replaces the parameters, so the memo no longer applies.
  await sft(policy, instances(reqs, () => 7), { steps: 1 });
  const after = policy.requestLogProbs(reqs);
  ok(after !== first, "new parameters: computed again");
  const [a, b] = [await first, await after];
  ok(b[7] > a[7], `log π(7|x₀) rose: ${a[7]} → ${b[7]}`);
  await policy.dispose();
});

Deno.test("kl: exact forward and reverse KL over the classes, by hand", opts, async () => {
  await startEngine("wasm");
  const base = await trainedPolicy(6);
  const tuned = await trainedPolicy(7);
  const reqs = requests(12, 5);
  const p = await rows(base, reqs), q = await rows(tuned, reqs);
  // KL(P‖Q) = (1/N) Σ_i Σ_y P_i(y) (log P_i(y) − log Q_i(y)), in float64 from the rows.
  const kl = (a: number[][], b: number[][]) =>
    a.reduce((s, row, i) => s + row.reduce((t, v, y) => t + Math.exp(v) * (v - b[i][y]), 0), 0) /
    a.length;
  const r = await tuned.kl(base, reqs);
  ok(Math.abs(r.forward - kl(p, q)) < 1e-9, `forward ${r.forward} vs ${kl(p, q)}`);
  ok(Math.abs(r.reverse! - kl(q, p)) < 1e-9, `reverse ${r.reverse} vs ${kl(q, p)}`);
  ok(r.forward > 0.01 && r.reverse! > 0.01, "two differently trained policies differ");
  ok(Math.abs(r.forward - r.reverse!) > 1e-6, "KL is not symmetric");
  deepEqual(await base.kl(base, reqs), { forward: 0, reverse: 0 });
  // The reference must be an MLP.
  const other = { family: "llama" } as unknown as Policy;
  await rejects(tuned.kl(other, reqs), /^ValidationError: kl reference: must be an MLP policy$/);
  throws(() => asMlp({}, "reference"), /reference: must be an MLP policy/);
  await Promise.all([base.dispose(), tuned.dispose()]);
});

Deno.test(
  "learner: SFT steps update the policy in place; KL only with a reference",
  opts,
  async () => {
    await startEngine("wasm");
    const policy = MlpPolicy.init(CONFIG, 8);
    const reference = policy.clone();
    const reqs = requests(20, 6);
    const data = instances(reqs, (i) => (i % 2 === 0 ? 2 : 5));
    const before =
      (await policy.run(reqs)).filter((o, i) =>
        (o as { label: number }).label === (i % 2 === 0 ? 2 : 5)
      ).length;
    const first = await sft(policy, data, { steps: 1, reference });
    ok(
      Math.abs(first.kl) < 1e-6,
      `the first step's KL is measured before the update, π = π0: ${first.kl}`,
    );
    const last = await sft(policy, data, { steps: 15, reference, beta: 0.1 });
    ok(last.kl > 0, `KL to π0 after training: ${last.kl}`);
    const right =
      (await policy.run(reqs)).filter((o, i) =>
        (o as { label: number }).label === (i % 2 === 0 ? 2 : 5)
      ).length;
    ok(right >= 18 && right > before, `${before} → ${right} of 20 trained labels`);
    // Without a reference there is no KL, and β > 0 is refused.
    ok(Number.isNaN((await sft(policy, data, { steps: 1 })).kl));
    await rejects(
      sft(policy, data, { steps: 1, beta: 0.5 }),
      /sft: β > 0 needs a reference policy/,
    );
    throws(() => policy.learner([], {}), /mlp learner: no training instances/);
    await Promise.all([policy.dispose(), reference.dispose()]);
  },
);

Deno.test("clone: trains independently of the original", opts, async () => {
  await startEngine("wasm");
  const policy = await trainedPolicy(9);
  const x = stackInputs(requests(16, 10), CONFIG.inputDim);
  const before = await policy.logProbs(x);
  const copy = policy.clone();
  equal(copy.id, policy.id);
  same(await copy.logProbs(x), before);
  // Disposing an untrained clone leaves the shared weights to the original.
  await policy.clone().dispose();
  same(await policy.logProbs(x), before);
  await sft(copy, instances(requests(16, 10), () => 3), { steps: 3 });
  const trained = await copy.logProbs(x), after = await policy.logProbs(x);
  // The clone moved towards class 3 …
  let gain = 0;
  for (let i = 0; i < 16; i++) gain += trained[i * 10 + 3] - before[i * 10 + 3];
  ok(gain / 16 > 0.1, `clone's log π(3|x) rose by ${gain / 16} on average`);
  // … and the original is bit-for-bit unchanged.
  same(after, before);
  await copy.dispose();
  same(await policy.logProbs(x), before);
  await policy.dispose();
});

Deno.test("weights, save and loadMlp: a bit-identical round trip", opts, async () => {
  await startEngine("wasm");
  const policy = await trainedPolicy(11);
  const w = await policy.weights();
  deepEqual([...w.keys()].sort(), ["b0", "b1", "w0", "w1"]);
  deepEqual([w.get("w0")!.shape, w.get("b0")!.shape, w.get("w1")!.shape], [[6, 16], [16], [
    16,
    10,
  ]]);
  ok(w.get("b1")!.data.some((v) => v !== 0), "trained biases are not zero");
  // Safetensors bytes decode to the same weights.
  deepEqual(decodeSafetensors(encodeSafetensors(w), "mem").weights, w);
  const dir = await Deno.makeTempDir();
  await policy.save(`${dir}/m`);
  deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/m/config.json`)), {
    model_type: "forgetbench_mlp",
    input_dim: 6,
    hidden: [16],
    classes: 10,
  });
  const back = await loadMlp(`${dir}/m`);
  deepEqual([back.config, back.id], [CONFIG, `${dir}/m`]);
  deepEqual(await back.weights(), w);
  const reqs = requests(30, 12);
  same(await back.requestLogProbs(reqs), await policy.requestLogProbs(reqs));
  deepEqual(await back.run(reqs), await policy.run(reqs));
  await Promise.all([back.dispose(), policy.dispose()]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMlp: a broken folder is a one-line error naming the file", opts, async () => {
  await startEngine("wasm");
  const dir = await Deno.makeTempDir();
  const policy = MlpPolicy.init(CONFIG, 1);
  await policy.save(`${dir}/ok`);
  const config = await Deno.readTextFile(`${dir}/ok/config.json`);
  const weights = await Deno.readFile(`${dir}/ok/model.safetensors`);
  /** A folder with `config` (a JSON value or raw text) and optionally the saved weights. */
  async function folder(name: string, cfg: unknown, st: Uint8Array | null = weights) {
    await Deno.mkdir(`${dir}/${name}`);
    const text = typeof cfg === "string" ? cfg : JSON.stringify(cfg);
    if (cfg !== null) await Deno.writeTextFile(`${dir}/${name}/config.json`, text);
    if (st) await Deno.writeFile(`${dir}/${name}/model.safetensors`, st);
    return `${dir}/${name}`;
  }
  const good = JSON.parse(config);
  const other = MlpPolicy.init({ ...CONFIG, hidden: [8] }, 1);
  const cases: [string, RegExp][] = [
    [await folder("none", null), /none\/config\.json: cannot read it as JSON/],
    [await folder("text", "{oops"), /text\/config\.json: cannot read it as JSON/],
    [
      await folder("type", { ...good, model_type: "llama" }),
      /type\/config\.json: model_type must be "forgetbench_mlp"/,
    ],
    [
      await folder("hidden", { ...good, hidden: [0] }),
      /hidden\/config\.json: input_dim, classes and hidden must be positive/,
    ],
    [await folder("nost", good, null), /nost\/model\.safetensors: cannot read/],
    [
      await folder("shape", good, encodeSafetensors(await other.weights())),
      /shape\/model\.safetensors: tensor 'w0' must have shape \[6,16\]/,
    ],
  ];
  for (const [path, message] of cases) {
    await rejects(loadMlp(path), (e: unknown) => {
      ok(e instanceof ValidationError, `${path}: ${e}`);
      ok(message.test(e.message), `'${e.message}' should match ${message}`);
      ok(!e.message.includes("\n"), e.message);
      return true;
    });
  }
  await Promise.all([policy.dispose(), other.dispose()]);
  await Deno.remove(dir, { recursive: true });
});
