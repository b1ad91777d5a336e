// `compare`: two trainers on the same items (docs/metrics.md "Paired comparisons"). Reads bench
// result folders (records.jsonl for the recipe, the runs and the best configuration; samples.jsonl
// for every item's output and scores), takes each variant at its final checkpoint of the last
// stage, and compares them task by task (the stage tasks and the panel, with the mean of each
// where there are several): the paired bootstrap of the difference A − B over seeds and items,
// McNemar's exact test on per-item correctness, Holm's adjustment across the rows. Writes
// compare.csv and flips.jsonl (the (seed, item) pairs one trainer got right and the other wrong).

import { basename, join, resolve } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { acquireLock } from "../lib/lock.ts";
import { hashString } from "../lib/rng.ts";
import { toCsv } from "../evals/csv.ts";
import { discordant, mcnemarExact, pairedBootstrap, seedPairs } from "../evals/paired.ts";
import { clusterBootstrap, holm, type Scores } from "../evals/stats.ts";
import { firstDifference } from "./outdir.ts";
import {
  type AnyRecord,
  type EvalRecord,
  jsonLine,
  readRecords,
  type RecipeRecord,
  type RunRecord,
} from "./records.ts";
import { buildReport } from "./report.ts";

/** What `compare` is asked, as the command line gives it (strings are validated here). */
export interface CompareRequest {
  /** One result folder (two of its variants) or two (a variant of each). */
  readonly dirs: readonly string[];
  /** `A,B`: the two variants (of the one folder, or A of the first and B of the second). */
  readonly variants?: string;
  readonly variantA?: string;
  readonly variantB?: string;
  /** `LR` for both, or `LR_A,LR_B`; default: each variant's best configuration's lr. */
  readonly lr?: string;
  /** The checkpoint (step) of the last stage to compare at; default its final one. */
  readonly step?: string;
  /** Output folder; default results/compare/<a>-vs-<b>. */
  readonly out?: string;
  /** Bootstrap replicates (default 10000). */
  readonly replicates?: string;
  /** Bootstrap seed (default 0). */
  readonly seed?: string;
}

/** One side of a comparison. */
export interface Side {
  readonly dir: string;
  readonly recipe: string;
  readonly variant: string;
  /** The lr per task order. */
  readonly lrs: readonly number[];
  /** How the lr was chosen. */
  readonly chosen: "best" | "--lr";
}

/** One compare.csv row: a task (or the mean of the stage tasks or of the panel) in one order. */
export interface CompareRow {
  order: number;
  tasks: string;
  task: string;
  role: "stage" | "panel";
  metric: string;
  variant_a: string;
  lr_a: number;
  variant_b: string;
  lr_b: number;
  stage: number;
  step_a: number;
  step_b: number;
  items: number;
  seeds_a: string;
  seeds_b: string;
  paired_seeds: boolean;
  mean_a: number;
  ci95_lo_a: number;
  ci95_hi_a: number;
  mean_b: number;
  ci95_lo_b: number;
  ci95_hi_b: number;
  diff: number;
  ci95_lo: number;
  ci95_hi: number;
  p_boot: number;
  p_boot_holm: number;
  /** (seed, item) pairs McNemar counted (NaN on mean rows: no McNemar there). */
  pairs: number;
  mcnemar_b: number;
  mcnemar_c: number;
  p_mcnemar: number;
  p_mcnemar_holm: number;
}

/** compare.csv's columns, in order. */
export const COMPARE_COLUMNS = [
  "order",
  "tasks",
  "task",
  "role",
  "metric",
  "variant_a",
  "lr_a",
  "variant_b",
  "lr_b",
  "stage",
  "step_a",
  "step_b",
  "items",
  "seeds_a",
  "seeds_b",
  "paired_seeds",
  "mean_a",
  "ci95_lo_a",
  "ci95_hi_a",
  "mean_b",
  "ci95_lo_b",
  "ci95_hi_b",
  "diff",
  "ci95_lo",
  "ci95_hi",
  "p_boot",
  "p_boot_holm",
  "pairs",
  "mcnemar_b",
  "mcnemar_c",
  "p_mcnemar",
  "p_mcnemar_holm",
] as const satisfies readonly (keyof CompareRow)[];

/** One flips.jsonl line: a (seed, item) pair one trainer got right and the other wrong. */
export interface Flip {
  readonly order: number;
  readonly task: string;
  readonly role: "stage" | "panel";
  readonly id: string;
  readonly seed_a: number;
  readonly seed_b: number;
  /** Which side was correct. */
  readonly correct: "a" | "b";
  readonly score_a: number;
  readonly score_b: number;
  readonly output_a: unknown;
  readonly output_b: unknown;
  readonly extracted_a?: unknown;
  readonly extracted_b?: unknown;
}

