// The circuit analysis inside the pipeline, on the tiny LM in seconds: a recipe with a circuits
// field records π0's circuits (stage 0) and every run's at the end of each stage, and writes
// circuits.csv, retention.csv and circuit_fit.csv and the report's circuit section; a second run
// gives the same bytes, and so do two shards merged.

import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { runRecipe } from "../runs/pipeline.ts";
import { type Recipe, validateRecipe } from "../runs/recipe.ts";
import { recipe as lm } from "../runs/recipes/lm.ts";
import { mergeShards } from "../runs/shard.ts";
import { TINY_LM_CONFIG } from "./tiny_lm.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const TASKS = ["many_answers", "word_math"];
const SKILLS = ["copy", "compare"];

const TINY: Recipe = {
  ...lm,
  id: "circuits_tiny",
  model: { ...lm.model, config: TINY_LM_CONFIG },
  data: {
    seed: 0,
    sizes: {
      ...Object.fromEntries(TASKS.map((t) => [t, { train: 8, test: 4 }])),
      ...Object.fromEntries(SKILLS.map((t) => [t, { pretrain: 40, test: 6 }])),
    },
  },
  pretrain: { tasks: SKILLS, seed: 0, steps: 10, batch: 16, lr: 1e-2 },
  stages: TASKS,
  panel: SKILLS,
  seeds: [1, 2],
  variants: [
    { trainer: "sft", lrs: [1e-2], steps: 2, batch: 4 },
    { trainer: "rif_rft", options: { group: 2 }, lrs: [1e-2], steps: 1, batch: 2 },
  ],
  kl: { items: 2, samples: 1 },
  circuits: { skills: SKILLS, items: 4, steps: 3, lambda: 0.01 },
};

const FILES = ["circuits.csv", "retention.csv", "circuit_fit.csv", "stages.csv"];
const loaded = { recipe: validateRecipe(TINY, "tests/circuits_pipeline_test.ts"), file: "t" };
const rowsOf = (text: string) => parse(text, { columns: true }) as Record<string, string>[];
const untimed = async (dir: string) =>
  (await Deno.readTextFile(`${dir}/records.jsonl`)).split("\n")
    .filter((l) => !l.includes('"type":"timing"')).join("\n");
const read = (dir: string, f: string) => Deno.readTextFile(join(dir, f));

Deno.test(
  "pipeline: circuits on π0 and after every stage, byte-identical twice and merged from shards",
  opts,
  async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const cacheDir = join(tmp, "cache");
      const run = (out: string, shard?: { index: number; count: number }) =>
        runRecipe(loaded, { out, cacheDir, device: "wasm", quiet: true, shard });
      const a = join(tmp, "a"), b = join(tmp, "b");
      await run(a);
      const L = TINY_LM_CONFIG.num_hidden_layers, NH = TINY_LM_CONFIG.num_attention_heads;
      const circuits = rowsOf(await read(a, "circuits.csv"));
      deepEqual(Object.keys(circuits[0]), [
        "variant",
        "trainer",
        "lr",
        "seed",
        "order",
        "stage",
        "step",
        "skill",
        "layer",
        "head",
        "mask",
        "theta",
        "necessity",
      ]);
      // π0 once, then 2 variants × 2 seeds × 2 stages; per skill, every head.
      const models = 1 + 2 * 2 * TASKS.length;
      equal(circuits.length, models * SKILLS.length * L * NH);
      equal(circuits.filter((r) => r.stage === "0" && r.variant === "").length, 2 * L * NH);
      ok(circuits.every((r) => r.mask === "0" || r.mask === "1"));
      const retention = rowsOf(await read(a, "retention.csv"));
      equal(retention.length, (models - 1) * SKILLS.length);
      for (const r of retention) {
        ok(r.panel_drop !== "" && r.kl_forward !== "", JSON.stringify(r));
        if (r.base_size !== "0") {
          equal(
            Number(r.retention).toFixed(6),
            (Number(r.retained) / Number(r.base_size)).toFixed(6),
          );
        }
      }
      const fit = rowsOf(await read(a, "circuit_fit.csv"));
      ok(fit.every((f) => f.target === "panel_drop" && Number(f.n) >= 3));
      const timings = rowsOf(await read(a, "timings.csv"));
      ok(timings.some((t) => t.phase === "circuits"));
      const html = await read(a, "report.html");
      ok(html.includes('id="circuits"') && html.includes('data-chart="circuits-'), "section");
      const manifest = JSON.parse(await read(a, "manifest.json"));
      for (const f of FILES) ok(/^[0-9a-f]{64}$/.test(manifest.outputs_sha256[f]), f);

      // Again (π0 from the cache): the same records and bytes.
      await run(b);
      equal(await untimed(b), await untimed(a), "records.jsonl");
      for (const f of FILES) equal(await read(b, f), await read(a, f), f);

      // Two shards, merged: the unsharded run's records and circuit tables.
      const shards = [0, 1].map((i) => join(tmp, `shard${i}`));
      for (const [i, d] of shards.entries()) await run(d, { index: i, count: 2 });
      const m = join(tmp, "merged");
      await mergeShards(m, shards);
      equal(await untimed(m), await untimed(a), "merged records");
      for (const f of FILES) equal(await read(m, f), await read(a, f), `merged ${f}`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
