// `bench --jobs N` (README "Grids on many machines"): the recipe's grid as N shards, each a
// child process (`bench ... --shard i/N`) writing `OUT/.shards/i`, then merged into OUT
// (runs/shard.ts). jax-js's worker pool barely helps at these model sizes, so whole runs in
// parallel are how a bench uses the cores. The children share the cache: one pretrains the base
// while the others wait for it (runs/base.ts). Each child watches this process and stops when it
// is gone, so a killed bench leaves no orphans; `--resume` resumes each shard.

import { join } from "node:path";
import { UsageError } from "../lib/errors.ts";
import { openOutput } from "./outdir.ts";
import { type BenchOptions, type BenchResult, prepareBase } from "./pipeline.ts";
import type { LoadedRecipe } from "./recipes/mod.ts";
import { mergeShards } from "./shard.ts";

/** The permissions of `deno task bench` (deno.json), given to every child. */
export const BENCH_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
];

/** Environment variable naming the parent a shard child watches. */
export const PARENT_ENV = "FORGETBENCH_PARENT_PID";

/** In a child of `--jobs`: exit as soon as the parent is gone (killed, crashed). */
export function watchParent(): void {
  const want = Number(Deno.env.get(PARENT_ENV));
  if (!want) return;
  const id = setInterval(() => {
    if (Deno.ppid !== want) Deno.exit(137);
  }, 500);
  Deno.unrefTimer(id);
}

/**
 * Runs `args` (the bench command line without --jobs, --out and --quiet) as `jobs` shards in
 * child processes, then merges them into `out`.
 */
export async function runParallel(
  loaded: LoadedRecipe,
  o: {
    /** The options a single-process bench would get (the checks and π0 run here first). */
    bench: Omit<BenchOptions, "out">;
    args: readonly string[];
    out: string;
    jobs: number;
    quiet: boolean;
    resume: boolean;
    overwrite: boolean;
  },
): Promise<BenchResult> {
  const t0 = performance.now();
  const recipe = loaded.recipe;
  const say = (l: string) => {
    if (!o.quiet) console.error(l);
  };
  // This folder first, as a single bench takes it: a second writer is refused at once.
  const folder = await openOutput(o.out, { command: "bench", what: recipe }, {
    overwrite: o.overwrite,
    resume: o.resume,
    say,
  });
  try {
    // Every check, and π0 in the cache, before any child starts.
    const base = await prepareBase(loaded, o.bench);
    const shardsDir = join(o.out, ".shards");
    if (!o.resume) await Deno.remove(shardsDir, { recursive: true }).catch(() => {});
    const main = new URL("../main.ts", import.meta.url).pathname;
    say(
      `forgetbench: recipe '${recipe.id}' as ${o.jobs} shards in parallel, merged into ${o.out}; ${
        base.dir === null
          ? "no pretrained base"
          : `base model ${base.cached ? "from the cache" : "pretrained and cached"}: ${base.dir}`
      }`,
    );
    const children = Array.from({ length: o.jobs }, (_, i) => {
      const dir = join(shardsDir, String(i));
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-q",
          ...BENCH_PERMISSIONS,
          main,
          "bench",
          ...o.args,
          "--shard",
          `${i}/${o.jobs}`,
          "--out",
          dir,
          "--jobs",
          "1",
          ...(o.resume ? ["--resume"] : []),
          ...(o.overwrite ? ["--overwrite"] : []),
        ],
        env: { [PARENT_ENV]: String(Deno.pid) },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      return { i, dir, child, last: "", done: forward(child, i, o.jobs, say) };
    });
    const failed: string[] = [];
    for (const c of children) {
      const status = await c.child.status;
      const last = await c.done;
      if (!status.success) failed.push(`shard ${c.i}/${o.jobs} (exit ${status.code}): ${last}`);
    }
    if (failed.length > 0) {
      throw new UsageError(
        `${failed[0].replace(/^(shard \S+) \(exit \d+\): error: /, "$1: ")}${
          failed.length > 1 ? ` (and ${failed.length - 1} more shard(s) failed)` : ""
        }`,
      );
    }
    const merged = await mergeShards(o.out, children.map((c) => c.dir), {
      folder,
      say,
      baseCached: base.cached,
    });
    await Deno.remove(shardsDir, { recursive: true });
    const cache = merged.base;
    return {
      ...merged,
      out: o.out,
      base: {
        cached: base.cached,
        pretrained: recipe.pretrain !== null,
        dir: base.dir,
        scores: cache,
      },
      seconds: (performance.now() - t0) / 1000,
      paths: merged.paths,
    };
  } finally {
    await folder.close();
  }
}

/** Forwards a child's stderr lines, prefixed with its shard; resolves to its last line. */
async function forward(
  child: Deno.ChildProcess,
  i: number,
  n: number,
  say: (l: string) => void,
): Promise<string> {
  let buf = "", last = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    const lines = buf.split(/\r|\n/);
    buf = lines.pop()!;
    for (const l of lines.map((x) => x.replaceAll("\x1b[K", "")).filter((x) => x.trim())) {
      last = l;
      say(`[shard ${i}/${n}] ${l}`);
    }
  }
  if (buf.trim()) last = buf.trim(), say(`[shard ${i}/${n}] ${last}`);
  return last;
}
