// The one pipeline (runs/pipeline.ts) on the tiny LM, in seconds: a three-stage recipe with every
// data plan (sequence, replay, joint) and two task orders writes the one output schema; the
// records are the source of truth (deleting the CSVs and running `report` rebuilds them byte for
// byte); two runs of the same recipe give byte-identical records (timings aside) and CSVs; and
// the same pipeline trains the tiny LM while measuring published benchmarks (HellaSwag and
// TruthfulQA MC2 fixtures in their published formats) as its panel after every stage; and an
// evaluation recipe (no stages) scores an ONNX model exactly as the eval command does.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { UsageError } from "../lib/errors.ts";
import { loadOnnxLm } from "../models/onnx_lm.ts";
import { writeTinyLlama } from "../models/tiny_llama.ts";
import { runEval } from "../runs/eval.ts";
import { runRecipe } from "../runs/pipeline.ts";
import { type Recipe, validateRecipe } from "../runs/recipe.ts";
import { recipe as lm } from "../runs/recipes/lm.ts";
import { MATRIX_COLUMNS, writeReport } from "../runs/report.ts";
import { resolvePlan } from "../runs/resolve.ts";
import { RECIPES } from "../runs/recipes/mod.ts";
import { getTask, TASK_LIST } from "../tasks/mod.ts";
import { isHubTask, writeTaskFixture } from "../runs/fixtures.ts";
import { TINY_LM_CONFIG } from "./tiny_lm.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const TASKS = ["many_answers", "science_mc", "word_math"];
const SKILLS = ["copy", "compare"];

const TINY: Recipe = {
  ...lm,
  id: "lm_tiny",
  model: { ...lm.model, config: TINY_LM_CONFIG },
  data: {
    seed: 0,
    sizes: {
      ...Object.fromEntries(TASKS.map((t) => [t, { train: 16, test: 6 }])),
      ...Object.fromEntries(SKILLS.map((t) => [t, { pretrain: 40, test: 3 }])),
    },
  },
  pretrain: { tasks: SKILLS, seed: 0, steps: 20, batch: 16, lr: 1e-2 },
  stages: TASKS,
  panel: SKILLS,
  orders: 2,
  seeds: [1],
  variants: [
    { trainer: "sft", lrs: [1e-2], steps: 3, batch: 4 },
    { trainer: "rif_rft", options: { group: 2 }, lrs: [1e-2], steps: 2, batch: 2 },
    { trainer: "replay", options: { fraction: 0.5 }, lrs: [1e-2], steps: 2, batch: 4 },
    { trainer: "multitask", lrs: [1e-2], steps: 2, batch: 4 },
  ],
  kl: { items: 4, samples: 1 },
};

/** Runs `f` in a fresh temporary folder, removed afterwards. */
async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const rowsOf = (text: string) => parse(text, { columns: true }) as Record<string, string>[];
const CSVS = ["matrix.csv", "leaderboard.csv", "summary.csv", "stages.csv", "fit.csv"];
const loaded = (r: Recipe) => ({ recipe: validateRecipe(r, "tests/pipeline_test.ts"), file: "t" });
/** records.jsonl without its timing lines (the only ones that differ between equal runs). */
const untimed = async (dir: string) =>
  (await Deno.readTextFile(`${dir}/records.jsonl`)).split("\n")
    .filter((l) => !l.includes('"type":"timing"')).join("\n");