/** A finished comparison. */
export interface Comparison {
  readonly a: Side;
  readonly b: Side;
  readonly rows: readonly CompareRow[];
  readonly flips: readonly Flip[];
  readonly notes: readonly string[];
  readonly replicates: number;
  readonly seed: number;
  /** The --step given (undefined: each run's final checkpoint). */
  readonly step: number | undefined;
  readonly out: string;
}

type Body = Exclude<AnyRecord, RecipeRecord>;

/** A bench result folder's records. */
interface Folder {
  readonly dir: string;
  readonly header: RecipeRecord;
  readonly records: readonly Body[];
  readonly runs: readonly RunRecord[];
}

/** A samples.jsonl line of one run at one checkpoint. */
interface SampleLine {
  readonly variant: string;
  readonly lr: number;
  readonly seed: number;
  readonly order: number;
  readonly stage: number;
  readonly step: number;
  readonly task: string;
  readonly outputs: readonly unknown[];
  readonly extracted?: readonly unknown[];
  readonly scores: Readonly<Record<string, readonly (number | null)[]>>;
}

/** One side's per-item data of one task at its final checkpoint. */
interface TaskData {
  readonly stage: number;
  readonly step: number;
  /** Per seed (ascending), the scores, outputs and extracted answers in the task's id order. */
  readonly seeds: readonly number[];
  readonly scores: readonly number[][];
  readonly outputs: readonly (readonly unknown[])[];
  readonly extracted: readonly (readonly unknown[] | undefined)[];
  readonly ids: readonly string[];
}

const COMMAND = "compare";

async function loadFolder(dir: string): Promise<Folder> {
  const st = await Deno.stat(dir).catch(() => null);
  if (!st?.isDirectory) {
    throw new UsageError(`${COMMAND}: ${dir} is not a folder; give bench result folders`);
  }
  const has = async (f: string) => (await Deno.stat(join(dir, f)).catch(() => null))?.isFile;
  if (!(await has("records.jsonl"))) {
    throw new ValidationError(dir, "no records.jsonl: not a bench result folder");
  }
  if (!(await has("samples.jsonl"))) {
    throw new ValidationError(
      dir,
      "no samples.jsonl: compare needs the per-item scores a bench writes",
    );
  }
  const { header, records } = await readRecords(dir);
  const runs = records.filter((r): r is RunRecord => r.type === "run");
  return { dir, header, records, runs };
}

/** The variant names a folder's finished or diverged runs have, in recipe order. */
function variantsOf(f: Folder): string[] {
  const ran = new Set(f.runs.map((r) => r.variant!));
  return f.header.recipe.variants.map((v) => v.name).filter((n) => ran.has(n));
}

function checkVariant(f: Folder, name: string, flag: string): string {
  const known = variantsOf(f);
  if (!known.includes(name)) {
    throw new UsageError(
      `${flag}: ${f.dir} has no runs of variant '${name}' (it has: ${known.join(", ") || "none"})`,
    );
  }
  return name;
}

function parseLr(s: string, flag: string): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isFinite(v) || v <= 0) {
    throw new UsageError(`${flag}: '${s}' is not a learning rate`);
  }
  return v;
}

function parseCount(s: string | undefined, flag: string, fallback: number, min: number): number {
  if (s === undefined) return fallback;
  if (!/^\d+$/.test(s.trim()) || Number(s) < min) {
    throw new UsageError(`${flag}: '${s}' must be an integer ≥ ${min}`);
  }
  return Number(s);
}

/**
 * Per task order, the lr of `variant`'s best configuration as summary.csv selects it (highest
 * mean new-task accuracy, ties: less forgetting; evals/summary.ts over the records), or the
 * given one, which the variant must have finished runs at.
 */
