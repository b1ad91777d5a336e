// Shards and merge (runs/shard.ts), tried through the CLI: `--shard i/4` for i = 0..3 then
// `merge` gives CSVs and samples.jsonl byte-identical to the unsharded run, and records.jsonl
// holding the same records in the same order (timing lines aside: wall-clock seconds), for
// `bench smoke` and for a three-stage LM recipe; merging again changes nothing; a missing,
// doubled or foreign shard is refused with one line; `--jobs 2` (two shard processes merged)
// equals `--jobs 1`.

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { cli, exists, sameResults } from "./cli.ts";

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("error"));
}

async function shardsThenMerge(name: string, recipe: string): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: `fb-shard-${name}-` });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const want = join(tmp, "whole");
    const whole = await cli(["bench", recipe, "--jobs", "1", "--out", want, "--quiet"], { env });
    equal(whole.code, 0, whole.stderr);
    const dirs = [0, 1, 2, 3].map((i) => join(tmp, `shard${i}`));
    for (const [i, d] of dirs.entries()) {
      const r = await cli(["bench", recipe, "--shard", `${i}/4`, "--out", d, "--quiet"], { env });
      equal(r.code, 0, r.stderr);
      const info = JSON.parse(await Deno.readTextFile(join(d, "shard.json")));
      ok(info.runs.every((k: number) => k % 4 === i), `shard ${i} ran k mod 4 = ${i}`);
    }
    const out = join(tmp, "merged");
    // Any order of the folders.
    const m = await cli(["merge", out, dirs[2], dirs[0], dirs[3], dirs[1]]);
    equal(m.code, 0, m.stderr);
    await sameResults(out, want, `${name} merged`);
    // Merging again changes nothing.
    const files = ["matrix.csv", "leaderboard.csv", "summary.csv", "stages.csv", "fit.csv"];
    const before = await Promise.all(
      [...files, "samples.jsonl", "records.jsonl"].map((f) => Deno.readTextFile(join(out, f))),
    );
    equal((await cli(["merge", out, ...dirs, "--quiet"])).code, 0);
    const after = await Promise.all(
      [...files, "samples.jsonl", "records.jsonl"].map((f) => Deno.readTextFile(join(out, f))),
    );
    equal(after.join("\n"), before.join("\n"), "merging twice changes nothing");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("shards: bench smoke as 4 shards plus merge equals the unsharded run", async () => {
  await shardsThenMerge("smoke", "smoke");
});

Deno.test("shards: a three-stage LM recipe as 4 shards plus merge equals the unsharded run", async () => {
  await shardsThenMerge("lm", "tests/recipes/resume_lm.ts");
});

Deno.test("merge refuses a missing, doubled or foreign shard with one line", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-merge-bad-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const d = (i: number, n = 3) => join(tmp, `s${i}of${n}`);
    for (const i of [0, 1, 2]) {
      equal(
        (await cli(["bench", "smoke", "--shard", `${i}/3`, "--out", d(i), "--quiet"], { env }))
          .code,
        0,
      );
    }
    const other = join(tmp, "other");
    equal(
      (await cli(
        ["bench", "smoke", "--seeds", "4,5", "--shard", "2/3", "--out", other, "--quiet"],
        {
          env,
        },
      )).code,
      0,
    );
    const cases: [string, string[], RegExp][] = [
      ["missing", [d(0), d(2)], /shard 1\/3 missing \(given: 0\/3, 2\/3\)/],
      ["doubled", [d(0), d(1), d(1), d(2)], /shard 1\/3 is given twice/],
      [
        "foreign",
        [d(0), d(1), other],
        /is not a shard of the same run .* differs in recipe\.seeds/,
      ],
      ["not a shard", [d(0), d(1), join(tmp, "nowhere")], /nowhere\/shard\.json: cannot read it/],
    ];
    for (const [what, dirs, want] of cases) {
      const out = join(tmp, `out-${what.replace(/ /g, "-")}`);
      const r = await cli(["merge", out, ...dirs]);
      equal(r.code, 2, `${what}: ${r.stderr}`);
      const errs = errorLines(r.stderr);
      equal(errs.length, 1, r.stderr);
      ok(want.test(errs[0]), `${what}: ${errs[0]}`);
      ok(!(await exists(out)), `${what}: nothing written`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--jobs 2: two shard processes merged equal --jobs 1", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-jobs-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const one = join(tmp, "one"), two = join(tmp, "two");
    // Cold cache: the two children share one pretraining (one trains, the other waits).
    const a = await cli(["bench", "smoke", "--jobs", "2", "--out", two], { env });
    equal(a.code, 0, a.stderr);
    ok(/\[shard 0\/2\]/.test(a.stderr) && /\[shard 1\/2\]/.test(a.stderr), a.stderr);
    equal((a.stderr.match(/base model: pretraining/g) ?? []).length, 1, "pretrained once");
    ok(!(await exists(join(two, ".shards"))), "the shard folders are removed after the merge");
    const b = await cli(["bench", "smoke", "--jobs", "1", "--out", one, "--quiet"], { env });
    equal(b.code, 0, b.stderr);
    await sameResults(two, one, "--jobs 2 vs --jobs 1");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--jobs 2 killed with SIGKILL: the children stop, --resume continues every shard", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-jobs-kill-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const want = join(tmp, "want"), out = join(tmp, "out");
    equal(
      (await cli(["bench", "smoke", "--jobs", "1", "--out", want, "--quiet"], { env })).code,
      0,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "bench", "smoke", "--jobs", "2", "--out", out],
      cwd: new URL("..", import.meta.url),
      env: { NO_COLOR: "1", ...env },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let seen = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      seen += chunk;
      if (/\[shard \d\/2\] \[run 2\/6\]/.test(seen)) {
        child.kill("SIGKILL");
        break;
      }
    }
    equal((await child.status).signal, "SIGKILL");
    // The children notice their parent is gone (they poll every 0.5 s) and stop.
    await new Promise((r) => setTimeout(r, 2000));
    const ps = new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" }).outputSync();
    ok(!new TextDecoder().decode(ps.stdout).includes(join(out, ".shards")), "no orphaned shard");
    const res = await cli(["bench", "smoke", "--jobs", "2", "--out", out, "--resume"], { env });
    equal(res.code, 0, res.stderr);
    ok(/resuming .*\.shards\/\d: [1-6] of 6 runs finished/.test(res.stderr), res.stderr);
    await sameResults(out, want, "--jobs 2 killed and resumed");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
