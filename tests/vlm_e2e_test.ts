// `eval --tasks mmmu` end to end, as a user runs it: MMMU's fixture (parquet with image columns,
// as the hub publishes it) on the tiny LLaVA fixture model on cpu, offline. Every item must be
// generated and scored, and a rerun must write byte-identical results and samples.

import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { cli, TEXT_PERMISSIONS } from "./cli.ts";
import { writeTaskFixture } from "../runs/fixtures.ts";
import { getTask } from "../tasks/mod.ts";
import { writeTinyLlava } from "../models/tiny_llava.ts";

Deno.test("eval: MMMU on the tiny vision-language model writes 30 scored items; reruns identical", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench-vlm-" });
  try {
    const data = join(dir, "data"), model = join(dir, "vlm");
    await writeTaskFixture(data, getTask("mmmu"));
    await writeTinyLlava(model, { seed: 3 });
    const evalTo = (out: string) =>
      cli([
        "eval",
        "--model",
        model,
        "--tasks",
        "mmmu",
        "--data",
        data,
        "--offline",
        "--cache",
        join(dir, "cache"),
        "--max-new-tokens",
        "8",
        "--quiet",
        "--out",
        out,
      ], { permissions: TEXT_PERMISSIONS, env: { HF_HUB_OFFLINE: "1" } });
    const a = join(dir, "eval-a"), b = join(dir, "eval-b");
    const res = await evalTo(a);
    equal(res.code, 0, res.stderr);
    const rows = parse(await Deno.readTextFile(join(a, "results.csv")), {
      columns: true,
    }) as Record<string, string>[];
    deepEqual(rows.map((r) => `${r.task},${r.metric},${r.n}`), ["mmmu,acc,30"]);
    ok(Number(rows[0].value) >= 0 && Number(rows[0].value) <= 1);
    const samples = (await Deno.readTextFile(join(a, "samples.jsonl"))).trim().split("\n")
      .map((l) => JSON.parse(l));
    equal(samples.length, 30);
    for (const s of samples) {
      equal(s.task, "mmmu");
      ok(typeof s.output === "string", `${s.id} has generated output`);
      ok(s.score === 0 || s.score === 1);
    }
    // The model ran on images, not text alone: the item prompts carry the placeholder.
    ok(samples.every((s) => String(s.prompt).startsWith("<image 1>")));

    const again = await evalTo(b);
    equal(again.code, 0, again.stderr);
    for (const f of ["results.csv", "samples.jsonl"]) {
      equal(
        await Deno.readTextFile(join(b, f)),
        await Deno.readTextFile(join(a, f)),
        `${f} is byte-identical on a rerun`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