Deno.test(
  "pipeline: a multi-stage LM recipe writes the one schema; reruns and report are byte-identical",
  opts,
  async () => {
    const cache = await Deno.makeTempDir(),
      a = await Deno.makeTempDir(),
      b = await Deno.makeTempDir();
    try {
      const run = (out: string) =>
        runRecipe(loaded(TINY), { out, cacheDir: cache, device: "wasm", quiet: true });
      const res = await run(a);
      equal(res.base.cached, false);
      for (const f of [...CSVS, "timings.csv", "records.jsonl", "samples.jsonl", "manifest.json"]) {
        ok((await Deno.stat(`${a}/${f}`)).size > 0, f);
      }
      const matrix = rowsOf(await Deno.readTextFile(`${a}/matrix.csv`));
      deepEqual(Object.keys(matrix[0]), [...MATRIX_COLUMNS]);
      // Sequential variants: (T + 1) stages × (T tasks + 2 panel tasks) per order; multitask 2 stages.
      const T = TASKS.length, cols = T + SKILLS.length;
      equal(matrix.length, 2 * (3 * (T + 1) * cols + 2 * cols));
      const multi = matrix.filter((r) => r.variant === "multitask" && r.order === "0");
      deepEqual([...new Set(multi.map((r) => r.stage))], ["0", String(T)]);
      deepEqual([...new Set(multi.map((r) => r.step))], ["0", String(2 * T)], "joint: T × steps");
      // Stage 0 is π0: the same accuracies in every run.
      const base = (v: string, o: string) =>
        matrix.filter((r) => r.variant === v && r.order === o && r.stage === "0").map((r) =>
          r.accuracy
        );
      deepEqual(base("sft", "0"), base("rif_rft", "1"));
      equal(
        matrix.filter((r) => r.role === "panel" && r.stage === "0" && r.variant === "sft").length,
        4,
      );

      const board = rowsOf(await Deno.readTextFile(`${a}/leaderboard.csv`));
      equal(board.length, 4 * 2);
      deepEqual(board.slice(0, 2).map((r) => r.tasks), [
        TASKS.join(">"),
        [...TASKS].reverse().join(">"),
      ]);
      for (const r of board) {
        ok(Number(r.kl_forward) >= 0, `${r.variant}: kl ${r.kl_forward}`);
        equal(r.kl_reverse, "", "sequence KL: no reverse estimate");
        equal(
          Number(r.panel_drop).toFixed(6),
          (Number(r.panel_base) - Number(r.panel_final)).toFixed(6),
        );
      }
      // Multitask has no sequence: no forgetting or transfer; sequential variants do.
      ok(
        board.filter((r) => r.variant === "multitask").every((r) =>
          r.task_forgetting === "" && r.bwt === ""
        ),
      );
      ok(
        board.filter((r) => r.variant === "sft").every((r) =>
          r.task_forgetting !== "" && r.fwt !== ""
        ),
      );
      // Instances that reached an update: SFT every one it saw; RIF-RFT at most those.
      equal(board.find((r) => r.variant === "sft")!.instances_used, String(3 * 4 * T));
      ok(Number(board.find((r) => r.variant === "rif_rft")!.instances_used) <= 2 * 2 * T);
      // Replay takes half of every batch from earlier tasks, from the second stage on.
      const stages = rowsOf(await Deno.readTextFile(`${a}/stages.csv`));
      equal(stages.filter((r) => r.variant === "sft").length, 2 * T);
      ok(
        stages.filter((r) => r.variant === "sft" && r.stage !== "1").every((r) =>
          r.prior_forgetting !== ""
        ),
      );
      const manifest = JSON.parse(await Deno.readTextFile(`${a}/manifest.json`));
      equal(manifest.command, "bench");
      equal(manifest.recipe.id, "lm_tiny");
      ok(/^[0-9a-f]{16,}$/.test(manifest.base_model.hash), manifest.base_model.hash);
      for (const f of CSVS) ok(/^[0-9a-f]{64}$/.test(manifest.outputs_sha256[f]), f);

      // Records are the source of truth: delete the CSVs, rebuild them, byte for byte.
      const before = Object.fromEntries(
        await Promise.all(CSVS.map(async (f) => [f, await Deno.readTextFile(`${a}/${f}`)])),
      );
      for (const f of CSVS) await Deno.remove(`${a}/${f}`);
      await writeReport(a);
      for (const f of CSVS) equal(await Deno.readTextFile(`${a}/${f}`), before[f], `${f} rebuilt`);

      // A second run (base from the cache) gives the same records and CSVs.
      const again = await run(b);
      equal(again.base.cached, true);
      equal(await untimed(b), await untimed(a), "records.jsonl");
      equal(
        await Deno.readTextFile(`${b}/samples.jsonl`),
        await Deno.readTextFile(`${a}/samples.jsonl`),
      );
      for (const f of CSVS) equal(await Deno.readTextFile(`${b}/${f}`), before[f], `${f} differs`);
    } finally {
      for (const d of [cache, a, b]) await Deno.remove(d, { recursive: true });
    }
  },
);

