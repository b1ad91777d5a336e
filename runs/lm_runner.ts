// The continual post-training (CPT) runner for the tiny LM: a base model π0 (runs/lm_base.ts)
// fine-tuned on downstream tasks stage by stage with each trainer, every task and the general
// panel evaluated after every stage into the accuracy matrix R[stage][task], with the forward
// KL(π0‖π) on each new task's prompts (Monte Carlo samples y ∼ π0, exact per-token sums over the
// vocabulary, METRICS.md "KL") and the KL to the previous stage. Scored by evals/continual.ts.
//
// Outputs (written only when every run finished): matrix.csv (long: trainer, seed, order, stage,
// task, accuracy; task "general" is the panel mean), leaderboard.csv (one row per trainer × seed
// × order), summary.csv (means and 95% CIs over seeds), kl_points.csv and fit.csv (forgetting
// against KL), timings.csv, train_log.jsonl, manifest.json.

import { tree } from "@jax-js/jax";
import { writeTextAtomic } from "../lib/atomic.ts";
import { UsageError } from "../lib/errors.ts";
import { hashString, permutation, rng } from "../lib/rng.ts";
import { batchOrder } from "../trainers/batches.ts";
import {
  forgettingLaw,
  forgettingSoFar,
  type LawFit,
  type LawPoints,
  type RunScores,
  scoreRun,
  type SeedSummary,
  summarizeSeeds,
} from "../evals/cpt.ts";
import { toCsv } from "../evals/csv.ts";
import { BOS_ID, decode, encode, NEWLINE_ID } from "../models/char_tokenizer.ts";
import type { Device } from "../models/engine.ts";
import { type LlamaModelConfig, type LlamaParams, sample, scoreKl } from "../models/llama.ts";
import { DOWNSTREAM_TASKS, type LmTask } from "../tasks/lm/downstream.ts";
import { type LmItem, MAX_ANSWER, MAX_JSON_ANSWER } from "../tasks/lm/items.ts";
import { SKILL_NAMES } from "../tasks/lm/skills.ts";
import { getTrainer, planOf, type StepLog, type Trainer } from "../trainers/mod.ts";
import { generalPanel, type LmBaseOptions, pretrainLmBase } from "./lm_base.ts";
import { type LmInstance, lmLearner, type LmPolicy } from "./lm_learner.ts";
import { provenance } from "./manifest.ts";

/** One trainer variant of an LM recipe. */
export interface LmTrainerSpec {
  /** Row label (e.g. grpo_kl); defaults to the trainer id. */
  readonly name?: string;
  readonly trainer: string;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly lr: number;
  /** Optimiser steps per stage (the joint multitask stage runs steps × tasks). */
  readonly steps: number;
  /** Instances per step (RL: prompts, each with G rollouts). */
  readonly batch: number;
}

/** A CPT recipe on the tiny LM. */
export interface LmRecipe {
  readonly id: string;
  readonly description: string;
  /** The base model's pretraining (runs/lm_base.ts; cache, device and panel size come from the run). */
  readonly base: Pick<
    LmBaseOptions,
    "config" | "seed" | "steps" | "batch" | "lr" | "itemsPerSkill"
  >;
  /** Downstream task names in the first order. */
  readonly tasks: readonly string[];
  /** Task orders: 1 = as listed, 2 adds the reverse, more add seeded shuffles. */
  readonly orders: number;
  readonly seeds: readonly number[];
  /** Training items per task and seed; heldout items per task; panel items per skill. */
  readonly trainItems: number;
  readonly evalItems: number;
  readonly panelItems: number;
  /** Prompts (one π0 sample each) for the KL estimates. */
  readonly klPrompts: number;
  readonly trainers: readonly LmTrainerSpec[];
}

/** Options of {@link runLmRecipe}. */
export interface LmRunOptions {
  readonly out: string;
  readonly cacheDir: string;
  readonly device: Device;
  readonly quiet: boolean;
}

/** A long-format accuracy matrix row. */
interface MatrixRow {
  trainer: string;
  seed: number;
  order: number;
  stage: number;
  task: string;
  accuracy: number;
}

/** One leaderboard row: a trainer × seed × order. */
export interface LmLeaderRow extends RunScores {
  trainer: string;
  seed: number;
  order: number;
  tasks: string;
  kl_forward_mean: number;
  instances_used: number;
}

/** One stage's KL point for the forgetting fit. */
interface KlPoint {
  trainer: string;
  seed: number;
  order: number;
  stage: number;
  task: string;
  kl_forward: number;
  kl_prev: number;
  general_drop: number;
  prior_drop: number;
}

