// The runner: one short pipeline, read top to bottom.
//   resolve (validate recipe and trainers; start the engine) → load data → base model π0 →
//   for each variant × lr × seed: clone π0, train, evaluate at each step budget → score → write.
// Nothing is written to the output folder until every run has finished; each file is written
// atomically, so a failed or interrupted run leaves no half-written results.

import { writeTextAtomic } from "../lib/atomic.ts";
import { ValidationError } from "../lib/errors.ts";
import { meanKL } from "../evals/kl.ts";
import { accuracy } from "../evals/accuracy.ts";
import { toCsv } from "../evals/csv.ts";
import {
  FIT_COLUMNS,
  fitForgetting,
  ROW_COLUMNS,
  type RunRow,
  summarize,
  SUMMARY_COLUMNS,
} from "../evals/leaderboard.ts";
import { type Device, startEngine } from "../models/engine.ts";
import type { MlpPolicy } from "../models/mlp.ts";
import { type ClassifierTask as AnyTask, getClassifierTask } from "../tasks/mod.ts";
import {
  type ClassificationData,
  getTrainer,
  mlpLearner,
  planOf,
  type StepLog,
  type Trainer,
} from "../trainers/mod.ts";
import { baseModel, CLASSES } from "./base_model.ts";
import { type ExperimentData, loadExperimentData } from "./data.ts";
import { buildManifest } from "./manifest.ts";
import { progress } from "./progress.ts";
import type { Recipe, TrainerVariant } from "./recipe.ts";

export const ENGINE = "@jax-js/jax@0.1.25";

/** Rows per evaluation forward pass (fixed, so jit compiles one program per model). */
const EVAL_BATCH = 500;

/** Where and how to run. */
export interface RunOptions {
  readonly out: string;
  readonly cacheDir: string;
  readonly device: Device;
  readonly quiet: boolean;
  readonly recipeFile: string;
}

/** A timing line (timings.csv); kept out of the leaderboard so results stay byte-identical. */
export interface TimingRow {
  phase: string;
  variant: string;
  seed: number | string;
  lr: number | string;
  steps: number | string;
  seconds: number;
}

/** The runner's result, also printed as the closing table. */
export interface BenchResult {
  rows: RunRow[];
  summary: ReturnType<typeof summarize>;
  fits: ReturnType<typeof fitForgetting>;
  base: { newAcc: number; priorAcc: number; cached: boolean; path: string };
  files: string[];
}

interface ResolvedVariant extends TrainerVariant {
  readonly impl: Trainer;
  readonly parsed: unknown;
  readonly lrList: readonly number[];
}

/** Validates every variant's trainer and options before any work starts. */
export function resolveVariants(recipe: Recipe, file: string): ResolvedVariant[] {
  return recipe.trainers.map((v, i) => {
    const impl = getTrainer(v.trainer, `${file}: trainers[${i}].trainer`);
    const parsed = impl.parseOptions(v.options ?? {}, `${file}: trainers[${i}].options`);
    if (planOf(impl, parsed).kind !== "stage") {
      throw new ValidationError(
        `${file}: trainers[${i}].trainer`,
        `'${v.trainer}' trains on a task sequence; this recipe has one new task (use it in an lm recipe)`,
      );
    }
    return { ...v, impl, parsed, lrList: v.lrs ?? recipe.finetune.lrs };
  });
}

/** The two tasks of an experiment. */
interface TaskPair {
  newTask: AnyTask;
  priorTask: AnyTask;
}

/** Held-out accuracies of a policy, and its log-probabilities on the new task's inputs. */
async function evaluate(policy: MlpPolicy, data: ExperimentData, tasks: TaskPair) {
  const lpNew = await policy.logProbs(data.heldoutNew.x, { batch: EVAL_BATCH });
  const lpPrior = await policy.logProbs(data.heldoutPrior.x, { batch: EVAL_BATCH });
  return {
    newAcc: accuracy(tasks.newTask, data.heldoutNew.items, lpNew, { classes: CLASSES }),
    priorAcc: accuracy(tasks.priorTask, data.heldoutPrior.items, lpPrior, { classes: CLASSES }),
    lpNew,
  };
}

function finetuneData(
  data: ExperimentData,
  lp0: Float32Array,
  newTask: AnyTask,
): ClassificationData {
  const items = data.train.items;
  return {
    x: data.train.x,
    n: data.train.n,
    dim: data.train.dim,
    classes: CLASSES,
    lp0,
    reward: (i, y) => (newTask.reward ?? newTask.score).call(newTask, items[i], y),
    correct: (i) => newTask.correct?.(items[i]) ?? [],
    labelling: (name) => {
      const f = newTask.labellings?.[name];
      return f ? (i) => f(items[i]) : undefined;
    },
  };
}

