// Shards of a recipe's grid (README "Grids on many machines"). `--shard i/n` runs the runs whose
// index k in the plan's order (variant × lr × seed × order, as resolve lists them) has
// k mod n = i: a rule of k and n alone, the same on every machine and in every process, with
// no hashing and no timing. Every shard also evaluates π0 (its result folder is then complete on
// its own) and writes `shard.json` beside its records. `merge OUT SHARD_DIR...` checks that the
// folders are the n shards of one run (same recipe line, same code, each index once) and writes
// OUT's records.jsonl and samples.jsonl as the unsharded run writes them: π0's lines, then every
// run's lines in plan order; then every CSV, the report and a manifest from those records.
// Merging is a pure function of the shards: merging again gives the same files.

import { join } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { buildManifest, provenance } from "./manifest.ts";
import { firstDifference, openOutput, type OutputFolder } from "./outdir.ts";
import { type Report, writeReport } from "./report.ts";

/** One shard of n. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** What `shard.json` holds. */
export interface ShardInfo {
  readonly shard: Shard;
  /** The plan's run indexes this shard ran, ascending. */
  readonly runs: readonly number[];
  /** Runs in the whole grid. */
  readonly total: number;
  /** sha256 of the forgetbench source (runs/resume.ts codeVersion). */
  readonly code: string;
}

/** Parses `--shard i/n` (0 ≤ i < n). */
export function parseShard(text: string): Shard {
  const m = text.match(/^(\d+)\/(\d+)$/);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) {
    throw new UsageError(
      `--shard: '${text}' must be i/n with 0 ≤ i < n, e.g. 0/4 for the first of four shards`,
    );
  }
  return { index, count };
}

/** Whether run `k` of the plan belongs to `shard` (all runs without a shard). */
export function inShard(k: number, shard: Shard | undefined): boolean {
  return !shard || k % shard.count === shard.index;
}

/** The run fields that name a run in records and samples. */
function runKey(v: Record<string, unknown>): string | null {
  if (v.variant === undefined || v.variant === null) return null;
  return JSON.stringify([v.variant, v.lr, v.seed, v.order]);
}

interface ShardFolder {
  readonly dir: string;
  readonly info: ShardInfo;
  /** records.jsonl's first line. */
  readonly header: string;
  /** π0's record lines, then each run's lines (by run key, in this shard's order). */
  readonly base: string[];
  readonly runs: Map<string, string[]>;
  readonly runOrder: string[];
  readonly baseSamples: string[];
  readonly runSamples: Map<string, string[]>;
}

function lines(text: string): string[] {
  const ls = text.split("\n");
  if (ls[ls.length - 1] === "") ls.pop();
  return ls;
}

async function readShard(dir: string): Promise<ShardFolder> {
  const read = async (f: string) => {
    try {
      return await Deno.readTextFile(join(dir, f));
    } catch (e) {
      throw new ValidationError(
        join(dir, f),
        `cannot read it (${(e as Error).message.split("\n")[0]}); is ${dir} a finished shard?`,
      );
    }
  };
  let info: ShardInfo;
  try {
    info = JSON.parse(await read("shard.json"));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ValidationError(join(dir, "shard.json"), `not JSON (${(e as Error).message})`);
  }
  try {
    await Deno.stat(join(dir, ".resume"));
    throw new ValidationError(dir, "this shard stopped before it finished; resume it first");
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  const [header, ...body] = lines(await read("records.jsonl"));
  const base: string[] = [], runs = new Map<string, string[]>(), runOrder: string[] = [];
  for (const [i, l] of body.entries()) {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(l);
    } catch {
      throw new ValidationError(`${join(dir, "records.jsonl")}:${i + 2}`, "not JSON");
    }
    const k = runKey(v);
    if (k === null) base.push(l);
    else {
      if (!runs.has(k)) runs.set(k, []), runOrder.push(k);
      runs.get(k)!.push(l);
    }
  }
  const baseSamples: string[] = [], runSamples = new Map<string, string[]>();
  for (const l of lines(await read("samples.jsonl"))) {
    const k = runKey(JSON.parse(l));
    if (k === null) baseSamples.push(l);
    else {
      if (!runSamples.has(k)) runSamples.set(k, []);
      runSamples.get(k)!.push(l);
    }
  }
  return { dir, info, header, base, runs, runOrder, baseSamples, runSamples };
}

/**
 * Merges the n shard folders of one run into `out`; refuses (one line) a missing, doubled or
 * foreign shard, or one of other code. Returns the files written.
 */
