// circuits.csv, retention.csv and circuit_fit.csv as pure functions of the circuit records
// (runs/circuits.ts) and the stage rows (evals/leaderboard.ts): every head's mask per model and
// skill; how much of π0's circuit each run keeps after each stage; and the panel drop fitted
// against retention and against KL(π0‖π) over the same points (docs/metrics.md "Circuits").

import { circuitSize, retention } from "./circuit_measures.ts";
import { fitPolynomial } from "./fit.ts";
import { meanCI } from "./stats.ts";
import { RUN_COLUMNS, type StageRow } from "./leaderboard.ts";

/** What a circuit record holds that the tables read (runs/records.ts CircuitRecord). */
export interface CircuitPoint {
  readonly variant: string | null;
  readonly trainer: string | null;
  readonly lr: number | null;
  readonly seed: number | null;
  readonly order: number | null;
  readonly stage: number;
  readonly step: number;
  readonly skill: string;
  readonly n: number;
  readonly size: number;
  readonly faithfulness: number;
  readonly acc_full: number;
  readonly mask: readonly (readonly number[])[];
  readonly theta: readonly (readonly number[])[];
  readonly necessity: readonly (readonly number[])[];
}

/** circuits.csv: one row per model (π0: stage 0, empty run fields), skill and head. */
export const CIRCUIT_COLUMNS = [
  ...RUN_COLUMNS,
  "stage",
  "step",
  "skill",
  "layer",
  "head",
  "mask",
  "theta",
  "necessity",
] as const;

/** retention.csv: one row per run, stage and skill. */
export const RETENTION_COLUMNS = [
  ...RUN_COLUMNS,
  "stage",
  "step",
  "skill",
  "n",
  "base_size",
  "size",
  "retained",
  "retention",
  "faithfulness",
  "acc_full",
  "panel_drop",
  "kl_forward",
] as const;

/** circuit_fit.csv: panel drop against retention and against KL, over the same points. */
export const CIRCUIT_FIT_COLUMNS = [
  "skill",
  "predictor",
  "target",
  "form",
  "c0",
  "c1",
  "r2",
  "n",
] as const;

/** retention_summary.csv: retention per variant and skill with a 95% interval over seeds. */
export const RETENTION_SUMMARY_COLUMNS = [
  "variant",
  "trainer",
  "lr",
  "order",
  "skill",
  "stages",
  "mean",
  "ci95_lo",
  "ci95_hi",
  "n",
] as const;

export type RetentionSummaryRow = Record<
  (typeof RETENTION_SUMMARY_COLUMNS)[number],
  string | number | null
>;

export type CircuitRow = Record<(typeof CIRCUIT_COLUMNS)[number], string | number | null>;
export type RetentionRow = Record<(typeof RETENTION_COLUMNS)[number], string | number | null>;
export type CircuitFitRow = Record<(typeof CIRCUIT_FIT_COLUMNS)[number], string | number>;

const runOf = (c: CircuitPoint) => ({
  variant: c.variant,
  trainer: c.trainer,
  lr: c.lr,
  seed: c.seed,
  order: c.order,
});

/** Every head of every circuit, in record order. */
export function circuitRows(circuits: readonly CircuitPoint[]): CircuitRow[] {
  return circuits.flatMap((c) =>
    c.mask.flatMap((row, layer) =>
      row.map((m, head) => ({
        ...runOf(c),
        stage: c.stage,
        step: c.step,
        skill: c.skill,
        layer,
        head,
        mask: m,
        theta: c.theta[layer]?.[head] ?? NaN,
        necessity: c.necessity[layer]?.[head] ?? NaN,
      }))
    )
  );
}

const key = (r: { variant: unknown; lr: unknown; seed: unknown; order: unknown }) =>
  JSON.stringify([r.variant, r.lr, r.seed, r.order]);

/**
 * Retention of π0's circuit (its heads kept by the run's circuit of the same skill) after each
 * stage of each run, with the stage's panel drop and KL(π0‖π) at the same checkpoint.
 */