Deno.test(
  "pipeline: the tiny LM trained with HellaSwag and TruthfulQA MC2 (fixtures) as its panel",
  opts,
  () =>
    withDir(async (dir) => {
      for (const id of ["hellaswag", "truthfulqa_mc2"]) {
        await writeTaskFixture(
          `${dir}/data`,
          getTask(id),
        );
      }
      const recipe: Recipe = {
        ...TINY,
        id: "lm_benchmark_panel",
        stages: ["many_answers", "word_math"],
        panel: [{ task: "hellaswag", metric: "acc_norm" }, "truthfulqa_mc2"],
        orders: 1,
        data: {
          seed: 0,
          sizes: Object.fromEntries(
            ["many_answers", "word_math"].map((t) => [t, { train: 16, test: 6 }]),
          ),
        },
        pretrain: undefined,
        variants: [TINY.variants[0], {
          trainer: "grpo",
          options: { group: 2 },
          lrs: [1e-2],
          steps: 2,
          batch: 2,
        }],
      };
      const out = `${dir}/out`;
      await runRecipe(loaded(recipe), {
        out,
        cacheDir: `${dir}/cache`,
        device: "wasm",
        quiet: true,
        data: { dataPath: `${dir}/data`, offline: true, cacheDir: `${dir}/cache` },
      });
      const matrix = rowsOf(await Deno.readTextFile(`${out}/matrix.csv`));
      for (const variant of ["sft", "grpo"]) {
        for (const stage of ["0", "1", "2"]) {
          const panel = matrix.filter((r) =>
            r.variant === variant && r.stage === stage && r.role === "panel"
          );
          deepEqual(
            panel.map((r) => r.task),
            ["hellaswag", "truthfulqa_mc2"],
            `${variant} stage ${stage}`,
          );
          for (const r of panel) {
            ok(
              Number(r.accuracy) >= 0 && Number(r.accuracy) <= 1 && Number(r.n) > 0,
            );
          }
        }
      }
      // The panel's per-item outputs are per-choice log-likelihoods.
      const samples = (await Deno.readTextFile(`${out}/samples.jsonl`)).trim().split("\n").map((
        l,
      ) => JSON.parse(l));
      const hs = samples.find((s) => s.task === "hellaswag" && s.stage === 1);
      ok(
        Array.isArray(hs.outputs[0]) && hs.outputs[0].every((v: number) => v <= 0),
        JSON.stringify(hs.outputs[0]),
      );
      ok("acc_norm" in hs.scores && "acc" in hs.scores);
      const board = rowsOf(await Deno.readTextFile(`${out}/leaderboard.csv`));
      equal(board.length, 2);
      ok(board.every((r) => r.panel_base !== "" && r.panel_drop !== ""));
    }),
);

