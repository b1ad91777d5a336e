// circuits.csv, retention.csv and circuit_fit.csv rows (evals/circuit_tables.ts) on hand-made
// circuit records and stage rows.

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  circuitFits,
  type CircuitPoint,
  circuitRows,
  headRows,
  type RetentionRow,
  retentionRows,
  retentionSummary,
} from "./circuit_tables.ts";
import type { StageRow } from "./leaderboard.ts";

const run = (seed: number) => ({ variant: "sft", trainer: "sft", lr: 1e-3, seed, order: 0 });
const point = (
  r: ReturnType<typeof run> | null,
  stage: number,
  skill: string,
  mask: number[][],
): CircuitPoint => ({
  ...(r ?? { variant: null, trainer: null, lr: null, seed: null, order: null }),
  stage,
  step: r ? 5 : 0,
  skill,
  n: 8,
  size: mask.flat().reduce((a, b) => a + b, 0),
  faithfulness: 0.9,
  acc_full: 0.5,
  mask,
  theta: mask.map((row) => row.map((m) => (m ? 1 : -1))),
  necessity: mask.map((row) => row.map(() => 0.01)),
});
const stage = (seed: number, s: number, drop: number, kl: number): StageRow => ({
  ...run(seed),
  stage: s,
  step: 5,
  tasks: "t",
  kl_forward: kl,
  kl_reverse: NaN,
  kl_prev: kl,
  panel: 0.5 - drop,
  panel_drop: drop,
  prior_forgetting: NaN,
});

Deno.test("circuit tables: heads, retention against π0, fits over the same points", () => {
  const base = point(null, 0, "a", [[1, 1], [1, 0]]);
  const pts = [
    base,
    point(run(1), 1, "a", [[1, 1], [1, 0]]), // keeps 3 of 3
    point(run(1), 2, "a", [[1, 0], [0, 1]]), // keeps 1 of 3
    point(run(2), 1, "a", [[1, 1], [0, 0]]), // keeps 2 of 3
  ];
  const rows = circuitRows(pts);
  equal(rows.length, 4 * 4);
  deepEqual(rows[1], {
    variant: null,
    trainer: null,
    lr: null,
    seed: null,
    order: null,
    stage: 0,
    step: 0,
    skill: "a",
    layer: 0,
    head: 1,
    mask: 1,
    theta: 1,
    necessity: 0.01,
  });
  const stages = [stage(1, 1, 0.1, 1), stage(1, 2, 0.3, 3), stage(2, 1, 0.2, 2)];
  const ret = retentionRows(pts, stages);
  deepEqual(
    ret.map((r) => [r.seed, r.stage, r.base_size, r.retained, r.panel_drop, r.kl_forward]),
    [
      [1, 1, 3, 3, 0.1, 1],
      [1, 2, 3, 1, 0.3, 3],
      [2, 1, 3, 2, 0.2, 2],
    ],
  );
  deepEqual(ret.map((r) => r.retention), [1, 1 / 3, 2 / 3]);
  // drop = 0.4 − 0.3·retention exactly; drop = 0.1·KL exactly.
  const fits = circuitFits(ret);
  deepEqual(fits.map((f) => [f.skill, f.predictor, f.n]), [["a", "retention", 3], [
    "a",
    "kl_forward",
    3,
  ]]);
  ok(
    Math.abs((fits[0].c1 as number) + 0.3) < 1e-9 && Math.abs((fits[0].c0 as number) - 0.4) < 1e-9,
  );
  ok(Math.abs((fits[1].c1 as number) - 0.1) < 1e-9 && Math.abs((fits[0].r2 as number) - 1) < 1e-9);
  // A diverged run is left out: two points, no fit.
  equal(circuitFits(ret, { excluded: new Set([JSON.stringify(["sft", 1e-3, 2, 0])]) }).length, 0);
});

Deno.test("retentionSummary: per skill and mean over skills, last stage and all stages, t-interval over seeds", () => {
  const row = (seed: number, stage: number, skill: string, retention: number) =>
    ({ ...run(seed), stage, step: 5, skill, retention }) as unknown as RetentionRow;
  const rows = [
    row(1, 1, "a", 1),
    row(1, 2, "a", 0.5),
    row(1, 1, "b", 0.5),
    row(1, 2, "b", 0.25),
    row(2, 1, "a", 1),
    row(2, 2, "a", 0.75),
    row(2, 1, "b", 1),
    row(2, 2, "b", 0.25),
    row(3, 1, "a", 0.5),
    row(3, 2, "a", 1),
    row(3, 1, "b", 0.5),
    row(3, 2, "b", 0.5),
  ];
  const got = retentionSummary(rows);
  const find = (skill: string, stages: string) =>
    got.find((r) => r.skill === skill && r.stages === stages)!;
  // Skill a, final stage: seeds 0.5, 0.75, 1 → mean 0.75, s 0.25, t₂ = 4.302653.
  const half = 4.302653 * 0.25 / Math.sqrt(3);
  const a = find("a", "final");
  equal(a.n, 3);
  ok(Math.abs((a.mean as number) - 0.75) < 1e-12);
  ok(Math.abs((a.ci95_hi as number) - (0.75 + half)) < 1e-6);
  // Mean over skills, all stages: seed 1 (0.75 + 0.375)/2, seed 2 (0.875 + 0.625)/2, seed 3 0.625.
  const m = find("mean", "all");
  ok(Math.abs((m.mean as number) - (0.5625 + 0.75 + 0.625) / 3) < 1e-12);
  deepEqual(got.map((r) => `${r.skill}/${r.stages}`), [
    "a/final",
    "a/all",
    "b/final",
    "b/all",
    "mean/final",
    "mean/all",
  ]);
  // A diverged run is left out.
  equal(
    retentionSummary(rows, { excluded: new Set([JSON.stringify(["sft", 1e-3, 3, 0])]) })[0].n,
    2,
  );
});

Deno.test("headRows: π0's mask, the variant's mean mask over runs and stages, and the shift", () => {
  const circuits = [
    point(null, 0, "a", [[1, 1], [0, 1]]),
    point(run(1), 1, "a", [[1, 0], [0, 1]]),
    point(run(2), 1, "a", [[1, 0], [1, 0]]),
    point(run(3), 1, "a", [[1, 1], [0, 0]]),
  ];
  const rows = headRows(circuits);
  equal(rows.length, 4);
  deepEqual(rows.map((r) => [r.layer, r.head, r.base_mask, r.mean_mask, r.n]), [
    [0, 0, 1, 1, 3],
    [0, 1, 1, 1 / 3, 3],
    [1, 0, 0, 1 / 3, 3],
    [1, 1, 1, 1 / 3, 3],
  ]);
  ok(Math.abs((rows[1].shift as number) + 2 / 3) < 1e-12);
  equal(headRows(circuits, { excluded: new Set([JSON.stringify(["sft", 1e-3, 3, 0])]) })[0].n, 2);
});
