// Resume after kill -9 (README "Resume"). A bench appends its records as it works and, at every
// point it can continue from, writes `DIR/.resume/state.json` atomically: how many bytes of
// records.jsonl and samples.jsonl are complete, how many runs (in the plan's order) finished,
// and the run and stage whose policy snapshot (`DIR/.resume/*.safetensors`, float32, exact)
// it saved last. `--resume` truncates both files to those lengths (dropping what a killed
// process appended after its last consistent point), skips finished runs, restarts an unfinished
// run from its snapshot (the stage after it: each stage builds a fresh optimiser and derives its
// RNG stream and data order from the run's seed and the stage number, so the policy is the whole
// state between stages) or from its start, and refuses a different recipe, inputs or code.

import { join, relative } from "node:path";
import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { UsageError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "../models/safetensors.ts";
import { firstDifference } from "./outdir.ts";

/** What `.resume/state.json` holds. */
export interface ResumeState {
  readonly version: 1;
  /** sha256 of the forgetbench source files that ran ({@link codeVersion}). */
  readonly code: string;
  /** Complete bytes of records.jsonl and samples.jsonl. */
  readonly recordsBytes: number;
  readonly samplesBytes: number;
  /** Runs finished, in the plan's order. */
  readonly done: number;
  /** The unfinished run's last saved stage, when one was saved. */
  readonly current: { readonly run: number; readonly stage: number; readonly file: string } | null;
}

const DIR = ".resume";

/** The state file of a result folder. */
export function statePath(out: string): string {
  return join(out, DIR, "state.json");
}

/** The saved state, or null when the folder has none. */
export async function readState(out: string): Promise<ResumeState | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(statePath(out));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const s = JSON.parse(text) as ResumeState;
    if (s.version !== 1 || typeof s.recordsBytes !== "number") throw new Error("unknown layout");
    return s;
  } catch (e) {
    throw new UsageError(
      `${statePath(out)}: unreadable resume state (${
        (e as Error).message
      }); rerun without --resume`,
    );
  }
}

/** Writes the state (atomically; the last step of every consistent point). */
export async function writeState(out: string, state: ResumeState): Promise<void> {
  await Deno.mkdir(join(out, DIR), { recursive: true });
  await writeTextAtomic(statePath(out), JSON.stringify(state) + "\n");
}

/** Saves a run's policy after a stage; returns the file name inside `.resume/`. */
export async function saveSnapshot(
  out: string,
  at: { run: number; stage: number },
  weights: NamedWeights,
): Promise<string> {
  await Deno.mkdir(join(out, DIR), { recursive: true });
  const file = `run${at.run}-stage${at.stage}.safetensors`;
  await writeBytesAtomic(join(out, DIR, file), encodeSafetensors(weights));
  return file;
}

/** Reads a snapshot written by {@link saveSnapshot}. */
export async function readSnapshot(out: string, file: string): Promise<NamedWeights> {
  const path = join(out, DIR, file);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new UsageError(`${path}: cannot read the resume snapshot (${(e as Error).message})`);
  }
  return decodeSafetensors(bytes, path).weights;
}

/** Removes every snapshot except `keep`. */
export async function pruneSnapshots(out: string, keep: string | null): Promise<void> {
  try {
    for await (const e of Deno.readDir(join(out, DIR))) {
      if (e.name.endsWith(".safetensors") && e.name !== keep) {
        await Deno.remove(join(out, DIR, e.name)).catch(() => {});
      }
    }
  } catch { /* no folder */ }
}

/** Removes the resume state (a finished or replaced result folder has none). */
export async function clearState(out: string): Promise<void> {
  await Deno.remove(join(out, DIR), { recursive: true }).catch(() => {});
}

/** Cuts a file back to its first `bytes` bytes (what a killed process appended after is lost). */
export async function truncateTo(path: string, bytes: number): Promise<void> {
  const size = (await Deno.stat(path).catch(() => null))?.size;
  if (size === undefined || size < bytes) {
    throw new UsageError(
      `${path}: ${
        size === undefined ? "missing" : `${size} bytes, fewer than the ${bytes} recorded`
      }; the folder was changed since the run stopped; rerun without --resume`,
    );
  }
  if (size > bytes) await Deno.truncate(path, bytes);
}

/**
 * Refuses to resume when the recipe line written at the start (recipe, orders, task versions,
 * data files' sha256, forgetbench version) or the code differs from this command's.
 */
export async function checkSameRun(
  out: string,
  a: { header: unknown; state: ResumeState; code: string },
): Promise<void> {
  const path = join(out, "records.jsonl");
  let first: unknown;
  try {
    const text = await Deno.readTextFile(path);
    first = JSON.parse(text.slice(0, text.indexOf("\n")));
  } catch (e) {
    throw new UsageError(
      `${path}: cannot read its recipe line to resume (${(e as Error).message})`,
    );
  }
  const diff = firstDifference(first, JSON.parse(JSON.stringify(a.header)));
  if (diff) {
    throw new UsageError(
      `cannot resume ${out}: this run differs from the one that stopped in ${diff}; rerun without --resume (or with --overwrite) to start over`,
    );
  }
  if (a.state.code !== a.code) {
    throw new UsageError(
      `cannot resume ${out}: the forgetbench code differs from the code that started it (source hash ${
        a.state.code.slice(0, 12)
      } then, ${a.code.slice(0, 12)} now); rerun without --resume to start over`,
    );
  }
}

let cached: string | undefined;

/**
 * sha256 over forgetbench's own source files (every .ts and .json outside tests, node_modules
 * and result folders, by path): any change to the code that computes results changes it.
 */
export async function codeVersion(): Promise<string> {
  if (cached) return cached;
  const root = new URL("..", import.meta.url).pathname;
  const files: string[] = [];
  const skip = new Set(["node_modules", "tests", "results", "docs", ".git", ".ci", "bench"]);
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".") || skip.has(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (/\.(ts|json)$/.test(e.name) && !e.name.endsWith("_test.ts")) files.push(p);
    }
  };
  await walk(root);
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const f of files.sort()) {
    parts.push(enc.encode(`${relative(root, f)}\0`), await Deno.readFile(f), enc.encode("\0"));
  }
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) all.set(p, o), o += p.length;
  return cached = await sha256Hex(all);
}
