// Tests for evals/law.ts on hand-built leaderboard and stage rows: an exact quadratic law is
// recovered with R² = 1 in every form that can express it, a straight line fitted to y = x² is
// checked against its least-squares solution worked by hand, `excluding` adds a second copy of
// every set without the named variants, sets with fewer than 3 finite points (or too few distinct
// KL values for a form) give no rows, and stage-scope fits appear only when asked for.

import { deepEqual, equal, ok } from "node:assert/strict";
import { type FitRow, forgettingLaw } from "./law.ts";
import type { LeaderboardRow, StageRow } from "./leaderboard.ts";

function close(actual: number, expected: number, what: string, tol = 1e-9): void {
  ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
}

/** A leaderboard row with the fields the law reads; the rest are placeholders. */
function lb(
  variant: string,
  o: { klF: number; klR?: number; drop?: number; f?: number },
): LeaderboardRow {
  return {
    variant,
    trainer: variant,
    lr: 1e-3,
    seed: 1,
    order: 0,
    tasks: "t",
    steps: 10,
    new_task_acc: 0.9,
    avg_accuracy: 0.9,
    task_forgetting: o.f ?? NaN,
    bwt: NaN,
    fwt: NaN,
    panel_base: 0.8,
    panel_final: 0.8 - (o.drop ?? NaN),
    panel_drop: o.drop ?? NaN,
    kl_forward: o.klF,
    kl_reverse: o.klR ?? NaN,
    instances_used: 320,
    diverged: "",
  };
}

/** A stage row with the fields the law reads. */
function st(
  variant: string,
  o: { klF: number; klPrev: number; drop: number; prior: number },
): StageRow {
  return {
    variant,
    trainer: variant,
    lr: 1e-3,
    seed: 1,
    order: 0,
    stage: 2,
    step: 10,
    tasks: "b",
    kl_forward: o.klF,
    kl_reverse: NaN,
    kl_prev: o.klPrev,
    panel: 0.8 - o.drop,
    panel_drop: o.drop,
    prior_forgetting: o.prior,
  };
}

/** `scope runs predictor→target form` of each row, to compare whole outputs at a glance. */
function keys(fits: readonly FitRow[]): string[] {
  return fits.map((f) => `${f.scope} ${f.runs} ${f.form}`);
}

const KLS = [0, 0.1, 0.2, 0.4, 0.8, 1.6];
/** drop = 0.2·KL + 0.05·KL²; KL(π‖π0) = KL(π0‖π)/2, so drop = 0.4·r + 0.2·r² in r = KL(π‖π0). */
const QUADRATIC = KLS.map((k) => lb("A", { klF: k, klR: k / 2, drop: 0.2 * k + 0.05 * k * k }));

Deno.test("forgettingLaw: an exact quadratic is recovered in the three forms", () => {
  const fits = forgettingLaw({ leaderboard: QUADRATIC, stages: [] }, { stageScope: false });
  // task_forgetting is NaN (one stage): only the panel drop is fitted, against both KLs.
  deepEqual(keys(fits), [
    "run all panel_drop = c1*kl_forward + c2*kl_forward^2",
    "run all panel_drop = c0 + c1*kl_forward + c2*kl_forward^2",
    "run all panel_drop = c0 + c1*kl_forward",
    "run all panel_drop = c1*kl_reverse + c2*kl_reverse^2",
    "run all panel_drop = c0 + c1*kl_reverse + c2*kl_reverse^2",
    "run all panel_drop = c0 + c1*kl_reverse",
  ]);
  for (const f of fits) {
    deepEqual([f.target, f.n], ["panel_drop", 6]);
    equal(f.predictor, f.form.includes("kl_forward") ? "kl_forward" : "kl_reverse");
  }
  const [origin, withC, , reverse, reverseC] = fits;
  // Through the origin: c0 is exactly 0, c1 = 0.2, c2 = 0.05, R² = 1.
  equal(origin.c0, 0);
  close(origin.c1, 0.2, "c1");
  close(origin.c2, 0.05, "c2");
  close(origin.r2, 1, "R²", 1e-12);
  // With an intercept the fitted c0 is 0 up to round-off.
  close(withC.c0, 0, "c0");
  close(withC.c1, 0.2, "c1 with intercept");
  close(withC.c2, 0.05, "c2 with intercept");
  close(withC.r2, 1, "R² with intercept", 1e-12);
  // In KL(π‖π0) = KL/2: 0.2·(2r) + 0.05·(2r)² = 0.4·r + 0.2·r².
  close(reverse.c1, 0.4, "reverse c1");
  close(reverse.c2, 0.2, "reverse c2");
  close(reverseC.r2, 1, "reverse R²", 1e-12);
  // The straight line cannot bend: c2 is exactly 0 and R² < 1.
  const line = fits[2];
  equal(line.c2, 0);
  ok(line.r2 < 1 && line.r2 > 0.9, `line R² ${line.r2}`);
});

