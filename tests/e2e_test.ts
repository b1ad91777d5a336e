// End-to-end: the smoke recipe through the real CLI, twice (byte-identical results), and every
// bad input a user can give ending in one line, exit code 2 and no output folder.

import { deepEqual, equal, ok } from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { cli, exists } from "./cli.ts";

const LEADERBOARD = [
  "trainer",
  "variant",
  "seed",
  "lr",
  "steps",
  "new_task_acc",
  "prior_acc_base",
  "prior_acc",
  "forgetting",
  "kl_forward",
  "kl_reverse",
];
const FILES = [
  "leaderboard.csv",
  "summary.csv",
  "fit.csv",
  "timings.csv",
  "train_log.jsonl",
  "manifest.json",
];

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
  deepEqual(Object.keys(rows[0]), LEADERBOARD);
  // smoke: 6 variants × 1 lr × 2 seeds × 2 step budgets.
  equal(rows.length, 24);
  for (const r of rows) {
    for (const c of ["new_task_acc", "prior_acc", "prior_acc_base"]) {
      ok(+r[c] >= 0 && +r[c] <= 1, `${c} in [0,1]`);
    }
    ok(
      Math.abs(+r.forgetting - (+r.prior_acc_base - +r.prior_acc)) < 2e-6,
      "forgetting = base − after",
    );
    ok(+r.kl_forward >= 0 && +r.kl_reverse >= 0, "KL ≥ 0");
  }
  const log = (await Deno.readTextFile(`${dir}/a/train_log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  equal(log.length, 6 * 2 * 6, "one line per step of every run");
  ok(
    log.filter((l) => l.variant === "rif_rft").every((l) => l.kept <= l.seen),
    "RIF-RFT logs kept ≤ seen",
  );
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/a/manifest.json`));
  equal(manifest.packages["@jax-js/jax"], "0.1.25");
  equal(Object.keys(manifest.data_checksums).length, 20);
  ok("dirty" in manifest.git);

  const b = await cli(["bench", "smoke", "--out", `${dir}/b`, "--cache", cache, "--quiet"]);
  equal(b.code, 0, b.stderr);
  ok(
    JSON.parse(await Deno.readTextFile(`${dir}/b/manifest.json`)).base_model.cached,
    "second run reuses the cached base",
  );
  for (const f of ["leaderboard.csv", "summary.csv", "fit.csv", "train_log.jsonl"]) {
    equal(
      await Deno.readTextFile(`${dir}/b/${f}`),
      await Deno.readTextFile(`${dir}/a/${f}`),
      `${f} identical`,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

const BAD: [string, string[], RegExp, Record<string, string>?][] = [
  [
    "unknown recipe",
    ["bench", "no_such_recipe"],
    /unknown recipe 'no_such_recipe'; known recipes: parity_mnist, smoke/,
  ],
  ["negative learning rate", ["bench", "smoke", "--lrs=-0.001"], /--lrs: '-0.001' must be > 0/],
  ["zero steps", ["bench", "smoke", "--steps", "0"], /--steps: '0' must be > 0/],
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
  ["unknown flag", ["bench", "smoke", "--frobnicate"], /Unknown option '--frobnicate'/],
  [
    "lm recipe with --lrs",
    ["bench", "lm", "--lrs", "1e-3"],
    /--lrs does not apply to the lm recipe/,
  ],
  ["lm recipe with a bad seed", ["bench", "lm", "--seeds", "1,x"], /--seeds: 'x' is not a number/],
  [
    "lm recipe with a bad device",
    ["bench", "lm", "--device", "tpu"],
    /--device/,
  ],
  ["unknown command", ["train"], /unknown command 'train'/],
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
  const base = (await import("../runs/smoke.ts")).recipe;
  const cases: [unknown, RegExp][] = [
    [
      { ...base, trainers: [{ name: "x", trainer: "sftt" }] },
      /bad_recipe\.ts: trainers\[0\]\.trainer: unknown trainer 'sftt'; known trainers: sft, sft_kl, grpo, reinforce10, rif_rft/,
    ],
    [
      { ...base, finetune: { ...base.finetune, lrs: [-1e-3] } },
      /bad_recipe\.ts: finetune\.lrs\[0\]: must be > 0, got -0\.001/,
    ],
    [
      { ...base, finetune: { ...base.finetune, checkpoints: [0] } },
      /bad_recipe\.ts: finetune\.checkpoints\[0\]: must be > 0, got 0/,
    ],
    [
      { ...base, trainers: [{ name: "g", trainer: "grpo", options: { group: 0 } }] },
      /bad_recipe\.ts: trainers\[0\]\.options\.group: must be ≥ 1, got 0/,
    ],
    [
      { ...base, trainers: [{ name: "r", trainer: "replay" }] },
      /bad_recipe\.ts: trainers\[0\]\.trainer: 'replay' trains on a task sequence/,
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

Deno.test("a corrupt cached base model is a one-line error naming the file", async () => {
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
  const [cached] = [...Deno.readDirSync(`${dir}/cache`)].map((e) => `${dir}/cache/${e.name}`);
  await Deno.writeFile(cached, new Uint8Array([1, 2, 3]));
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
    r.stderr.includes(`${cached}: cached base model is unreadable`) &&
      r.stderr.includes("delete it"),
    r.stderr,
  );
  equal(await exists(`${dir}/b`), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tasks, trainers and recipes subcommands list the registries", async () => {
  const t = await cli(["tasks"]);
  equal(t.code, 0);
  ok(
    /parity_mnist@1\s+downstream/.test(t.stdout) && /fashion_mnist@1\s+general/.test(t.stdout),
    t.stdout,
  );
  const tr = await cli(["trainers"]);
  for (const id of ["sft", "sft_kl", "grpo", "reinforce10", "rif_rft"]) {
    ok(tr.stdout.includes(id), id);
  }
  const h = await cli(["--help"]);
  equal(h.code, 0);
  ok(h.stdout.includes("deno task bench"));
});
