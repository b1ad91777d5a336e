// Divergence (docs/metrics.md "Divergence"): a grid with a deliberately diverging learning rate
// (1e9) finishes with exit 0; the runs that diverged are marked in leaderboard.csv's `diverged`
// column with their stage and step and left out of the summary's means (which count them) and of
// the fits; every other row is byte-identical to the grid without that learning rate. A recipe's
// kl.max stops runs whose KL(π0‖π) exceeds it.

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { cli } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function rows(text: string): Record<string, string>[] {
  return parse(text, { columns: true }) as Record<string, string>[];
}

Deno.test("divergence: lr 1e9 diverges, the grid finishes, other rows are unchanged", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-diverge-" });
  try {
    const env = { FORGETBENCH_CACHE: join(tmp, "cache") };
    const calm = join(tmp, "calm"), wild = join(tmp, "wild");
    const a = await cli(["bench", "smoke", "--lrs", "1e-3", "--out", calm, "--quiet"], { env });
    equal(a.code, 0, a.stderr);
    const b = await cli(["bench", "smoke", "--lrs", "1e-3,1e9", "--out", wild], { env });
    equal(b.code, 0, b.stderr);
    ok(!/Uncaught|at file:/.test(b.stderr), "no stack trace");
    ok(/run\(s\) diverged \(/.test(b.stdout), b.stdout);
    const lines = async (dir: string, f: string) =>
      (await Deno.readTextFile(join(dir, f))).split("\n");
    // Every leaderboard and matrix line of lr 0.001 is the same bytes as without lr 1e9.
    for (const f of ["leaderboard.csv", "matrix.csv", "stages.csv"]) {
      const keep = (await lines(wild, f)).filter((l) => !l.includes(",1000000000,"));
      equal(keep.join("\n"), (await lines(calm, f)).join("\n"), `${f}: rows of lr 0.001`);
    }
    const lb = rows(await Deno.readTextFile(join(wild, "leaderboard.csv")));
    const diverged = lb.filter((r) => r.diverged !== "");
    ok(diverged.length >= 2, `some 1e9 runs diverged (${diverged.length})`);
    for (const r of diverged) {
      equal(r.lr, "1000000000");
      ok(/^1:\d+$/.test(r.diverged), `stage:step, got ${r.diverged}`);
      equal(r.new_task_acc, "", "no metrics for a diverged run");
      equal(r.steps, r.diverged.split(":")[1], "steps is where it stopped");
    }
    // The records say why.
    const runs = (await Deno.readTextFile(join(wild, "records.jsonl"))).split("\n")
      .filter((l) => l.includes('"type":"run"')).map((l) => JSON.parse(l));
    const stopped = runs.filter((r) => r.diverged);
    equal(stopped.length, new Set(diverged.map((r) => `${r.variant}/${r.seed}`)).size);
    ok(stopped.every((r) => /NaN|Infinity|not finite/.test(r.diverged.reason)));
    // The summary counts diverged runs per variant; their rows are left out of the means.
    const sum = rows(await Deno.readTextFile(join(wild, "summary.csv")));
    const count = (v: string) => Number(sum.find((r) => r.variant === v)!.diverged);
    for (const v of new Set(diverged.map((r) => r.variant))) {
      equal(count(v), diverged.filter((r) => r.variant === v).length, `${v}'s count`);
    }
    // The fits use only finished runs: n counts no diverged row.
    const fit = rows(await Deno.readTextFile(join(wild, "fit.csv")));
    const finished = lb.filter((r) => r.diverged === "").length;
    ok(
      fit.filter((f) => f.scope === "run" && f.runs === "all").every((f) =>
        Number(f.n) <= finished
      ),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("divergence: a recipe's kl.max stops runs whose KL(π0‖π) exceeds it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fb-klmax-" });
  try {
    const file = join(tmp, "klmax.ts");
    await Deno.writeTextFile(
      file,
      `import { recipe as smoke } from "${ROOT}runs/recipes/smoke.ts";\n` +
        `export const recipe = { ...smoke, id: "smoke_klmax", kl: { max: 0.2 } };\n`,
    );
    const out = join(tmp, "out");
    const res = await cli(["bench", file, "--out", out, "--quiet"], {
      env: { FORGETBENCH_CACHE: join(tmp, "cache") },
    });
    equal(res.code, 0, res.stderr);
    const runs = (await Deno.readTextFile(join(out, "records.jsonl"))).split("\n")
      .filter((l) => l.includes('"type":"run"')).map((l) => JSON.parse(l));
    const byKl = runs.filter((r) => r.diverged && /above kl\.max 0\.2/.test(r.diverged.reason));
    ok(byKl.length > 0, "some run crossed KL 0.2");
    ok(runs.some((r) => r.diverged === null), "others finished");
    const lb = rows(await Deno.readTextFile(join(out, "leaderboard.csv")));
    ok(lb.filter((r) => r.diverged === "").every((r) => Number(r.kl_forward) <= 0.2));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
