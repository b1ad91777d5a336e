// Every hub task's fixture records written as the hub publishes them (`<dir>/<task id>/<hub
// path>`: parquet for .parquet paths, JSON Lines for .jsonl, gzip'd for .gz), read back through
// exactly the code path real data takes: for the tests, for `deno task fixtures`, and for recipes
// that run offline on fixtures (`data: { fixtures: true }`, e.g. razor_llm_tiny).

import { join } from "node:path";
import { ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { trainBpe } from "../models/bpe.ts";
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

/**
 * The fixture records of `tasks` (those with hub files) as a data folder for `--data`, kept under
 * `<cacheDir>/fixtures/<hash of the files>/`: written into a fresh folder beside it, then renamed
 * into place (or dropped when an identical folder is already there, whose files must still hash
 * as its name pins them), so a run never reads a half-written or altered folder and the same
 * fixtures always give the same path.
 */
export async function fixtureDataFolder(
  tasks: readonly AnyTask[],
  cacheDir: string,
): Promise<string> {
  const root = join(cacheDir, "fixtures");
  await Deno.mkdir(root, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: root, prefix: ".writing-" });
  try {
    const files: { name: string; sha256: string }[] = [];
    for (const task of [...tasks].sort((a, b) => a.id.localeCompare(b.id))) {
      for (const path of await writeTaskFixture(tmp, task)) {
        files.push({
          name: path.slice(tmp.length + 1),
          sha256: await sha256Hex(await Deno.readFile(path)),
        });
      }
    }
    const parts = files.map((f) => `${f.name} ${f.sha256}`);
    const dir = join(
      root,
      (await sha256Hex(new TextEncoder().encode(parts.join("\n")))).slice(0, 16),
    );
    if (await Deno.stat(dir).catch(() => null)) {
      await checkFixtureFolder(dir, files);
      return dir;
    }
    try {
      await Deno.rename(tmp, dir);
    } catch (e) {
      // Another run renamed the same files into place first.
      if (!(await Deno.stat(dir).catch(() => null))) throw e;
    }
    return dir;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * A fixture folder already in the cache holds exactly the bytes its name pins: each file's sha256
 * as the fixture records give it, else a one-line error naming the file.
 */
async function checkFixtureFolder(
  dir: string,
  files: readonly { name: string; sha256: string }[],
): Promise<void> {
  for (const f of files) {
    const path = join(dir, f.name);
    const bytes = await Deno.readFile(path).catch(() => null);
    const hint = `delete ${dir} to write it again`;
    if (bytes === null) {
      throw new ValidationError(path, `missing from the cached fixture folder; ${hint}`);
    }
    const sha256 = await sha256Hex(bytes);
    if (sha256 !== f.sha256) {
      throw new ValidationError(
        path,
        `sha256 is ${sha256} but the fixture records give ${f.sha256}; ${hint}`,
      );
    }
  }
}

/**
 * Every string in every registered task's fixture records, in registry order: the corpus the tiny
 * generated Qwen2.5's BPE merges are learned from (models/tiny_merges.json).
 */
export function fixtureTexts(): string[] {
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object" && !ArrayBuffer.isView(v)) Object.values(v).forEach(walk);
  };
  for (const task of TASK_LIST) {
    for (const records of Object.values(task.fixture.records ?? {})) walk(records);
  }
  return texts;
}

/** How many merges the tiny generated Qwen2.5 learns (1024: about 2.9 characters per token). */
export const TINY_MERGE_COUNT = 1024;

/** models/tiny_merges.json as it should read: merges learned from {@link fixtureTexts}. */
export function tinyMergesJson(): string {
  const merges = trainBpe(fixtureTexts(), { count: TINY_MERGE_COUNT });
  return JSON.stringify(merges.map(([a, b]) => `${a} ${b}`), null, 2) + "\n";
}