export function retentionRows(
  circuits: readonly CircuitPoint[],
  stages: readonly StageRow[],
): RetentionRow[] {
  const base = new Map(circuits.filter((c) => c.variant === null).map((c) => [c.skill, c]));
  return circuits.filter((c) => c.variant !== null).map((c) => {
    const b = base.get(c.skill);
    const st = stages.find((s) => key(s) === key(c) && s.stage === c.stage && s.step === c.step);
    const r = b ? retention(b.mask as number[][], c.mask as number[][]) : NaN;
    const baseSize = b ? circuitSize(b.mask as number[][]) : NaN;
    return {
      ...runOf(c),
      stage: c.stage,
      step: c.step,
      skill: c.skill,
      n: c.n,
      base_size: baseSize,
      size: c.size,
      retained: Number.isFinite(r) ? Math.round(r * baseSize) : NaN,
      retention: r,
      faithfulness: c.faithfulness,
      acc_full: c.acc_full,
      panel_drop: st?.panel_drop ?? NaN,
      kl_forward: st?.kl_forward ?? NaN,
    };
  });
}

/**
 * Least-squares lines panel_drop = c0 + c1·x for x = retention and x = kl_forward, per skill and
 * for the mean retention over skills ("mean"), each pair over the same points (run × stage
 * where retention, the panel drop and the KL are all finite); `excluded` runs (diverged) are
 * left out. Fewer than 3 points, or one distinct x, give no row.
 */
export function circuitFits(
  rows: readonly RetentionRow[],
  opts: { excluded?: ReadonlySet<string> } = {},
): CircuitFitRow[] {
  const ok = rows.filter((r) =>
    !opts.excluded?.has(key(r)) &&
    [r.retention, r.panel_drop, r.kl_forward].every((x) => Number.isFinite(x as number))
  );
  const skills = [...new Set(ok.map((r) => r.skill as string))];
  const sets: [string, { retention: number; panel_drop: number; kl_forward: number }[]][] = skills
    .map((s) => [s, ok.filter((r) => r.skill === s) as never]);
  if (skills.length > 1) {
    // Mean over skills per run and stage, where every skill has a point.
    const byPoint = new Map<string, RetentionRow[]>();
    for (const r of ok) {
      const k = `${key(r)}|${r.stage}|${r.step}`;
      byPoint.set(k, [...(byPoint.get(k) ?? []), r]);
    }
    sets.push([
      "mean",
      [...byPoint.values()].filter((rs) => rs.length === skills.length).map((rs) => ({
        retention: rs.reduce((a, r) => a + (r.retention as number), 0) / rs.length,
        panel_drop: rs[0].panel_drop as number,
        kl_forward: rs[0].kl_forward as number,
      })),
    ]);
  }
  const out: CircuitFitRow[] = [];
  for (const [skill, pts] of sets) {
    if (pts.length < 3) continue;
    for (const predictor of ["retention", "kl_forward"] as const) {
      try {
        const f = fitPolynomial(pts.map((p) => p[predictor]), pts.map((p) => p.panel_drop), {
          degree: 1,
          intercept: true,
          names: { x: predictor, y: "panel_drop" },
        });
        out.push({
          skill,
          predictor,
          target: "panel_drop",
          form: f.form,
          c0: f.coefficients[0],
          c1: f.coefficients[1],
          r2: f.r2,
          n: f.n,
        });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e; // one distinct value: no line
      }
    }
  }
  return out;
}

/**
 * Retention per variant (with its lr and order) and skill, and for the mean over skills
 * ("mean"), with a 95% t-interval over seeds: each seed's value is its retention after its last
 * stage (`stages` "final") or its mean over every stage (`stages` "all"). A seed lacking a
 * skill's point is left out of that skill's row; `excluded` runs (diverged) are left out.
 */
