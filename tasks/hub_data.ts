// Loads a hub task's splits: resolves each published file (user path, cache, hub download),
// reads its records in whatever format it came in, and lets the task validate every record, so a
// broken file fails before any model runs. Every task with `source.splits` gets this as its
// `load` (defineTask); `score --data FILE` reads one file as the test split with loadTestFile.

import { resolveDataFile } from "../lib/hub.ts";
import { readRecords } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import type { DataFileUsed, Item, Loaded, LoadOptions, RecordItems, Task } from "./task.ts";

/**
 * Parses records into items, checking that ids are unique; records the task's parse documents
 * as not items (null), and entries of multi-item records it leaves out (RecordItems), are
 * counted in `skipped`. `offset` is the row of the file's first record in its split (files of
 * one split are numbered on from each other).
 */
async function parseFile<I extends Item>(
  task: Task<I>,
  path: string,
  opts: { offset: number; seen: Map<string, string>; split: string },
): Promise<{ items: I[]; sha256: string; records: number; skipped: number }> {
  const file = await readRecords(path);
  const items: I[] = [];
  let skipped = 0;
  for (let i = 0; i < file.records.length; i++) {
    const where = file.at(i);
    const parsed = task.parse!(file.records[i], {
      where,
      index: opts.offset + i,
      split: opts.split,
      file: { records: file.records, row: i },
    });
    if (parsed === null) {
      skipped++;
      continue;
    }
    const many = "items" in parsed && !("id" in parsed) ? parsed as RecordItems<I> : undefined;
    if (many) skipped += many.skipped;
    for (const item of many ? many.items : [parsed as I]) {
      const prev = opts.seen.get(item.id);
      if (prev !== undefined) {
        throw new ValidationError(
          where,
          `duplicate ${task.idField ?? "id"} '${item.id}' (also at ${prev})`,
        );
      }
      opts.seen.set(item.id, where);
      items.push(item);
    }
  }
  return { items, sha256: file.sha256, records: file.records.length, skipped };
}

/** A task's data folder inside a shared data folder: `DIR/<task id>` when it exists. */
async function taskFolder(id: string, dataPath: string | undefined): Promise<string | undefined> {
  if (dataPath === undefined) return undefined;
  const sub = `${dataPath.replace(/\/+$/, "")}/${id}`;
  const info = await Deno.stat(sub).catch(() => undefined);
  return info?.isDirectory ? sub : dataPath;
}

/**
 * Loads the splits of a hub task (`test` scored, the others few-shot pools). `opts.data.dataPath`
 * may be a folder holding `<task id>/<hub path>`, `<hub path>` or bare file names, or one file,
 * which is then the test split (the other splits come from the cache or the hub).
 */
export async function loadHubSplits<I extends Item>(
  task: Task<I>,
  opts: LoadOptions,
): Promise<Loaded<I>> {
  const data = opts.data ?? {};
  let dataPath = await taskFolder(task.id, data.dataPath);
  const files: DataFileUsed[] = [];
  const splits: Record<string, I[]> = {};
  let skipped = 0;
  const wanted = (s: string) => !opts.splits || opts.splits.includes(s);
  if (dataPath !== undefined && (await Deno.stat(dataPath).catch(() => null))?.isFile) {
    const one = await loadTestFile(task, dataPath);
    splits.test = [...one.splits.test];
    files.push(...one.files);
    skipped += one.skipped ?? 0;
    dataPath = undefined;
  }
  for (const [split, hubFiles] of Object.entries(task.source.splits ?? {})) {
    if (splits[split] || !wanted(split)) continue;
    const seen = new Map<string, string>();
    const items: I[] = [];
    let rows = 0;
    for (const hub of hubFiles) {
      const got = await resolveDataFile(hub, {
        dataPath,
        cacheDir: data.cacheDir,
        offline: data.offline,
        quiet: data.quiet,
      });
      const parsed = await parseFile(task, got.path, { offset: rows, seen, split });
      items.push(...parsed.items);
      rows += parsed.records;
      skipped += parsed.skipped;
      files.push({ task: task.id, split, ...got });
    }
    splits[split] = items;
  }
  return { splits, files, skipped };
}

/** Loads one file the user names as a task's test split (`score --data FILE`). */
export async function loadTestFile<I extends Item>(
  task: Task<I>,
  path: string,
): Promise<Loaded<I>> {
  if (!task.parse) {
    throw new ValidationError(path, `task ${task.id} is not read from data files`);
  }
  const parsed = await parseFile(task, path, { offset: 0, seen: new Map(), split: "test" });
  if (parsed.items.length === 0) {
    throw new ValidationError(
      path,
      parsed.skipped > 0
        ? `holds no items of ${task.id} (all ${parsed.skipped} records are of kinds it skips)`
        : "holds no records",
    );
  }
  return {
    splits: { test: parsed.items },
    files: [{ task: task.id, split: "test", path, sha256: parsed.sha256, source: "local" }],
    skipped: parsed.skipped,
  };
}
