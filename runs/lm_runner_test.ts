// Tests for runs/lm_runner.ts with a tiny model (seconds): the result folder's files and their
// shapes, the accuracy matrix in long format, byte-identical CSVs for the same recipe and seed,
// the replay batch composition, the task orders, and one-line recipe errors before any work.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { UsageError } from "../lib/errors.ts";
import { recipe as lm } from "./lm.ts";
import { TINY_LM_CONFIG } from "../tests/tiny_lm.ts";
import {
  checkLmRecipe,
  type LmRecipe,
  mixedBatches,
  runLmRecipe,
  taskOrders,
} from "./lm_runner.ts";

// jax-js's wasm worker pool outlives each test.
const sanitize = { sanitizeOps: false, sanitizeResources: false };

const TINY: LmRecipe = {
  ...lm,
  id: "lm_tiny",
  base: {
    ...lm.base,
    config: TINY_LM_CONFIG,
    steps: 30,
    batch: 16,
    lr: 1e-2,
    itemsPerSkill: 50,
  },
  tasks: ["many_answers", "science_mc", "word_math"],
  orders: 2,
  seeds: [1],
  trainItems: 16,
  evalItems: 6,
  panelItems: 3,
  klPrompts: 4,
  trainers: [
    { trainer: "sft", lr: 1e-2, steps: 3, batch: 4 },
    { trainer: "rif_rft", options: { group: 2 }, lr: 1e-2, steps: 2, batch: 2 },
    { trainer: "replay", options: { fraction: 0.5 }, lr: 1e-2, steps: 2, batch: 4 },
    { trainer: "multitask", lr: 1e-2, steps: 2, batch: 4 },
  ],
};

const rowsOf = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

Deno.test(
  "runLmRecipe: writes the matrix, leaderboard, fit and manifest; reruns are identical",
  sanitize,
  async () => {
    const cache = await Deno.makeTempDir(),
      a = await Deno.makeTempDir(),
      b = await Deno.makeTempDir();
    try {
      const opts = { cacheDir: cache, device: "wasm" as const, quiet: true };
      const res = await runLmRecipe(TINY, { ...opts, out: a });
      for (
        const f of [
          "matrix.csv",
          "leaderboard.csv",
          "summary.csv",
          "fit.csv",
          "kl_points.csv",
          "timings.csv",
          "train_log.jsonl",
          "manifest.json",
        ]
      ) {
        ok((await Deno.stat(`${a}/${f}`)).size > 0, f);
      }
      const matrix = rowsOf(await Deno.readTextFile(`${a}/matrix.csv`));
      deepEqual(Object.keys(matrix[0]), ["trainer", "seed", "order", "stage", "task", "accuracy"]);
      // Sequential trainers: (T + 1) stages × (T tasks + general) per order; multitask 2 stages.
      const T = TINY.tasks.length, per = (T + 1) * (T + 1);
      equal(matrix.length, 2 * (3 * per + 2 * (T + 1)));
      const multi = matrix.filter((r) => r.trainer === "multitask" && r.order === "0");
      deepEqual([...new Set(multi.map((r) => r.stage))], ["0", String(T)]);
      for (const r of matrix) {
        ok(
          Number(r.accuracy) >= 0 && Number(r.accuracy) <= 1,
          JSON.stringify(r),
        );
      }
      // Stage 0 is the base model: the same row for every trainer and order.
      const base = (t: string, o: string) =>
        matrix.filter((r) => r.trainer === t && r.order === o && r.stage === "0").map((r) =>
          r.accuracy
        );
      deepEqual(base("sft", "0"), base("rif_rft", "1"));

      const board = rowsOf(await Deno.readTextFile(`${a}/leaderboard.csv`));
      equal(board.length, TINY.trainers.length * 2);
      deepEqual(board.map((r) => r.tasks).slice(0, 2), [
        TINY.tasks.join(">"),
        [...TINY.tasks].reverse().join(">"),
      ]);
      for (const r of board) {
        ok(Number(r.kl_forward_mean) >= 0, `${r.trainer}: kl ${r.kl_forward_mean}`);
        equal(
          Number(r.general_drift).toFixed(6),
          (Number(r.general_final) - Number(r.general_base)).toFixed(6),
        );
      }
      // Multitask has no sequence: no forgetting or transfer; the others do.
      ok(
        board.filter((r) => r.trainer === "multitask").every((r) =>
          r.forgetting === "" && r.plasticity === ""
        ),
      );
      ok(
        board.filter((r) => r.trainer === "sft").every((r) => r.forgetting !== "" && r.bwt !== ""),
      );
      // RIF-RFT counts the instances it kept; SFT every instance it saw.
      equal(board.find((r) => r.trainer === "sft")!.instances_used, String(3 * 4 * T));
      ok(Number(board.find((r) => r.trainer === "rif_rft")!.instances_used) <= 2 * 2 * T);
      const manifest = JSON.parse(await Deno.readTextFile(`${a}/manifest.json`));
      equal(manifest.recipe.id, "lm_tiny");
      ok(/^[0-9a-f]{16,}$/.test(manifest.base_model.hash), manifest.base_model.hash);
      equal(res.leaderboard.length, board.length);

      await runLmRecipe(TINY, { ...opts, out: b });
      for (
        const f of [
          "matrix.csv",
          "leaderboard.csv",
          "summary.csv",
          "kl_points.csv",
          "fit.csv",
          "train_log.jsonl",
        ]
      ) {
        equal(
          await Deno.readTextFile(`${b}/${f}`),
          await Deno.readTextFile(`${a}/${f}`),
          `${f} differs`,
        );
      }
    } finally {
      for (const d of [cache, a, b]) await Deno.remove(d, { recursive: true });
    }
  },
);

