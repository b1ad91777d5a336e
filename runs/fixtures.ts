// Every hub task's fixture records written as the hub publishes them (`<dir>/<task id>/<hub
// path>`: parquet for .parquet paths, JSON Lines for .jsonl, gzip'd for .gz), read back through
// exactly the code path real data takes: for the tests, for `deno task fixtures`, and for recipes
// that run offline on fixtures (`data: { fixtures: true }`, e.g. razor_llm_tiny).

import { join } from "node:path";
import { type ColumnType, type FixtureFormat, writeFixture } from "../lib/published_files.ts";
import { type AnyTask, TASK_LIST } from "../tasks/mod.ts";

function formatOf(path: string): { name: string; format: FixtureFormat } {
  for (const ext of ["jsonl.gz", "json.gz", "parquet", "jsonl", "json"] as const) {
    if (path.endsWith(`.${ext}`)) return { name: path.slice(0, -ext.length - 1), format: ext };
  }
  throw new Error(`no fixture format for ${path}`);
}

/** Whether `task` reads published hub files (and so has fixture records to write). */
export function isHubTask(task: AnyTask): boolean {
  return task.source.splits !== undefined;
}

/**
 * Writes `task`'s fixture records under `dir/<task id>/`, each split's file at its hub path;
 * returns the paths written (none for a task without hub files).
 */
export async function writeTaskFixture(dir: string, task: AnyTask): Promise<string[]> {
  const written: string[] = [];
  for (const [split, files] of Object.entries(task.source.splits ?? {})) {
    const records = task.fixture.records?.[split] ?? [];
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

/** Writes every registered hub task's fixture under `dir`; returns the paths written. */
export async function writeAllTaskFixtures(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const task of TASK_LIST.filter(isHubTask)) out.push(...await writeTaskFixture(dir, task));
  return out;
}
