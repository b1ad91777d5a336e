// Resume after kill -9, tried as preemption does it: `bench smoke`, a three-stage LM recipe
// (tests/recipes/resume_lm.ts) and `eval` are killed with SIGKILL at seeded random points in
// different phases (base pretraining, mid-stage, between stages, during evaluation, while
// writing the results), then resumed with `--resume`. Every final CSV (timings.csv aside: it
// holds wall-clock seconds) and samples.jsonl must be byte-identical to an uninterrupted run's,
// and records.jsonl must hold exactly the uninterrupted run's records (timing lines aside), none
// duplicated, none missing. Also: one writer per folder (a second bench is refused at once and
// the first's results stay intact), a stale lock is taken over, other commands' folders need
// --overwrite, and resuming a different recipe is refused with one line.

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { rng } from "../lib/rng.ts";
import { cli, exists, sameResults } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PERMS = ["-A"];

/** Starts the CLI; kills it with SIGKILL `delayMs` after a stderr line matches `after`. */
async function killedRun(
  args: string[],
  o: { env: Record<string, string>; after: RegExp; delayMs: number },
): Promise<{ killed: boolean; seen: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...o.env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let seen = "", armed = false, killed = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
      killed = true;
    } catch { /* already exited */ }
  };
  const dec = new TextDecoder();
  for await (const chunk of child.stderr) {
    seen += dec.decode(chunk, { stream: true });
    if (!armed && o.after.test(seen)) {
      armed = true;
      setTimeout(kill, o.delayMs);
    }
  }
  const status = await child.status;
  return { killed: killed && status.signal === "SIGKILL", seen };
}

/** The `error:` lines of a command's stderr (notes such as a stale lock taken over aside). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("error"));
}

/**
 * The resumed folder holds the uninterrupted run's results (tests/cli.ts sameResults: CSVs and
 * samples byte for byte, the same records in the same order), no record twice, and neither the
 * resume state nor the lock left behind.
 */
async function resumedAsWhole(got: string, want: string, what: string): Promise<void> {
  await sameResults(got, want, what);
  const records = (await Deno.readTextFile(join(got, "records.jsonl"))).split("\n")
    .filter((l) => l && !l.includes('"type":"timing"'));
  equal(new Set(records).size, records.length, `${what}: a record is duplicated`);
  ok(!(await exists(join(got, ".resume"))), `${what}: the resume state is left behind`);
  ok(!(await exists(join(got, ".lock"))), `${what}: the lock is left behind`);
}

/** A kill point: after a progress line, a seeded delay, optionally with a cold base cache. */
interface KillPoint {
  readonly phase: string;
  readonly after: RegExp;
  readonly maxDelayMs: number;
  readonly coldCache?: boolean;
}

