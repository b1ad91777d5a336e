// The bad-input catalogue: every way a new user can get a recipe, a task file, a model folder, a
// predictions file or a flag wrong, tried through the real CLI. Each must end in exactly one line
// on stderr (`error: FILE: field: problem`, no stack trace) naming the file and the field, key
// path or line, exit code 2, and leave no result file in the output folder.

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { cli, TEXT_PERMISSIONS } from "./cli.ts";
import { fixtureBytes } from "../lib/published_files.ts";
import { fixtureDataFolder, writeTaskFixture } from "../runs/fixtures.ts";
import { getTask } from "../tasks/mod.ts";
import { recipe as smoke } from "../runs/recipes/smoke.ts";
import { writeTinyLlama3, writeTinyQwen2 } from "../models/tiny_checkpoints.ts";
import { decodeSafetensors, encodeSafetensors } from "../models/safetensors.ts";

interface Setup {
  readonly dir: string;
  /** The hub tasks' fixture files, as `--data` takes them (hellaswag's is enough here). */
  readonly data: string;
  /** hellaswag's test file in that folder. */
  readonly hellaswag: string;
  /** Predictions of every hellaswag fixture item, well formed. */
  readonly preds: string;
  /** A Qwen2.5-layout checkpoint (one BF16 model.safetensors) and a Llama-3 one (two F16 shards). */
  readonly qwen: string;
  readonly llama3: string;
  /** An evaluation-only recipe for a llama-family model, measured on two hellaswag items. */
  readonly evalRecipe: string;
}

let setup: Promise<Setup> | undefined;
/** The good inputs every case breaks one thing of, written once for the file. */
function fixtures(): Promise<Setup> {
  setup ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "forgetbench-bad-" });
    const data = join(dir, "data");
    await writeTaskFixture(data, getTask("hellaswag"));
    const hellaswag = join(data, "hellaswag", "data", "validation-00000-of-00001.parquet");
    const preds = join(dir, "preds.jsonl");
    await Deno.writeTextFile(preds, predLines([0, 1, 2]));
    const qwen = join(dir, "qwen"), llama3 = join(dir, "llama3");
    await writeTinyQwen2(qwen, { seed: 1 });
    await writeTinyLlama3(llama3, { seed: 1 });
    const evalRecipe = join(dir, "eval_recipe.ts");
    await writeRecipe(evalRecipe, {
      id: "bad_model",
      description: "an evaluation-only recipe for the model-folder cases",
      model: { family: "llama", source: qwen },
      stages: [],
      panel: [{ task: "hellaswag", items: 2 }],
      seeds: [1],
      variants: [],
    });
    return { dir, data, hellaswag, preds, qwen, llama3, evalRecipe };
  })();
  return setup;
}

/** hellaswag predictions (4 log-likelihoods each) for the fixture items `ids`. */
function predLines(ids: readonly (number | string)[]): string {
  return ids.map((id) => JSON.stringify({ id: String(id), output: [-1, -2, -3, -4] }) + "\n")
    .join("");
}

async function writeRecipe(path: string, recipe: unknown): Promise<void> {
  await Deno.writeTextFile(path, `export const recipe = ${JSON.stringify(recipe, null, 2)};\n`);
}

/** Every file under `dir` (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  try {
    await walk(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Runs the CLI with `args` plus a fresh `--out` (and `--cache` for bench) and checks the verdict:
 * exit 2, one stderr line `error: ...` holding `file` (a path, or a flag) and matching `what`
 * (the field, key path or line, and the problem), and no result file written.
 */
async function refused(
  args: string[],
  file: string,
  what: RegExp,
): Promise<void> {
  const s = await fixtures();
  const out = join(s.dir, `out-${crypto.randomUUID()}`);
  const extra = args[0] === "bench"
    ? ["--out", out, "--cache", join(s.dir, "cache"), "--offline", "--quiet"]
    : ["--out", out, "--quiet"];
  // The flags of the run go right after the command, so a case's own last flag stays last.
  const res = await cli([args[0], ...extra, ...args.slice(1)], {
    permissions: TEXT_PERMISSIONS,
    env: { HF_HUB_OFFLINE: "1" },
  });
  const lines = res.stderr.trimEnd().split("\n");
  equal(res.code, 2, `${args.join(" ")}: exit ${res.code}\n${res.stderr}`);
  equal(lines.length, 1, `exactly one line:\n${res.stderr}`);
  ok(lines[0].startsWith("error: "), lines[0]);
  ok(lines[0].includes(file), `names ${file}: ${lines[0]}`);
  ok(what.test(lines[0]), `${lines[0]}\nshould match ${what}`);
  equal((await filesUnder(out)).length, 0, `nothing written under ${out}`);
}

