// Loads a text benchmark's documents: resolves each published file (user path, cache, hub),
// reads its records in whatever format it came in, and lets the task validate every record, so a
// broken file fails before any model runs. Returns what was read for the manifest.

import { resolveDataFile } from "../lib/hub.ts";
import { readRecords } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import type { TextTask } from "../tasks/mod.ts";
import type { Item } from "../tasks/types.ts";
import type { TaskDocs } from "./text_eval.ts";

/** One file a run read, for manifest.json. */
export interface DataFileUsed {
  readonly task: string;
  readonly split: string;
  readonly path: string;
  readonly sha256: string;
  readonly source: "local" | "cache" | "download";
  readonly url?: string;
}

/** Where to look for data, and how much to read. */
export interface DataOptions {
  /** A folder (holding `<task id>/<hub path>`, `<hub path>` or bare file names) or, for a task whose test split is one file, that file. */
  readonly dataPath?: string;
  readonly cacheDir?: string;
  readonly offline?: boolean;
  /** Score only the first N test documents (lm-eval's --limit). */
  readonly limit?: number;
  readonly quiet?: boolean;
}

/** Parses records into documents, checking that ids are unique. */
async function parseFile(
  task: TextTask,
  path: string,
  opts: { offset: number; seen: Map<string, string> },
): Promise<{ docs: Item[]; sha256: string }> {
  const file = await readRecords(path);
  const docs = file.records.map((rec, i) => {
    const where = file.at(i);
    const doc: Item = task.parse(rec, { where, index: opts.offset + i });
    const prev = opts.seen.get(doc.id);
    if (prev !== undefined) {
      throw new ValidationError(
        where,
        `duplicate ${task.idField ?? "id"} '${doc.id}' (also at ${prev})`,
      );
    }
    opts.seen.set(doc.id, where);
    return doc;
  });
  return { docs, sha256: file.sha256 };
}

/** A task's data folder inside a shared data folder: `DIR/<task id>` when it exists. */
async function taskFolder(
  task: TextTask,
  dataPath: string | undefined,
): Promise<string | undefined> {
  if (dataPath === undefined) return undefined;
  const sub = `${dataPath.replace(/\/+$/, "")}/${task.id}`;
  const info = await Deno.stat(sub).catch(() => undefined);
  return info?.isDirectory ? sub : dataPath;
}

/** Loads every split of `task` (test scored, the others few-shot pools). */
export async function loadTaskDocs(
  task: TextTask,
  opts: DataOptions,
): Promise<{ docs: TaskDocs; files: DataFileUsed[] }> {
  let dataPath = await taskFolder(task, opts.dataPath);
  const files: DataFileUsed[] = [];
  const splits: Record<string, Item[]> = {};
  if (dataPath !== undefined && (await Deno.stat(dataPath).catch(() => null))?.isFile) {
    // One file given: it is the test split; the few-shot splits come from the cache or the hub.
    const one = await loadTestFile(task, dataPath);
    splits.test = [...one.docs.test];
    files.push(...one.files);
    dataPath = undefined;
  }
  for (const [split, hubFiles] of Object.entries(task.source.splits)) {
    if (splits[split]) continue;
    const seen = new Map<string, string>();
    const docs: Item[] = [];
    for (const hub of hubFiles) {
      const got = await resolveDataFile(hub, {
        dataPath,
        cacheDir: opts.cacheDir,
        offline: opts.offline,
        quiet: opts.quiet,
      });
      const parsed = await parseFile(task, got.path, { offset: docs.length, seen });
      docs.push(...parsed.docs);
      files.push({ task: task.id, split, ...got });
    }
    splits[split] = docs;
  }
  const { test, ...pools } = splits;
  return { docs: { test: limited(test, opts.limit), pools }, files };
}

/** Loads one file the user names as a task's test split (`score --data FILE`). */
export async function loadTestFile(
  task: TextTask,
  path: string,
  opts: { limit?: number } = {},
): Promise<{ docs: TaskDocs; files: DataFileUsed[] }> {
  const parsed = await parseFile(task, path, { offset: 0, seen: new Map() });
  if (parsed.docs.length === 0) throw new ValidationError(path, "holds no records");
  return {
    docs: { test: limited(parsed.docs, opts.limit), pools: {} },
    files: [{ task: task.id, split: "test", path, sha256: parsed.sha256, source: "local" }],
  };
}

function limited<T>(xs: readonly T[], limit: number | undefined): readonly T[] {
  return limit === undefined ? xs : xs.slice(0, limit);
}