Deno.test("mixedBatches: the stated fraction from earlier tasks, every batch", () => {
  const cur = [0, 1, 2, 3, 4], old = [5, 6, 7, 8, 9, 10, 11];
  const next = mixedBatches(cur, old, 0.25)(8, 3);
  for (let s = 0; s < 20; s++) {
    const b = next();
    equal(b.length, 8);
    equal(b.filter((i) => i >= 5).length, 2);
  }
  // No earlier tasks yet (stage 1): the whole batch is the current task.
  ok(mixedBatches(cur, [], 0.5)(4, 1)().every((i) => i < 5));
  deepEqual(mixedBatches(cur, old, 0.5)(4, 7)(), mixedBatches(cur, old, 0.5)(4, 7)());
});

Deno.test("taskOrders: as listed, reversed, then seeded shuffles of the same tasks", () => {
  const o = taskOrders(["a", "b", "c", "d"], 3);
  deepEqual(o[0], ["a", "b", "c", "d"]);
  deepEqual(o[1], ["d", "c", "b", "a"]);
  deepEqual([...o[2]].sort(), ["a", "b", "c", "d"]);
  deepEqual(taskOrders(["a", "b"], 1), [["a", "b"]]);
});

Deno.test("checkLmRecipe: one-line errors naming the recipe field", async () => {
  const bad = (r: Partial<LmRecipe>, re: RegExp) =>
    throws(() => checkLmRecipe({ ...TINY, ...r }), (e: unknown) => {
      ok(e instanceof UsageError, String(e));
      ok(re.test(e.message) && !e.message.includes("\n"), e.message);
      return true;
    });
  bad({ tasks: ["many_answers", "chess"] }, /recipe lm_tiny: tasks: unknown task 'chess'/);
  bad({ tasks: ["many_answers"] }, /tasks: needs at least 2 tasks/);
  bad({ tasks: ["word_math", "word_math"] }, /a task appears twice/);
  bad({ seeds: [] }, /seeds: needs at least one seed/);
  bad({ evalItems: 0 }, /evalItems: must be a positive integer/);
  bad(
    { trainers: [{ trainer: "adam", lr: 1, steps: 1, batch: 1 }] },
    /trainers\[0\]\.trainer: unknown trainer 'adam'/,
  );
  bad(
    { trainers: [{ trainer: "sft", lr: 0, steps: 1, batch: 1 }] },
    /trainers\[0\]\.lr: must be > 0/,
  );
  bad(
    { trainers: [{ trainer: "grpo", options: { group: 0 }, lr: 1, steps: 1, batch: 1 }] },
    /trainers\[0\]\.options\.group/,
  );
  bad({
    trainers: [{ trainer: "sft", lr: 1, steps: 1, batch: 1 }, {
      trainer: "sft",
      lr: 1,
      steps: 1,
      batch: 1,
    }],
  }, /'sft' appears twice/);
  // No output folder is made for a bad recipe.
  const out = await Deno.makeTempDir();
  await Deno.remove(out);
  await rejects(
    runLmRecipe({ ...TINY, tasks: ["nope", "word_math"] }, {
      out,
      cacheDir: out,
      device: "wasm",
      quiet: true,
    }),
    UsageError,
  );
  await rejects(Deno.stat(out), Deno.errors.NotFound);
});