Deno.test("forgettingLaw: a straight line through y = x², worked by hand", () => {
  // x = 0, 1, 2 and y = 0, 1, 4: x̄ = 1, ȳ = 5/3, Sxy = (−1)(−5/3) + 0 + (1)(7/3) = 4, Sxx = 2,
  // slope 2, intercept 5/3 − 2 = −1/3. Residuals 1/3, −2/3, 1/3: SS_res = 6/9 = 2/3;
  // SS_tot = (25 + 4 + 49)/9 = 26/3; R² = 1 − (2/3)/(26/3) = 12/13.
  const rows = [0, 1, 2].map((x) => lb("A", { klF: x, f: x * x }));
  const fits = forgettingLaw({ leaderboard: rows, stages: [] }, { stageScope: false });
  // x = 0 is a point but gives the through-origin quadratic no trouble: three forms.
  deepEqual(fits.map((f) => f.target), ["task_forgetting", "task_forgetting", "task_forgetting"]);
  const line = fits[2];
  equal(line.form, "task_forgetting = c0 + c1*kl_forward");
  close(line.c0, -1 / 3, "intercept");
  close(line.c1, 2, "slope");
  close(line.r2, 12 / 13, "R²");
  equal(line.n, 3);
  // Three points, three parameters: the quadratic with intercept passes through all of them.
  close(fits[1].c2, 1, "c2");
  close(fits[1].r2, 1, "R²", 1e-12);
});

Deno.test("forgettingLaw: `excluding` adds every set again without the named variants", () => {
  const rows = [
    ...KLS.map((k, i) => lb(i < 3 ? "A" : "B", { klF: k, drop: 0.01 + 0.2 * k + 0.05 * k * k })),
    lb("C", { klF: 0.05, drop: 0.9 }), // an outlier: forgets a lot at a small KL
    lb("D", { klF: 0.3, drop: 0.0 }),
  ];
  const fits = forgettingLaw({ leaderboard: rows, stages: [] }, {
    excluding: ["C", "D"],
    stageScope: false,
  });
  deepEqual(fits.map((f) => f.runs), [
    "all",
    "all",
    "all",
    "excluding C,D",
    "excluding C,D",
    "excluding C,D",
  ]);
  deepEqual(fits.map((f) => f.n), [8, 8, 8, 6, 6, 6]);
  ok(fits[1].r2 < 0.9, `the outliers spoil the fit over all runs (R² ${fits[1].r2})`);
  // Without C and D: drop = 0.01 + 0.2·KL + 0.05·KL² exactly.
  const clean = fits[4];
  close(clean.c0, 0.01, "c0");
  close(clean.c1, 0.2, "c1");
  close(clean.c2, 0.05, "c2");
  close(clean.r2, 1, "R²", 1e-12);
  // No `excluding` (or an empty one): the sets over all runs only.
  const plain = forgettingLaw({ leaderboard: rows, stages: [] }, { stageScope: false });
  deepEqual(plain.map((f) => f.runs), ["all", "all", "all"]);
  deepEqual(
    forgettingLaw({ leaderboard: rows, stages: [] }, { excluding: [], stageScope: false }),
    plain,
  );
});

Deno.test("forgettingLaw: fewer than 3 finite points, or too few distinct KLs, give no rows", () => {
  // Two points per set.
  const two = [lb("A", { klF: 0.1, drop: 0.1 }), lb("A", { klF: 0.2, drop: 0.3 })];
  deepEqual(forgettingLaw({ leaderboard: two, stages: [] }, { stageScope: false }), []);
  // Four rows, but task_forgetting is finite in two only; KL(π‖π0) in none.
  const rows = [
    lb("A", { klF: 0.1, drop: 0.1, f: 0.2 }),
    lb("A", { klF: 0.2, drop: 0.3, f: 0.3 }),
    lb("B", { klF: 0.3, drop: 0.4 }),
    lb("B", { klF: NaN, drop: 0.5, f: 0.4 }), // no KL: not a point of any set
  ];
  const fits = forgettingLaw({ leaderboard: rows, stages: [] }, {
    excluding: ["B"],
    stageScope: false,
  });
  // all: kl_forward → panel_drop has 3 finite points; the `excluding B` copy has 2, so none.
  deepEqual(fits.map((f) => `${f.runs} ${f.predictor} ${f.target} ${f.n}`), [
    "all kl_forward panel_drop 3",
    "all kl_forward panel_drop 3",
    "all kl_forward panel_drop 3",
  ]);
  // Every KL equal: no form has a full-rank design, so no rows rather than an exception.
  const flat = [0, 1, 2].map((d) => lb("A", { klF: 0.5, drop: d / 10 }));
  deepEqual(forgettingLaw({ leaderboard: flat, stages: [] }, { stageScope: false }), []);
  // Two distinct KLs over three points: the two-parameter forms fit, the three-parameter one
  // (quadratic with intercept) has too few distinct values and is left out.
  const twoKls = [1, 1, 2].map((k, i) => lb("A", { klF: k, drop: [0.1, 0.2, 0.5][i] }));
  deepEqual(
    forgettingLaw({ leaderboard: twoKls, stages: [] }, { stageScope: false }).map((f) => f.form),
    ["panel_drop = c1*kl_forward + c2*kl_forward^2", "panel_drop = c0 + c1*kl_forward"],
  );
});

