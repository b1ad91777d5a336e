// End-to-end: `bench smoke` into a temporary folder, then `compare` through the real CLI on two of
// its variants: the printed table has intervals and p-values, compare.csv and flips.jsonl are
// written and agree with the per-item scores in samples.jsonl and with leaderboard.csv, a rerun is
// byte-identical, the two-folder form gives the same rows, and bad inputs end in one line, exit
// code 2 and no output folder.

import { deepEqual, equal, ok } from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { mcnemarExact } from "../evals/paired.ts";
import { COMPARE_COLUMNS } from "../runs/compare.ts";
import { cli, exists, taskPermissions } from "./cli.ts";

type Row = Record<string, string>;

async function csv(path: string): Promise<Row[]> {
  return parse(await Deno.readTextFile(path), { columns: true }) as Row[];
}

async function jsonl(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** A run's per-item scores at a checkpoint, from samples.jsonl: task → seed → acc column. */
async function itemScores(
  dir: string,
  variant: string,
  step: number,
): Promise<{ ids: Map<string, string[]>; acc: Map<string, Map<number, number[]>> }> {
  const ids = new Map<string, string[]>();
  const acc = new Map<string, Map<number, number[]>>();
  for (const l of await jsonl(`${dir}/samples.jsonl`)) {
    if (Array.isArray(l.ids)) ids.set(l.task as string, l.ids as string[]);
    else if (l.variant === variant && l.step === step) {
      const m = acc.get(l.task as string) ?? new Map();
      m.set(l.seed as number, (l.scores as { acc: number[] }).acc);
      acc.set(l.task as string, m);
    }
  }
  return { ids, acc };
}

/** Exit 2, one `error: ` line matching `what`, nothing written to `out`. */
async function refused(args: string[], what: RegExp, out: string): Promise<void> {
  const r = await cli(["compare", ...args, "--out", out]);
  equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  equal(lines.length, 1, r.stderr);
  ok(lines[0].startsWith("error: "), lines[0]);
  ok(what.test(lines[0]), `${lines[0]} should match ${what}`);
  equal(r.stdout, "");
  ok(!(await exists(out)), `${out} not created`);
}

Deno.test("compare: two variants of bench smoke, intervals and paired p-values, deterministic", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const bench = await cli([
      "bench",
      "smoke",
      "--out",
      `${dir}/a`,
      "--cache",
      `${dir}/cache`,
      "--quiet",
    ]);
    equal(bench.code, 0, bench.stderr);
    const args = [`${dir}/a`, "--variants", "sft1,grpo_kl"];

    let stdout = "";
    await t.step("prints a table with intervals and p-values, writes both files", async () => {
      // With the permissions of `deno task compare`.
      const r = await cli(["compare", ...args, "--out", `${dir}/c1`], {
        permissions: await taskPermissions("compare"),
      });
      equal(r.code, 0, r.stderr);
      stdout = r.stdout;
      ok(r.stdout.includes("variant sft1") && r.stdout.includes("variant grpo_kl"), r.stdout);
      ok(r.stdout.includes("final checkpoint of the last stage (stage 1, step 6)"), r.stdout);
      const header = r.stdout.split("\n").find((l) => l.startsWith("task"));
      ok(header, r.stdout);
      for (const h of ["A − B", "95% CI", "p boot", "McNemar p", "Holm"]) {
        ok(header!.includes(h), `${h} in ${header}`);
      }
      for (const task of ["parity_mnist", "fashion_mnist"]) {
        const line = r.stdout.split("\n").find((l) => l.startsWith(task));
        ok(line, `${task} row`);
        ok(/\[-?\d\.\d{4}, -?\d\.\d{4}\]/.test(line!), `interval in ${line}`);
        ok(/\d+ \/ \d+/.test(line!), `McNemar b / c in ${line}`);
      }
      ok(r.stderr.includes(`${dir}/c1/compare.csv`) && r.stderr.includes("flips.jsonl"));
    });

    await t.step("compare.csv agrees with samples.jsonl and leaderboard.csv", async () => {
      const text = await Deno.readTextFile(`${dir}/c1/compare.csv`);
      deepEqual(text.split("\n")[0].split(","), [...COMPARE_COLUMNS]);
      const rows = await csv(`${dir}/c1/compare.csv`);
      deepEqual(rows.map((r) => [r.task, r.role]), [
        ["parity_mnist", "stage"],
        ["fashion_mnist", "panel"],
      ]);
      const A = await itemScores(`${dir}/a`, "sft1", 6);
      const B = await itemScores(`${dir}/a`, "grpo_kl", 6);
      const board = (await csv(`${dir}/a/leaderboard.csv`)).filter((r) => r.steps === "6");
      const flips = await jsonl(`${dir}/c1/flips.jsonl`);
      for (const row of rows) {
        equal(row.variant_a, "sft1");
        equal(row.lr_a, "0.001");
        equal(row.seeds_a, "1 2");
        equal(row.paired_seeds, "yes");
        equal(row.step_a, "6");
        const a = A.acc.get(row.task)!, b = B.acc.get(row.task)!;
        const n = A.ids.get(row.task)!.length;
        equal(+row.items, n);
        // Means over seeds × items, recomputed from the per-item scores.
        const meanOf = (m: Map<number, number[]>) =>
          [...m.values()].flat().reduce((x, y) => x + y, 0) / (m.size * n);
        ok(Math.abs(+row.mean_a - meanOf(a)) < 1e-6, `${row.task} mean_a`);
        ok(Math.abs(+row.mean_b - meanOf(b)) < 1e-6, `${row.task} mean_b`);
        ok(Math.abs(+row.diff - (meanOf(a) - meanOf(b))) < 2e-6, `${row.task} diff`);
        // The same means as the leaderboard's rows at the final checkpoint.
        const col = row.role === "stage" ? "new_task_acc" : "panel_final";
        const lb = (v: string) =>
          board.filter((r) => r.variant === v).reduce((x, r) => x + +r[col], 0) / 2;
        ok(Math.abs(+row.mean_a - lb("sft1")) < 2e-6, `${row.task} vs leaderboard`);
        ok(Math.abs(+row.mean_b - lb("grpo_kl")) < 2e-6, `${row.task} vs leaderboard`);
        // McNemar on (seed, item) pairs, seeds paired by number.
        let nb = 0, nc = 0;
        for (const s of [1, 2]) {
          for (let i = 0; i < n; i++) {
            if (a.get(s)![i] >= 1 && b.get(s)![i] < 1) nb++;
            if (a.get(s)![i] < 1 && b.get(s)![i] >= 1) nc++;
          }
        }
        deepEqual([+row.mcnemar_b, +row.mcnemar_c, +row.pairs], [nb, nc, 2 * n]);
        const p = mcnemarExact(nb, nc).p;
        ok(Math.abs(+row.p_mcnemar - p) <= 1e-5 * p, `${row.task} McNemar p`);
        // Intervals and p-values are well formed; Holm never lowers a p-value.
        ok(+row.ci95_lo <= +row.diff && +row.diff <= +row.ci95_hi, `${row.task} interval`);
        ok(+row.ci95_lo_a <= +row.mean_a && +row.mean_a <= +row.ci95_hi_a);
        ok(+row.ci95_lo_b <= +row.mean_b && +row.mean_b <= +row.ci95_hi_b);
        for (const [p, h] of [["p_boot", "p_boot_holm"], ["p_mcnemar", "p_mcnemar_holm"]]) {
          ok(+row[p] > 0 && +row[p] <= 1 && +row[h] >= +row[p] && +row[h] <= 1, `${p} ${row[p]}`);
        }
        // flips.jsonl: one line per discordant pair, each consistent with the scores.
        const mine = flips.filter((f) => f.task === row.task);
        equal(mine.length, nb + nc, `${row.task} flips`);
        equal(mine.filter((f) => f.correct === "a").length, nb);
        for (const f of mine) {
          const i = A.ids.get(row.task)!.indexOf(f.id as string);
          ok(i >= 0, `flip id ${f.id}`);
          equal(f.seed_a, f.seed_b);
          equal(f.score_a, a.get(f.seed_a as number)![i]);
          equal(f.score_b, b.get(f.seed_b as number)![i]);
          equal(f.correct === "a", (f.score_a as number) >= 1);
          ok(Number.isInteger(f.output_a) && Number.isInteger(f.output_b), "class labels");
        }
      }
    });

    await t.step("a rerun is byte-identical", async () => {
      const r = await cli(["compare", ...args, "--out", `${dir}/c2`]);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, stdout);
      for (const f of ["compare.csv", "flips.jsonl"]) {
        equal(
          await Deno.readTextFile(`${dir}/c2/${f}`),
          await Deno.readTextFile(`${dir}/c1/${f}`),
          `${f} identical`,
        );
      }
    });

    await t.step("two folders: the same rows as one folder's two variants", async () => {
      await Deno.mkdir(`${dir}/b`);
      for (const f of ["records.jsonl", "samples.jsonl"]) {
        await Deno.copyFile(`${dir}/a/${f}`, `${dir}/b/${f}`);
      }
      const r = await cli([
        "compare",
        `${dir}/a`,
        `${dir}/b`,
        "--variant-a",
        "sft1",
        "--variant-b",
        "grpo_kl",
        "--out",
        `${dir}/c3`,
      ]);
      equal(r.code, 0, r.stderr);
      for (const f of ["compare.csv", "flips.jsonl"]) {
        equal(
          await Deno.readTextFile(`${dir}/c3/${f}`),
          await Deno.readTextFile(`${dir}/c1/${f}`),
          `${f} identical`,
        );
      }
    });

    await t.step(
      "a diverged run is left out: seeds unpaired, McNemar on the common seed",
      async () => {
        await Deno.mkdir(`${dir}/d`);
        const lines = (await Deno.readTextFile(`${dir}/a/records.jsonl`)).trimEnd().split("\n");
        const marked = lines.map((l) => {
          const v = JSON.parse(l);
          if (v.type !== "run" || v.variant !== "grpo_kl" || v.seed !== 2) return l;
          return JSON.stringify({ ...v, diverged: { stage: 1, step: 6, reason: "test" } });
        });
        await Deno.writeTextFile(`${dir}/d/records.jsonl`, marked.join("\n") + "\n");
        await Deno.copyFile(`${dir}/a/samples.jsonl`, `${dir}/d/samples.jsonl`);
        const r = await cli([
          "compare",
          `${dir}/d`,
          "--variants",
          "sft1,grpo_kl",
          "--out",
          `${dir}/c5`,
        ]);
        equal(r.code, 0, r.stderr);
        ok(r.stdout.includes("note: grpo_kl lr 0.001 seed 2 diverged at stage 1 step 6; left out"));
        ok(r.stdout.includes("not paired (resampled independently)"), r.stdout);
        const rows = await csv(`${dir}/c5/compare.csv`);
        const n = +rows[0].items;
        for (const row of rows) {
          deepEqual([row.seeds_a, row.seeds_b, row.paired_seeds], ["1 2", "1", "no"]);
          equal(+row.pairs, n, "McNemar pairs seed 1 with seed 1 only");
        }
        const flips = await jsonl(`${dir}/c5/flips.jsonl`);
        ok(flips.every((f) => f.seed_a === 1 && f.seed_b === 1));
      },
    );

    await t.step("--step and --lr choose the checkpoint and learning rate", async () => {
      const r = await cli([
        "compare",
        ...args,
        "--step",
        "3",
        "--lr",
        "1e-3",
        "--out",
        `${dir}/c4`,
      ]);
      equal(r.code, 0, r.stderr);
      ok(r.stdout.includes("(stage 1, step 3)"), r.stdout);
      ok(r.stdout.includes("lr 0.001 (--lr)"), r.stdout);
      const rows = await csv(`${dir}/c4/compare.csv`);
      const A = await itemScores(`${dir}/a`, "sft1", 3);
      const a = A.acc.get("parity_mnist")!;
      const n = A.ids.get("parity_mnist")!.length;
      const mean = [...a.values()].flat().reduce((x, y) => x + y, 0) / (2 * n);
      ok(Math.abs(+rows[0].mean_a - mean) < 1e-6);
      equal(rows[0].step_a, "3");
    });

    await t.step("bad inputs: one line, exit 2, nothing written", async () => {
      const out = `${dir}/never`;
      const a = `${dir}/a`;
      await refused([`${dir}/nope`, "--variants", "x,y"], /nope is not a folder/, out);
      await Deno.mkdir(`${dir}/empty`);
      await refused([`${dir}/empty`, "--variants", "x,y"], /no records\.jsonl/, out);
      await refused([a], /which variants\? give --variants A,B/, out);
      await refused(
        [a, "--variants", "sft1,nope"],
        /no runs of variant 'nope' \(it has: sft1,/,
        out,
      );
      await refused([a, "--variants", "sft1"], /must name two variants/, out);
      await refused([a, "--variants", "sft1,sft1"], /same runs/, out);
      await refused([a, a, a], /takes one result folder/, out);
      await refused([...args, "--lr", "0.5"], /no finished run at lr 0\.5 \(it has: 0\.001\)/, out);
      await refused([...args, "--step", "4"], /no checkpoint at step 4.*\(it has: 3, 6\)/, out);
      await refused([...args, "--replicates", "0"], /--replicates/, out);

      // Another recipe's data: a folder whose records name other data files.
      await Deno.mkdir(`${dir}/other`);
      const lines = (await Deno.readTextFile(`${a}/records.jsonl`)).split("\n");
      const head = JSON.parse(lines[0]);
      head.inputs.tasks.fashion_mnist = "0";
      await Deno.writeTextFile(
        `${dir}/other/records.jsonl`,
        [JSON.stringify(head), ...lines.slice(1)].join("\n"),
      );
      await Deno.copyFile(`${a}/samples.jsonl`, `${dir}/other/samples.jsonl`);
      const two = [a, `${dir}/other`, "--variant-a", "sft1", "--variant-b", "grpo_kl"];
      await refused(
        two,
        /measured on different data \(records\.jsonl inputs\.tasks\.fashion_mnist/,
        out,
      );

      // Other items: the same data, but one task scored on an item the other folder lacks.
      await Deno.copyFile(`${a}/records.jsonl`, `${dir}/other/records.jsonl`);
      const samples = (await Deno.readTextFile(`${a}/samples.jsonl`)).split("\n").map((l) => {
        if (!l.startsWith('{"task":"fashion_mnist","ids":')) return l;
        const v = JSON.parse(l);
        v.ids[0] = "elsewhere-1";
        return JSON.stringify(v);
      });
      await Deno.writeTextFile(`${dir}/other/samples.jsonl`, samples.join("\n"));
      await refused(two, /task 'fashion_mnist' was scored on different items/, out);
      // Two folders and no variant named: each folder has several.
      await refused([a, `${dir}/other`], /which variants\? give --variant-a/, out);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
