// Writes every text task's fixture records as the hub publishes them (`<dir>/<task id>/<hub
// path>`, parquet for .parquet paths, JSON Lines for .jsonl, gzip'd for .gz), so tests and `eval`
// read fixtures through exactly the code path real data takes.

import { join } from "node:path";
import type { TextTask } from "../tasks/mod.ts";
import { type ColumnType, type FixtureFormat, writeFixture } from "./fixture_files.ts";

function formatOf(path: string): { name: string; format: FixtureFormat } {
  for (const ext of ["jsonl.gz", "json.gz", "parquet", "jsonl", "json"] as const) {
    if (path.endsWith(`.${ext}`)) return { name: path.slice(0, -ext.length - 1), format: ext };
  }
  throw new Error(`no fixture format for ${path}`);
}

/** Writes `task`'s fixture under `dir/<task id>/`; returns the paths written. */
export async function writeTaskFixture(dir: string, task: TextTask): Promise<string[]> {
  const written: string[] = [];
  for (const [split, files] of Object.entries(task.source.splits)) {
    const records = task.fixture.records[split] ?? [];
    for (const file of files) {
      const mine = records.filter((r) => (task.fixture.fileOf?.(r) ?? files[0].path) === file.path);
      if (mine.length === 0) continue;
      const { name, format } = formatOf(file.path);
      written.push(
        await writeFixture(join(dir, task.id), name, mine, format, {
          columns: task.fixture.columns as Record<string, ColumnType> | undefined,
        }),
      );
    }
  }
  return written;
}
