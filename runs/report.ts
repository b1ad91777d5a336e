// Every CSV of a result folder as a pure function of its records (runs/records.ts): the records
// are grouped into runs, and evals/ turns them into the accuracy matrix, the leaderboard, the
// seed summary, the stage points and the forgetting-law fits. `report DIR` (and the pipeline's
// last step) writes them, each atomically, with report.html (runs/report_html.ts: the charts of
// these tables as one self-contained page), and records their sha256 in manifest.json.

import { join } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { sha256Hex } from "../lib/hash.ts";
import { toCsv } from "../evals/csv.ts";
import { FIT_COLUMNS, type FitRow, forgettingLaw } from "../evals/law.ts";
import {
  type Checkpoint,
  LEADERBOARD_COLUMNS,
  type LeaderboardRow,
  leaderboardRows,
  RUN_COLUMNS,
  type RunData,
  STAGE_COLUMNS,
  type StageRow,
  stageRows,
} from "../evals/leaderboard.ts";
import { summarize, SUMMARY_COLUMNS, type SummaryRow } from "../evals/summary.ts";
import {
  CIRCUIT_COLUMNS,
  CIRCUIT_FIT_COLUMNS,
  type CircuitFitRow,
  circuitFits,
  circuitRows,
  HEAD_COLUMNS,
  headRows,
  RETENTION_COLUMNS,
  RETENTION_SUMMARY_COLUMNS,
  type RetentionRow,
  retentionRows,
  retentionSummary,
} from "../evals/circuit_tables.ts";
import {
  type AnyRecord,
  type CircuitRecord,
  type EvalRecord,
  type KlRecord,
  readRecords,
  type RecipeRecord,
  type RunFields,
  type RunRecord,
  type StepRecord,
  type TimingRecord,
} from "./records.ts";
import { reportHtml } from "./report_html.ts";

/** The CSV files of a result folder, in the order they are written. */
export const CSV_FILES = [
  "matrix.csv",
  "leaderboard.csv",
  "summary.csv",
  "stages.csv",
  "fit.csv",
  "timings.csv",
] as const;

/** The CSV files of the circuit analysis, written when the records hold circuit lines. */
export const CIRCUIT_FILES = [
  "circuits.csv",
  "retention.csv",
  "retention_summary.csv",
  "heads.csv",
  "circuit_fit.csv",
] as const;

/** The page of charts written beside the CSVs (runs/report_html.ts). */
export const REPORT_HTML = "report.html";

/** A recipe's results as tables and as CSV text. */
export interface Report {
  readonly leaderboard: readonly LeaderboardRow[];
  readonly summary: readonly SummaryRow[];
  readonly fits: readonly FitRow[];
  readonly stages: readonly StageRow[];
  readonly files: Readonly<
    & Record<(typeof CSV_FILES)[number], string>
    & Partial<Record<(typeof CIRCUIT_FILES)[number], string>>
  >;
  /** retention.csv's rows and circuit_fit.csv's (empty without circuit records). */
  readonly retention: readonly RetentionRow[];
  readonly circuitFits: readonly CircuitFitRow[];
}

/** matrix.csv's columns, in order. */
export const MATRIX_COLUMNS = [
  ...RUN_COLUMNS,
  "stage",
  "step",
  "task",
  "role",
  "accuracy",
  "n",
] as const;

const TIMING_COLUMNS = ["phase", ...RUN_COLUMNS, "stage", "seconds"] as const;

type Body = Exclude<AnyRecord, RecipeRecord>;

function keyOf(r: RunFields): string {
  return JSON.stringify([r.variant, r.lr, r.seed, r.order]);
}

