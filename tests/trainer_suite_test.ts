// The shared Trainer suite (STYLE.md habit 5): every trainer in the TRAINERS registry runs the
// same checks on a small synthetic "parity" task, so a newly registered trainer is covered
// without touching this file. Checks: the base policy is untouched, checkpoints and step logs
// follow the contract, runs are deterministic per seed, training improves the task, and
// unknown options are rejected. Trainer-specific checks follow the suite.
//
// The task: input i encodes digit d = i mod 10 (one-hot in 10 dims plus 2 noise dims, all
// with small noise); 10 output classes; reward 1 iff the output has the digit's parity; the
// correct set is the five labels of that parity; labellings sft1 = {0 | 1} and
// sft2 = {0, 4 | 1, 5} as in tasks/parity_mnist.ts. π0 is a freshly initialised MLP, which
// answers with the right parity for only some digits.

import { deepEqual, equal, notDeepEqual, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { rng } from "../lib/rng.ts";
import { meanKL } from "../evals/kl.ts";
import { startEngine } from "../models/engine.ts";
import { type MlpConfig, MlpPolicy } from "../models/mlp.ts";
import { type ClassificationData, type StepLog, type Trainer, TRAINERS } from "../trainers/mod.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const DIM = 12, CLASSES = 10, N = 60, BATCH = 16;
const CONFIG: MlpConfig = { inputDim: DIM, hidden: [16], classes: CLASSES };
const CHECKPOINTS = [10, 25, 40] as const;
const LR = 0.01;

const digit = (i: number) => i % 10;
const sameParity = (i: number) => [0, 2, 4, 6, 8].map((y) => y + (digit(i) % 2));

function inputs(): Float32Array {
  const r = rng(2024, 1), x = new Float32Array(N * DIM);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < DIM; k++) x[i * DIM + k] = 0.2 * (r.next() - 0.5);
    x[i * DIM + digit(i)] += 1;
  }
  return x;
}

/** The parity task; items with `hard(i)` reward nothing (every rollout fails). */
function parityData(lp0: Float32Array, x: Float32Array, hard?: (i: number) => boolean) {
  const data: ClassificationData = {
    x,
    n: N,
    dim: DIM,
    classes: CLASSES,
    lp0,
    reward: (i, y) => (!hard?.(i) && y % 2 === digit(i) % 2 ? 1 : 0),
    correct: sameParity,
    labelling: (name) =>
      name === "sft1"
        ? (i) => [digit(i) % 2]
        : name === "sft2"
        ? (i) => (digit(i) % 2 === 0 ? [0, 4] : [1, 5])
        : undefined,
  };
  return data;
}

interface Fixture {
  base: MlpPolicy;
  lp0: Float32Array;
  data: ClassificationData;
}

let fixture: Promise<Fixture> | undefined;

/** The base policy π0 and the task data, built once for the whole file. */
function getFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    await startEngine("wasm");
    const base = MlpPolicy.init(CONFIG, 0);
    const x = inputs();
    const lp0 = await base.logProbs(x);
    return { base, lp0, data: parityData(lp0, x) };
  })();
  return fixture;
}

/** Parity accuracy of the greedy output, and expected reward Σ_{y correct} π(y|x), over items. */
function score(lp: Float32Array): { greedy: number; expected: number } {
  let greedy = 0, expected = 0;
  for (let i = 0; i < N; i++) {
    const row = lp.subarray(i * CLASSES, (i + 1) * CLASSES);
    let best = 0;
    for (let y = 1; y < CLASSES; y++) if (row[y] > row[best]) best = y;
    if (best % 2 === digit(i) % 2) greedy++;
    for (const y of sameParity(i)) expected += Math.exp(row[y]);
  }
  return { greedy: greedy / N, expected: expected / N };
}

/** The trainer's default options, with G = 4 where it samples groups (keeps the suite fast). */
function options(t: Trainer, extra: Record<string, unknown> = {}): unknown {
  const defaults = t.parseOptions({}, "test") as Record<string, unknown>;
  return t.parseOptions({ ...("group" in defaults ? { group: 4 } : {}), ...extra }, "test");
}

interface Run {
  logs: StepLog[];
  /** Steps at which onCheckpoint was called, and the log count when it was. */
  checkpoints: { step: number; logged: number; lp: Float32Array }[];
  /** onSteps that arrived while an onCheckpoint had not yet resolved. */
  overlapping: number;
  lp: Float32Array;
}

