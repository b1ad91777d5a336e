// Tests for tasks/scienceqa.ts beyond the shared suite: one parquet file in the published layout
// (image struct or null, int8 answers) read by both variants: `scienceqa` keeps every row and
// passes images where there are any, `scienceqa_text` keeps the rows without an image under
// their own row numbers and counts the others as skipped.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { writeFixture } from "../lib/published_files.ts";
import { loadTestFile } from "./hub_data.ts";
import { scienceqa, type ScienceQaDoc, scienceqaText } from "./scienceqa.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function row(i: number, image: unknown): Record<string, unknown> {
  return {
    image,
    question: `Question ${i}?`,
    choices: ["yes", "no", "maybe"],
    answer: i % 3,
    hint: i % 2 ? `Hint ${i}.` : "",
    task: "closed choice",
    grade: "grade3",
    subject: "natural science",
    topic: "science-and-engineering-practices",
    category: "Designing experiments",
    skill: "Identify the experimental question",
    lecture: "",
    solution: "",
  };
}

const COLUMNS = { image: "image", answer: "int32", choices: "list<string>" } as const;

async function withFile(
  rows: Record<string, unknown>[],
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench-scienceqa-" });
  try {
    await fn(await writeFixture(dir, "test-00000-of-00001", rows, "parquet", { columns: COLUMNS }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ROWS = [
  row(0, null),
  row(1, { bytes: PNG, path: "1.png" }),
  row(2, null),
  row(3, { bytes: PNG, path: null }),
  row(4, { bytes: null, path: null }), // an empty image struct is no image
];

Deno.test("scienceqa: every row, images passed where the row has one", async () => {
  await withFile(ROWS, async (path) => {
    const loaded = await loadTestFile(scienceqa, path);
    const docs = loaded.splits.test as ScienceQaDoc[];
    deepEqual(docs.map((d) => d.id), ["0", "1", "2", "3", "4"]);
    equal(loaded.skipped, 0);
    const images = docs.map((d) => {
      const req = scienceqa.request(d, { shots: [] });
      return req.kind === "generate" ? req.images?.length ?? 0 : -1;
    });
    deepEqual(images, [0, 1, 0, 1, 0]);
    const req = scienceqa.request(docs[1], { shots: [] });
    ok(req.kind === "generate");
    deepEqual(req.images?.[0].bytes, PNG);
    equal(
      req.prompt,
      "Context: Hint 1.\nQuestion 1?\nA. yes\nB. no\nC. maybe\n" +
        "Answer with the option's letter from the given choices directly.",
    );
    equal(scienceqa.target(docs[1]), "B");
  });
});

Deno.test("scienceqa_text: the rows without an image, numbered by their row, the others skipped", async () => {
  await withFile(ROWS, async (path) => {
    const loaded = await loadTestFile(scienceqaText, path);
    deepEqual(loaded.splits.test.map((d) => d.id), ["0", "2", "4"]);
    equal(loaded.skipped, 2);
    for (const d of loaded.splits.test) {
      const req = scienceqaText.request(d, { shots: [] });
      ok(req.kind === "generate" && req.images === undefined);
    }
  });
  await withFile([row(1, { bytes: PNG, path: null })], async (path) => {
    await rejects(
      loadTestFile(scienceqaText, path),
      (e) => e instanceof Error && e.message.includes("holds no items of scienceqa_text"),
    );
  });
});

Deno.test("scienceqa: an answer outside the choices, or an image without bytes, names the row", async () => {
  await withFile([row(0, null), { ...row(1, null), answer: 3 }], async (path) => {
    await rejects(
      loadTestFile(scienceqa, path),
      (e) =>
        e instanceof Error &&
        e.message === `${path} row 1: field 'answer' is 3, not an index into the 3 choices`,
    );
  });
  await withFile([row(0, { bytes: null, path: "0.png" })], async (path) => {
    await rejects(
      loadTestFile(scienceqa, path),
      (e) =>
        e instanceof Error && e.message.startsWith(`${path} row 0: field 'image': field 'bytes'`),
    );
  });
});
