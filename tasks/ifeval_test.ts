// Tests for tasks/ifeval.ts beyond the shared suite: the hub's JSON Lines file (kwargs holding only
// the keys used) and its parquet conversion (every kwargs key, null where unused) load to the same
// items; the request is lm-eval's (the prompt verbatim, no stop, 1,280 tokens); an unknown
// instruction in the data is one ValidationError naming the row.

import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { type ColumnType, writeFixture } from "../lib/published_files.ts";
import { ValidationError } from "../lib/errors.ts";
import { loadTestFile } from "./hub_data.ts";
import { ifeval, type IfevalDoc } from "./ifeval.ts";

const RECORDS = ifeval.fixture.records!.test;
const COLUMNS = ifeval.fixture.columns as Record<string, ColumnType>;
/** One fixture record parsed (IFEval's parse gives one item per record). */
const docOf = (i: number) =>
  ifeval.parse!(RECORDS[i], { where: "t", index: i, split: "test" }) as IfevalDoc;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench-ifeval-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ifeval: the JSON Lines file and its parquet conversion (null kwargs) give the same items", async () => {
  await withDir(async (dir) => {
    const jsonl = await writeFixture(dir, "ifeval_input_data", RECORDS, "jsonl");
    const parquet = await writeFixture(dir, "train-00000-of-00001", RECORDS, "parquet", {
      columns: COLUMNS,
    });
    const a = await loadTestFile(ifeval, jsonl), b = await loadTestFile(ifeval, parquet);
    equal(a.splits.test.length, RECORDS.length);
    deepEqual(b.splits.test, a.splits.test);
    const first = a.splits.test.find((d) => d.id === "9001")!;
    deepEqual(first.instructions[1], {
      id: "detectable_format:number_highlighted_sections",
      kwargs: { num_highlights: 2 },
    });
  });
});

Deno.test("ifeval: the request is the prompt verbatim, generated without stop strings for 1,280 tokens", () => {
  const doc = docOf(0);
  deepEqual(ifeval.request(doc, { shots: [] }), {
    kind: "generate",
    prompt: RECORDS[0].prompt,
    until: [],
    maxTokens: 1280,
  });
  equal(
    ifeval.target(doc),
    'punctuation:no_comma; detectable_format:number_highlighted_sections(num_highlights=2); length_constraints:number_words(relation="less than", num_words=60); keywords:existence(keywords=["tea","green"])',
  );
});

Deno.test("ifeval: a blank response follows nothing, strictly or loosely", () => {
  const doc = docOf(0);
  deepEqual(ifeval.score(doc, { kind: "generate", outputs: [" \n "] }, {}), {
    metrics: {
      prompt_level_strict_acc: 0,
      inst_level_strict_acc: 0,
      prompt_level_loose_acc: 0,
      inst_level_loose_acc: 0,
    },
  });
});

Deno.test("ifeval: an instruction outside the registry is one ValidationError naming the line", async () => {
  await withDir(async (dir) => {
    const bad = {
      ...RECORDS[1],
      instruction_id_list: ["detectable_format:rephrase"],
      kwargs: [{}],
    };
    const path = await writeFixture(
      join(dir, "x"),
      "ifeval_input_data",
      [RECORDS[0], bad],
      "jsonl",
    );
    await rejects(
      loadTestFile(ifeval, path),
      (e) =>
        e instanceof ValidationError &&
        e.message ===
          `${path}:2: instruction_id_list[0]: unknown instruction 'detectable_format:rephrase'`,
    );
  });
});