async function train(
  t: Trainer,
  opts: { seed: number; options?: unknown; data?: ClassificationData; lr?: number },
): Promise<Run> {
  const { base, data } = await getFixture();
  const policy = base.clone();
  const run: Run = { logs: [], checkpoints: [], overlapping: 0, lp: new Float32Array() };
  let inCheckpoint = false;
  try {
    await t.train(policy, opts.data ?? data, {
      lr: opts.lr ?? LR,
      checkpoints: CHECKPOINTS,
      batch: BATCH,
      seed: opts.seed,
      options: opts.options ?? options(t),
      onStep(log) {
        if (inCheckpoint) run.overlapping++;
        run.logs.push(log);
      },
      async onCheckpoint(step) {
        inCheckpoint = true;
        const logged = run.logs.length;
        // Yield to the event loop: a trainer that does not await would log the next step here.
        await new Promise((r) => setTimeout(r, 1));
        run.checkpoints.push({ step, logged, lp: await policy.logProbs(data.x) });
        inCheckpoint = false;
      },
    });
    run.lp = await policy.logProbs(data.x);
  } finally {
    policy.dispose();
  }
  return run;
}

const runs = new Map<string, Promise<Run>>();

/** Trains `t` once per seed for the whole file (the suite's checks share the runs). */
function trained(t: Trainer, seed: number, copy = 0): Promise<Run> {
  const key = `${t.id}/${seed}/${copy}`;
  if (!runs.has(key)) runs.set(key, train(t, { seed }));
  return runs.get(key)!;
}

function trainerSuite(t: Trainer): void {
  const isPg = "group" in (t.parseOptions({}, "test") as Record<string, unknown>);

  Deno.test(`${t.id}: trains a clone and leaves the base policy unchanged`, opts, async () => {
    const { base, lp0, data } = await getFixture();
    const run = await trained(t, 1);
    deepEqual(await base.logProbs(data.x), lp0, "base logProbs changed");
    ok(meanKL(lp0, run.lp, { classes: CLASSES }) > 1e-3, "the trained clone moved");
  });

  Deno.test(`${t.id}: onCheckpoint at each budget, in order, after that step`, opts, async () => {
    const run = await trained(t, 1);
    deepEqual(run.checkpoints.map((c) => c.step), [...CHECKPOINTS]);
    // Called after step s was logged and before step s + 1 …
    for (const c of run.checkpoints) equal(c.logged, c.step, `checkpoint ${c.step}`);
    // … and awaited: no step ran while it was pending.
    equal(run.overlapping, 0);
    // It sees the policy as it is then: the last one is the final policy, earlier ones differ.
    deepEqual(run.checkpoints[2].lp, run.lp);
    notDeepEqual(run.checkpoints[0].lp, run.lp);
  });

  Deno.test(`${t.id}: onStep logs steps 1..max with finite loss and kl`, opts, async () => {
    const run = await trained(t, 1);
    deepEqual(run.logs.map((l) => l.step), Array.from({ length: 40 }, (_, s) => s + 1));
    for (const l of run.logs) {
      ok(Number.isFinite(l.loss), `step ${l.step}: loss ${l.loss}`);
      // KL ≥ 0 up to float32 rounding: at step 1 the SFT loop's log-probabilities come from
      // the training kernel, π0's from the inference kernel, and the two round differently
      // (−1.4e-8 seen on wasm).
      ok(Number.isFinite(l.kl) && l.kl >= -1e-6, `step ${l.step}: kl ${l.kl}`);
      if (isPg || l.reward !== undefined) {
        ok(l.reward !== undefined && l.reward >= 0 && l.reward <= 1, `step ${l.step}: reward`);
        ok(l.seen !== undefined && l.kept !== undefined, `step ${l.step}: seen/kept logged`);
        equal(l.seen, BATCH);
        ok(Number.isInteger(l.kept) && l.kept! >= 0 && l.kept! <= l.seen!, `step ${l.step}`);
      }
    }
    // The kl logged is that of the policy before the update: 0 at step 1 (the clone is π0),
    // and it grows as training moves the policy.
    ok(run.logs[0].kl < 1e-6, `step 1 kl ${run.logs[0].kl}`);
    ok(run.logs[39].kl > 1e-3, `step 40 kl ${run.logs[39].kl}`);
    if (isPg) {
      // Rewards are those of the policy's own samples: they rise as it learns the task.
      const mean = (ls: StepLog[]) => ls.reduce((a, l) => a + l.reward!, 0) / ls.length;
      ok(mean(run.logs.slice(30)) > mean(run.logs.slice(0, 10)), "sampled reward rises");
    }
  });

  Deno.test(
    `${t.id}: same seed gives identical weights, another seed different`,
    opts,
    async () => {
      const a = await trained(t, 1), b = await trained(t, 1, 1), c = await trained(t, 2);
      deepEqual(b.lp, a.lp, "same seed, different result");
      deepEqual(b.logs, a.logs);
      notDeepEqual(c.lp, a.lp, "the seed has no effect");
    },
  );

  Deno.test(`${t.id}: improves parity accuracy of the greedy output`, opts, async () => {
    const { lp0 } = await getFixture();
    const before = score(lp0), after = score((await trained(t, 1)).lp);
    ok(
      after.greedy >= before.greedy + 0.3 && after.greedy >= 0.9,
      `greedy parity accuracy ${before.greedy} → ${after.greedy}`,
    );
    ok(
      after.expected >= before.expected + 0.15,
      `expected reward ${before.expected} → ${after.expected}`,
    );
  });

  Deno.test(`${t.id}: parseOptions rejects an unknown option`, () => {
    throws(
      () => t.parseOptions({ learningRate: 0.1 }, "recipe.trainers[0].options"),
      (e: unknown) => {
        ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
        ok(e.message.startsWith("recipe.trainers[0].options: "), e.message);
        ok(e.message.includes("'learningRate'"), e.message);
        return true;
      },
    );
  });
}

