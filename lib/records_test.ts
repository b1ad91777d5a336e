// Tests for lib/records.ts on fixtures written in the hub's published formats by
// lib/published_files.ts, including every error a user's data file can cause.

import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { ValidationError } from "./errors.ts";
import { sha256Hex } from "./hash.ts";
import { readRecords, requireFields } from "./records.ts";
import { fixtureBytes, writeFixture } from "./published_files.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);

/** Records shaped like MMMU + TruthfulQA + MMLU-Pro rows, with every column type. */
const ROWS = [
  {
    id: 70,
    question: "Which?",
    options: ["a", "b"],
    image_1: { bytes: PNG, path: "q70.png" },
    mc1_targets: { choices: ["yes", "no"], labels: [1, 0] },
    score: 0.5,
    ok: true,
  },
  {
    id: 9007199254740993n,
    question: "Ünïcode ✓",
    options: [],
    image_1: null,
    mc1_targets: { choices: [], labels: [] },
    score: 2,
    ok: false,
  },
];

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "forgetbench_records_" });
}

async function rejectsAt(path: string, pattern: RegExp): Promise<void> {
  await rejects(readRecords(path), (e: Error) => {
    ok(e instanceof ValidationError, `ValidationError expected, got ${e}`);
    ok(!e.message.includes("\n"), `one line: ${e.message}`);
    match(e.message, pattern);
    return true;
  });
}

