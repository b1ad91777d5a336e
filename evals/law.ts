// fit.csv as a pure function of the leaderboard and stage rows: the forgetting law of RL's Razor,
// forgetting ≈ a·KL + b·KL² (+ c) (docs/metrics.md "The forgetting law"), fitted by least squares
// over every point of a set, through the origin, with an intercept, and as a straight line.
//
// Point sets, each over all runs and again without the variants a recipe excludes:
//   scope `run`:   one point per leaderboard row; KL(π0‖π) or KL(π‖π0) (mean over stages)
//                  against the panel drop or the task forgetting F; where runs train different
//                  task sequences (orders: "each", RL's Razor's one task per run), also over
//                  each sequence's runs alone (`tasks T`), as the paper fits each task;
//   scope `stage`: one point per stage checkpoint (recipes of several stages); KL to π0 or to the
//                  stage's start against the panel drop or the forgetting so far.

import { fitPolynomial } from "./fit.ts";
import type { LeaderboardRow, StageRow } from "./leaderboard.ts";

/** One fit.csv row. */
export interface FitRow {
  scope: "run" | "stage";
  /** Which runs: `all`, `excluding a,b`, and per task sequence `tasks T` (or `excluding a,b, tasks T`). */
  runs: string;
  predictor: string;
  target: string;
  form: string;
  c0: number;
  c1: number;
  c2: number;
  r2: number;
  n: number;
}

/** fit.csv's columns, in order. */
export const FIT_COLUMNS = [
  "scope",
  "runs",
  "predictor",
  "target",
  "form",
  "c0",
  "c1",
  "c2",
  "r2",
  "n",
] as const;

/** The three forms fitted to every point set: [degree, intercept]. */
const FORMS = [[2, false], [2, true], [1, true]] as const;

/** Fits of y on x over the points where both are finite; too few points or values give none. */
function fitSet(
  points: readonly Record<string, unknown>[],
  spec: { scope: FitRow["scope"]; runs: string; predictor: string; target: string },
): FitRow[] {
  const ps = points.filter((p) =>
    Number.isFinite(p[spec.predictor] as number) && Number.isFinite(p[spec.target] as number)
  );
  if (ps.length < 3) return [];
  const x = ps.map((p) => p[spec.predictor] as number), y = ps.map((p) => p[spec.target] as number);
  return FORMS.flatMap(([degree, intercept]) => {
    try {
      const f = fitPolynomial(x, y, {
        degree,
        intercept,
        names: { x: spec.predictor, y: spec.target },
      });
      return [{
        ...spec,
        form: f.form,
        c0: f.coefficients[0],
        c1: f.coefficients[1],
        c2: f.coefficients[2] ?? 0,
        r2: f.r2,
        n: f.n,
      }];
    } catch (e) {
      if (e instanceof RangeError) return []; // too few distinct KL values for this form
      throw e;
    }
  });
}

/**
 * Every fit of the forgetting law over a recipe's results. `excluding` names variants left out of
 * a second copy of every set (e.g. sft_kl, which minimises the predictor itself).
 */
export function forgettingLaw(
  rows: { leaderboard: readonly LeaderboardRow[]; stages: readonly StageRow[] },
  opts: { excluding?: readonly string[]; stageScope: boolean },
): FitRow[] {
  const ex = opts.excluding ?? [];
  const subsets = (pts: readonly { variant: string }[]) =>
    ex.length === 0 ? [["all", pts] as const] : [
      ["all", pts] as const,
      [`excluding ${ex.join(",")}`, pts.filter((p) => !ex.includes(p.variant))] as const,
    ];
  const out: FitRow[] = [];
  const sequences = [...new Set(rows.leaderboard.map((r) => r.tasks))];
  const perSequence = sequences.length > 1
    ? sequences.flatMap((t) =>
      subsets(rows.leaderboard.filter((r) => r.tasks === t)).map(([runs, pts]) =>
        [`${runs === "all" ? "" : `${runs}, `}tasks ${t}`, pts] as const
      )
    )
    : [];
  for (const [runs, pts] of [...subsets(rows.leaderboard), ...perSequence]) {
    for (const predictor of ["kl_forward", "kl_reverse"]) {
      for (const target of ["panel_drop", "task_forgetting"]) {
        out.push(...fitSet(pts as never, { scope: "run", runs, predictor, target }));
      }
    }
  }
  if (!opts.stageScope) return out;
  for (const [runs, pts] of subsets(rows.stages)) {
    for (const predictor of ["kl_forward", "kl_prev"]) {
      for (const target of ["panel_drop", "prior_forgetting"]) {
        out.push(...fitSet(pts as never, { scope: "stage", runs, predictor, target }));
      }
    }
  }
  return out;
}