const TASKS: ReadonlyMap<string, LmTask> = new Map(
  (DOWNSTREAM_TASKS as readonly LmTask[]).map((t) => [t.name, t]),
);

/** Generation budget of a task (answer + "\n"). */
function budget(task: LmTask): number {
  return (task.name === "tool_call" ? MAX_JSON_ANSWER : MAX_ANSWER) + 1;
}

const promptOf = (item: LmItem) => [BOS_ID, ...encode(item.prompt)];

/** The task orders of a recipe: as listed, reversed, then seeded shuffles. */
export function taskOrders(tasks: readonly string[], n: number): string[][] {
  const out: string[][] = [[...tasks]];
  if (n >= 2) out.push([...tasks].reverse());
  for (let k = 2; k < n; k++) {
    out.push(permutation(tasks.length, rng(k, 0x0dde7)).map((i) => tasks[i]));
  }
  return out;
}

/** Validates a recipe before any work starts; errors name the field. */
export function checkLmRecipe(recipe: LmRecipe): Trainer[] {
  const bad = (field: string, msg: string): never => {
    throw new UsageError(`recipe ${recipe.id}: ${field}: ${msg}`);
  };
  if (recipe.tasks.length < 2) bad("tasks", "needs at least 2 tasks for a sequence");
  for (const t of recipe.tasks) {
    if (!TASKS.has(t)) bad("tasks", `unknown task '${t}' (known: ${[...TASKS.keys()].join(", ")})`);
  }
  if (new Set(recipe.tasks).size !== recipe.tasks.length) bad("tasks", "a task appears twice");
  if (recipe.seeds.length < 1) bad("seeds", "needs at least one seed");
  for (const k of ["orders", "trainItems", "evalItems", "panelItems", "klPrompts"] as const) {
    if (!Number.isInteger(recipe[k]) || recipe[k] < 1) bad(k, "must be a positive integer");
  }
  const names = new Set<string>();
  return recipe.trainers.map((s, i) => {
    const at = `trainers[${i}]`;
    const t = getTrainer(s.trainer, `recipe ${recipe.id}: ${at}.trainer`);
    t.parseOptions(s.options ?? {}, `recipe ${recipe.id}: ${at}.options`);
    if (!(s.lr > 0)) bad(`${at}.lr`, "must be > 0");
    for (const k of ["steps", "batch"] as const) {
      if (!Number.isInteger(s[k]) || s[k] < 1) bad(`${at}.${k}`, "must be a positive integer");
    }
    const name = s.name ?? s.trainer;
    if (names.has(name)) bad(`${at}.name`, `'${name}' appears twice`);
    names.add(name);
    return t;
  });
}

/** Greedy accuracy of `params` on each task's heldout items. */
async function taskAccuracies(
  params: LlamaParams,
  config: LlamaModelConfig,
  heldout: ReadonlyMap<string, LmItem[]>,
): Promise<Map<string, number>> {
  const acc = new Map<string, number>();
  for (const [name, items] of heldout) {
    const task = TASKS.get(name)!;
    const out = await sample(params, items.map(promptOf), {
      config,
      maxTokens: budget(task),
      temperature: 0,
      stopToken: NEWLINE_ID,
    });
    let right = 0;
    items.forEach((it, i) => (right += task.score(it, decode(out.tokens[i]))));
    acc.set(name, right / items.length);
  }
  return acc;
}

/** Mean over prompts of Σ_t KL(P(·|x,y<t) ‖ Q(·|x,y<t)) along samples y ∼ P (exact per token). */
async function sequenceKl(
  pair: readonly [LlamaParams, LlamaParams],
  samples: readonly (readonly number[])[],
  promptLens: readonly number[],
  config: LlamaModelConfig,
): Promise<number> {
  const kl = await scoreKl(pair, samples, { config, batchSize: 32 });
  let total = 0;
  kl.forEach((row, i) => {
    for (let t = promptLens[i]; t < row.length; t++) total += row[t];
  });
  return total / samples.length;
}

/** Samples one completion per prompt from `params` (temperature 1), as full token sequences. */
async function drawSequences(
  params: LlamaParams,
  prompts: readonly (readonly number[])[],
  opts: { config: LlamaModelConfig; maxTokens: number; seed: number },
): Promise<number[][]> {
  const s = await sample(params, prompts, {
    config: opts.config,
    maxTokens: opts.maxTokens,
    temperature: 1,
    seed: opts.seed,
    stopToken: NEWLINE_ID,
  });
  return prompts.map((p, i) => [...p, ...s.tokens[i]]);
}