Deno.test("parquet: nested structs, lists, int64, image bytes come out as plain values", async () => {
  const dir = await tempDir();
  try {
    const path = await writeFixture(dir, "data/test-00000-of-00001", ROWS, "parquet", {
      columns: { mc1_targets: { struct: { choices: "list<string>", labels: "list<int32>" } } },
    });
    equal(path, join(dir, "data/test-00000-of-00001.parquet"));
    const file = await readRecords(path);
    equal(file.format, "parquet");
    equal(file.sha256, await sha256Hex(await Deno.readFile(path)));
    equal(file.records.length, 2);
    const [a, b] = file.records;
    deepEqual(a, {
      id: 70,
      question: "Which?",
      options: ["a", "b"],
      image_1: { bytes: PNG, path: "q70.png" },
      mc1_targets: { choices: ["yes", "no"], labels: [1, 0] },
      score: 0.5,
      ok: true,
    });
    ok((a.image_1 as { bytes: unknown }).bytes instanceof Uint8Array, "binary stays bytes");
    equal(b.id, 9007199254740993n, "an int64 beyond 2^53 stays bigint");
    equal(b.question, "Ünïcode ✓");
    deepEqual(b.options, []);
    equal(b.image_1, null, "a null struct reads as null, not undefined");
    equal(file.at(1), `${path} row 1`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parquet: every codec the hub uses reads; fixtures are byte-for-byte deterministic", async () => {
  const dir = await tempDir();
  try {
    const rows = [{ q: "x", n: 1 }, { q: "y", n: 2 }];
    for (const codec of ["SNAPPY", "GZIP", "BROTLI", "ZSTD", "UNCOMPRESSED"] as const) {
      const path = await writeFixture(dir, codec, rows, "parquet", { codec });
      deepEqual((await readRecords(path)).records, rows, codec);
    }
    for (const format of ["parquet", "jsonl", "json", "jsonl.gz", "json.gz"] as const) {
      deepEqual(fixtureBytes(rows, format), fixtureBytes(rows, format), format);
    }
    const gz = fixtureBytes(rows, "jsonl.gz");
    deepEqual([...gz.subarray(4, 10)], [0, 0, 0, 0, 2, 0xff], "fixed gzip header");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jsonl, json, {data: [...]}, gzip'd: same records, locations by line or row", async () => {
  const dir = await tempDir();
  try {
    const rows = [{ q: "a", choices: ["x", "y"], label: 0 }, { q: "b", choices: [], label: 1 }];
    for (const format of ["jsonl", "json", "jsonl.gz", "json.gz"] as const) {
      const path = await writeFixture(dir, "test", rows, format);
      const file = await readRecords(path);
      deepEqual(file.records, rows, format);
      equal(file.format, format.startsWith("jsonl") ? "jsonl" : "json");
      equal(file.sha256, await sha256Hex(await Deno.readFile(path)), "hash of the stored bytes");
      equal(file.at(1), format.startsWith("jsonl") ? `${path}:2` : `${path} row 1`);
    }
    // Blank lines, CRLF and a byte-order mark, as Windows exports write them.
    const crlf = join(dir, "crlf.jsonl");
    await Deno.writeTextFile(crlf, '\ufeff{"q":"a"}\r\n\r\n{"q":"b"}\r\n');
    const file = await readRecords(crlf);
    deepEqual(file.records, [{ q: "a" }, { q: "b" }]);
    equal(file.at(1), `${crlf}:3`);
    // SQuAD-style wrapper and a `.json` that is really JSON Lines (pandas lines=True).
    const wrapped = join(dir, "wrapped.json");
    await Deno.writeTextFile(wrapped, JSON.stringify({ version: "1.1", data: rows }));
    deepEqual((await readRecords(wrapped)).records, rows);
    const lines = join(dir, "lines.json");
    await Deno.writeTextFile(lines, '{"q":"a"}\n{"q":"b"}\n');
    const asLines = await readRecords(lines);
    equal(asLines.format, "jsonl");
    equal(asLines.at(1), `${lines}:2`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors: missing, folder, empty, wrong type, corrupt or truncated files", async () => {
  const dir = await tempDir();
  try {
    const p = (name: string) => join(dir, name);
    await rejectsAt(p("nope.jsonl"), /nope\.jsonl: no such file$/);
    await Deno.mkdir(p("folder.json"));
    await rejectsAt(p("folder.json"), /folder\.json: is a folder/);
    await Deno.writeFile(p("empty.parquet"), new Uint8Array());
    await rejectsAt(p("empty.parquet"), /empty\.parquet: empty file \(0 bytes\)$/);
    await Deno.writeTextFile(p("data.csv"), "a,b\n");
    await rejectsAt(p("data.csv"), /data\.csv: unsupported data file type/);

    const parquet = fixtureBytes([{ q: "a" }, { q: "b" }], "parquet");
    await Deno.writeFile(p("cut.parquet"), parquet.subarray(0, parquet.length - 10));
    await rejectsAt(p("cut.parquet"), /cut\.parquet: truncated parquet file/);
    const garbled = parquet.slice();
    garbled.fill(7, 4, parquet.length - 8);
    await Deno.writeFile(p("garbled.parquet"), garbled);
    await rejectsAt(p("garbled.parquet"), /garbled\.parquet: corrupt parquet file \(/);
    await Deno.writeTextFile(p("text.parquet"), '{"q": 1}\n');
    await rejectsAt(p("text.parquet"), /text\.parquet: not a parquet file \(starts with bytes 7b/);
    await Deno.writeFile(p("pq.jsonl"), parquet);
    await rejectsAt(p("pq.jsonl"), /pq\.jsonl: is a parquet file/);
    await Deno.writeTextFile(
      p("lfs.parquet"),
      "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n",
    );
    await rejectsAt(p("lfs.parquet"), /lfs\.parquet: is a Git LFS pointer/);

    const gz = fixtureBytes([{ q: "a" }], "jsonl.gz");
    await Deno.writeFile(p("cut.jsonl.gz"), gz.subarray(0, gz.length - 6));
    await rejectsAt(p("cut.jsonl.gz"), /cut\.jsonl\.gz: truncated or corrupt gzip/);
    await Deno.writeTextFile(p("plain.jsonl.gz"), '{"q":"a"}\n');
    await rejectsAt(p("plain.jsonl.gz"), /plain\.jsonl\.gz: named \.gz but is not gzip/);
    await Deno.writeFile(p("zipped.jsonl"), gz);
    await rejectsAt(p("zipped.jsonl"), /zipped\.jsonl: is gzip-compressed/);
    await Deno.writeFile(p("latin1.jsonl"), new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    await rejectsAt(p("latin1.jsonl"), /latin1\.jsonl: is not valid UTF-8/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors: a JSONL line that is not JSON or not an object; JSON that is not records", async () => {
  const dir = await tempDir();
  try {
    const p = (name: string) => join(dir, name);
    await Deno.writeTextFile(p("bad.jsonl"), '{"q":"a"}\n\n{"q": oops}\n');
    await rejectsAt(p("bad.jsonl"), new RegExp(`^${p("bad.jsonl")}:3: not valid JSON \\(.+\\)$`));
    await Deno.writeTextFile(p("array.jsonl"), '{"q":"a"}\n[1, 2]\n');
    await rejectsAt(p("array.jsonl"), /array\.jsonl:2: expected a JSON object, got array$/);
    await Deno.writeTextFile(p("blank.jsonl"), "\n  \n");
    await rejectsAt(p("blank.jsonl"), /blank\.jsonl: holds no records$/);

    await Deno.writeTextFile(p("broken.json"), '[{"q": "a"},');
    await rejectsAt(p("broken.json"), /broken\.json: not valid JSON \(/);
    await Deno.writeTextFile(p("numbers.json"), "[1, 2]");
    await rejectsAt(p("numbers.json"), /numbers\.json row 0: expected a JSON object, got number$/);
    await Deno.writeTextFile(p("two.json"), '{"train": [], "test": []}');
    await rejectsAt(p("two.json"), /two\.json: .*got an object with array fields train, test$/);
    await Deno.writeTextFile(p("string.json"), '"hello"');
    await rejectsAt(p("string.json"), /string\.json: expected an array of objects, got string$/);
    await Deno.writeTextFile(p("none.json"), "[]");
    await rejectsAt(p("none.json"), /none\.json: holds no records$/);
    await Deno.writeFile(p("none.json.gz"), gzipSync(new TextEncoder().encode("[]")));
    await rejectsAt(p("none.json.gz"), /none\.json\.gz: holds no records$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requireFields: typed fields back, one-line errors naming the line or row and field", () => {
  const rec = { q: "2+2?", options: ["3", "4"], answer: 1, img: PNG, extra: null };
  const got = requireFields(
    rec,
    { q: "string", options: "string[]", answer: "integer", img: "bytes", extra: "string?" },
    "t.jsonl:4",
  );
  deepEqual(got, { q: "2+2?", options: ["3", "4"], answer: 1, img: PNG, extra: undefined });
  const fails = (
    fields: Record<string, "string" | "integer" | "string[]" | "number">,
    re: RegExp,
  ) =>
    throws(() => requireFields(rec, fields, "t.parquet row 7"), (e: Error) => {
      ok(e instanceof ValidationError);
      match(e.message, re);
      return true;
    });
  fails({ gone: "string" }, /^t\.parquet row 7: field 'gone' missing$/);
  fails({ extra: "string" }, /^t\.parquet row 7: field 'extra' is null, expected string$/);
  fails({ q: "integer" }, /^t\.parquet row 7: field 'q' is string, expected integer$/);
  fails({ options: "string" }, /field 'options' is array, expected string$/);
  throws(
    () => requireFields({ options: ["a", 2] }, { options: "string[]" }, "t.jsonl:2"),
    /t\.jsonl:2: field 'options' item 1 is number, expected string$/,
  );
  throws(
    () => requireFields({ x: NaN }, { x: "number" }, "w"),
    /field 'x' is NaN, expected number/,
  );
  throws(() => requireFields({ x: 1.5 }, { x: "integer" }, "w"), /is a fraction, expected integer/);
  throws(() => requireFields({ x: 2n ** 60n }, { x: "integer" }, "w"), /beyond ±2\^53 \(bigint\)/);
});

Deno.test("a row that is an array of objects (Open-Reasoner-Zero's conversations) is read as an object keyed by position", async () => {
  const dir = await tempDir();
  try {
    const turns = [{ from: "human", value: "1+1?" }, {
      from: "assistant",
      ground_truth: { value: "2" },
    }];
    const want = { "0": turns[0], "1": turns[1] };
    await Deno.writeTextFile(join(dir, "orz.json"), JSON.stringify([turns, turns]));
    deepEqual((await readRecords(join(dir, "orz.json"))).records, [want, want]);
    await Deno.writeTextFile(join(dir, "orz.jsonl"), `${JSON.stringify(turns)}\n`);
    deepEqual((await readRecords(join(dir, "orz.jsonl"))).records, [want]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