function lrsOf(f: Folder, variant: string, given: number | undefined): number[] {
  const orders = f.header.orders.length;
  const finished = f.runs.filter((r) => r.variant === variant && !r.diverged);
  if (given !== undefined) {
    if (!finished.some((r) => r.lr === given)) {
      const lrs = [...new Set(finished.map((r) => r.lr!))].sort((x, y) => x - y);
      throw new UsageError(
        `--lr: variant '${variant}' in ${f.dir} has no finished run at lr ${given} (it has: ${
          lrs.join(", ") || "none"
        })`,
      );
    }
    return Array.from({ length: orders }, () => given);
  }
  const summary = buildReport(f.header, f.records).summary;
  return Array.from({ length: orders }, (_, o) => {
    const best = summary.find((s) =>
      s.variant === variant && s.order === o && s.selection === "best" &&
      s.metric === "new_task_acc"
    );
    if (!best || !Number.isFinite(best.lr)) {
      throw new UsageError(
        `${f.dir}: variant '${variant}' has no finished run${
          orders > 1 ? ` in task order ${o}` : ""
        } to compare (every run diverged or none ran)`,
      );
    }
    return best.lr;
  });
}

/**
 * Reads the samples.jsonl lines of the given runs (and every task's ids), validating each: its
 * columns must have one entry per id.
 */
async function readSamples(
  dir: string,
  wanted: (variant: string, lr: number) => boolean,
  variants: readonly string[],
): Promise<{ ids: Map<string, string[]>; lines: SampleLine[] }> {
  const path = join(dir, "samples.jsonl");
  const text = await Deno.readTextFile(path);
  const ids = new Map<string, string[]>();
  const lines: SampleLine[] = [];
  const marks = variants.map((v) => `"variant":${JSON.stringify(v)},`);
  let lineNo = 0;
  for (const raw of text.split("\n")) {
    lineNo++;
    if (raw === "") continue;
    const idsLine = raw.startsWith('{"task":');
    // Cheap filter before parsing: other variants' lines (most of a grid's file) are skipped.
    if (!idsLine && !marks.some((m) => raw.includes(m))) continue;
    const where = `${path}:${lineNo}`;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new ValidationError(where, `not JSON (${(e as Error).message})`);
    }
    if (Array.isArray(v.ids)) {
      if (typeof v.task !== "string" || !v.ids.every((x) => typeof x === "string")) {
        throw new ValidationError(where, "an ids line needs a task and a list of string ids");
      }
      ids.set(v.task, v.ids as string[]);
      continue;
    }
    if (typeof v.variant !== "string" || !wanted(v.variant, v.lr as number)) continue;
    const task = v.task;
    if (typeof task !== "string") throw new ValidationError(where, "field 'task' missing");
    const n = ids.get(task)?.length;
    if (n === undefined) {
      throw new ValidationError(where, `scores of task '${task}' before its ids line`);
    }
    for (const k of ["seed", "order", "stage", "step"]) {
      if (typeof v[k] !== "number") throw new ValidationError(where, `field '${k}' missing`);
    }
    if (!Array.isArray(v.outputs) || v.outputs.length !== n) {
      throw new ValidationError(where, `'outputs' must list one output per id (${n})`);
    }
    const scores = v.scores as Record<string, unknown> | undefined;
    if (typeof scores !== "object" || scores === null) {
      throw new ValidationError(where, "field 'scores' missing");
    }
    for (const [m, col] of Object.entries(scores)) {
      if (!Array.isArray(col) || col.length !== n) {
        throw new ValidationError(where, `scores.${m} must list one score per id (${n})`);
      }
    }
    lines.push(v as unknown as SampleLine);
  }
  return { ids, lines };
}

/** The metric a task's accuracy is: the recipe's choice, else the task's first (π0's eval line). */
function metricOf(f: Folder, task: string): string {
  const use = [...f.header.recipe.stages, ...f.header.recipe.panel].find((u) => u.task === task);
  if (use?.metric) return use.metric;
  const base = f.records.find((r): r is EvalRecord =>
    r.type === "eval" && r.variant === null && r.task === task
  );
  const first = base ? Object.keys(base.metrics)[0] : undefined;
  if (!first) {
    throw new ValidationError(`${f.dir}/records.jsonl`, `no evaluation of π0 on task '${task}'`);
  }
  return first;
}

/**
 * One side's per-item data at the final checkpoint (or checkpoint `atStep`) of the last stage of
 * each finished run of `variant` at `lr` in `order`, per task. Every run must end at the same
 * stage and step.
 */