export function retentionSummary(
  rows: readonly RetentionRow[],
  opts: { excluded?: ReadonlySet<string> } = {},
): RetentionSummaryRow[] {
  const ok = rows.filter((r) =>
    !opts.excluded?.has(key(r)) && Number.isFinite(r.retention as number)
  );
  const groups = new Map<string, RetentionRow[]>();
  for (const r of ok) {
    const g = JSON.stringify([r.variant, r.trainer, r.lr, r.order]);
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  const out: RetentionSummaryRow[] = [];
  for (const [g, rs] of groups) {
    const [variant, trainer, lr, order] = JSON.parse(g);
    const skills = [...new Set(rs.map((r) => r.skill as string))];
    const seeds = [...new Set(rs.map((r) => r.seed as number))];
    const lastStage = (seed: number) =>
      Math.max(...rs.filter((r) => r.seed === seed).map((r) => r.stage as number));
    /** One seed's value of a skill (or of the mean over skills) under a stage scope. */
    const value = (seed: number, skill: string, scope: string): number => {
      const mine = rs.filter((r) =>
        r.seed === seed && (skill === "mean" || r.skill === skill) &&
        (scope === "all" || r.stage === lastStage(seed))
      );
      if (skill === "mean") {
        const perSkill = skills.map((s) => value(seed, s, scope));
        return perSkill.every(Number.isFinite)
          ? perSkill.reduce((a, b) => a + b, 0) / skills.length
          : NaN;
      }
      return mine.length === 0
        ? NaN
        : mine.reduce((a, r) => a + (r.retention as number), 0) / mine.length;
    };
    for (const skill of [...skills, ...(skills.length > 1 ? ["mean"] : [])]) {
      for (const scope of ["final", "all"]) {
        const xs = seeds.map((s) => value(s, skill, scope)).filter(Number.isFinite);
        if (xs.length === 0) continue;
        const ci = meanCI(xs);
        out.push({
          variant,
          trainer,
          lr,
          order,
          skill,
          stages: scope,
          mean: ci.mean,
          ci95_lo: ci.lo,
          ci95_hi: ci.hi,
          n: ci.n,
        });
      }
    }
  }
  return out;
}

/** heads.csv: per variant, skill and head, π0's mask, the variant's mean mask and the shift. */
export const HEAD_COLUMNS = [
  "variant",
  "trainer",
  "lr",
  "order",
  "skill",
  "layer",
  "head",
  "base_mask",
  "mean_mask",
  "shift",
  "n",
] as const;

export type HeadRow = Record<(typeof HEAD_COLUMNS)[number], string | number | null>;

/**
 * The mask shift per head (docs/metrics.md "Circuits"): for each variant (with its lr and
 * order) and skill, every head's mask averaged over the variant's circuits after every stage of
 * every seed (n of them), π0's mask, and the shift Δm = mean − π0's. Vulnerable heads read off
 * it: π0's heads with shift ≥ −δ under an RL trainer and < −δ under SFT. `excluded` runs
 * (diverged) are left out.
 */
export function headRows(
  circuits: readonly CircuitPoint[],
  opts: { excluded?: ReadonlySet<string> } = {},
): HeadRow[] {
  const base = new Map(circuits.filter((c) => c.variant === null).map((c) => [c.skill, c]));
  const groups = new Map<string, CircuitPoint[]>();
  for (const c of circuits) {
    if (c.variant === null || opts.excluded?.has(key(c)) || !base.has(c.skill)) continue;
    const g = JSON.stringify([c.variant, c.trainer, c.lr, c.order, c.skill]);
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const out: HeadRow[] = [];
  for (const [g, cs] of groups) {
    const [variant, trainer, lr, order, skill] = JSON.parse(g);
    const b = base.get(skill)!.mask;
    b.forEach((row, layer) =>
      row.forEach((m0, head) => {
        const mean = cs.reduce((a, c) => a + c.mask[layer][head], 0) / cs.length;
        out.push({
          variant,
          trainer,
          lr,
          order,
          skill,
          layer,
          head,
          base_mask: m0,
          mean_mask: mean,
          shift: mean - m0,
          n: cs.length,
        });
      })
    );
  }
  return out;
}