Deno.test("the registry lists trainers by their own ids", () => {
  const ids = Object.keys(TRAINERS);
  ok(ids.length >= 5, `only ${ids.length} trainers`);
  for (const id of ids) equal(TRAINERS[id].id, id);
});

for (const t of Object.values(TRAINERS)) trainerSuite(t);

// ---- trainer-specific checks ----

Deno.test("rif_rft drops all-fail instances; grpo keeps them", opts, async () => {
  const { lp0, data } = await getFixture();
  // Every sixth item rewards nothing, so its G rollouts always all fail.
  const hard = parityData(lp0, data.x, (i) => i % 6 === 0);
  const rif = await train(TRAINERS.rif_rft, { seed: 3, data: hard });
  const dropped = rif.logs.filter((l) => l.kept! < l.seen!).length;
  // A batch of 16 from 60 items misses all 10 hard ones with probability < 2%; the batch
  // order is a fixed permutation per epoch, so nearly every step has some.
  ok(dropped >= 30, `kept < seen on only ${dropped} of 40 steps`);
  const grpo = await train(TRAINERS.grpo, { seed: 3, data: hard });
  for (const l of grpo.logs) equal(l.kept, l.seen, `grpo step ${l.step}`);
  // no_signal also drops groups that all succeed, so it keeps at most what all_fail keeps.
  const noSignal = await train(TRAINERS.rif_rft, {
    seed: 3,
    data: hard,
    options: options(TRAINERS.rif_rft, { filter: "no_signal" }),
  });
  const keptOf = (r: Run) => r.logs.reduce((a, l) => a + l.kept!, 0);
  ok(keptOf(noSignal) < keptOf(rif), `no_signal kept ${keptOf(noSignal)} vs ${keptOf(rif)}`);
});

Deno.test("grpo with β > 0 ends closer to π0 than β = 0 (same seed and lr)", opts, async () => {
  const { lp0 } = await getFixture();
  const kl = async (beta: number) => {
    const run = await train(TRAINERS.grpo, {
      seed: 4,
      options: options(TRAINERS.grpo, { beta }),
      lr: 0.02,
    });
    return meanKL(lp0, run.lp, { classes: CLASSES });
  };
  // Seen on wasm: β = 0 → 3.40, β = 0.1 (the default recipe's grpo_kl) → 1.41, β = 1 → 0.20.
  const free = await kl(0), light = await kl(0.1), strong = await kl(1);
  ok(light < 0.7 * free, `KL(π0‖π): β = 0.1 gives ${light}, β = 0 gives ${free}`);
  ok(strong < 0.5 * light, `KL(π0‖π): β = 1 gives ${strong}, β = 0.1 gives ${light}`);
});