function sideData(
  f: Folder,
  samples: { ids: Map<string, string[]>; lines: SampleLine[] },
  variant: string,
  lr: number,
  order: number,
  atStep: number | undefined,
): { stage: number; step: number; tasks: Map<string, TaskData>; seeds: number[] } {
  const runs = f.runs.filter((r) =>
    r.variant === variant && r.lr === lr && r.order === order && !r.diverged
  );
  const seeds = runs.map((r) => r.seed!).sort((x, y) => x - y);
  if (seeds.length === 0) {
    throw new UsageError(
      `${f.dir}: variant '${variant}' has no finished run at lr ${lr}${
        f.header.orders.length > 1 ? ` in task order ${order}` : ""
      }`,
    );
  }
  let end: { stage: number; step: number } | null = null;
  const perSeed = seeds.map((seed) => {
    const mine = samples.lines.filter((l) =>
      l.variant === variant && l.lr === lr && l.seed === seed && l.order === order
    );
    if (mine.length === 0) {
      throw new ValidationError(
        join(f.dir, "samples.jsonl"),
        `no per-item scores of run ${variant} lr ${lr} seed ${seed} order ${order}`,
      );
    }
    const stage = Math.max(...mine.map((l) => l.stage));
    const steps = [...new Set(mine.filter((l) => l.stage === stage).map((l) => l.step))];
    const step = atStep ?? Math.max(...steps);
    if (!steps.includes(step)) {
      throw new UsageError(
        `--step: ${variant} lr ${lr} seed ${seed} has no checkpoint at step ${step} of its last stage (it has: ${
          steps.sort((x, y) => x - y).join(", ")
        })`,
      );
    }
    if (end && (end.stage !== stage || end.step !== step)) {
      throw new ValidationError(
        join(f.dir, "samples.jsonl"),
        `runs of ${variant} lr ${lr} end at different checkpoints (stage ${end.stage} step ${end.step}, seed ${seed}: stage ${stage} step ${step})`,
      );
    }
    end = { stage, step };
    return mine.filter((l) => l.stage === stage && l.step === step);
  });
  const { stage, step } = end!;
  const tasks = new Map<string, TaskData>();
  const names = [...new Set(perSeed[0].map((l) => l.task))];
  for (const task of names) {
    const metric = metricOf(f, task);
    const lines = perSeed.map((ls, k) => {
      const l = ls.find((x) => x.task === task);
      if (!l) {
        throw new ValidationError(
          join(f.dir, "samples.jsonl"),
          `run ${variant} lr ${lr} seed ${
            seeds[k]
          } has no scores of task '${task}' at stage ${stage} step ${step}`,
        );
      }
      if (!l.scores[metric]) {
        throw new ValidationError(
          join(f.dir, "samples.jsonl"),
          `task '${task}' has no '${metric}' scores (it has: ${Object.keys(l.scores).join(", ")})`,
        );
      }
      return l;
    });
    tasks.set(task, {
      stage,
      step,
      seeds,
      // A missing score (null) counts as 0, as the recorded accuracy does (runs/evaluate.ts).
      scores: lines.map((l) => l.scores[metric].map((x) => x ?? 0)),
      outputs: lines.map((l) => l.outputs),
      extracted: lines.map((l) => l.extracted),
      ids: samples.ids.get(task)!,
    });
  }
  return { stage, step, tasks, seeds };
}

/** B's item order as positions into A's ids; a one-line error where the items differ. */
function alignItems(
  task: string,
  a: readonly string[],
  b: readonly string[],
  dirs: string,
): number[] {
  if (a.length === b.length && a.every((id, i) => id === b[i])) return a.map((_, i) => i);
  const pos = new Map(b.map((id, i) => [id, i]));
  const onlyA = a.filter((id) => !pos.has(id));
  const onlyB = b.filter((id) => !new Set(a).has(id));
  if (onlyA.length > 0 || onlyB.length > 0 || pos.size !== b.length || a.length !== b.length) {
    const ex = onlyA[0] ?? onlyB[0];
    throw new UsageError(
      `${dirs}: task '${task}' was scored on different items (${a.length} vs ${b.length}${
        ex !== undefined ? `; '${ex}' is in one only` : ""
      }); compare folders of the same recipe's data`,
    );
  }
  return a.map((id) => pos.get(id)!);
}

/** `p` with 6 significant digits (tiny p-values keep their exponent), "" for NaN. */
function pCell(p: number): string {
  return Number.isNaN(p) ? "" : String(Number(p.toPrecision(6)));
}

/** What every task order's comparison shares. */
interface Setup {
  readonly fa: Folder;
  readonly fb: Folder;
  readonly same: boolean;
  readonly va: string;
  readonly vb: string;
  readonly lrsA: readonly number[];
  readonly lrsB: readonly number[];
  readonly sa: { ids: Map<string, string[]>; lines: SampleLine[] };
  readonly sb: { ids: Map<string, string[]>; lines: SampleLine[] };
  readonly replicates: number;
  readonly seed: number;
  readonly atStep: number | undefined;
}