// ---------------------------------------------------------------------------------------------
// Recipes: one field of the smoke recipe wrong, or one unknown key at each level.

type R = Record<string, unknown>;
const base = smoke as unknown as R;
const train = base.train as R, data = base.data as R, pretrain = base.pretrain as R;
const variant0 = (base.variants as R[])[0];
const withVariant0 = (v: R) => ({ ...base, variants: [v, ...(base.variants as R[]).slice(1)] });

const RECIPES: [string, unknown, RegExp][] = [
  ["a top-level typo (matchWitin)", { ...base, matchWitin: 0.05 }, /: matchWitin: unknown field/],
  [
    "an unknown key in a variant",
    withVariant0({ ...variant0, optons: { labelling: "sft1" } }),
    /: variants\[0\]\.optons: unknown field/,
  ],
  [
    "an unknown trainer option",
    withVariant0({ ...variant0, options: { labeling: "sft1" } }),
    /: variants\[0\]\.options: unknown option 'labeling' \(known: labelling\)/,
  ],
  [
    "an unknown key in a panel entry",
    { ...base, panel: [{ task: "fashion_mnist", itemz: 5 }] },
    /: panel\[0\]\.itemz: unknown field/,
  ],
  ["an unknown key in kl", { ...base, kl: { item: 5 } }, /: kl\.item: unknown field/],
  ["an unknown key in data", { ...base, data: { ...data, size: {} } }, /: data\.size: unknown/],
  [
    "an unknown split in data.sizes",
    {
      ...base,
      data: {
        ...data,
        sizes: { ...(data.sizes as R), parity_mnist: { tset: 10, pretrain: 10, train: 20 } },
      },
    },
    /: data\.sizes\.parity_mnist\.tset: unknown split \(known: test, train, pretrain\)/,
  ],
  [
    "an unknown task in data.sizes",
    { ...base, data: { ...data, sizes: { ...(data.sizes as R), parity_mnst: { test: 5 } } } },
    /: data\.sizes\.parity_mnst: unknown task 'parity_mnst'/,
  ],
  [
    "an unknown key in pretrain",
    { ...base, pretrain: { ...pretrain, step: 40 } },
    /: pretrain\.step: unknown field/,
  ],
  [
    "an unknown key in a pretraining task",
    { ...base, pretrain: { ...pretrain, tasks: [{ task: "parity_mnist", labeling: "digit" }] } },
    /: pretrain\.tasks\[0\]\.labeling: unknown field/,
  ],
  [
    "an unknown key in a schedule",
    { ...base, train: { ...train, schedule: { warmup: 0.1, decai: "cosine" } } },
    /: train\.schedule\.decai: unknown field/,
  ],
  [
    "an unknown key in the model",
    { ...base, model: { family: "mlp", hidden: [32], hiden: [8] } },
    /: model\.hiden: unknown field/,
  ],
  ["repeated seeds", { ...base, seeds: [1, 1] }, /: seeds: has duplicates: \[1,1\]/],
  [
    "repeated learning rates",
    { ...base, train: { ...train, lrs: [1e-3, 0.001] } },
    /: train\.lrs: has duplicates/,
  ],
  [
    "a last checkpoint that is not the step budget",
    { ...base, train: { ...train, checkpoints: [3, 5] } },
    /: train\.checkpoints: the last checkpoint must be the step budget 6, got 5/,
  ],
  ["a fractional seed", { ...base, seeds: [1.5] }, /: seeds\[0\]: must be an integer, got 1\.5/],
  [
    "matchWithin out of range",
    { ...base, matchWithin: 2 },
    /: matchWithin: must be below 1 \(accuracy units\), got 2/,
  ],
  [
    "an unknown stage task",
    { ...base, stages: ["parity_mnst"] },
    /: stages\[0\]: unknown task 'parity_mnst'/,
  ],
  [
    "an unknown labelling",
    withVariant0({ ...variant0, options: { labelling: "sft3" } }),
    /: variants\[0\]\.options\.labelling: task 'parity_mnist' has no labelling 'sft3'/,
  ],
  [
    "fitExcluding a variant the recipe lacks",
    { ...base, fitExcluding: ["sft_k"] },
    /: fitExcluding: 'sft_k' is not a variant of this recipe/,
  ],
  [
    "circuits on a model that is not a llama",
    { ...base, circuits: { skills: ["copy"], items: 4, steps: 2, lambda: 0.01 } },
    /: circuits: circuit discovery patches the heads of an in-process llama model; this recipe's model is mlp/,
  ],
  [
    "circuits of an unknown skill",
    { ...base, circuits: { skills: ["cpy"], items: 4, steps: 2, lambda: 0.01 } },
    /: circuits\.skills\[0\]: unknown task 'cpy'/,
  ],
  [
    "circuits of a task without counterfactuals",
    { ...base, circuits: { skills: ["parity_mnist"], items: 4, steps: 2, lambda: 0.01 } },
    /: circuits\.skills\[0\]: task 'parity_mnist' declares no counterfactuals \(tasks that do: .*copy/,
  ],
  [
    "circuits with no items",
    { ...base, circuits: { skills: ["copy"], items: 0, steps: 2, lambda: 0.01 } },
    /: circuits\.items: must be > 0, got 0/,
  ],
  [
    "circuits with fractional steps",
    { ...base, circuits: { skills: ["copy"], items: 4, steps: 2.5, lambda: 0.01 } },
    /: circuits\.steps: must be an integer, got 2\.5/,
  ],
  [
    "circuits with a negative lambda",
    { ...base, circuits: { skills: ["copy"], items: 4, steps: 2, lambda: -1 } },
    /: circuits\.lambda: must be ≥ 0, got -1/,
  ],
  [
    "an unknown key in circuits",
    { ...base, circuits: { skills: ["copy"], items: 4, step: 2, lambda: 0.01 } },
    /: circuits\.step: unknown field/,
  ],
  [
    "a skill listed twice in circuits",
    { ...base, circuits: { skills: ["copy", "copy"], items: 4, steps: 2, lambda: 0.01 } },
    /: circuits\.skills: 'copy' appears twice/,
  ],
];

for (const [name, recipe, what] of RECIPES) {
  Deno.test(`bad recipe: ${name}`, async () => {
    const s = await fixtures();
    const file = join(s.dir, `recipe-${crypto.randomUUID()}.ts`);
    await writeRecipe(file, recipe);
    await refused(["bench", file], file, what);
  });
}

Deno.test("bad recipe: a file that does not export `recipe`", async () => {
  const s = await fixtures();
  const file = join(s.dir, "no_export.ts");
  await Deno.writeTextFile(file, "export const recipes = {};\n");
  await refused(["bench", file], file, /: must export `recipe`/);
});

Deno.test("bad recipe: a file that does not compile", async () => {
  const s = await fixtures();
  const file = join(s.dir, "syntax.ts");
  await Deno.writeTextFile(file, "export const recipe = { id: 'x',\n");
  await refused(["bench", file], file, /syntax\.ts:1:33: cannot load it \(SyntaxError: /);
});

Deno.test("bad recipe: a file that throws while loading", async () => {
  const s = await fixtures();
  const file = join(s.dir, "throws.ts");
  await Deno.writeTextFile(
    file,
    'export const recipe = {};\nthrow new Error("no recipe today");\n',
  );
  await refused(["bench", file], file, /throws\.ts:2:7: cannot load it \(no recipe today\)/);
});

// ---------------------------------------------------------------------------------------------
// Flags.

const FLAGS: [string, string[], string, RegExp][] = [
  ["--seeds 1,1", ["bench", "smoke", "--seeds", "1,1"], "--seeds", /'1,1' has duplicates/],
  [
    "--lrs written twice alike",
    ["bench", "smoke", "--lrs", "1e-3,0.001"],
    "--lrs",
    /'1e-3,0\.001' has duplicates/,
  ],
  ["--steps 3,3", ["bench", "smoke", "--steps", "3,3"], "--steps", /'3,3' has duplicates/],
  ["--seeds 1.5", ["bench", "smoke", "--seeds", "1.5"], "--seeds", /'1\.5' must be an integer/],
  ["--lrs with a trailing comma", ["bench", "smoke", "--lrs", "1e-3,"], "--lrs", /'' is not a/],
  ["--lrs NaN", ["bench", "smoke", "--lrs", "NaN"], "--lrs", /'NaN' is not a number/],
  [
    "--trainers naming a variant twice",
    ["bench", "smoke", "--trainers", "sft1,sft1"],
    "--trainers",
    /'sft1,sft1' has duplicates/,
  ],
  ["--jobs 0", ["bench", "smoke", "--jobs", "0"], "--jobs", /'0' must be a positive integer/],
  [
    "--seeds given twice",
    ["bench", "smoke", "--seeds", "1", "--seeds=2"],
    "--seeds",
    /given more than once/,
  ],
  ["--lrs 1e9,-1", ["bench", "smoke", "--lrs=1e9,-1"], "--lrs", /must be > 0|positive/],
  ["--memory 12XB", ["bench", "smoke", "--memory", "12XB"], "--memory", /12XB/],
  ["--seeds without a value", ["bench", "smoke", "--seeds"], "--seeds", /: missing its value/],
  [
    "--lrs followed by another flag",
    ["bench", "smoke", "--lrs", "--trainers", "sft1"],
    "--lrs",
    /: a value that starts with '-' must be written with '=', as --lrs=-1 \(or its value is missing\)/,
  ],
];

for (const [name, args, flag, what] of FLAGS) {
  Deno.test(`bad flag: ${name}`, async () => {
    await refused(args, flag, what);
  });
}

// ---------------------------------------------------------------------------------------------
// Task files, through `score --data FILE` (and a fixtures recipe for the pinned folder).

/** hellaswag's fixture records, as the hub publishes them. */
function hellaswagRecords(): R[] {
  return getTask("hellaswag").fixture.records!.test as R[];
}

async function scoreData(name: string, bytes: Uint8Array, what: RegExp): Promise<void> {
  const s = await fixtures();
  const file = join(s.dir, `${crypto.randomUUID()}-${name}`);
  await Deno.writeFile(file, bytes);
  await refused(
    ["score", "--task", "hellaswag", "--data", file, "--predictions", s.preds],
    file,
    what,
  );
}

Deno.test("bad task file: truncated gzip", async () => {
  const gz = fixtureBytes(hellaswagRecords(), "jsonl.gz");
  await scoreData(
    "validation.jsonl.gz",
    gz.subarray(0, gz.length >> 1),
    /: truncated or corrupt gzip/,
  );
});

Deno.test("bad task file: parquet with a wrong schema (a renamed column)", async () => {
  const records = hellaswagRecords().map(({ endings, ...r }) => ({ ...r, ending: endings }));
  await scoreData(
    "validation.parquet",
    fixtureBytes(records, "parquet"),
    / row 0: field 'endings' missing/,
  );
});

Deno.test("bad task file: parquet with a wrong schema (a column of another type)", async () => {
  const records = hellaswagRecords().map((r) => ({ ...r, endings: (r.endings as string[])[0] }));
  await scoreData(
    "validation.parquet",
    fixtureBytes(records, "parquet"),
    / row 0: field 'endings' is string, expected string\[\]/,
  );
});

Deno.test("bad task file: truncated parquet", async () => {
  const pq = fixtureBytes(hellaswagRecords(), "parquet");
  await scoreData("validation.parquet", pq.subarray(0, pq.length - 100), /: truncated parquet/);
});

Deno.test("bad task file: JSONL with a broken line", async () => {
  const lines = new TextDecoder().decode(fixtureBytes(hellaswagRecords(), "jsonl")).split("\n");
  lines[1] = lines[1].slice(0, 40);
  await scoreData(
    "validation.jsonl",
    new TextEncoder().encode(lines.join("\n")),
    /:2: not valid JSON/,
  );
});

Deno.test("bad task file: a repeated item id", async () => {
  const [a, b, c] = hellaswagRecords();
  await scoreData(
    "validation.jsonl",
    fixtureBytes([a, b, { ...c, ind: a.ind }], "jsonl"),
    /:3: duplicate ind '0' \(also at .*:1\)/,
  );
});

Deno.test("bad task file: a label out of range", async () => {
  const [a, ...rest] = hellaswagRecords();
  await scoreData(
    "validation.parquet",
    fixtureBytes([{ ...a, label: "7" }, ...rest], "parquet"),
    / row 0: field 'label' must index one of 4 endings, got "7"/,
  );
});

Deno.test("bad task file: a Git LFS pointer instead of the data", async () => {
  await scoreData(
    "validation.parquet",
    new TextEncoder().encode(
      "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n",
    ),
    /: is a Git LFS pointer/,
  );
});

Deno.test("bad task file: a pinned fixture file whose sha256 changed", async () => {
  const s = await fixtures();
  const cache = join(s.dir, "cache-pinned");
  const folder = await fixtureDataFolder([getTask("hellaswag")], cache);
  const file = join(folder, "hellaswag", "data", "validation-00000-of-00001.parquet");
  const [a, ...rest] = hellaswagRecords();
  await Deno.writeFile(file, fixtureBytes([{ ...a, label: "1" }, ...rest], "parquet"));
  const recipe = join(s.dir, "fixtures_recipe.ts");
  await writeRecipe(recipe, {
    id: "pinned",
    description: "hellaswag from the fixture records",
    model: { family: "llama", source: s.qwen },
    data: { fixtures: true },
    stages: [],
    panel: ["hellaswag"],
    seeds: [1],
    variants: [],
  });
  const out = join(s.dir, `out-${crypto.randomUUID()}`);
  const res = await cli(["bench", recipe, "--cache", cache, "--out", out, "--quiet"], {
    permissions: TEXT_PERMISSIONS,
  });
  const lines = res.stderr.trimEnd().split("\n");
  equal(res.code, 2, res.stderr);
  equal(lines.length, 1, res.stderr);
  ok(lines[0].includes(file) && / sha256 is [0-9a-f]{64} but /.test(lines[0]), lines[0]);
  equal((await filesUnder(out)).length, 0);
});

// ---------------------------------------------------------------------------------------------
// Model folders, through an evaluation-only recipe with `--model DIR`.

/** A copy of a checkpoint folder with `change` applied to it. */
async function brokenModel(from: string, change: (dir: string) => Promise<void>): Promise<string> {
  const s = await fixtures();
  const dir = join(s.dir, `model-${crypto.randomUUID()}`);
  await Deno.mkdir(dir);
  for await (const e of Deno.readDir(from)) {
    await Deno.copyFile(join(from, e.name), join(dir, e.name));
  }
  await change(dir);
  return dir;
}

async function modelRefused(dir: string, file: string, what: RegExp): Promise<void> {
  const s = await fixtures();
  await refused(["bench", s.evalRecipe, "--model", dir, "--data", s.data], file, what);
}

/** Rewrites one safetensors file with `edit` applied to its tensors (dtypes kept). */
async function editTensors(
  path: string,
  edit: (w: Map<string, { shape: number[]; data: Float32Array }>) => void,
): Promise<void> {
  const { weights, dtypes } = decodeSafetensors(await Deno.readFile(path), path);
  edit(weights);
  await Deno.writeFile(path, encodeSafetensors(weights, { format: "pt" }, { dtype: dtypes }));
}

Deno.test("bad model folder: missing tokenizer.json", async () => {
  const s = await fixtures();
  const dir = await brokenModel(s.qwen, (d) => Deno.remove(join(d, "tokenizer.json")));
  await modelRefused(dir, join(dir, "tokenizer.json"), /tokenizer\.json: missing/);
});

Deno.test("bad model folder: config.json dims that the weights do not have", async () => {
  const s = await fixtures();
  const dir = await brokenModel(s.qwen, async (d) => {
    const cfg = JSON.parse(await Deno.readTextFile(join(d, "config.json")));
    await Deno.writeTextFile(
      join(d, "config.json"),
      JSON.stringify({ ...cfg, intermediate_size: 96 }),
    );
  });
  await modelRefused(
    dir,
    join(dir, "model.safetensors"),
    /: tensor 'model\.layers\.0\.mlp\.down_proj\.weight' has shape \[64,128\], config\.json implies \[64,96\]/,
  );
});

Deno.test("bad model folder: NaN weights", async () => {
  const s = await fixtures();
  const dir = await brokenModel(s.qwen, (d) =>
    editTensors(join(d, "model.safetensors"), (w) => {
      w.get("model.layers.1.self_attn.q_proj.weight")!.data[5] = NaN;
    }));
  await modelRefused(
    dir,
    join(dir, "model.safetensors"),
    /: tensor 'model\.layers\.1\.self_attn\.q_proj\.weight' holds NaN at element 5/,
  );
});

Deno.test("bad model folder: infinite weights in a shard", async () => {
  const s = await fixtures();
  const shard = "model-00002-of-00002.safetensors";
  let name = "";
  const dir = await brokenModel(s.llama3, (d) =>
    editTensors(join(d, shard), (w) => {
      name = [...w.keys()].sort()[0];
      w.get(name)!.data[0] = -Infinity;
    }));
  await modelRefused(
    dir,
    join(dir, shard),
    new RegExp(`: tensor '${escape(name)}' holds -Infinity at element 0`),
  );
});

Deno.test("bad model folder: a missing shard", async () => {
  const s = await fixtures();
  const shard = "model-00001-of-00002.safetensors";
  const dir = await brokenModel(s.llama3, (d) => Deno.remove(join(d, shard)));
  await modelRefused(dir, join(dir, shard), /: missing shard \(model\.safetensors\.index\.json/);
});

Deno.test("bad model folder: a truncated weights file", async () => {
  const s = await fixtures();
  const dir = await brokenModel(s.qwen, async (d) => {
    const bytes = await Deno.readFile(join(d, "model.safetensors"));
    await Deno.writeFile(join(d, "model.safetensors"), bytes.subarray(0, bytes.length - 1000));
  });
  await modelRefused(dir, join(dir, "model.safetensors"), /: tensor '.*' offsets .* do not fit/);
});

Deno.test("bad model folder: config.json that is not JSON", async () => {
  const s = await fixtures();
  const dir = await brokenModel(s.qwen, (d) => Deno.writeTextFile(join(d, "config.json"), "{"));
  await modelRefused(dir, join(dir, "config.json"), /: not JSON/);
});

// ---------------------------------------------------------------------------------------------
// Predictions files, through `score`.

async function scorePreds(text: string, what: RegExp): Promise<void> {
  const s = await fixtures();
  const file = join(s.dir, `preds-${crypto.randomUUID()}.jsonl`);
  await Deno.writeTextFile(file, text);
  await refused(
    ["score", "--task", "hellaswag", "--data", s.hellaswag, "--predictions", file],
    file,
    what,
  );
}

Deno.test("bad predictions: a broken line", async () => {
  await scorePreds(predLines([0, 1]) + '{"id": "2", "output": [-1,\n', /:3: not valid JSON/);
});

Deno.test("bad predictions: a line without its output", async () => {
  await scorePreds(
    predLines([0, 1]) + '{"id": "2"}\n',
    /:3: field 'output' \(or 'completion', or 'loglikelihoods'\) missing/,
  );
});

Deno.test("bad predictions: an id that is not an item of the data", async () => {
  await scorePreds(predLines([0, 1, 2, 9]), /:4: id '9' is not an item of .*\.parquet/);
});

Deno.test("bad predictions: an item without a prediction", async () => {
  await scorePreds(predLines([0, 2]), /: no prediction for 1 of 3 items of .* \(first: '1'\)/);
});

Deno.test("bad predictions: text where the task needs log-likelihoods", async () => {
  await scorePreds(
    predLines([0, 1]) + '{"id": "2", "output": "the dog"}\n',
    /:3: id '2': the task needs per-choice log-likelihoods, got text/,
  );
});

Deno.test("bad predictions: a log-likelihood missing from one item's choices", async () => {
  await scorePreds(
    predLines([0, 1]) + '{"id": "2", "loglikelihoods": [-1, -2, -3]}\n',
    /:3: id '2': has 4 choices but 3 log-likelihoods/,
  );
});

Deno.test("bad predictions: one id twice", async () => {
  await scorePreds(predLines([0, 1, 2, 1]), /:4: id '1' appears twice/);
});