Deno.test(
  "pipeline: a bad recipe is a one-line error naming the field, before any output",
  opts,
  () =>
    withDir(async (dir) => {
      const out = `${dir}/out`;
      const bad = async (r: Recipe, re: RegExp) => {
        await rejects(
          async () =>
            await runRecipe({ recipe: validateRecipe(r, "my.ts"), file: "my.ts" }, {
              out,
              cacheDir: `${dir}/cache`,
              device: "wasm",
              quiet: true,
            }),
          (e: unknown) => {
            ok(e instanceof UsageError, String(e));
            ok(re.test(e.message) && !e.message.includes("\n"), e.message);
            return true;
          },
        );
        await rejects(Deno.stat(out), Deno.errors.NotFound);
      };
      await bad(
        { ...TINY, stages: ["many_answers", "chess"] },
        /my\.ts: stages\[1\]: unknown task 'chess'; known tasks: /,
      );
      await bad(
        { ...TINY, variants: [{ trainer: "adam", lrs: [1], steps: 1, batch: 1 }] },
        /my\.ts: variants\[0\]\.trainer: unknown trainer 'adam'/,
      );
      await bad(
        { ...TINY, stages: ["many_answers", "hellaswag"] },
        /my\.ts: stages\[1\]: task 'hellaswag' declares no training part/,
      );
      await bad(
        {
          ...TINY,
          variants: [{
            trainer: "sft",
            options: { labelling: "sft2" },
            lrs: [1],
            steps: 1,
            batch: 1,
          }],
        },
        /my\.ts: variants\[0\]\.options\.labelling: task 'many_answers' has no labelling 'sft2'/,
      );
      await bad(
        { ...TINY, stages: ["parity_mnist", "word_math"] },
        /stages\[0\]: task 'parity_mnist' asks classify requests; a llama model answers choices, generate/,
      );
      await bad(
        { ...TINY, panel: ["hellaswag"], data: { sizes: { hellaswag: { test: 5 } } } },
        /my\.ts: data\.sizes\.hellaswag: task 'hellaswag' is read whole from its published files/,
      );
      await bad(
        { ...TINY, data: { sizes: { many_answer: { train: 4 } } } },
        /my\.ts: data\.sizes\.many_answer: unknown task 'many_answer'; known tasks: /,
      );
      await bad(
        { ...TINY, panel: ["humaneval"] },
        /panel\[0\]: task 'humaneval' runs model-written code/,
      );
      await bad(
        { ...TINY, data: { sizes: { many_answers: { train: 0, test: 4 } } } },
        /stages\[0\]: task 'many_answers' has no items in its 'train' split/,
      );
      await bad({
        ...TINY,
        model: { ...TINY.model, config: { ...TINY_LM_CONFIG, vocab_size: 50 } },
      }, /model\.config\.vocab_size: 50 is below the char tokenizer's 100 ids/);
    }),
);

Deno.test(
  "pipeline: an evaluation recipe (no stages) scores a model as eval does",
  opts,
  () =>
    withDir(async (dir) => {
      for (const id of ["hellaswag", "truthfulqa_mc2"]) {
        await writeTaskFixture(
          `${dir}/data`,
          getTask(id),
        );
      }
      await writeTinyLlama(`${dir}/model`, { seed: 3 });
      const data = { dataPath: `${dir}/data`, offline: true, cacheDir: `${dir}/cache` };
      const recipe: Recipe = {
        id: "eval_only",
        description: "the tiny ONNX model measured on two benchmarks",
        model: { family: "onnx", source: `${dir}/model` },
        stages: [],
        panel: ["hellaswag", "truthfulqa_mc2"],
        seeds: [1],
        variants: [],
      };
      const res = await runRecipe(loaded(recipe), {
        out: `${dir}/bench`,
        cacheDir: `${dir}/cache`,
        device: "wasm",
        quiet: true,
        data,
      });
      equal(res.leaderboard.length, 0, "no runs");
      const matrix = rowsOf(await Deno.readTextFile(`${dir}/bench/matrix.csv`));
      deepEqual(matrix.map((r) => [r.stage, r.task, r.role]), [
        ["0", "hellaswag", "panel"],
        ["0", "truthfulqa_mc2", "panel"],
      ]);
      // The same evaluation code as the eval command: the same scores.
      const ev = await runEval({
        tasks: [getTask("hellaswag"), getTask("truthfulqa_mc2")],
        out: `${dir}/eval`,
        data,
        allowCodeExecution: false,
        run: { batchSize: 8 },
        jobs: 1,
        say: () => {},
        openModel: () => loadOnnxLm(`${dir}/model`, { device: "cpu" }),
        modelInfo: { source: `${dir}/model` },
      });
      for (const r of matrix) {
        const row = ev.rows.find((x) => x.task === r.task && x.metric === "acc")!;
        equal(Number(r.accuracy).toFixed(6), row.value.toFixed(6), r.task);
      }
    }),
);

Deno.test(
  "every registered recipe resolves against the registries and its data",
  opts,
  () =>
    withDir(async (dir) => {
      for (const t of TASK_LIST.filter(isHubTask)) await writeTaskFixture(`${dir}/data`, t);
      for (const [name, { recipe, file }] of Object.entries(RECIPES)) {
        const plan = await resolvePlan(validateRecipe(recipe, file), {
          file,
          data: { dataPath: `${dir}/data`, offline: true, cacheDir: `${dir}/cache` },
          allowCodeExecution: true, // razor_llm's panel has HumanEval
        });
        ok(plan.runs.length > 0, `${name}: runs`);
        ok(plan.stageTasks.length + plan.panelTasks.length > 0, name);
      }
    }),
);
