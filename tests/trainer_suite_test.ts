// The shared Trainer suite (STYLE.md habit 5): every trainer in the TRAINERS registry runs the
// same checks on a small synthetic "parity" task, once on each trainable policy family through
// Policy.learner (the MLP classifier and the Llama-layout LM), so a newly registered trainer or
// trainable family is covered without touching this file. Checks: the base policy is untouched,
// checkpoints and step logs follow the contract, runs are deterministic per seed, training
// improves the task, and unknown options are rejected. Trainer-specific checks follow.
//
// The task: instance i shows digit d = i mod 10; reward 1 iff the answer is a digit of d's
// parity; the correct set is the five digits of that parity; labelling sft1 = {0 | 1} (the MLP
// also has sft2 = {0, 4 | 1, 5}, as in tasks/parity_mnist.ts).
//   mlp: input = one-hot of d in 10 dims plus 2 noise dims (small noise everywhere), 10 classes;
//        π0 is a freshly initialised MLP, right about parity for only some digits.
//   lm:  generate request "p:d=" (BOS first, stop "\n"), answer a digit; π0 is a tiny Llama
//        (1 layer, d 32) taught for a few steps to answer one random digit per prompt digit, so
//        it is right for about half of them.
// Both are scored on the next-token distribution at the answer position (a vector of classes).

import { deepEqual, equal, notDeepEqual, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { rng } from "../lib/rng.ts";
import { meanKL } from "../evals/kl.ts";
import { startEngine } from "../models/engine.ts";
import type { Learner, Target, TrainInstance } from "../models/learner.ts";
import { answerLogProbs, type LlamaModelConfig } from "../models/llama.ts";
import { LlamaPolicy } from "../models/llama_policy.ts";
import type { MlpConfig } from "../models/mlp.ts";
import { MlpPolicy } from "../models/mlp_policy.ts";
import { CHAR_TOKENIZER, promptIds } from "../models/tokenizer.ts";
import { TINY_LM_CONFIG } from "./tiny_lm.ts";
import { answerText } from "../tasks/lm/items.ts";
import { type StepLog, type Trainer, TRAINERS } from "../trainers/mod.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const N = 60, BATCH = 16;
const CHECKPOINTS = [10, 25, 40] as const;

const digit = (i: number) => i % 10;
const sameParity = (i: number) => [0, 2, 4, 6, 8].map((y) => y + (digit(i) % 2));

/** A trained (or base) policy as the checks see it: log-probabilities, N × classes. */
type Snapshot = Float32Array;

/** One policy family behind the Learner interface. */
interface Family {
  readonly name: string;
  /** Output classes of a snapshot row, and the class of digit y. */
  readonly classes: number;
  classOf(y: number): number;
  readonly lr: number;
  /**
   * Greedy parity accuracy every trainer reaches in 40 steps (or 0.9). The LM's 1-0 REINFORCE
   * (μ = 1, G = 4) raises the expected reward by ~0.18 in 40 steps before the greedy answers
   * flip, so the LM only asks that greedy accuracy does not fall.
   */
  readonly greedyGoal: number;
  /** The base policy's snapshot, recomputed on every call. */
  base(): Promise<Snapshot>;
  /** A fresh clone of the base as a learner (`hard(i)`: instance i rewards nothing). */
  clone(hard?: (i: number) => boolean): Promise<{
    learner: Learner<Target>;
    snapshot(): Promise<Snapshot>;
    dispose(): Promise<void>;
  }>;
}

/** The parity instances of a family: its request per item, sft1/sft2 targets and the reward. */
function parityInstances(
  request: (i: number) => TrainInstance["request"],
  opts: { hard?: (i: number) => boolean; text?: boolean },
): TrainInstance[] {
  return Array.from({ length: N }, (_, i) => {
    const as = (ys: number[]) => (opts.text ? ys.map(String) : ys);
    return {
      request: request(i),
      targets: (name: string) =>
        name === "sft1"
          ? as([digit(i) % 2])
          : name === "sft2"
          ? as(digit(i) % 2 === 0 ? [0, 4] : [1, 5])
          : undefined,
      reward: (y: Target) => {
        const a = typeof y === "number" ? String(y) : answerText(y);
        return !opts.hard?.(i) && /^[0-9]$/.test(a) && Number(a) % 2 === digit(i) % 2 ? 1 : 0;
      },
      correct: opts.text ? undefined : () => sameParity(i),
    };
  });
}

// ---- mlp ----

const DIM = 12, MLP_CONFIG: MlpConfig = { inputDim: DIM, hidden: [16], classes: 10 };

function inputs(): Float32Array {
  const r = rng(2024, 1), x = new Float32Array(N * DIM);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < DIM; k++) x[i * DIM + k] = 0.2 * (r.next() - 0.5);
    x[i * DIM + digit(i)] += 1;
  }
  return x;
}

