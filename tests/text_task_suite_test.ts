// One suite for every registered text benchmark: its fixture, written in the published format,
// loads through the real data path; every item renders a request; a perfect output scores 1 and
// a wrong one 0 on every metric; a record missing a field is a one-line error naming file and row.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { isTextTask, TASK_LIST, type TextTask } from "../tasks/mod.ts";
import { loadTaskDocs, loadTestFile } from "../runs/text_data.ts";
import { buildRequests } from "../runs/text_eval.ts";
import { runPython } from "../evals/sandbox.ts";
import { ValidationError } from "../lib/errors.ts";
import type { ScoreContext } from "../tasks/types.ts";
import { writeTaskFixture } from "./task_fixtures.ts";
import { type ColumnType, writeFixture } from "./fixture_files.ts";

const TEXT_TASKS = TASK_LIST.filter(isTextTask) as TextTask[];
const ctx: ScoreContext = { runPython: (p) => runPython(p) };

Deno.test("the registry holds the general benchmarks of the seed papers", () => {
  deepEqual(TEXT_TASKS.map((t) => t.id).sort(), [
    "hellaswag",
    "humaneval",
    "mmlu_pro",
    "mmmu",
    "truthfulqa_mc1",
    "truthfulqa_mc2",
  ]);
});

for (const task of TEXT_TASKS) {
  Deno.test(`${task.id}: fixture loads, renders, scores perfect 1 and wrong 0`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const written = await writeTaskFixture(dir, task);
      ok(written.length >= 1);
      const { docs, files } = await loadTaskDocs(task, {
        dataPath: dir,
        offline: true,
        cacheDir: join(dir, "empty-cache"),
      });
      equal(docs.test.length, task.fixture.records.test.length);
      ok(files.every((f) => f.source === "local" && /^[0-9a-f]{64}$/.test(f.sha256)));
      const requests = buildRequests(task, docs);
      for (const [i, req] of requests.entries()) {
        equal(req.type, task.output);
        if (req.type === "loglikelihood") {
          ok(req.context.length > 0 && req.continuations.length >= 2);
        } else {
          ok(req.prompt.length > 0 && req.maxTokens > 0);
          equal((req.images?.length ?? 0) > 0, task.needsImages === true);
        }
        const doc = docs.test[i];
        ok(task.target(doc).length > 0, "a target to show");
        const good = await task.score(doc, task.fixture.perfect(doc), ctx);
        const bad = await task.score(doc, task.fixture.wrong(doc), ctx);
        for (const m of task.metrics.filter((m) => m in good.metrics)) {
          equal(good.metrics[m], 1, `${doc.id}: perfect ${m}`);
          equal(bad.metrics[m], 0, `${doc.id}: wrong ${m}`);
        }
        equal(good.metrics[task.metrics[0]], 1, "the first metric is always reported");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`${task.id}: a record missing a field names the file, line and field`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const [first, ...rest] = task.fixture.records.test;
      const field = task.idField ?? Object.keys(first)[0];
      const broken = Object.fromEntries(Object.entries(first).filter(([k]) => k !== field));
      const columns = task.fixture.columns as Record<string, ColumnType> | undefined;
      const parquet = await writeFixture(dir, "broken", [...rest, broken], "parquet", { columns });
      await rejects(
        loadTestFile(task, parquet),
        (e) =>
          e instanceof ValidationError &&
          // parquet has a column for every field: a record without one holds null there
          e.message.startsWith(`${parquet} row ${rest.length}: field '${field}' is null`),
      );
      if (task.needsImages) return; // image bytes have no JSON form
      const jsonl = await writeFixture(dir, "broken", [...rest, broken], "jsonl.gz");
      await rejects(
        loadTestFile(task, jsonl),
        (e) =>
          e instanceof ValidationError &&
          e.message === `${jsonl}:${rest.length + 1}: field '${field}' missing`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