/**
 * The rows (Holm not applied yet) and flipped pairs of task order `o`: per task, the paired
 * bootstrap, each side's own interval and McNemar's test; per role with several tasks, the mean.
 */
function compareOrder(setup: Setup, o: number): { rows: CompareRow[]; flips: Flip[] } {
  const { fa, fb, same, va, vb, lrsA, lrsB, sa, sb, replicates, seed, atStep } = setup;
  const both = `${fa.dir} and ${fb.dir}`;
  const rows: CompareRow[] = [];
  const flips: Flip[] = [];
  const A = sideData(fa, sa, va, lrsA[o], o, atStep);
  const B = sideData(fb, sb, vb, lrsB[o], o, atStep);
  const namesA = [...A.tasks.keys()], namesB = [...B.tasks.keys()];
  const missing = namesA.filter((t) => !B.tasks.has(t)).concat(
    namesB.filter((t) => !A.tasks.has(t)),
  );
  if (missing.length > 0) {
    throw new UsageError(
      `${COMMAND}: A and B were evaluated on different tasks at the compared checkpoints (A: ${
        namesA.join(", ")
      }; B: ${namesB.join(", ")})`,
    );
  }
  const { paired, pairs } = seedPairs(A.seeds, B.seeds);
  // Stage tasks in training order, then the panel in the recipe's order.
  const sequence = fa.header.orders[o];
  const stageTasks = sequence.filter((t) => A.tasks.has(t));
  const panelTasks = fa.header.recipe.panel.map((u) => u.task).filter((t) => A.tasks.has(t));
  const others = namesA.filter((t) => !stageTasks.includes(t) && !panelTasks.includes(t));
  const ordered = [...stageTasks, ...others, ...panelTasks];
  const data = new Map<string, { a: readonly number[][]; b: number[][]; pos: number[] }>();
  for (const task of ordered) {
    const ta = A.tasks.get(task)!, tb = B.tasks.get(task)!;
    const pos = alignItems(task, ta.ids, tb.ids, same ? fa.dir : both);
    const bRows = tb.scores.map((row) => pos.map((p) => row[p]));
    data.set(task, { a: ta.scores, b: bRows, pos });
  }
  const base = (task: string, role: "stage" | "panel") => ({
    order: o,
    tasks: sequence.join(">"),
    task,
    role,
    variant_a: va!,
    lr_a: lrsA[o],
    variant_b: vb!,
    lr_b: lrsB[o],
    stage: A.stage,
    step_a: A.step,
    step_b: B.step,
    seeds_a: A.seeds.join(" "),
    seeds_b: B.seeds.join(" "),
    paired_seeds: paired,
  });
  const stats = (key: string, a: Scores, b: Scores) => {
    const s = (side: string) => [seed, hashString(`${o}|${key}|${side}`)];
    const d = pairedBootstrap(a, b, { pairSeeds: paired, replicates, seed: s("a-b") });
    const ca = clusterBootstrap(a, { replicates, seed: s("a") });
    const cb = clusterBootstrap(b, { replicates, seed: s("b") });
    return {
      mean_a: d.meanA,
      ci95_lo_a: ca.lo,
      ci95_hi_a: ca.hi,
      mean_b: d.meanB,
      ci95_lo_b: cb.lo,
      ci95_hi_b: cb.hi,
      diff: d.diff,
      ci95_lo: d.lo,
      ci95_hi: d.hi,
      p_boot: d.p,
      p_boot_holm: NaN,
    };
  };
  const group = (role: "stage" | "panel", tasks: readonly string[]) => {
    for (const task of tasks) {
      const { a, b, pos } = data.get(task)!;
      const ta = A.tasks.get(task)!, tb = B.tasks.get(task)!;
      // McNemar's units: (seed pair, item); correct = the accuracy metric's score ≥ 1.
      const aC: boolean[] = [], bC: boolean[] = [];
      for (const [seedA, seedB] of pairs) {
        const ia = ta.seeds.indexOf(seedA), ib = tb.seeds.indexOf(seedB);
        for (let i = 0; i < ta.ids.length; i++) {
          const x = a[ia][i] >= 1, y = b[ib][i] >= 1;
          aC.push(x);
          bC.push(y);
          if (x === y) continue;
          const ex = ta.extracted[ia] !== undefined || tb.extracted[ib] !== undefined;
          flips.push({
            order: o,
            task,
            role,
            id: ta.ids[i],
            seed_a: seedA,
            seed_b: seedB,
            correct: x ? "a" : "b",
            score_a: a[ia][i],
            score_b: b[ib][i],
            output_a: ta.outputs[ia][i],
            output_b: tb.outputs[ib][pos[i]],
            ...(ex
              ? {
                extracted_a: ta.extracted[ia]?.[i] ?? null,
                extracted_b: tb.extracted[ib]?.[pos[i]] ?? null,
              }
              : {}),
          });
        }
      }
      const { b: nb, c: nc } = discordant(aC, bC);
      const m = mcnemarExact(nb, nc);
      // B's rows in A's seed order when the seeds pair.
      const bPaired = paired ? A.seeds.map((s) => b[B.seeds.indexOf(s)]) : b;
      rows.push({
        ...base(task, role),
        metric: metricOf(fa, task),
        items: ta.ids.length,
        ...stats(task, a, bPaired),
        pairs: aC.length,
        mcnemar_b: m.b,
        mcnemar_c: m.c,
        p_mcnemar: m.p,
        p_mcnemar_holm: NaN,
      });
    }
    if (tasks.length > 1) {
      // The mean over the tasks (each task's items resampled within it); no McNemar here.
      const strataA = tasks.map((t) => data.get(t)!.a);
      const strataB = tasks.map((t) => {
        const b = data.get(t)!.b;
        return paired ? A.seeds.map((s) => b[B.seeds.indexOf(s)]) : b;
      });
      rows.push({
        ...base(
          `mean of ${tasks.length} ${role === "stage" ? "stage tasks" : "panel tasks"}`,
          role,
        ),
        metric: "accuracy",
        items: tasks.reduce((n, t) => n + A.tasks.get(t)!.ids.length, 0),
        ...stats(`mean:${role}`, { strata: strataA }, { strata: strataB }),
        pairs: NaN,
        mcnemar_b: NaN,
        mcnemar_c: NaN,
        p_mcnemar: NaN,
        p_mcnemar_holm: NaN,
      });
    }
  };
  group("stage", [...stageTasks, ...others]);
  group("panel", panelTasks);
  return { rows, flips };
}