async function killAndResume(
  name: string,
  args: string[],
  points: readonly KillPoint[],
  seed: number,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: `fb-resume-${name}-` });
  try {
    const warm = join(tmp, "cache");
    const want = join(tmp, "want");
    const ref = await cli(["bench", ...args, "--out", want, "--quiet"], {
      env: { FORGETBENCH_CACHE: warm },
    });
    equal(ref.code, 0, ref.stderr);
    const rand = rng(seed);
    let killedCount = 0;
    for (const [i, p] of points.entries()) {
      const out = join(tmp, `got${i}`);
      const cache = p.coldCache ? join(tmp, `cold${i}`) : warm;
      const delayMs = rand.int(p.maxDelayMs);
      const what = `${name} killed ${delayMs} ms after ${p.phase}`;
      const k = await killedRun(["bench", ...args, "--out", out], {
        env: { FORGETBENCH_CACHE: cache },
        after: p.after,
        delayMs,
      });
      if (k.killed) killedCount++;
      const res = await cli(["bench", ...args, "--out", out, "--resume", "--quiet"], {
        env: { FORGETBENCH_CACHE: cache },
      });
      equal(res.code, 0, `${what}: resume failed: ${res.stderr}`);
      await resumedAsWhole(out, want, what);
    }
    // Most points must really have interrupted the run (a kill after the end tests nothing).
    ok(killedCount >= points.length - 2, `${name}: only ${killedCount} runs were killed`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("resume: bench smoke killed at 10 seeded points in every phase", async () => {
  const run = (n: number) => new RegExp(`\\[run ${n}/12\\]`);
  await killAndResume("smoke", ["smoke", "--jobs", "1"], [
    { phase: "base pretraining", after: /pretraining/, maxDelayMs: 150, coldCache: true },
    { phase: "base pretrained", after: /base model: step 40/, maxDelayMs: 60, coldCache: true },
    { phase: "the start", after: /forgetbench: recipe/, maxDelayMs: 80 },
    { phase: "π0's evaluation", after: /forgetbench: recipe/, maxDelayMs: 250 },
    { phase: "run 2", after: run(1), maxDelayMs: 60 },
    { phase: "run 4", after: run(3), maxDelayMs: 60 },
    { phase: "run 7", after: run(6), maxDelayMs: 60 },
    { phase: "run 10", after: run(9), maxDelayMs: 60 },
    { phase: "run 12", after: run(11), maxDelayMs: 40 },
    { phase: "writing the results", after: run(12), maxDelayMs: 20 },
  ], 11);
});

Deno.test("resume: a three-stage LM recipe killed at 10 seeded points, snapshots between stages", async () => {
  const stage = (run: number, s: number) => new RegExp(`\\[run ${run}/2\\] .* stage ${s} `);
  await killAndResume("lm", ["tests/recipes/resume_lm.ts", "--jobs", "1"], [
    { phase: "base pretraining", after: /pretraining/, maxDelayMs: 800, coldCache: true },
    { phase: "π0's evaluation", after: /forgetbench: recipe/, maxDelayMs: 400 },
    { phase: "SFT stage 1", after: /base model π0/, maxDelayMs: 500 },
    { phase: "SFT stage 2", after: stage(1, 1), maxDelayMs: 400 },
    { phase: "SFT stage 2's evaluation", after: stage(1, 1), maxDelayMs: 900 },
    { phase: "SFT stage 3", after: stage(1, 2), maxDelayMs: 500 },
    { phase: "GRPO stage 1", after: stage(1, 3), maxDelayMs: 400 },
    { phase: "GRPO stage 2", after: stage(2, 1), maxDelayMs: 400 },
    { phase: "GRPO stage 3", after: stage(2, 2), maxDelayMs: 300 },
    { phase: "writing the results", after: stage(2, 3), maxDelayMs: 40 },
  ], 22);
});

Deno.test("resume: a resumed run continues from its stage snapshot, not from the start", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-resume-snap-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const out = join(tmp, "out");
    const args = ["bench", "tests/recipes/resume_lm.ts", "--jobs", "1", "--out", out];
    // Kill once stage 2 of run 1 finished: the snapshot after stage 2 is saved.
    const k = await killedRun(args, { env, after: /\[run 1\/2\] .* stage 2 /, delayMs: 0 });
    ok(k.killed, "the run was killed");
    const state = JSON.parse(await Deno.readTextFile(join(out, ".resume", "state.json")));
    equal(state.done, 0);
    equal(state.current?.run, 0);
    ok(state.current.stage >= 1, `a stage snapshot was saved (${JSON.stringify(state)})`);
    const res = await cli([...args, "--resume"], { env });
    equal(res.code, 0, res.stderr);
    ok(
      new RegExp(`run 1 continues after stage ${state.current.stage}`).test(res.stderr),
      res.stderr,
    );
    // Only the stages after the snapshot ran again.
    ok(!/\[run 1\/2\] .* stage 1 /.test(res.stderr), "stage 1 was not run again");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("resume: a different recipe, or a changed one, is refused with one line", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-resume-diff-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const out = join(tmp, "out");
    const k = await killedRun(["bench", "smoke", "--jobs", "1", "--out", out], {
      env,
      after: /\[run 3\/12\]/,
      delayMs: 0,
    });
    ok(k.killed);
    const other = await cli([
      "bench",
      "smoke",
      "--jobs",
      "1",
      "--seeds",
      "5",
      "--out",
      out,
      "--resume",
    ], {
      env,
    });
    equal(other.code, 2);
    equal(errorLines(other.stderr).length, 1, other.stderr);
    ok(/differ in seeds/.test(other.stderr), other.stderr);
    // The stopped run is intact: the right command still resumes it.
    const res = await cli(["bench", "smoke", "--jobs", "1", "--out", out, "--resume", "--quiet"], {
      env,
    });
    equal(res.code, 0, res.stderr);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("one writer: a second bench into the same folder exits 2 at once; the first's results stay", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-lock-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const out = join(tmp, "out");
    const first = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "bench", "smoke", "--out", out],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Wait until the first holds the lock.
    for (let i = 0; i < 600 && !(await exists(join(out, ".lock"))); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const t0 = performance.now();
    const second = await cli(["bench", "smoke", "--out", out], { env });
    const seconds = (performance.now() - t0) / 1000;
    const firstOut = await first.output();
    equal(firstOut.code, 0, new TextDecoder().decode(firstOut.stderr));
    equal(second.code, 2, second.stderr);
    const line = second.stderr.trim();
    equal(line.split("\n").length, 1, line);
    ok(/is being written by pid \d+ on .+, started .+\(forgetbench bench\)/.test(line), line);
    ok(seconds < 30, `refused at once (${seconds.toFixed(1)} s, start-up included)`);
    // The first's results are whole.
    const ref = join(tmp, "ref");
    equal((await cli(["bench", "smoke", "--out", ref, "--quiet"], { env })).code, 0);
    await resumedAsWhole(out, ref, "the first bench");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("one writer: a dead process's lock is taken over and said so", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-stale-" });
  try {
    const out = join(tmp, "out");
    await Deno.mkdir(out);
    // A pid that no longer runs: a finished child's.
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    await Deno.writeTextFile(
      join(out, ".lock"),
      JSON.stringify({
        pid: gone.pid,
        host: Deno.hostname(),
        started: "2026-01-01T00:00:00.000Z",
        procStart: "1",
        command: "forgetbench bench",
      }),
    );
    const res = await cli(["bench", "smoke", "--out", out], {
      env: { FORGETBENCH_CACHE: join(tmp, "cache") },
    });
    equal(res.code, 0, res.stderr);
    ok(new RegExp(`took over .*\\.lock from pid ${gone.pid}`).test(res.stderr), res.stderr);
    ok(!(await exists(join(out, ".lock"))));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("output folders: another recipe's results need --overwrite; the same command replaces its own", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-owner-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const out = join(tmp, "out");
    equal((await cli(["bench", "smoke", "--out", out, "--quiet"], { env })).code, 0);
    const before = await Deno.readTextFile(join(out, "leaderboard.csv"));
    const other = await cli(["bench", "smoke", "--seeds", "7", "--out", out], { env });
    equal(other.code, 2);
    equal(errorLines(other.stderr).length, 1, other.stderr);
    ok(/holds results of bench recipe 'smoke'.*differ in seeds.*--overwrite/.test(other.stderr));
    equal(await Deno.readTextFile(join(out, "leaderboard.csv")), before, "untouched");
    // The same command again replaces its own results (byte-identical: deterministic).
    equal((await cli(["bench", "smoke", "--out", out, "--quiet"], { env })).code, 0);
    equal(await Deno.readTextFile(join(out, "leaderboard.csv")), before);
    // --overwrite replaces another recipe's results.
    const over = await cli([
      "bench",
      "smoke",
      "--seeds",
      "7",
      "--out",
      out,
      "--overwrite",
      "--quiet",
    ], {
      env,
    });
    equal(over.code, 0, over.stderr);
    ok(/,7,/.test(await Deno.readTextFile(join(out, "leaderboard.csv"))));
    // Default folders name what ran: the recipe; an eval's model and tasks.
    const help = (await cli(["bench", "--help"])).stdout;
    ok(help.includes("results/<recipe id>") && help.includes("results/eval/<model>/<tasks>"));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