export async function mergeShards(
  out: string,
  dirs: readonly string[],
  opts: {
    overwrite?: boolean;
    say?: (line: string) => void;
    folder?: OutputFolder;
    /** Whether the base came from the cache, when the caller knows (bench --jobs). */
    baseCached?: boolean;
  } = {},
): Promise<Report & { paths: string[]; base: string }> {
  if (dirs.length === 0) throw new UsageError("merge needs the shard folders: merge OUT DIR...");
  const started = new Date();
  const shards = [];
  for (const d of dirs) shards.push(await readShard(d));
  const first = shards[0];
  const n = first.info.shard.count;
  const byIndex = new Map<number, ShardFolder>();
  for (const s of shards) {
    const diff = firstDifference(JSON.parse(s.header), JSON.parse(first.header));
    if (diff) {
      throw new UsageError(
        `${s.dir} is not a shard of the same run as ${first.dir}: its recipe line differs in ${diff}`,
      );
    }
    if (s.info.code !== first.info.code) {
      throw new UsageError(
        `${s.dir} ran other forgetbench code than ${first.dir} (source ${
          s.info.code.slice(0, 12)
        } vs ${first.info.code.slice(0, 12)}); run every shard with one version`,
      );
    }
    if (s.info.shard.count !== n) {
      throw new UsageError(
        `${s.dir} is shard ${s.info.shard.index}/${s.info.shard.count}, but ${first.dir} is one of ${n}`,
      );
    }
    const twin = byIndex.get(s.info.shard.index);
    if (twin) {
      throw new UsageError(
        `shard ${s.info.shard.index}/${n} is given twice: ${twin.dir} and ${s.dir}`,
      );
    }
    byIndex.set(s.info.shard.index, s);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new UsageError(
      `shard${missing.length > 1 ? "s" : ""} ${
        missing.map((i) => `${i}/${n}`).join(", ")
      } missing (given: ${
        [...byIndex.keys()].sort((a, b) => a - b).map((i) => `${i}/${n}`).join(", ")
      })`,
    );
  }
  // π0 is evaluated by every shard, identically.
  for (const s of shards) {
    if (s.base.join("\n") !== first.base.join("\n")) {
      throw new UsageError(`${s.dir}: its π0 evaluation differs from ${first.dir}'s`);
    }
  }
  const total = first.info.total;
  const records = [first.header, ...first.base];
  const samples = [...first.baseSamples];
  for (let k = 0; k < total; k++) {
    const s = byIndex.get(k % n)!;
    const local = Math.floor(k / n);
    const key = s.runOrder[local];
    if (key === undefined || s.info.runs[local] !== k) {
      throw new UsageError(`${s.dir}: run ${k} of the grid is missing from this shard`);
    }
    records.push(...s.runs.get(key)!);
    samples.push(...(s.runSamples.get(key) ?? []));
  }
  const folder = opts.folder ??
    await openOutput(out, { command: "bench", what: JSON.parse(first.header).recipe }, {
      overwrite: opts.overwrite ?? false,
      resume: false,
      say: opts.say,
    });
  try {
    await folder.claim();
    await writeTextAtomic(join(out, "records.jsonl"), records.join("\n") + "\n");
    await writeTextAtomic(
      join(out, "samples.jsonl"),
      samples.join("\n") + (samples.length ? "\n" : ""),
    );
    const report = await writeReport(out, {
      manifest: { ...(await provenance()), options: { merged_from: dirs.length } },
    });
    const outputs: Record<string, string> = {};
    for (const p of report.paths) {
      outputs[p.slice(out.length + 1)] = await sha256Hex(await Deno.readFile(p));
    }
    const shardManifests = [];
    let dataFiles: unknown[] = [];
    let first0: Record<string, unknown> = {};
    for (const s of [...byIndex.values()].sort((a, b) => a.info.shard.index - b.info.shard.index)) {
      const m = await Deno.readFile(join(s.dir, "manifest.json")).catch(() => null);
      if (m && s.info.shard.index === 0) {
        first0 = JSON.parse(new TextDecoder().decode(m));
        dataFiles = (first0.data_files as unknown[]) ?? [];
      }
      shardManifests.push({
        shard: `${s.info.shard.index}/${n}`,
        dir: s.dir,
        manifest_sha256: m ? await sha256Hex(m) : null,
      });
    }
    const manifest = await buildManifest({
      command: "bench",
      what: {
        recipe: JSON.parse(first.header).recipe,
        recipe_file: first0.recipe_file ?? null,
        merged_from: shardManifests,
      },
      options: (first0.options as Record<string, unknown>) ?? {},
      dataFiles,
      ...(first0.base_model
        ? {
          base: {
            ...(first0.base_model as Record<string, unknown>),
            ...(opts.baseCached === undefined ? {} : { cached: opts.baseCached }),
          },
        }
        : {}),
      outputs,
      started,
    });
    await writeTextAtomic(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    return {
      ...report,
      paths: [...report.paths, join(out, "manifest.json")],
      base: baseLine(first.base),
    };
  } finally {
    if (!opts.folder) await folder.close();
  }
}

/** π0's accuracies as one line (stage tasks, then the panel's mean), from its eval records. */
function baseLine(base: readonly string[]): string {
  const evals = base.map((l) => JSON.parse(l)).filter((r) => r.type === "eval");
  const parts = evals.filter((r) => r.role === "stage")
    .map((r) => `${r.task} ${Number(r.accuracy ?? NaN).toFixed(2)}`);
  const panel = evals.filter((r) => r.role === "panel").map((r) => Number(r.accuracy ?? NaN));
  if (panel.length > 0) {
    parts.push(`panel ${(panel.reduce((a, b) => a + b, 0) / panel.length).toFixed(3)}`);
  }
  return parts.join(" ");
}
