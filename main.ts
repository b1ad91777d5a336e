// forgetbench's command line: parse flags, call runs/, print. Every user error ends in one line
// on stderr and exit code 2; nothing is written before validation passes.
//
//   deno task bench [recipe]        run a recipe (default parity_mnist), write results/<recipe>/
//   deno run main.ts tasks          list registered tasks
//   deno run main.ts trainers       list registered trainers
//   deno run main.ts recipes        list registered recipes

import { parseArgs } from "node:util";
import { UsageError } from "./lib/errors.ts";
import { parseDevice } from "./models/engine.ts";
import { loadRecipe, RECIPES } from "./runs/mod.ts";
import type { Recipe } from "./runs/recipe.ts";
import { type BenchResult, runRecipe } from "./runs/runner.ts";
import { TASK_LIST } from "./tasks/mod.ts";
import { TRAINERS } from "./trainers/mod.ts";

const HELP = `forgetbench: which fine-tuning methods forget less, and does KL(π0‖π) predict it?

Usage:
  deno task bench [RECIPE] [options]   run a recipe (name or path to a .ts file)
  deno run -A main.ts tasks            list tasks
  deno run -A main.ts trainers         list trainers
  deno run -A main.ts recipes          list recipes

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

Outputs: leaderboard.csv, summary.csv, fit.csv, timings.csv, train_log.jsonl, manifest.json.`;

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
    else if (cmd === "tasks") {
      list(TASK_LIST.map((t) => [`${t.id}@${t.version}`, `${t.kind}: ${t.description}`]));
    } else if (cmd === "trainers") list(Object.values(TRAINERS).map((t) => [t.id, t.description]));
    else if (cmd === "recipes") {
      list(Object.entries(RECIPES).map(([k, v]) => [k, v.recipe.description]));
    } else {throw new UsageError(
        `unknown command '${cmd}'; commands: bench, tasks, trainers, recipes (see --help)`,
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