/** Runs a comparison (no files written). */
export async function compare(req: CompareRequest): Promise<Comparison> {
  if (req.dirs.length < 1 || req.dirs.length > 2) {
    throw new UsageError(
      `${COMMAND} takes one result folder (compare DIR --variants A,B) or two (compare DIR_A DIR_B)`,
    );
  }
  const same = req.dirs.length === 1 || resolve(req.dirs[0]) === resolve(req.dirs[1]);
  const fa = await loadFolder(req.dirs[0]);
  const fb = same ? fa : await loadFolder(req.dirs[1]);

  // Variants.
  let va = req.variantA, vb = req.variantB;
  if (req.variants !== undefined) {
    if (va !== undefined || vb !== undefined) {
      throw new UsageError("--variants: give either --variants A,B or --variant-a/--variant-b");
    }
    const parts = req.variants.split(",").map((s) => s.trim());
    if (parts.length !== 2 || parts.some((p) => p === "")) {
      throw new UsageError(`--variants: '${req.variants}' must name two variants, as sft1,grpo`);
    }
    [va, vb] = parts;
  }
  const pick = (f: Folder, v: string | undefined, flag: string): string => {
    if (v !== undefined) return checkVariant(f, v, flag);
    const known = variantsOf(f);
    if (known.length === 1 && !same) return known[0];
    throw new UsageError(
      `${COMMAND}: which variants? give ${same ? "--variants A,B" : flag} (${f.dir} has: ${
        known.join(", ") || "none"
      })`,
    );
  };
  const viaList = req.variants !== undefined;
  va = pick(fa, va, viaList ? "--variants" : "--variant-a");
  vb = pick(fb, vb, viaList ? "--variants" : "--variant-b");

  // Learning rates.
  let lrA: number | undefined, lrB: number | undefined;
  if (req.lr !== undefined) {
    const parts = req.lr.split(",");
    if (parts.length > 2) throw new UsageError(`--lr: '${req.lr}' must be LR or LR_A,LR_B`);
    lrA = parseLr(parts[0], "--lr");
    lrB = parseLr(parts[parts.length - 1], "--lr");
  }
  const lrsA = lrsOf(fa, va, lrA);
  const lrsB = lrsOf(fb, vb, lrB);
  if (same && va === vb && lrsA.every((l, o) => l === lrsB[o])) {
    throw new UsageError(`${COMMAND}: A and B are the same runs (${va}); name two variants or lrs`);
  }
  const replicates = parseCount(req.replicates, "--replicates", 10_000, 1);
  const seed = parseCount(req.seed, "--seed", 0, 0);
  const atStep = req.step === undefined ? undefined : parseCount(req.step, "--step", 0, 1);

  // Two folders must hold the same data and task orders.
  const notes: string[] = [];
  const both = `${fa.dir} and ${fb.dir}`;
  if (!same) {
    const orders = firstDifference(fa.header.orders, fb.header.orders);
    if (orders) {
      throw new UsageError(
        `${both} train different task orders (orders${orders}); nothing to pair`,
      );
    }
    const inputs = firstDifference(fa.header.inputs, fb.header.inputs);
    if (inputs) {
      throw new UsageError(
        `${both} were measured on different data (records.jsonl inputs.${inputs} differs); compare folders of the same recipe's data`,
      );
    }
    for (const k of ["model", "pretrain"] as const) {
      const d = firstDifference(fa.header.recipe[k], fb.header.recipe[k]);
      if (d !== null) {
        const at = d.startsWith("[") || d.startsWith(" ") ? d : `.${d}`;
        notes.push(
          `note: the folders' base models differ (recipe.${k}${d === "(value)" ? "" : at})`,
        );
        break;
      }
    }
  }

  // Per-item data.
  const wantedA = (v: string, lr: number) => v === va && lrsA.includes(lr);
  const wantedB = (v: string, lr: number) => v === vb && lrsB.includes(lr);
  const sa = await readSamples(
    fa.dir,
    same ? (v, lr) => wantedA(v, lr) || wantedB(v, lr) : wantedA,
    same ? [va, vb] : [va],
  );
  const sb = same ? sa : await readSamples(fb.dir, wantedB, [vb]);

  for (const [f, v, lrs] of [[fa, va, lrsA], [fb, vb, lrsB]] as const) {
    for (const r of f.runs) {
      if (r.variant === v && r.diverged && lrs[r.order!] === r.lr) {
        notes.push(
          `note: ${v} lr ${r.lr} seed ${r.seed} diverged at stage ${r.diverged.stage} step ${r.diverged.step}; left out`,
        );
      }
    }
  }

  const setup: Setup = { fa, fb, same, va, vb, lrsA, lrsB, sa, sb, replicates, seed, atStep };
  const rows: CompareRow[] = [];
  const flips: Flip[] = [];
  for (let o = 0; o < fa.header.orders.length; o++) {
    const one = compareOrder(setup, o);
    rows.push(...one.rows);
    flips.push(...one.flips);
  }
  const hb = holm(rows.map((r) => r.p_boot));
  const hm = holm(rows.map((r) => r.p_mcnemar));
  rows.forEach((r, i) => {
    r.p_boot_holm = hb[i];
    r.p_mcnemar_holm = hm[i];
  });

  const side = (f: typeof fa, variant: string, lrs: Side["lrs"], lr: unknown): Side => ({
    dir: f.dir,
    recipe: f.header.recipe.id,
    variant,
    lrs,
    chosen: lr === undefined ? "best" : "--lr",
  });
  const a = side(fa, va, lrsA, lrA), b = side(fb, vb, lrsB, lrB);
  const out = req.out ?? defaultOut(a, b, same, req);
  return { a, b, rows, flips, notes, replicates, seed, step: atStep, out };
}

