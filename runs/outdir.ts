// Output folders: one writer at a time (lib/lock.ts) and one owner. `DIR/.forgetbench.json`
// names what the folder holds (the command and its identity: bench's resolved recipe, eval's
// model, tasks and options, score's task, data and predictions). Writing a folder that holds
// something else needs --overwrite; the same command may replace its own results, or continue
// them with --resume. A folder the command had to create and left empty is removed on failure,
// so a refused or failed command leaves nothing behind.

import { writeTextAtomic } from "../lib/atomic.ts";
import { UsageError } from "../lib/errors.ts";
import { acquireLock, type Lock } from "../lib/lock.ts";

/** What a folder's results are of. */
export interface Owner {
  readonly command: "bench" | "eval" | "score";
  readonly what: unknown;
}

const OWNER = ".forgetbench.json";
/** Result files of any command: a folder holding one of them holds results. */
const RESULT_FILES = ["records.jsonl", "results.csv", "manifest.json", "samples.jsonl"];

/** The first place where two JSON values differ, as a path (`recipe.variants[0].lrs`), or null. */
export function firstDifference(a: unknown, b: unknown, path = ""): string | null {
  if (a === b) return null;
  const isObj = (v: unknown) => typeof v === "object" && v !== null;
  if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) return path || "(value)";
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path} (${a.length} vs ${b.length} entries)`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const ao = a as Record<string, unknown>, bo = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])]) {
    const d = firstDifference(ao[k], bo[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}

/** A short account of what an owner names, for messages. */
function describeOwner(o: Owner): string {
  const w = o.what as Record<string, unknown> | null;
  if (o.command === "bench") {
    const id = (w as { id?: unknown } | null)?.id;
    return `bench recipe '${String(id)}'`;
  }
  if (o.command === "eval") {
    const m = w?.model as { source?: unknown } | undefined;
    return `eval of ${String(m?.source)} on ${JSON.stringify(w?.tasks)}`;
  }
  return `score of ${JSON.stringify(w?.task)}`;
}

/** JSON as stored (undefined fields dropped), so identities compare as written. */
function normal(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null));
}

/** An output folder held for writing. */
export interface OutputFolder {
  readonly dir: string;
  readonly lock: Lock;
  /** The owner file as found before this command (null: none). */
  readonly previous: Owner | null;
  /** Records this command as the folder's owner (call when it starts writing results). */
  claim(): Promise<void>;
  /** Releases the lock; removes the folder when this command created it and it is empty. */
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes `dir` for `owner`: its lock (a live holder is a one-line error), then checks it holds
 * nothing of another command or identity unless `overwrite`. `say` hears about a stale lock
 * taken over.
 */
export async function openOutput(
  dir: string,
  owner: Owner,
  opts: { overwrite: boolean; resume: boolean; say?: (line: string) => void },
): Promise<OutputFolder> {
  const existed = await exists(dir);
  if (existed && !(await Deno.stat(dir)).isDirectory) {
    throw new UsageError(`--out ${dir} is a file, not a folder`);
  }
  const lock = await acquireLock(dir, `forgetbench ${owner.command}`);
  const close = async () => {
    await lock.release();
    if (!existed) {
      const left = [];
      for await (const e of Deno.readDir(dir)) left.push(e.name);
      if (left.length === 0) await Deno.remove(dir).catch(() => {});
    }
  };
  try {
    if (lock.tookOver) {
      const t = lock.tookOver;
      opts.say?.(
        `note: took over ${dir}/.lock from pid ${t.pid} (started ${t.started}), which no longer runs`,
      );
    }
    const me: Owner = { command: owner.command, what: normal(owner.what) };
    let previous: Owner | null = null;
    try {
      previous = JSON.parse(await Deno.readTextFile(`${dir}/${OWNER}`)) as Owner;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new UsageError(
          `${dir}/${OWNER}: unreadable (${(e as Error).message}); use --overwrite`,
        );
      }
    }
    if (!opts.overwrite) {
      if (previous) {
        const diff = previous.command !== me.command
          ? "command"
          : firstDifference(previous.what, me.what);
        if (diff) {
          throw new UsageError(
            `${dir} holds results of ${
              describeOwner(previous)
            }, not of this ${me.command} (they differ in ${diff}); ${
              opts.resume ? "resume with the command that wrote them, " : ""
            }use --overwrite to replace them, or give another --out`,
          );
        }
      } else {
        for (const f of RESULT_FILES) {
          if (await exists(`${dir}/${f}`)) {
            throw new UsageError(
              `${dir} holds results (${f}) that no forgetbench command of this version claims; use --overwrite to replace them, or give another --out`,
            );
          }
        }
      }
    }
    return {
      dir,
      lock,
      previous,
      claim: () => writeTextAtomic(`${dir}/${OWNER}`, JSON.stringify(me, null, 2) + "\n"),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
