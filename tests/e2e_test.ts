// End-to-end: the smoke recipe through the real CLI, twice (byte-identical records and CSVs),
// `report` rebuilding the CSVs from the records, and every bad input a user can give ending in
// one line, exit code 2 and no output folder.

import { deepEqual, equal, ok } from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { LEADERBOARD_COLUMNS } from "../evals/leaderboard.ts";
import { cli, exists, taskPermissions } from "./cli.ts";

const CSVS = ["matrix.csv", "leaderboard.csv", "summary.csv", "stages.csv", "fit.csv"];
const FILES = [...CSVS, "timings.csv", "records.jsonl", "samples.jsonl", "manifest.json"];

/** records.jsonl without its timing lines (the only ones that differ between equal runs). */
async function untimed(dir: string): Promise<string> {
  return (await Deno.readTextFile(`${dir}/records.jsonl`)).split("\n")
    .filter((l) => !l.includes('"type":"timing"')).join("\n");
}

Deno.test("bench smoke writes every result file, and a second run gives byte-identical CSVs", async () => {
  const dir = await Deno.makeTempDir();
  const cache = `${dir}/cache`;
  const a = await cli(["bench", "smoke", "--out", `${dir}/a`, "--cache", cache, "--quiet"]);
  equal(a.code, 0, a.stderr);
  equal(a.stdout, "", "--quiet prints nothing");
  for (const f of FILES) ok(await exists(`${dir}/a/${f}`), `${f} written`);

  const rows = parse(await Deno.readTextFile(`${dir}/a/leaderboard.csv`), {
    columns: true,
  }) as Record<string, string>[];
  deepEqual(Object.keys(rows[0]), [...LEADERBOARD_COLUMNS]);
  // smoke: 6 variants × 1 lr × 2 seeds × 2 checkpoints of its one stage.
  equal(rows.length, 24);
  for (const r of rows) {
    for (const c of ["new_task_acc", "panel_base", "panel_final"]) {
      ok(+r[c] >= 0 && +r[c] <= 1, `${c} in [0,1]`);
    }
    ok(
      Math.abs(+r.panel_drop - (+r.panel_base - +r.panel_final)) < 2e-6,
      "panel_drop = base − after",
    );
    ok(+r.kl_forward >= 0 && +r.kl_reverse >= 0, "KL ≥ 0");
    equal(r.task_forgetting, "", "one stage: no task forgetting");
  }
  const records = (await Deno.readTextFile(`${dir}/a/records.jsonl`)).trim().split("\n").map((
    l,
  ) => JSON.parse(l));
  equal(records[0].type, "recipe");
  const steps = records.filter((l) => l.type === "step");
  equal(steps.length, 6 * 2 * 6, "one line per step of every run");
  ok(steps.filter((l) => l.variant === "rif_rft").every((l) => l.kept <= l.seen), "kept ≤ seen");
  equal(records.filter((l) => l.type === "run").length, 12);
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/a/manifest.json`));
  equal(manifest.packages["@jax-js/jax"], "0.1.25");
  equal(manifest.data_files.length, 20);
  ok("dirty" in manifest.git);
  for (const f of CSVS) ok(/^[0-9a-f]{64}$/.test(manifest.outputs_sha256[f]), f);

  const b = await cli(["bench", "smoke", "--out", `${dir}/b`, "--cache", cache]);
  equal(b.code, 0, b.stderr);
  ok(b.stderr.includes("base model from the cache"), b.stderr);
  ok(b.stdout.includes("new-task acc %") && b.stdout.includes("panel drop %"), b.stdout);
  ok(
    JSON.parse(await Deno.readTextFile(`${dir}/b/manifest.json`)).base_model.cached,
    "second run reuses the cached base",
  );
  equal(await untimed(`${dir}/b`), await untimed(`${dir}/a`), "records.jsonl identical");
  for (const f of [...CSVS, "samples.jsonl"]) {
    equal(
      await Deno.readTextFile(`${dir}/b/${f}`),
      await Deno.readTextFile(`${dir}/a/${f}`),
      `${f} identical`,
    );
  }

  // The CSVs are a function of the records: delete them and `report` rebuilds them (with the
  // permissions of `deno task report`).
  const before = await Promise.all(CSVS.map((f) => Deno.readTextFile(`${dir}/a/${f}`)));
  for (const f of CSVS) await Deno.remove(`${dir}/a/${f}`);
  const rep = await cli(["report", `${dir}/a`], { permissions: await taskPermissions("report") });
  equal(rep.code, 0, rep.stderr);
  for (const [k, f] of CSVS.entries()) {
    equal(await Deno.readTextFile(`${dir}/a/${f}`), before[k], `${f} rebuilt`);
  }
  await Deno.remove(dir, { recursive: true });
});

const BAD: [string, string[], RegExp, Record<string, string>?][] = [
  [
    "unknown recipe",
    ["bench", "no_such_recipe"],
    /unknown recipe 'no_such_recipe'; known recipes: parity_mnist, smoke, lm, lm_full, lm_panel/,
  ],
  ["negative learning rate", ["bench", "smoke", "--lrs=-0.001"], /--lrs: '-0.001' must be > 0/],
  [
    "a negative value without '='",
    ["bench", "smoke", "--lrs", "-1"],
    /--lrs: a value that starts with '-' must be written with '=', as --lrs=-1/,
  ],
  ["zero steps", ["bench", "smoke", "--steps", "0"], /--steps: '0' must be > 0/],
  ["duplicate seeds", ["bench", "smoke", "--seeds", "1,1"], /--seeds: '1,1' has duplicates/],
  [
    "unknown device",
    ["bench", "smoke", "--device", "tpu"],
    /--device 'tpu' is not one of wasm, webgpu, cpu/,
  ],
  [
    "unknown variant",
    ["bench", "smoke", "--trainers", "nope"],
    /--trainers: 'nope' is not a variant of recipe 'smoke'/,
  ],
  [
    "unknown variant of the lm recipe",
    ["bench", "lm", "--trainers", "sft1"],
    /--trainers: 'sft1' is not a variant of recipe 'lm' \(known: sft, grpo, rif_rft, multitask\)/,
  ],
  ["unknown flag", ["bench", "smoke", "--frobnicate"], /Unknown option '--frobnicate'/],
  ["lm recipe with a bad seed", ["bench", "lm", "--seeds", "1,x"], /--seeds: 'x' is not a number/],
  ["unknown command", ["train"], /unknown command 'train'/],
  [
    "--model folder that does not exist",
    ["bench", "razor_llm_tiny", "--model", "/nonexistent/qwen", "--offline"],
    /model source \/nonexistent\/qwen: no such folder, and not a hub id/,
  ],
  [
    "--model hub id not in the cache, offline",
    ["bench", "razor_llm_tiny", "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--offline"],
    /Qwen\/Qwen2\.5-0\.5B-Instruct/,
  ],
  [
    "--max-new-tokens 0",
    ["bench", "razor_llm_tiny", "--max-new-tokens", "0"],
    /--max-new-tokens: '0' must be a positive integer/,
  ],
  [
    "razor_llm without consent to run HumanEval's code",
    ["bench", "razor_llm", "--offline"],
    /razor_llm\.ts: panel\[5\]: task 'humaneval' runs model-written code; add --allow-code-execution/,
  ],
  // Deno's WebGPU finds no adapter when told to use a backend this OS lacks: a machine without a GPU driver.
  [
    "webgpu without an adapter",
    ["bench", "smoke", "--device", "webgpu"],
    /--device webgpu: no WebGPU adapter found/,
    { DENO_WEBGPU_BACKEND: "dx12" },
  ],
];

for (const [name, args, message, env] of BAD) {
  Deno.test(`bad input ends in one line, exit 2, no output: ${name}`, async () => {
    const dir = await Deno.makeTempDir();
    const r = await cli([...args, "--out", `${dir}/out`, "--cache", `${dir}/cache`], { env });
    equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    equal(lines.length, 1, `one line: ${r.stderr}`);
    ok(lines[0].startsWith("error: "), lines[0]);
    ok(message.test(lines[0]), lines[0]);
    equal(await exists(`${dir}/out`), false, "no output folder");
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a recipe file with an unknown trainer or a bad field is rejected naming the file and field", async () => {
  const dir = await Deno.makeTempDir();
  const base = (await import("../runs/recipes/smoke.ts")).recipe;
  const cases: [unknown, RegExp][] = [
    [
      { ...base, variants: [{ name: "x", trainer: "sftt" }] },
      /bad_recipe\.ts: variants\[0\]\.trainer: unknown trainer 'sftt'; known trainers: sft, sft_kl, grpo, reinforce10, rif_rft/,
    ],
    [
      { ...base, train: { ...base.train, lrs: [-1e-3] } },
      /bad_recipe\.ts: train\.lrs\[0\]: must be > 0, got -0\.001/,
    ],
    [
      { ...base, train: { ...base.train, checkpoints: [0, 6] } },
      /bad_recipe\.ts: train\.checkpoints\[0\]: must be > 0, got 0/,
    ],
    [
      { ...base, variants: [{ name: "g", trainer: "grpo", options: { group: 0 } }] },
      /bad_recipe\.ts: variants\[0\]\.options\.group: must be ≥ 1, got 0/,
    ],
    [
      { ...base, variants: [{ name: "r", trainer: "replay" }] },
      /bad_recipe\.ts: variants\[0\]\.trainer: 'replay' trains on a task sequence/,
    ],
    [
      { ...base, stages: ["parity_mnist"], panel: ["nope"] },
      /bad_recipe\.ts: panel\[0\]: unknown task 'nope'/,
    ],
    [{ ...base, orderz: 2 }, /bad_recipe\.ts: orderz: unknown field/],
    [
      { ...base, model: { family: "mlp", hidden: [0] } },
      /bad_recipe\.ts: model\.hidden: must be a non-empty list of positive integers/,
    ],
    [
      { ...base, model: { family: "transformer" } },
      /bad_recipe\.ts: model\.family: unknown family "transformer" \(known: mlp, llama, onnx\)/,
    ],
  ];
  for (const [recipe, message] of cases) {
    const file = `${dir}/bad_recipe.ts`;
    await Deno.writeTextFile(file, `export const recipe = ${JSON.stringify(recipe)};\n`);
    const r = await cli(["bench", file, "--out", `${dir}/out`, "--cache", `${dir}/cache`]);
    equal(r.code, 2, r.stderr);
    ok(message.test(r.stderr.trim()), r.stderr);
    equal(r.stderr.trim().split("\n").length, 1);
    equal(await exists(`${dir}/out`), false);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report of a folder without records is a one-line error naming the file", async () => {
  const r = await cli(["report", "/nonexistent"]);
  equal(r.code, 2, r.stderr);
  equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  ok(/\/nonexistent\/records\.jsonl: cannot read records/.test(r.stderr), r.stderr);
});

Deno.test("a corrupt cached base model is a one-line error naming the folder", async () => {
  const dir = await Deno.makeTempDir();
  const ok1 = await cli([
    "bench",
    "smoke",
    "--out",
    `${dir}/a`,
    "--cache",
    `${dir}/cache`,
    "--quiet",
  ]);
  equal(ok1.code, 0, ok1.stderr);
  const [cached] = [...Deno.readDirSync(`${dir}/cache/bases`)].map((e) =>
    `${dir}/cache/bases/${e.name}`
  );
  await Deno.writeFile(`${cached}/model.safetensors`, new Uint8Array([1, 2, 3]));
  const r = await cli([
    "bench",
    "smoke",
    "--out",
    `${dir}/b`,
    "--cache",
    `${dir}/cache`,
    "--quiet",
  ]);
  equal(r.code, 2, r.stderr);
  equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  ok(
    r.stderr.includes(`${cached}/model.safetensors`) &&
      r.stderr.includes(`cached base model ${cached} is unreadable, delete it to pretrain again`),
    r.stderr,
  );
  equal(await exists(`${dir}/b`), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tasks, trainers, recipes and families subcommands list the registries", async () => {
  const t = await cli(["tasks"]);
  equal(t.code, 0);
  ok(
    /parity_mnist@1\s+downstream \(classify, trainable\)/.test(t.stdout) &&
      /hellaswag@1\s+general \(choices\)/.test(t.stdout) &&
      /copy@1\s+general \(generate, trainable\)/.test(t.stdout),
    t.stdout,
  );
  const rc = await cli(["recipes"]);
  for (const id of ["parity_mnist", "smoke", "lm", "lm_full", "lm_panel"]) {
    ok(rc.stdout.includes(id), id);
  }
  const fam = await cli(["families"]);
  for (const id of ["mlp", "llama", "onnx"]) ok(fam.stdout.includes(id), id);
  const tr = await cli(["trainers"]);
  for (const id of ["sft", "sft_kl", "grpo", "reinforce10", "rif_rft"]) {
    ok(tr.stdout.includes(id), id);
  }
  const h = await cli(["--help"]);
  equal(h.code, 0);
  ok(h.stdout.includes("deno task bench"));
});
