// Tests for runs/records.ts: lines written with non-finite numbers as null and read back as NaN,
// appended a run at a time, and every damaged file a one-line error naming the file and line.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { validateRecipe } from "./recipe.ts";
import { recipe as smoke } from "./recipes/smoke.ts";
import { jsonLine, readRecords, RecordWriter } from "./records.ts";

const header = {
  type: "recipe" as const,
  forgetbench: "test",
  recipe: validateRecipe(smoke, "smoke.ts"),
  orders: [["parity_mnist"]],
  inputs: {},
};
const run = { variant: "v", trainer: "sft", lr: 0.1, seed: 1, order: 0 };

Deno.test("jsonLine: NaN and ±Infinity as null", () => {
  equal(jsonLine({ a: NaN, b: Infinity, c: 1.5 }), '{"a":null,"b":null,"c":1.5}');
});

Deno.test("RecordWriter: header first, lines appended at each flush, NaN read back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = await RecordWriter.create(dir, header);
    w.add({
      type: "kl",
      ...run,
      stage: 1,
      step: 2,
      tasks: "t",
      kl_forward: 0.5,
      kl_reverse: NaN,
      kl_prev: 0.5,
      n: 3,
    });
    w.sample({ task: "t", ids: ["a"] });
    equal(
      (await Deno.readTextFile(`${dir}/records.jsonl`)).split("\n").length,
      2,
      "not flushed yet",
    );
    await w.flush();
    w.add({ type: "run", ...run, tasks: "t", joint: false });
    await w.flush();
    const { header: h, records } = await readRecords(dir);
    deepEqual(h.recipe.id, "smoke");
    equal(records.length, 2);
    const kl = records[0] as { kl_reverse: number; kl_forward: number };
    ok(Number.isNaN(kl.kl_reverse));
    equal(kl.kl_forward, 0.5);
    equal(await Deno.readTextFile(`${dir}/samples.jsonl`), '{"task":"t","ids":["a"]}\n');
    // A new writer starts the folder's files afresh.
    await RecordWriter.create(dir, header);
    equal((await readRecords(dir)).records.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRecords: damaged files are one-line errors naming file and line", async () => {
  const dir = await Deno.makeTempDir();
  const bad = async (text: string, re: RegExp) => {
    await Deno.writeTextFile(`${dir}/records.jsonl`, text);
    await rejects(() => readRecords(dir), (e: unknown) => {
      ok(
        e instanceof ValidationError && re.test(e.message) && !e.message.includes("\n"),
        String(e),
      );
      return true;
    });
  };
  try {
    await rejects(() => readRecords(`${dir}/none`), /records\.jsonl: cannot read records/);
    await bad(jsonLine(header) + "\n{oops\n", /records\.jsonl:2: not JSON/);
    await bad('{"type":"eval"}\n', /records\.jsonl:1: the first record must be the recipe/);
    await bad(
      jsonLine(header) + '\n{"type":"mystery"}\n',
      /records\.jsonl:2: unknown record type 'mystery'/,
    );
    await bad(
      jsonLine(header) + "\n[1]\n",
      /records\.jsonl:2: a record must be an object with a type/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