/** A batch order that takes round(fraction·batch) instances from `pool` and the rest from `cur`. */
export function mixedBatches(
  cur: readonly number[],
  pool: readonly number[],
  fraction: number,
): (batch: number, seed: number) => () => number[] {
  return (batch, seed) => {
    const nOld = pool.length ? Math.round(fraction * batch) : 0;
    // Each pool shuffled epoch-wise on its own stream (trainers/batches.ts).
    const a = batchOrder(cur.length, batch - nOld, seed);
    const b = batchOrder(Math.max(pool.length, 1), nOld, (seed ^ 0x01d) >>> 0);
    return () => [...a().map((i) => cur[i]), ...b().map((i) => pool[i])];
  };
}

/**
 * The point sets of the forgetting law: per stage, KL to π0 or to the previous stage against
 * the general panel's drop or the earlier tasks' forgetting so far; per run, the mean KL to π0
 * against the final general drop (every run) or forgetting F (sequential runs).
 */
function lawPoints(points: readonly KlPoint[], leader: readonly LmLeaderRow[]): LawPoints[] {
  const stage = (["kl_forward", "kl_prev"] as const).flatMap((predictor) =>
    (["general_drop", "prior_drop"] as const).map((target) => {
      const ps = points.filter((p) => Number.isFinite(p[target]) && Number.isFinite(p[predictor]));
      return {
        scope: "stage",
        predictor,
        target,
        x: ps.map((p) => p[predictor]),
        y: ps.map((p) => p[target]),
      };
    })
  );
  const seq = leader.filter((r) => Number.isFinite(r.forgetting));
  return [
    ...stage,
    {
      scope: "run",
      predictor: "kl_forward_mean",
      target: "general_drop",
      x: leader.map((r) => r.kl_forward_mean),
      y: leader.map((r) => -r.general_drift),
    },
    {
      scope: "run",
      predictor: "kl_forward_mean",
      target: "forgetting",
      x: seq.map((r) => r.kl_forward_mean),
      y: seq.map((r) => r.forgetting),
    },
  ];
}

/** What a finished recipe returns (besides the files). */
export interface LmRunResult {
  readonly out: string;
  readonly leaderboard: readonly LmLeaderRow[];
  readonly summary: readonly SeedSummary[];
  readonly fits: readonly LawFit[];
  readonly seconds: number;
}