let mlpBase: Promise<{ base: MlpPolicy; x: Float32Array }> | undefined;

function getMlpBase() {
  mlpBase ??= (async () => {
    await startEngine("wasm");
    return { base: MlpPolicy.init(MLP_CONFIG, 0), x: inputs() };
  })();
  return mlpBase;
}

const MLP: Family = {
  name: "mlp",
  classes: 10,
  classOf: (y) => y,
  lr: 0.01,
  greedyGoal: 0.9,
  async base() {
    const { base, x } = await getMlpBase();
    return await base.logProbs(x);
  },
  async clone(hard) {
    const { base, x } = await getMlpBase();
    const policy = base.clone();
    const request = (i: number) => ({
      kind: "classify" as const,
      x: x.slice(i * DIM, (i + 1) * DIM),
      classes: 10,
    });
    return {
      learner: policy.learner(parityInstances(request, { hard }), { reference: base }),
      snapshot: () => policy.logProbs(x),
      dispose: () => policy.dispose(),
    };
  },
};

// ---- lm ----

const LM_CONFIG: LlamaModelConfig = { ...TINY_LM_CONFIG, max_position_embeddings: 32 };
const PROMPT = (i: number) => `p:${digit(i)}=`;
const PROMPT_IDS = Array.from({ length: N }, (_, i) => promptIds(CHAR_TOKENIZER, PROMPT(i)));
const DIGIT_ID = CHAR_TOKENIZER.encode("0")[0];
const lmRequest = (i: number) => ({
  kind: "generate" as const,
  prompt: PROMPT(i),
  until: ["\n"],
  maxTokens: 2,
});

/** Next-token log-probabilities at the answer position of every prompt (N × vocab). */
function lmSnapshot(policy: LlamaPolicy): Promise<Snapshot> {
  return answerLogProbs(policy.params, PROMPT_IDS, { config: LM_CONFIG, batchSize: N });
}

let lmBase: Promise<LlamaPolicy> | undefined;

/** π0: a fresh tiny Llama after 30 SFT steps on a random digit answer per prompt digit. */
function getLmBase(): Promise<LlamaPolicy> {
  lmBase ??= (async () => {
    await startEngine("wasm");
    const policy = LlamaPolicy.init(LM_CONFIG, { seed: 0, tokenizer: CHAR_TOKENIZER });
    // One answer per digit (a deterministic π0 that is right for about half the digits).
    const r = rng(7, 7), byDigit = Array.from({ length: 10 }, () => String(r.int(10)));
    const answers = PROMPT_IDS.map((_, i) => byDigit[digit(i)]);
    const instances = parityInstances(lmRequest, { text: true }).map((inst, i) => ({
      ...inst,
      targets: (name: string) => (name === "random" ? [answers[i]] : undefined),
    }));
    await TRAINERS.sft.train(policy.learner(instances, {}), {
      lr: 0.003,
      checkpoints: [30],
      batch: BATCH,
      seed: 0,
      options: { labelling: "random", beta: 0 },
    });
    return policy;
  })();
  return lmBase;
}

const LM: Family = {
  name: "lm",
  classes: LM_CONFIG.vocab_size,
  classOf: (y) => DIGIT_ID + y,
  lr: 0.01,
  greedyGoal: 0.5,
  async base() {
    return await lmSnapshot(await getLmBase());
  },
  async clone(hard) {
    const base = await getLmBase();
    const policy = base.clone();
    return {
      learner: policy.learner(parityInstances(lmRequest, { hard, text: true }), {
        reference: base,
      }),
      snapshot: () => lmSnapshot(policy),
      dispose: () => policy.dispose(),
    };
  },
};

const FAMILIES: readonly Family[] = [MLP, LM];

// ---- the suite ----

