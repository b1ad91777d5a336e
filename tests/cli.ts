// Runs forgetbench's CLI in a child process, as a user would, for the end-to-end tests.

import { equal } from "node:assert/strict";
import { join } from "node:path";
import { BENCH_PERMISSIONS } from "../runs/parallel.ts";

const ROOT = new URL("..", import.meta.url);

/** Result of one CLI invocation. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run main.ts ...args` from the repository root, with the bench task's permissions unless given. */
export async function cli(
  args: string[],
  opts?: { env?: Record<string, string>; permissions?: readonly string[] },
): Promise<CliResult> {
  const permissions = opts?.permissions ?? BENCH_PERMISSIONS;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...opts?.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The permission flags of a `deno task` of deno.json (`deno run -q --allow-… main.ts …`). */
export async function taskPermissions(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return String(config.tasks[task]).split(/\s+/).filter((a) => a.startsWith("--allow-"));
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The permissions of the eval and score tasks in deno.json: the bench task's. */
export const TEXT_PERMISSIONS = BENCH_PERMISSIONS;

/** The CSVs whose bytes depend only on the records (timings.csv holds wall-clock seconds). */
const CSVS = ["matrix.csv", "leaderboard.csv", "summary.csv", "stages.csv", "fit.csv"];

async function withoutTimings(dir: string): Promise<string> {
  return (await Deno.readTextFile(join(dir, "records.jsonl"))).split("\n")
    .filter((l) => !l.includes('"type":"timing"')).join("\n");
}

/** The folders' results are the same (CSVs and samples byte for byte; records without timings). */
export async function sameResults(got: string, want: string, what: string): Promise<void> {
  // The circuit tables where the run wrote them (recipes with a circuits field).
  const circuits = [];
  for (const f of ["circuits.csv", "retention.csv", "circuit_fit.csv"]) {
    if (await exists(join(want, f))) circuits.push(f);
  }
  for (const f of [...CSVS, ...circuits, "samples.jsonl"]) {
    equal(
      await Deno.readTextFile(join(got, f)),
      await Deno.readTextFile(join(want, f)),
      `${what}: ${f}`,
    );
  }
  equal(await withoutTimings(got), await withoutTimings(want), `${what}: records.jsonl`);
}