/** results/compare/<folder>.<A>-vs-<B> (B's folder named too when it is another). */
function defaultOut(a: Side, b: Side, same: boolean, req: CompareRequest): string {
  const name = (s: string) => s.replace(/[^A-Za-z0-9._+=-]/g, "_");
  const lr = (s: Side) =>
    `${req.lr !== undefined ? `@${s.lrs[0]}` : ""}${
      req.step !== undefined ? `.step${req.step}` : ""
    }`;
  const left = `${name(basename(resolve(a.dir)))}.${name(a.variant)}${lr(a)}`;
  const right = same
    ? `${name(b.variant)}${lr(b)}`
    : `${name(basename(resolve(b.dir)))}.${name(b.variant)}${lr(b)}`;
  return join("results", "compare", `${left}-vs-${right}`);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : "–";
}

/** A difference: 4 decimals, or its sign and size where it is too small for them (`-2.1e-6`). */
function fmtDiff(x: number): string {
  return x !== 0 && Math.abs(x) < 5e-5 ? x.toExponential(1) : fmt(x);
}

function fmtP(p: number): string {
  if (Number.isNaN(p)) return "–";
  return p >= 0.001 ? p.toFixed(4) : p.toExponential(1);
}

/** The printed account: who is compared, then one table row per task and mean. */
export function compareTable(c: Comparison): string {
  const side = (label: string, s: Side) => {
    const lrs = [...new Set(s.lrs)].join("/");
    const how = s.chosen === "best"
      ? "its best configuration's lr, as summary.csv selects it"
      : "--lr";
    return `${label}: ${s.dir} variant ${s.variant}, lr ${lrs} (${how})`;
  };
  const r0 = c.rows[0];
  const lines = [
    side("A", c.a),
    side("B", c.b),
    `At the ${
      c.step === undefined ? "final checkpoint" : "checkpoint"
    } of the last stage (stage ${r0.stage}, step ${r0.step_a}${
      r0.step_b !== r0.step_a ? ` for A, ${r0.step_b} for B` : ""
    }); seeds A ${r0.seeds_a}, B ${r0.seeds_b}${
      r0.paired_seeds ? ", paired by seed" : ", not paired (resampled independently)"
    }.`,
    `A − B with a 95% paired bootstrap interval and p (${c.replicates} replicates over seeds and items, seed ${c.seed}); McNemar's exact test on (seed, item) pairs, correct = score ≥ 1 (b: A only, c: B only); Holm over the ${c.rows.length} rows.`,
    ...c.notes,
  ];
  const head = [
    "task",
    "role",
    "items",
    "A",
    "B",
    "A − B",
    "95% CI",
    "p boot",
    "Holm",
    "b / c",
    "McNemar p",
    "Holm",
  ];
  const orders = new Set(c.rows.map((r) => r.order)).size;
  const body = c.rows.map((r) => [
    orders > 1 ? `${r.tasks}: ${r.task}` : r.task,
    r.role,
    `${r.items}×${
      r.paired_seeds
        ? r.seeds_a.split(" ").length
        : `${r.seeds_a.split(" ").length}/${r.seeds_b.split(" ").length}`
    }`,
    fmt(r.mean_a),
    fmt(r.mean_b),
    fmtDiff(r.diff),
    `[${fmt(r.ci95_lo)}, ${fmt(r.ci95_hi)}]`,
    fmtP(r.p_boot),
    fmtP(r.p_boot_holm),
    Number.isNaN(r.mcnemar_b) ? "–" : `${r.mcnemar_b} / ${r.mcnemar_c}`,
    fmtP(r.p_mcnemar),
    fmtP(r.p_mcnemar_holm),
  ]);
  const width = head.map((h, k) => Math.max(h.length, ...body.map((row) => row[k].length)));
  const line = (cells: string[]) =>
    cells.map((x, k) => (k < 2 ? x.padEnd(width[k]) : x.padStart(width[k]))).join("  ").trimEnd();
  return [...lines, "", line(head), ...body.map(line)].join("\n");
}