function meanOf(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** One finished run's evaluations, as evals/leaderboard.ts takes them. */
function runData(
  run: RunRecord,
  base: readonly EvalRecord[],
  mine: readonly Body[],
): RunData {
  const evals = mine.filter((r): r is EvalRecord => r.type === "eval");
  const kls = mine.filter((r): r is KlRecord => r.type === "kl");
  const steps = mine.filter((r): r is StepRecord => r.type === "step");
  const stageNumbers = [...new Set(evals.map((e) => e.stage))].sort((a, b) => a - b);
  const accsOf = (es: readonly EvalRecord[]) =>
    Object.fromEntries(es.filter((e) => e.role === "stage").map((e) => [e.task, e.accuracy]));
  const panelOf = (es: readonly EvalRecord[]) =>
    meanOf(es.filter((e) => e.role === "panel").map((e) => e.accuracy));
  const stages = stageNumbers.map((stage) => {
    const at = evals.filter((e) => e.stage === stage);
    const points = [...new Set(at.map((e) => e.step))].sort((a, b) => a - b);
    return {
      stage,
      checkpoints: points.map((step): Checkpoint => {
        const es = at.filter((e) => e.step === step);
        const kl = kls.find((k) => k.stage === stage && k.step === step);
        // Instances that reached an update up to here: every earlier stage, this one to `step`.
        const instances = steps
          .filter((s) => s.stage < stage || (s.stage === stage && s.step <= step))
          .reduce((a, s) => a + s.kept, 0);
        return {
          step,
          accs: accsOf(es),
          panel: panelOf(es),
          klForward: kl?.kl_forward ?? NaN,
          klReverse: kl?.kl_reverse ?? NaN,
          klPrev: kl?.kl_prev ?? NaN,
          instances,
        };
      }),
    };
  });
  return {
    variant: run.variant!,
    trainer: run.trainer!,
    lr: run.lr!,
    seed: run.seed!,
    order: run.order!,
    tasks: run.tasks.split(">"),
    joint: run.joint,
    diverged: run.diverged ? `${run.diverged.stage}:${run.diverged.step}` : "",
    base: { accs: accsOf(base), panel: panelOf(base) },
    stages,
  };
}

/** Builds every table of a result folder from its records (pure). */
export function buildReport(header: RecipeRecord, records: readonly Body[]): Report {
  const recipe = header.recipe;
  const base = records.filter((r): r is EvalRecord => r.type === "eval" && r.variant === null);
  const byRun = new Map<string, Body[]>();
  for (const r of records) {
    if (r.variant === null) continue;
    const k = keyOf(r);
    byRun.set(k, [...(byRun.get(k) ?? []), r]);
  }
  const runs = records.filter((r): r is RunRecord => r.type === "run");
  const data = runs.map((run) => runData(run, base, byRun.get(keyOf(run)) ?? []));
  const leaderboard = data.flatMap(leaderboardRows);
  const stages = data.flatMap(stageRows);
  const summary = summarize(leaderboard, { within: recipe.matchWithin });
  // Diverged runs are left out of the fits (their stage points stay in stages.csv).
  const divergedRuns = new Set(data.filter((d) => d.diverged).map((d) => keyOf(d)));
  const fits = forgettingLaw({
    leaderboard: leaderboard.filter((r) => !r.diverged),
    stages: stages.filter((r) => !divergedRuns.has(keyOf(r))),
  }, {
    excluding: recipe.fitExcluding,
    stageScope: recipe.stages.length > 1,
  });
  const matrix = runs.length > 0
    ? runs.flatMap((run) => [
      ...base.map((e) => ({ ...e, ...pick(run) })),
      ...(byRun.get(keyOf(run)) ?? []).filter((r) => r.type === "eval"),
    ])
    : base; // an evaluation recipe: π0's evaluation is the whole matrix
  const timings = records.filter((r): r is TimingRecord => r.type === "timing");
  // The circuit analysis (runs/circuits.ts): π0's circuits, then the runs', in record order.
  const circuits = records.filter((r): r is CircuitRecord => r.type === "circuit");
  const retention = retentionRows(circuits, stages);
  const circuitFit = circuitFits(retention, { excluded: divergedRuns });
  const circuitFiles = circuits.length === 0 ? {} : {
    "circuits.csv": toCsv(circuitRows(circuits), CIRCUIT_COLUMNS),
    "retention.csv": toCsv(retention, RETENTION_COLUMNS),
    "retention_summary.csv": toCsv(
      retentionSummary(retention, { excluded: divergedRuns }),
      RETENTION_SUMMARY_COLUMNS,
    ),
    "heads.csv": toCsv(headRows(circuits, { excluded: divergedRuns }), HEAD_COLUMNS),
    "circuit_fit.csv": toCsv(circuitFit, CIRCUIT_FIT_COLUMNS),
  };
  return {
    leaderboard,
    summary,
    fits,
    stages,
    retention,
    circuitFits: circuitFit,
    files: {
      ...circuitFiles,
      "matrix.csv": toCsv(matrix as EvalRecord[], MATRIX_COLUMNS),
      "leaderboard.csv": toCsv(leaderboard, LEADERBOARD_COLUMNS),
      "summary.csv": toCsv(summary, SUMMARY_COLUMNS),
      "stages.csv": toCsv(stages, STAGE_COLUMNS),
      "fit.csv": toCsv(fits, FIT_COLUMNS),
      "timings.csv": toCsv(timings, TIMING_COLUMNS),
    },
  };
}

function pick(r: RunFields): RunFields {
  return { variant: r.variant, trainer: r.trainer, lr: r.lr, seed: r.seed, order: r.order };
}

/**
 * Rebuilds a result folder's CSVs and report.html from its records.jsonl, writes each
 * atomically, and records their sha256 in manifest.json (when the folder has one). The page's
 * provenance (versions, git state, device) comes from manifest.json, or from `opts.manifest`
 * where the folder has none yet (the pipeline writes its manifest after the report, since the
 * manifest hashes the report). Returns the report and the paths written or hashed.
 */
export async function writeReport(
  dir: string,
  opts: { manifest?: Readonly<Record<string, unknown>> } = {},
): Promise<Report & { paths: string[] }> {
  const { header, records } = await readRecords(dir);
  const report = buildReport(header, records);
  const manifestPath = join(dir, "manifest.json");
  const text = await Deno.readTextFile(manifestPath).catch(() => null);
  const manifest = text !== null ? JSON.parse(text) : null;
  const html = await reportHtml({
    header,
    records,
    leaderboard: report.leaderboard,
    summary: report.summary,
    fits: report.fits,
    stages: report.stages,
    retention: report.retention,
    circuitFits: report.circuitFits,
    manifest: manifest ?? opts.manifest ?? null,
  });
  const sha: Record<string, string> = {};
  const written = [...CSV_FILES, ...CIRCUIT_FILES.filter((n) => report.files[n] !== undefined)];
  for (const name of written) {
    const text = report.files[name]!;
    await writeTextAtomic(join(dir, name), text);
    sha[name] = await sha256Hex(new TextEncoder().encode(text));
  }
  await writeTextAtomic(join(dir, REPORT_HTML), html);
  sha[REPORT_HTML] = await sha256Hex(new TextEncoder().encode(html));
  for (const name of ["records.jsonl", "samples.jsonl"]) {
    const bytes = await Deno.readFile(join(dir, name)).catch(() => null);
    if (bytes) sha[name] = await sha256Hex(bytes);
  }
  if (manifest !== null) {
    manifest.outputs_sha256 = sha;
    await writeTextAtomic(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  }
  return {
    ...report,
    paths: [...written, REPORT_HTML, "records.jsonl", "samples.jsonl"].map((f) => join(dir, f)),
  };
}