/** Runs a validated recipe end to end and writes its result files. */
export async function runRecipe(recipe: Recipe, opts: RunOptions): Promise<BenchResult> {
  const started = new Date();
  // Resolve: everything a user can get wrong fails here, before any file is touched.
  const variants = resolveVariants(recipe, opts.recipeFile);
  const tasks: TaskPair = {
    newTask: getClassifierTask(recipe.newTask),
    priorTask: getClassifierTask(recipe.priorTask),
  };
  await startEngine(opts.device);
  const totalRuns = variants.reduce(
    (a, v) => a + v.lrList.length * recipe.finetune.seeds.length,
    0,
  );
  const last = Math.max(...recipe.finetune.checkpoints);
  const prog = progress({ quiet: opts.quiet, totalRuns, totalSteps: totalRuns * last });
  const timings: TimingRow[] = [];
  const timed = async <T>(row: Omit<TimingRow, "seconds">, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await f();
    timings.push({ ...row, seconds: (performance.now() - t0) / 1000 });
    return out;
  };

  prog.phase(
    `forgetbench: recipe '${recipe.id}' on ${opts.device}: loading ${recipe.newTask} and ${recipe.priorTask}`,
  );
  const data = await timed(
    { phase: "load_data", variant: "", seed: "", lr: "", steps: "" },
    () => loadExperimentData(recipe, tasks),
  );
  prog.phase(
    `base model: ${recipe.base.steps} pretraining steps on ${data.pretrain.n} items (cached by hash)`,
  );
  const base = await timed(
    {
      phase: "base_model",
      variant: "",
      seed: recipe.base.seed,
      lr: recipe.base.lr,
      steps: recipe.base.steps,
    },
    () => baseModel(recipe, data, { cacheDir: opts.cacheDir, device: opts.device, engine: ENGINE }),
  );
  const baseEval = await evaluate(base.policy, data, tasks);
  const lp0Train = await base.policy.logProbs(data.train.x, { batch: EVAL_BATCH });
  const ftData = finetuneData(data, lp0Train, tasks.newTask);
  prog.phase(
    `base model π0: ${tasks.newTask.id} ${baseEval.newAcc.toFixed(3)}, ${tasks.priorTask.id} ${
      baseEval.priorAcc.toFixed(3)
    }` +
      (base.cached ? " (from cache)" : ""),
  );

  const rows: RunRow[] = [];
  const logLines: string[] = [];
  let runIndex = 0;
  for (const v of variants) {
    for (const lr of v.lrList) {
      for (const seed of recipe.finetune.seeds) {
        prog.run(++runIndex, `${v.name} lr=${lr} seed=${seed}`);
        const policy = base.policy.clone();
        let evalSeconds = 0;
        const t0 = performance.now();
        await v.impl.train(mlpLearner(policy, ftData), {
          lr,
          seed,
          batch: recipe.finetune.batch,
          checkpoints: recipe.finetune.checkpoints,
          options: v.parsed,
          onStep(log: StepLog) {
            logLines.push(JSON.stringify({ variant: v.name, lr, seed, ...log }));
            prog.step(log.step, last);
          },
          async onCheckpoint(step) {
            const e0 = performance.now();
            const e = await evaluate(policy, data, tasks);
            evalSeconds += (performance.now() - e0) / 1000;
            rows.push({
              trainer: v.trainer,
              variant: v.name,
              seed,
              lr,
              steps: step,
              new_task_acc: e.newAcc,
              prior_acc_base: baseEval.priorAcc,
              prior_acc: e.priorAcc,
              forgetting: baseEval.priorAcc - e.priorAcc,
              kl_forward: meanKL(baseEval.lpNew, e.lpNew, { classes: CLASSES }),
              kl_reverse: meanKL(e.lpNew, baseEval.lpNew, { classes: CLASSES }),
            });
          },
        });
        policy.dispose();
        const total = (performance.now() - t0) / 1000;
        timings.push({
          phase: "train",
          variant: v.name,
          seed,
          lr,
          steps: last,
          seconds: total - evalSeconds,
        });
        timings.push({
          phase: "evaluate",
          variant: v.name,
          seed,
          lr,
          steps: last,
          seconds: evalSeconds,
        });
      }
    }
  }
  prog.done();

  // Score and write.
  const summary = summarize(rows, { within: recipe.matchWithin });
  const fits = fitForgetting(rows, { excluding: recipe.fitExcluding });
  await Deno.mkdir(opts.out, { recursive: true });
  const files: Record<string, string> = {
    "leaderboard.csv": toCsv(rows, ROW_COLUMNS),
    "summary.csv": toCsv(summary, SUMMARY_COLUMNS),
    "fit.csv": toCsv(fits, FIT_COLUMNS),
    "timings.csv": toCsv(timings, ["phase", "variant", "seed", "lr", "steps", "seconds"]),
    "train_log.jsonl": logLines.join("\n") + "\n",
  };
  const manifest = await buildManifest({
    recipe,
    recipeFile: opts.recipeFile,
    device: opts.device,
    engine: ENGINE,
    checksums: data.checksums,
    base: {
      hash: base.hash,
      path: base.path,
      cached: base.cached,
      newAcc: baseEval.newAcc,
      priorAcc: baseEval.priorAcc,
    },
    files,
    started,
  });
  files["manifest.json"] = JSON.stringify(manifest, null, 2) + "\n";
  for (const [name, text] of Object.entries(files)) {
    await writeTextAtomic(`${opts.out}/${name}`, text);
  }
  base.policy.dispose();
  return {
    rows,
    summary,
    fits,
    base: {
      newAcc: baseEval.newAcc,
      priorAcc: baseEval.priorAcc,
      cached: base.cached,
      path: base.path,
    },
    files: Object.keys(files).map((f) => `${opts.out}/${f}`),
  };
}