Deno.test("forgettingLaw: stage-scope fits only when asked, after the run-scope ones", () => {
  // prior_forgetting = 0.3·kl_prev + 0.1·kl_prev²; panel_drop = 0.1·kl_forward (a line).
  const stages = [0.5, 1, 1.5, 2].map((k, i) =>
    st(i < 2 ? "A" : "B", { klF: 2 * k, klPrev: k, drop: 0.2 * k, prior: 0.3 * k + 0.1 * k * k })
  );
  const input = { leaderboard: QUADRATIC, stages };
  const without = forgettingLaw(input, { stageScope: false });
  ok(without.every((f) => f.scope === "run"), "no stage rows unless asked");
  const fits = forgettingLaw(input, { stageScope: true, excluding: ["B"] });
  const stageFits = fits.filter((f) => f.scope === "stage");
  // Run rows come first, then the stage rows.
  equal(fits.findIndex((f) => f.scope === "stage"), fits.length - stageFits.length);
  // Every (predictor, target) pair over all 4 stage points: 4 pairs × 3 forms; B excluded
  // leaves 2 points, so no `excluding B` stage rows.
  deepEqual(
    [...new Set(stageFits.map((f) => `${f.runs} ${f.predictor}→${f.target}`))],
    [
      "all kl_forward→panel_drop",
      "all kl_forward→prior_forgetting",
      "all kl_prev→panel_drop",
      "all kl_prev→prior_forgetting",
    ],
  );
  equal(stageFits.length, 12);
  const prior = stageFits.find((f) =>
    f.predictor === "kl_prev" && f.target === "prior_forgetting" &&
    f.form.startsWith("prior_forgetting = c1")
  )!;
  close(prior.c1, 0.3, "c1");
  close(prior.c2, 0.1, "c2");
  close(prior.r2, 1, "R²", 1e-12);
  // panel_drop = 0.2·kl_prev = 0.1·kl_forward: the line has slope 0.1 and intercept 0.
  const line = stageFits.find((f) =>
    f.predictor === "kl_forward" && f.target === "panel_drop" && f.form.endsWith("c1*kl_forward")
  )!;
  close(line.c0, 0, "c0");
  close(line.c1, 0.1, "slope");
  equal(line.n, 4);
});

Deno.test("forgettingLaw: runs of different task sequences are also fitted per sequence", () => {
  // Two tasks trained alone (orders "each"), each with its own exact law.
  const rows = [
    ...KLS.map((k) => ({ ...lb("A", { klF: k, drop: 0.2 * k + 0.05 * k * k }), tasks: "math" })),
    ...KLS.map((k) => ({ ...lb("A", { klF: k, drop: 0.5 * k }), tasks: "tool" })),
  ];
  const fits = forgettingLaw({ leaderboard: rows, stages: [] }, { stageScope: false });
  deepEqual(fits.map((f) => f.runs), [
    ...Array(3).fill("all"),
    ...Array(3).fill("tasks math"),
    ...Array(3).fill("tasks tool"),
  ]);
  deepEqual(fits.map((f) => f.n), [12, 12, 12, 6, 6, 6, 6, 6, 6]);
  const math = fits[4], tool = fits[7];
  close(math.c1, 0.2, "math c1");
  close(math.c2, 0.05, "math c2");
  close(tool.c1, 0.5, "tool c1");
  close(tool.c2, 0, "tool c2", 1e-9);
  close(tool.r2, 1, "tool R²", 1e-12);
  // With excluded variants, each sequence's set is repeated without them.
  const ex = forgettingLaw({ leaderboard: rows, stages: [] }, {
    excluding: ["B"],
    stageScope: false,
  });
  ok(ex.some((f) => f.runs === "excluding B, tasks tool"), ex.map((f) => f.runs).join("; "));
});