/** Parity accuracy of the greedy answer, and expected reward Σ_{y correct} π(y|x), over items. */
function score(f: Family, lp: Snapshot): { greedy: number; expected: number } {
  let greedy = 0, expected = 0;
  const c = f.classes;
  for (let i = 0; i < N; i++) {
    const row = lp.subarray(i * c, (i + 1) * c);
    let best = 0;
    for (let y = 1; y < c; y++) if (row[y] > row[best]) best = y;
    if (sameParity(i).some((y) => f.classOf(y) === best)) greedy++;
    for (const y of sameParity(i)) expected += Math.exp(row[f.classOf(y)]);
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
  checkpoints: { step: number; logged: number; lp: Snapshot }[];
  /** onSteps that arrived while an onCheckpoint had not yet resolved. */
  overlapping: number;
  lp: Snapshot;
}

async function train(
  f: Family,
  t: Trainer,
  opts: { seed: number; options?: unknown; hard?: (i: number) => boolean; lr?: number },
): Promise<Run> {
  const clone = await f.clone(opts.hard);
  const run: Run = { logs: [], checkpoints: [], overlapping: 0, lp: new Float32Array() };
  let inCheckpoint = false;
  try {
    await t.train(clone.learner, {
      lr: opts.lr ?? f.lr,
      checkpoints: CHECKPOINTS,
      batch: BATCH,
      seed: opts.seed,
      options: opts.options ?? options(t),
      onStep(log: StepLog) {
        if (inCheckpoint) run.overlapping++;
        run.logs.push(log);
      },
      async onCheckpoint(step: number) {
        inCheckpoint = true;
        const logged = run.logs.length;
        // Yield to the event loop: a trainer that does not await would log the next step here.
        await new Promise((r) => setTimeout(r, 1));
        run.checkpoints.push({ step, logged, lp: await clone.snapshot() });
        inCheckpoint = false;
      },
    });
    run.lp = await clone.snapshot();
  } finally {
    await clone.dispose();
  }
  return run;
}

const runs = new Map<string, Promise<Run>>();

/** Trains `t` once per family and seed for the whole file (the suite's checks share runs). */
function trained(f: Family, t: Trainer, seed: number, copy = 0): Promise<Run> {
  const key = `${f.name}/${t.id}/${seed}/${copy}`;
  if (!runs.has(key)) runs.set(key, train(f, t, { seed }));
  return runs.get(key)!;
}

function trainerSuite(f: Family, t: Trainer): void {
  const isPg = "group" in (t.parseOptions({}, "test") as Record<string, unknown>);
  const name = `${t.id} (${f.name})`;
  const kl = (p: Snapshot, q: Snapshot) => meanKL(p, q, { classes: f.classes });

  Deno.test(`${name}: trains a clone and leaves the base policy unchanged`, opts, async () => {
    const lp0 = await f.base();
    const run = await trained(f, t, 1);
    deepEqual(await f.base(), lp0, "base log-probabilities changed");
    ok(kl(lp0, run.lp) > 1e-3, "the trained clone moved");
  });

  Deno.test(`${name}: onCheckpoint at each budget, in order, after that step`, opts, async () => {
    const run = await trained(f, t, 1);
    deepEqual(run.checkpoints.map((c) => c.step), [...CHECKPOINTS]);
    // Called after step s was logged and before step s + 1 …
    for (const c of run.checkpoints) equal(c.logged, c.step, `checkpoint ${c.step}`);
    // … and awaited: no step ran while it was pending.
    equal(run.overlapping, 0);
    // It sees the policy as it is then: the last one is the final policy, earlier ones differ.
    deepEqual(run.checkpoints[2].lp, run.lp);
    notDeepEqual(run.checkpoints[0].lp, run.lp);
  });

  Deno.test(`${name}: onStep logs steps 1..max with finite loss and kl`, opts, async () => {
    const run = await trained(f, t, 1);
    deepEqual(run.logs.map((l) => l.step), Array.from({ length: 40 }, (_, s) => s + 1));
    for (const l of run.logs) {
      ok(Number.isFinite(l.loss), `step ${l.step}: loss ${l.loss}`);
      // KL ≥ 0 up to float32 rounding: at step 1 the SFT loop's log-probabilities come from
      // the training kernel, π0's from the inference kernel, and the two round differently
      // (−1.4e-8 seen on wasm).
      ok(Number.isFinite(l.kl) && l.kl >= -1e-6, `step ${l.step}: kl ${l.kl}`);
      equal(l.seen, BATCH, `step ${l.step}: seen`);
      ok(l.lr > 0, `step ${l.step}: lr logged`);
      if (isPg || l.reward !== undefined) {
        ok(l.reward !== undefined && l.reward >= 0 && l.reward <= 1, `step ${l.step}: reward`);
        ok(l.kept !== undefined, `step ${l.step}: kept logged`);
        ok(Number.isInteger(l.kept) && l.kept! >= 0 && l.kept! <= l.seen, `step ${l.step}`);
      }
    }
    // The kl logged is that of the policy before the update: 0 at step 1 (the clone is π0),
    // and it grows as training moves the policy.
    ok(Math.abs(run.logs[0].kl) < 1e-5, `step 1 kl ${run.logs[0].kl}`);
    ok(run.logs[39].kl > 1e-3, `step 40 kl ${run.logs[39].kl}`);
    if (isPg) {
      // Rewards are those of the policy's own samples: they rise as it learns the task.
      const mean = (ls: StepLog[]) => ls.reduce((a, l) => a + l.reward!, 0) / ls.length;
      ok(mean(run.logs.slice(30)) > mean(run.logs.slice(0, 10)), "sampled reward rises");
    }
  });

  Deno.test(
    `${name}: same seed gives identical weights, another seed different`,
    opts,
    async () => {
      const a = await trained(f, t, 1), b = await trained(f, t, 1, 1), c = await trained(f, t, 2);
      deepEqual(b.lp, a.lp, "same seed, different result");
      deepEqual(b.logs, a.logs);
      notDeepEqual(c.lp, a.lp, "the seed has no effect");
    },
  );

  Deno.test(`${name}: improves the task's expected reward and greedy accuracy`, opts, async () => {
    const before = score(f, await f.base()), after = score(f, (await trained(f, t, 1)).lp);
    const seen = `greedy ${before.greedy} → ${after.greedy}, expected ${before.expected} → ` +
      `${after.expected}`;
    ok(after.expected >= before.expected + 0.15, seen);
    ok(after.greedy >= Math.min(f.greedyGoal, before.greedy + 0.3) || after.greedy >= 0.9, seen);
  });
}

Deno.test("the registry lists trainers by their own ids", () => {
  const ids = Object.keys(TRAINERS);
  ok(ids.length >= 7, `only ${ids.length} trainers`);
  for (const id of ids) equal(TRAINERS[id].id, id);
});

for (const t of Object.values(TRAINERS)) {
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
  for (const f of FAMILIES) trainerSuite(f, t);
}

// ---- trainer-specific checks ----

for (const f of FAMILIES) {
  Deno.test(`rif_rft drops all-fail instances; grpo keeps them (${f.name})`, opts, async () => {
    // Every sixth item rewards nothing, so its G rollouts always all fail.
    const hard = (i: number) => i % 6 === 0;
    const rif = await train(f, TRAINERS.rif_rft, { seed: 3, hard });
    const dropped = rif.logs.filter((l) => l.kept! < l.seen!).length;
    // A batch of 16 from 60 items misses all 10 hard ones with probability < 2%; the batch
    // order is a fixed permutation per epoch, so nearly every step has some.
    ok(dropped >= 30, `kept < seen on only ${dropped} of 40 steps`);
    const grpo = await train(f, TRAINERS.grpo, { seed: 3, hard });
    for (const l of grpo.logs) equal(l.kept, l.seen, `grpo step ${l.step}`);
    // no_signal also drops groups that all succeed, so it keeps at most what all_fail keeps.
    const noSignal = await train(f, TRAINERS.rif_rft, {
      seed: 3,
      hard,
      options: options(TRAINERS.rif_rft, { filter: "no_signal" }),
    });
    const keptOf = (r: Run) => r.logs.reduce((a, l) => a + l.kept!, 0);
    // Strictly fewer once some groups succeed entirely (the MLP's do; the LM's rarely do).
    ok(
      f.name === "lm" ? keptOf(noSignal) <= keptOf(rif) : keptOf(noSignal) < keptOf(rif),
      `no_signal kept ${keptOf(noSignal)} vs ${keptOf(rif)}`,
    );
  });
}

Deno.test("grpo with β > 0 ends closer to π0 than β = 0 (same seed and lr)", opts, async () => {
  const lp0 = await MLP.base();
  const kl = async (beta: number) => {
    const run = await train(MLP, TRAINERS.grpo, {
      seed: 4,
      options: options(TRAINERS.grpo, { beta }),
      lr: 0.02,
    });
    return meanKL(lp0, run.lp, { classes: MLP.classes });
  };
  // Seen on wasm: β = 0 → 3.40, β = 0.1 (the default recipe's grpo_kl) → 1.41, β = 1 → 0.20.
  const free = await kl(0), light = await kl(0.1), strong = await kl(1);
  ok(light < 0.7 * free, `KL(π0‖π): β = 0.1 gives ${light}, β = 0 gives ${free}`);
  ok(strong < 0.5 * light, `KL(π0‖π): β = 1 gives ${strong}, β = 0.1 gives ${light}`);
});
