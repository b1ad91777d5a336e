// End-to-end: RL's Razor's LLM protocol through the real CLI. `razor_llm_tiny` as registered (a
// generated Qwen2.5-layout checkpoint, fixture records, orders "each"): every output, one task
// per run, per-task fits, the checkpoint's files hashed in the manifest. `razor_llm` itself with
// `--model` on a Qwen2.5-layout folder and the fixtures as `--data`: HumanEval in its panel runs
// in the sandbox with --allow-code-execution and is refused without it; its GRPO (64 rollouts ×
// 8 prompts) is refused by the memory model, before any work, under a budget it exceeds.

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { sha256Hex } from "../lib/hash.ts";
import { TINY_MERGES } from "../models/families.ts";
import { writeTinyQwen2 } from "../models/tiny_checkpoints.ts";
import { writeAllTaskFixtures } from "../runs/fixtures.ts";
import { cli, exists } from "./cli.ts";

const TASKS = ["orz_math", "sciknoweval_chem_l3", "toolalpaca"];
const PANEL = ["hellaswag", "truthfulqa_mc2", "mmlu", "ifeval", "winogrande"];

type Row = Record<string, string>;
const csv = async (path: string) =>
  parse(await Deno.readTextFile(path), { columns: true }) as Row[];

Deno.test("bench razor_llm_tiny: one task per run from π0, the real-benchmark panel, per-task fits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fb-razor-" });
  try {
    const out = join(dir, "out"), cache = join(dir, "cache");
    const r = await cli([
      "bench",
      "razor_llm_tiny",
      "--steps",
      "2",
      "--out",
      out,
      "--cache",
      cache,
    ]);
    equal(r.code, 0, r.stderr);
    for (const f of ["matrix.csv", "leaderboard.csv", "summary.csv", "fit.csv", "manifest.json"]) {
      ok(await exists(join(out, f)), f);
    }
    // 2 variants × 2 lrs × 1 seed × 3 tasks, each run training one task.
    const lb = await csv(join(out, "leaderboard.csv"));
    equal(lb.length, 12);
    for (const row of lb) ok(TASKS.includes(row.tasks), row.tasks);
    for (const t of TASKS) equal(lb.filter((row) => row.tasks === t).length, 4, t);
    // A run is measured on its own task and the panel only; π0 on everything.
    const matrix = await csv(join(out, "matrix.csv"));
    for (const row of matrix.filter((m) => m.stage !== "0" && m.role === "stage")) {
      const own = lb.find((l) =>
        l.variant === row.variant && l.lr === row.lr && l.order === row.order
      )!;
      equal(row.task, own.tasks, `run ${row.variant} ${row.lr} order ${row.order}`);
    }
    const panel = new Set(matrix.filter((m) => m.role === "panel").map((m) => m.task));
    equal([...panel].sort().join(), [...PANEL].sort().join());
    // The forgetting law over all runs and over each task's runs.
    const fits = await csv(join(out, "fit.csv"));
    for (const t of ["all", ...TASKS.map((t) => `tasks ${t}`)]) {
      ok(fits.some((f) => f.runs === t && f.predictor === "kl_forward"), t);
    }
    // The summary compares the methods per task (one order per task).
    const summary = await csv(join(out, "summary.csv"));
    equal(new Set(summary.map((s) => s.order)).size, 3);
    ok(r.stdout.includes("task order 2 (toolalpaca)"), r.stdout);
    // The generated checkpoint's files, with their sha256, in the manifest.
    const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
    const model = join(cache, "models", "generated", "tiny-qwen2.5-seed0");
    const weights = manifest.base_model.files.find((f: { name: string }) =>
      f.name === "model.safetensors"
    );
    equal(weights.sha256, await sha256Hex(await Deno.readFile(join(model, "model.safetensors"))));
    for (const name of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
      ok(manifest.base_model.files.some((f: { name: string }) => f.name === name), name);
    }
    // Every data file read came from the fixtures folder under the cache.
    ok(manifest.data_files.length >= 8);
    ok(
      manifest.data_files.every((f: { path: string }) =>
        f.path.startsWith(join(cache, "fixtures"))
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench razor_llm --model: the paper's recipe on a Qwen2.5-layout folder; HumanEval only with consent; GRPO over a memory budget refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fb-razor-" });
  try {
    const model = join(dir, "qwen"), data = join(dir, "data"), cache = join(dir, "cache");
    await writeTinyQwen2(model, { seed: 3, merges: TINY_MERGES });
    await writeAllTaskFixtures(data);
    // Generations capped at 8 new tokens: a random model never stops early.
    const common = [
      "--model",
      model,
      "--data",
      data,
      "--offline",
      "--cache",
      cache,
      "--max-new-tokens",
      "8",
    ];

    // Without consent: one line naming the recipe's panel entry, nothing written.
    const no = await cli(["bench", "razor_llm", ...common, "--out", join(dir, "no")]);
    equal(no.code, 2, no.stderr);
    ok(
      /^error: runs\/recipes\/razor_llm\.ts: panel\[5\]: task 'humaneval' runs model-written code; add --allow-code-execution/
        .test(no.stderr.trim()),
      no.stderr,
    );
    equal(await exists(join(dir, "no")), false);

    // A memory budget the paper's GRPO (8 prompts × 64 rollouts, one per micro-batch) exceeds.
    const big = await cli([
      "bench",
      "razor_llm",
      ...common,
      "--allow-code-execution",
      "--trainers",
      "grpo",
      "--memory",
      "64MiB",
      "--out",
      join(dir, "big"),
    ]);
    equal(big.code, 2, big.stderr);
    equal(big.stderr.trim().split("\n").length, 1, big.stderr);
    ok(
      /^error: runs\/recipes\/razor_llm\.ts: variants\[0\] \('grpo'\): training needs about .* over --memory 64\.0 MiB/
        .test(big.stderr.trim()),
      big.stderr,
    );
    equal(await exists(join(dir, "big")), false);

    // SFT, one lr, one step: three runs, HumanEval scored in the sandbox.
    const out = join(dir, "out");
    const r = await cli([
      "bench",
      "razor_llm",
      ...common,
      "--allow-code-execution",
      "--trainers",
      "sft",
      "--lrs",
      "1e-5",
      "--steps",
      "1",
      "--out",
      out,
    ]);
    equal(r.code, 0, r.stderr);
    const lb = await csv(join(out, "leaderboard.csv"));
    equal(lb.map((row) => row.tasks).join(), TASKS.join());
    const matrix = await csv(join(out, "matrix.csv"));
    const he = matrix.filter((m) => m.task === "humaneval");
    // Each run's matrix rows: π0 (stage 0) and after its one stage.
    equal(he.length, 6, "π0 and after the stage, for each of the three runs");
    equal(he.filter((m) => m.stage === "0").length, 3);
    for (const m of he) ok(+m.accuracy >= 0 && +m.accuracy <= 1);
    const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
    equal(manifest.recipe.model.source, model);
    equal(
      manifest.base_model.files.find((f: { name: string }) => f.name === "model.safetensors")
        .source,
      "local",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