/** Runs a CPT recipe end to end and writes its result folder. */
export async function runLmRecipe(recipe: LmRecipe, opts: LmRunOptions): Promise<LmRunResult> {
  const trainers = checkLmRecipe(recipe);
  const t0 = performance.now(), started = new Date();
  const log = (s: string) => opts.quiet || console.error(s);
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)}s`;
  const config = recipe.base.config;

  log(
    `[lm] base model: ${recipe.base.steps} steps of the general-skill mixture (cached by content hash)`,
  );
  const base = await pretrainLmBase({
    ...recipe.base,
    cacheDir: opts.cacheDir,
    device: opts.device,
    evalItems: recipe.panelItems,
    onStep: (s) => {
      if ((s.step + 1) % 100 === 0) {
        log(
          `[lm] base step ${s.step + 1}/${recipe.base.steps} loss ${
            s.loss.toFixed(3)
          } · ${elapsed()}`,
        );
      }
    },
  });
  const panelMean = (p: Record<string, number>) =>
    SKILL_NAMES.reduce((a, s) => a + p[s], 0) / SKILL_NAMES.length;
  const basePanel = base.panel;
  log(
    `[lm] base ${base.cached ? "from cache" : "trained"}: general panel ${
      panelMean(basePanel).toFixed(3)
    } (${SKILL_NAMES.map((s) => `${s} ${basePanel[s].toFixed(2)}`).join(", ")}) · ${elapsed()}`,
  );

  const heldout = new Map<string, LmItem[]>();
  for (const name of recipe.tasks) {
    heldout.set(
      name,
      TASKS.get(name)!.generate({ seed: 0, n: recipe.evalItems, split: "heldout" }),
    );
  }
  const baseAcc = await taskAccuracies(base.params, config, heldout);
  // π0's samples on each task's prompts, for KL(π0‖π): drawn once, shared by every run.
  const klSamples = new Map<string, { seqs: number[][]; lens: number[] }>();
  for (const name of recipe.tasks) {
    const prompts = heldout.get(name)!.slice(0, recipe.klPrompts).map(promptOf);
    klSamples.set(name, {
      seqs: await drawSequences(base.params, prompts, {
        config,
        maxTokens: budget(TASKS.get(name)!),
        seed: hashString(`kl:${name}`),
      }),
      lens: prompts.map((p) => p.length),
    });
  }

  const orders = taskOrders(recipe.tasks, recipe.orders);
  const matrix: MatrixRow[] = [], leader: LmLeaderRow[] = [], points: KlPoint[] = [];
  const timings: Record<string, string | number>[] = [], trainLog: string[] = [];
  const totalRuns = recipe.trainers.length * recipe.seeds.length * orders.length;
  let runIndex = 0;
  // Progress: an ETA from the stages done so far (a joint stage counts as T stages).
  const totalStages = totalRuns * recipe.tasks.length;
  let stagesDone = 0;
  const tRuns = performance.now();
  const eta = () => {
    const left = (totalStages - stagesDone) * (performance.now() - tRuns) / 1000 / stagesDone;
    const m = Math.floor(left / 60), sec = String(Math.round(left % 60)).padStart(2, "0");
    return stagesDone > 0 ? `· ETA ${m}m${sec}s` : "";
  };

  for (const [ti, spec] of recipe.trainers.entries()) {
    const trainer = trainers[ti], name = spec.name ?? spec.trainer;
    const options = trainer.parseOptions(
      spec.options ?? {},
      `recipe ${recipe.id}: trainers[${ti}]`,
    );
    const plan = planOf(trainer, options);
    for (const seed of recipe.seeds) {
      // The same training items for every trainer and order of a seed.
      const train = new Map<string, LmInstance[]>();
      for (const task of recipe.tasks) {
        const t = TASKS.get(task)!;
        train.set(
          task,
          t.generate({ seed, n: recipe.trainItems, split: "train" }).map((it) => ({
            prompt: promptOf(it),
            target: t.target(it),
            maxTokens: budget(t),
            reward: (out: string) => t.reward(it, out),
          })),
        );
      }
      for (const [oi, order] of orders.entries()) {
        runIndex++;
        const label = `[lm ${runIndex}/${totalRuns}] ${name} seed ${seed} order ${oi}`;
        const policy: LmPolicy = { config, params: tree.ref(base.params) };
        const rows: number[][] = [recipe.tasks.map((t) => baseAcc.get(t)!)];
        const panels: number[] = [panelMean(basePanel)];
        const stageOf: number[] = [0];
        let instances = 0, trainSeconds = 0, evalSeconds = 0;
        const klForward: number[] = [];
        const stages = plan.kind === "joint" ? [order] : order.map((_, k) => order.slice(0, k + 1));
        for (const [si, seen] of stages.entries()) {
          const stage = plan.kind === "joint" ? order.length : si + 1;
          const task = seen[seen.length - 1];
          // Instances: the stage's task, plus earlier tasks for replay, or all for multitask.
          const cur = plan.kind === "joint" ? seen.flatMap((t) => train.get(t)!) : train.get(task)!;
          const earlier = plan.kind === "replay"
            ? seen.slice(0, -1).flatMap((t) => train.get(t)!)
            : [];
          const instancesAll = [...cur, ...earlier];
          const curIdx = cur.map((_, i) => i), oldIdx = earlier.map((_, i) => cur.length + i);
          const stageStart = tree.ref(policy.params);
          const learner = lmLearner(policy, instancesAll, {
            reference: stageStart,
            batches: plan.kind === "replay"
              ? mixedBatches(curIdx, oldIdx, plan.fraction)
              : undefined,
          });
          const steps = plan.kind === "joint" ? spec.steps * seen.length : spec.steps;
          const s0 = performance.now();
          await trainer.train(learner, {
            lr: spec.lr,
            batch: spec.batch,
            seed: (seed * 1009 + stage) >>> 0,
            checkpoints: [steps],
            options,
            onStep(l: StepLog) {
              instances += l.kept ?? spec.batch;
              trainLog.push(JSON.stringify({ trainer: name, seed, order: oi, stage, task, ...l }));
            },
          });
          trainSeconds += (performance.now() - s0) / 1000;
          const e0 = performance.now();
          const acc = await taskAccuracies(policy.params, config, heldout);
          const panel = await generalPanel(policy.params, { config, items: recipe.panelItems });
          // KL on the new task's prompts: to π0 (samples from π0), and to the stage's start.
          const newTasks = plan.kind === "joint" ? seen : [task];
          let kf = 0, kp = 0;
          for (const t of newTasks) {
            const s = klSamples.get(t)!;
            kf += await sequenceKl([base.params, policy.params], s.seqs, s.lens, config);
            const prev = await drawSequences(
              stageStart,
              s.seqs.map((q, i) => q.slice(0, s.lens[i])),
              {
                config,
                maxTokens: budget(TASKS.get(t)!),
                seed: hashString(`klprev:${t}:${seed}:${stage}`),
              },
            );
            kp += await sequenceKl([stageStart, policy.params], prev, s.lens, config);
          }
          kf /= newTasks.length;
          kp /= newTasks.length;
          tree.dispose(stageStart);
          evalSeconds += (performance.now() - e0) / 1000;
          stagesDone += plan.kind === "joint" ? seen.length : 1;
          const row = recipe.tasks.map((t) => acc.get(t)!);
          rows.push(row);
          stageOf.push(stage);
          panels.push(panelMean(panel));
          klForward.push(kf);
          // Forgetting so far on the tasks trained before this stage (max-based, as F).
          const done = plan.kind === "joint"
            ? []
            : seen.slice(0, -1).map((t) => recipe.tasks.indexOf(t));
          const priorDrop = forgettingSoFar(rows, done);
          points.push({
            trainer: name,
            seed,
            order: oi,
            stage,
            task: newTasks.join("+"),
            kl_forward: kf,
            kl_prev: kp,
            general_drop: panels[0] - panels[panels.length - 1],
            prior_drop: priorDrop,
          });
          log(
            `${label} stage ${stage} (${task}): ${
              recipe.tasks.map((t) => `${t} ${acc.get(t)!.toFixed(2)}`).join(" ")
            } general ${panelMean(panel).toFixed(3)} KL(π0‖π) ${
              kf.toFixed(2)
            } · ${elapsed()} ${eta()}`,
          );
        }
        tree.dispose(policy.params);
        rows.forEach((r, k) =>
          [...recipe.tasks, "general"].forEach((task, c) =>
            matrix.push({
              trainer: name,
              seed,
              order: oi,
              stage: stageOf[k],
              task,
              accuracy: c < r.length ? r[c] : panels[k],
            })
          )
        );
        // Scores are computed with tasks in the run's order (columns = training order).
        const cols = order.map((t) => recipe.tasks.indexOf(t));
        leader.push({
          trainer: name,
          seed,
          order: oi,
          tasks: order.join(">"),
          ...scoreRun(rows.map((r) => cols.map((c) => r[c])), panels, {
            joint: plan.kind === "joint",
          }),
          kl_forward_mean: klForward.reduce((a, b) => a + b, 0) / klForward.length,
          instances_used: instances,
        });
        timings.push({
          trainer: name,
          seed,
          order: oi,
          train_seconds: trainSeconds,
          eval_seconds: evalSeconds,
        });
      }
    }
  }

  // Means and 95% CIs over seeds, per trainer and order.
  const summary = summarizeSeeds(leader, [
    "avg_accuracy",
    "plasticity",
    "forgetting",
    "bwt",
    "fwt",
    "general_drift",
    "kl_forward_mean",
    "instances_used",
  ]);
  const fits = forgettingLaw(lawPoints(points, leader));

  const files: Record<string, string> = {
    "matrix.csv": toCsv(matrix, ["trainer", "seed", "order", "stage", "task", "accuracy"]),
    "leaderboard.csv": toCsv(leader, [
      "trainer",
      "seed",
      "order",
      "tasks",
      "avg_accuracy",
      "plasticity",
      "forgetting",
      "bwt",
      "fwt",
      "general_base",
      "general_final",
      "general_drift",
      "kl_forward_mean",
      "instances_used",
    ]),
    "summary.csv": toCsv(summary, [
      "trainer",
      "order",
      "metric",
      "mean",
      "ci95_lo",
      "ci95_hi",
      "n",
    ]),
    "kl_points.csv": toCsv(points, [
      "trainer",
      "seed",
      "order",
      "stage",
      "task",
      "kl_forward",
      "kl_prev",
      "general_drop",
      "prior_drop",
    ]),
    "fit.csv": toCsv(fits, ["scope", "predictor", "target", "form", "c0", "c1", "c2", "r2", "n"]),
    "timings.csv": toCsv(timings, ["trainer", "seed", "order", "train_seconds", "eval_seconds"]),
    "train_log.jsonl": trainLog.join("\n") + "\n",
  };
  await Deno.mkdir(opts.out, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeTextAtomic(`${opts.out}/${f}`, text);
  const { forgetbench, ...made } = await provenance();
  const manifest = {
    forgetbench,
    recipe,
    device: opts.device,
    ...made,
    base_model: { hash: base.hash, cached: base.cached, panel: basePanel },
    orders,
    started: started.toISOString(),
    finished: new Date().toISOString(),
  };
  await writeTextAtomic(`${opts.out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  tree.dispose(base.params);
  return {
    out: opts.out,
    leaderboard: leader,
    summary,
    fits,
    seconds: (performance.now() - t0) / 1000,
  };
}