/** compare.csv's text. */
export function compareCsv(c: Comparison): string {
  const cells = c.rows.map((r) => ({
    ...r,
    p_boot: pCell(r.p_boot),
    p_boot_holm: pCell(r.p_boot_holm),
    p_mcnemar: pCell(r.p_mcnemar),
    p_mcnemar_holm: pCell(r.p_mcnemar_holm),
    paired_seeds: r.paired_seeds ? "yes" : "no",
    lr_a: String(r.lr_a),
    lr_b: String(r.lr_b),
  }));
  return toCsv(cells, COMPARE_COLUMNS);
}

/** flips.jsonl's text: one line per flipped (seed, item) pair, in the table's task order. */
export function flipsJsonl(c: Comparison): string {
  return c.flips.map((f) => jsonLine(f) + "\n").join("");
}

/** Writes compare.csv and flips.jsonl into the comparison's folder (locked, atomically). */
export async function writeComparison(c: Comparison): Promise<string[]> {
  const st = await Deno.stat(c.out).catch(() => null);
  if (st && !st.isDirectory) throw new UsageError(`--out ${c.out} is a file, not a folder`);
  const lock = await acquireLock(c.out, `forgetbench ${COMMAND}`);
  try {
    const paths = [join(c.out, "compare.csv"), join(c.out, "flips.jsonl")];
    await writeTextAtomic(paths[0], compareCsv(c));
    await writeTextAtomic(paths[1], flipsJsonl(c));
    return paths;
  } finally {
    await lock.release();
  }
}

/** `compare` end to end: compare, write the files; returns the comparison and what was written. */
export async function runCompare(
  req: CompareRequest,
): Promise<{ comparison: Comparison; paths: string[]; table: string }> {
  const comparison = await compare(req);
  const paths = await writeComparison(comparison);
  return { comparison, paths, table: compareTable(comparison) };
}
