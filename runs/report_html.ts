// report.html: one self-contained page per result folder, built only from its records (and its
// manifest.json when present). Every chart is a Vega-Lite spec compiled to Vega and rendered to
// SVG here, when the report is written (vega's View with renderer "none", toSVG), then inlined:
// the page needs no script, font or network to open. Pure and deterministic: the same inputs give
// byte-identical HTML (vega's clip-path and gradient ids, which come from process-wide counters,
// are renamed per chart; nothing reads a clock).
//
// Charts (docs: README "The report"):
//   matrix-<variant>     the accuracy matrix R[after stage][task] of the variant's best lr,
//                        every stage at its last checkpoint, mean over seeds (π0 the first row)
//   law-<target>[-<seq>] forgetting (panel drop, task forgetting F) against KL(π0‖π), one point
//                        per leaderboard row, with the fitted law c1·KL + c2·KL² and its R²
//   law-stage-<target>   the same over stage checkpoints (recipes of several stages)
//   matched[-<order>]    new-task accuracy, forgetting and KL at matched new-task accuracy, with
//                        their 95% intervals over seeds (summary rows, selection "matched")
//   panel                each panel task's accuracy after the last stage, per variant, against π0
//   curves-<variant>     loss, reward, KL and kept instances per optimiser step, mean over seeds
//   base                 π0's scores (evaluation-only recipes)
//   circuits-<variant>   attention heads (layer × head) of π0 and of each variant after its
//                        stages (circuits-base: π0's): share of skills, seeds and stages whose
//                        circuit holds the head

import * as vega from "vega";
import { type LoggerInterface, None, parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { FitRow } from "../evals/law.ts";
import type { LeaderboardRow, StageRow } from "../evals/leaderboard.ts";
import { meanCI } from "../evals/stats.ts";
import type { SummaryRow } from "../evals/summary.ts";
import type { CircuitFitRow, RetentionRow } from "../evals/circuit_tables.ts";
import type {
  AnyRecord,
  CircuitRecord,
  EvalRecord,
  RecipeRecord,
  RunRecord,
  StepRecord,
} from "./records.ts";

type Body = Exclude<AnyRecord, RecipeRecord>;
type Spec = Record<string, unknown>;

/** What the page is built from: the records and the tables runs/report.ts made of them. */
export interface ReportInput {
  readonly header: RecipeRecord;
  readonly records: readonly Body[];
  readonly leaderboard: readonly LeaderboardRow[];
  readonly summary: readonly SummaryRow[];
  readonly fits: readonly FitRow[];
  readonly stages: readonly StageRow[];
  /** retention.csv's and circuit_fit.csv's rows (runs/report.ts), when there are circuits. */
  readonly retention?: readonly RetentionRow[];
  readonly circuitFits?: readonly CircuitFitRow[];
  /** manifest.json's contents, when the folder has one (provenance: versions, git, device). */
  readonly manifest?: Readonly<Record<string, unknown>> | null;
}

/** One chart of the page: its id (data-chart), title and SVG. */
interface Chart {
  readonly id: string;
  readonly svg: string;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const esc = (s: unknown): string =>
  String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

/** A number for a table cell: fixed digits, "–" where not finite. */
function num(x: unknown, digits = 3): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–";
}

/** A learning rate as written in recipes (1e-3, 3e-4). */
function lrText(lr: number | null | undefined): string {
  if (lr === null || lr === undefined || !Number.isFinite(lr)) return "–";
  const [m, e] = lr.toExponential().split("e");
  return `${Number(Number(m).toPrecision(6))}e${Number(e)}`;
}

/** A JSON-safe value for chart data: non-finite numbers become null. */
const fin = (x: number | null | undefined): number | null =>
  typeof x === "number" && Number.isFinite(x) ? x : null;

function mean(xs: readonly number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length === 0 ? NaN : f.reduce((a, b) => a + b, 0) / f.length;
}

/** A stable HTML id from any label. */
function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "x";
}

const runKey = (
  r: { variant: string | null; lr: number | null; seed: number | null; order: number | null },
) => JSON.stringify([r.variant, r.lr, r.seed, r.order]);

// ---------------------------------------------------------------------------------------------
// Rendering: Vega-Lite → Vega → SVG

const SILENT: LoggerInterface = {
  level(_?: number) {
    return this as never;
  },
  error() {
    return this;
  },
  warn() {
    return this;
  },
  info() {
    return this;
  },
  debug() {
    return this;
  },
} as unknown as LoggerInterface;

// Text widths. Without a canvas vega estimates every character at 0.8 em, which truncates labels
// and pads layouts; like vl-convert, forgetbench gives vega a measure of its own (the documented
// textMetrics.width hook): the advance widths of DejaVu Sans (the sans-serif of Debian and most
// Linux desktops, wider than Helvetica or Arial, so text fits wherever the page is opened), in
// thousandths of an em, for ASCII 32..126 and a few symbols the charts use.
const widths = (s: string) => s.trim().split(/\s+/).map(Number);
const WIDTHS_NORMAL = widths(`
  318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636
  636 636 636 636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632
  575 775 752 295 295 656 557 863 748 787 603 787 695 635 611 732 684 989 685
  611 685 390 337 390 838 500 500 613 635 550 635 615 352 635 634 278 278 579
  278 974 634 612 635 635 411 521 392 634 592 818 592 592 525 636 337 636 838
`);
const WIDTHS_BOLD = widths(`
  348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696
  696 696 696 696 696 696 696 400 400 838 838 838 580 1000 774 762 734 830 683
  683 821 837 372 372 775 637 995 837 850 733 850 770 720 682 812 774 1103 771
  724 725 457 365 457 838 500 500 675 716 593 716 678 435 716 712 343 343 665
  343 1042 712 687 716 716 493 595 478 712 652 924 645 652 582 712 365 712 838
`);
const WIDTHS_OTHER: Readonly<Record<string, readonly [number, number]>> = {
  "π": [602, 791],
  "‖": [500, 500],
  "²": [401, 438],
  "·": [318, 380],
  "−": [838, 838],
  "…": [1000, 1000],
  "→": [838, 838],
  "≈": [838, 838],
};

/** Width in pixels of one line of text (what the browser will draw, at most). */
export function textWidth(text: string, size: number, bold = false): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    w += c >= 32 && c < 127
      ? (bold ? WIDTHS_BOLD : WIDTHS_NORMAL)[c - 32]
      : WIDTHS_OTHER[ch]?.[bold ? 1 : 0] ?? (bold ? 760 : 700);
  }
  return (w * size) / 1000;
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}

/** vega's textMetrics.width: the item's text at its size and weight (labels are never cut here). */
function measure(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  const bold = item.fontWeight === "bold" || Number(item.fontWeight) >= 600;
  return textWidth(text == null ? "" : String(text).trim(), size, bold);
}

(vega as unknown as { textMetrics: { width: typeof measure } }).textMetrics.width = measure;

/** Shared look of every chart. */
const CONFIG = {
  background: "white",
  font: "sans-serif",
  padding: 8,
  view: { stroke: "#ddd" },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "normal",
    gridColor: "#eee",
    labelLimit: 1000,
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", labelLimit: 1000 },
  title: { fontSize: 14, anchor: "start", subtitleFontSize: 11, subtitleColor: "#555" },
  header: { labelFontSize: 12, titleFontSize: 12 },
  range: { category: { scheme: "tableau10" } },
};

/**
 * vega's SVG ids (clip paths, gradients) come from counters shared by the whole process, so they
 * differ between builds and repeat across charts; rename them in order of appearance.
 */
export function normaliseIds(svg: string, prefix: string): string {
  const ids = [...new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))];
  if (ids.length === 0) return svg;
  const map = new Map(ids.map((id, i) => [id, `${prefix}-${i + 1}`]));
  return svg.replace(
    /(\sid="|url\(#|href="#)([^")]+)/g,
    (all, pre: string, id: string) => map.has(id) ? pre + map.get(id) : all,
  );
}

async function render(id: string, spec: Spec): Promise<Chart> {
  const vl = compile({ config: CONFIG, ...spec } as TopLevelSpec, { logger: SILENT }).spec;
  const view = new View(parse(vl), { renderer: "none", logLevel: None });
  try {
    const svg = await view.toSVG();
    return { id, svg: normaliseIds(svg.replace(/^<svg /, `<svg aria-label="${esc(id)}" `), id) };
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------------------------
// What the records hold, arranged per variant

interface Context {
  readonly input: ReportInput;
  readonly variants: readonly string[];
  readonly stageTasks: readonly string[];
  readonly panelTasks: readonly string[];
  readonly orders: readonly (readonly string[])[];
  readonly base: readonly EvalRecord[];
  readonly runs: readonly RunRecord[];
  readonly byRun: ReadonlyMap<string, readonly Body[]>;
  /** Per variant and order, the best configuration (summary selection "best"). */
  readonly best: ReadonlyMap<string, ReadonlyMap<number, { lr: number; steps: number }>>;
}

function contextOf(input: ReportInput): Context {
  const recipe = input.header.recipe;
  const runs = input.records.filter((r): r is RunRecord => r.type === "run");
  const byRun = new Map<string, Body[]>();
  for (const r of input.records) {
    if (r.variant === null) continue;
    const k = runKey(r);
    const list = byRun.get(k);
    if (list) list.push(r);
    else byRun.set(k, [r]);
  }
  const named = recipe.variants.map((v) => v.name);
  const variants = [
    ...named,
    ...new Set(runs.map((r) => r.variant!).filter((v) => !named.includes(v))),
  ];
  const best = new Map<string, Map<number, { lr: number; steps: number }>>();
  for (const s of input.summary) {
    if (s.selection !== "best" || !Number.isFinite(s.lr)) continue;
    const m = best.get(s.variant) ?? new Map();
    if (!m.has(s.order)) m.set(s.order, { lr: s.lr, steps: s.steps });
    best.set(s.variant, m);
  }
  return {
    input,
    variants,
    stageTasks: recipe.stages.map((u) => u.task),
    panelTasks: (recipe.panel ?? []).map((u) => u.task),
    orders: input.header.orders,
    base: input.records.filter((r): r is EvalRecord => r.type === "eval" && r.variant === null),
    runs,
    byRun,
    best,
  };
}

/** The finished runs of a variant at its best lr (per order). */
function bestRuns(ctx: Context, variant: string): RunRecord[] {
  const best = ctx.best.get(variant);
  return ctx.runs.filter((r) =>
    r.variant === variant && !r.diverged && best?.get(r.order!)?.lr === r.lr
  );
}

/** A run's evaluations at each stage's last checkpoint: stage → task → accuracy. */
function finalEvals(ctx: Context, run: RunRecord): Map<number, EvalRecord[]> {
  const evals = (ctx.byRun.get(runKey(run)) ?? []).filter((r): r is EvalRecord =>
    r.type === "eval"
  );
  const last = new Map<number, number>();
  for (const e of evals) last.set(e.stage, Math.max(last.get(e.stage) ?? -Infinity, e.step));
  const out = new Map<number, EvalRecord[]>();
  for (const e of evals) {
    if (e.step !== last.get(e.stage)) continue;
    out.set(e.stage, [...(out.get(e.stage) ?? []), e]);
  }
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/** How a matrix row after a stage of an order is labelled. */
function stageLabel(ctx: Context, run: RunRecord, stage: number): string {
  const tasks = run.tasks.split(">");
  const trained = run.joint ? tasks.join("+") : tasks[stage - 1] ?? `stage ${stage}`;
  if (ctx.orders.every((o) => o.length === 1)) return `after ${trained}`;
  const head = run.joint ? "after joint" : `after ${stage}`;
  return ctx.orders.length > 1 ? `order ${run.order} ${head}: ${trained}` : `${head}: ${trained}`;
}

/** The task orders' labels, e.g. "a > b". */
function orderLabel(ctx: Context, order: number): string {
  return (ctx.orders[order] ?? []).join(" > ");
}

// ---------------------------------------------------------------------------------------------
// Charts

const PANEL_PREFIX = "panel: ";

/** Accuracy matrix heatmap of one variant (rows: π0, after each stage; columns: tasks). */
async function matrixChart(ctx: Context, variant: string): Promise<Chart | null> {
  const runs = bestRuns(ctx, variant);
  if (runs.length === 0) return null;
  const cells = new Map<string, Map<string, number[]>>(); // row → column → values over seeds
  const rows: string[] = ["π0"];
  const col = (e: EvalRecord) => e.role === "panel" ? PANEL_PREFIX + e.task : e.task;
  const add = (row: string, e: EvalRecord) => {
    const m = cells.get(row) ?? new Map<string, number[]>();
    m.set(col(e), [...(m.get(col(e)) ?? []), e.accuracy]);
    cells.set(row, m);
  };
  for (const e of ctx.base) add("π0", e);
  const keyed: { order: number; stage: number; label: string }[] = [];
  for (const run of runs) {
    for (const [stage, evals] of finalEvals(ctx, run)) {
      if (stage === 0) continue;
      const label = stageLabel(ctx, run, stage);
      if (!keyed.some((k) => k.label === label)) keyed.push({ order: run.order!, stage, label });
      for (const e of evals) add(label, e);
    }
  }
  keyed.sort((a, b) => a.order - b.order || a.stage - b.stage);
  rows.push(...keyed.map((k) => k.label));
  const columns = [...ctx.stageTasks, ...ctx.panelTasks.map((t) => PANEL_PREFIX + t)];
  const values = rows.flatMap((row) =>
    columns.map((c) => {
      const v = mean(cells.get(row)?.get(c) ?? []);
      return { row, task: c, value: fin(v), text: Number.isFinite(v) ? v.toFixed(2) : "–" };
    })
  );
  const lrs = [...(ctx.best.get(variant) ?? new Map()).entries()]
    .map(([o, b]) =>
      ctx.orders.length > 1 ? `order ${o}: lr ${lrText(b.lr)}` : `lr ${lrText(b.lr)}`
    );
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const step = Math.max(48, Math.min(80, 640 / Math.max(1, columns.length)));
  const angle = columns.every((c) => textWidth(c, 11) <= step - 6) ? 0 : -35;
  return await render(`matrix-${slug(variant)}`, {
    title: {
      text: `${variant}: accuracy after each stage`,
      subtitle: `best ${
        lrs.join(", ")
      }; each stage at its last checkpoint; mean over ${seeds} seed${seeds === 1 ? "" : "s"}`,
    },
    data: { values },
    encoding: {
      x: {
        field: "task",
        type: "nominal",
        sort: columns,
        title: null,
        axis: { orient: "top", labelAngle: angle },
      },
      y: { field: "row", type: "nominal", sort: rows, title: null },
    },
    layer: heatLayers("blues", "accuracy"),
    width: { step },
    height: { step: 26 },
  });
}

/**
 * The layers of a heatmap over values in [0, 1]: cells coloured by `value` on `scheme`, with
 * their `text` written in white on dark cells (the accuracy matrix, the circuit heatmaps).
 */
function heatLayers(scheme: string, title: string) {
  return [
    {
      mark: { type: "rect", stroke: "white" },
      encoding: {
        color: { field: "value", type: "quantitative", scale: { domain: [0, 1], scheme }, title },
      },
    },
    {
      mark: { type: "text", fontSize: 11 },
      encoding: {
        text: { field: "text" },
        color: { condition: { test: "datum.value > 0.6", value: "white" }, value: "black" },
      },
    },
  ];
}

/** π0's accuracy per task (an evaluation-only recipe's whole result). */
async function baseChart(ctx: Context): Promise<Chart | null> {
  if (ctx.base.length === 0) return null;
  const values = ctx.base.map((e) => ({
    task: e.role === "panel" ? PANEL_PREFIX + e.task : e.task,
    accuracy: fin(e.accuracy),
    n: e.n,
  }));
  return await render("base", {
    title: { text: "π0's accuracy per task", subtitle: "the base model's evaluation (stage 0)" },
    data: { values },
    layer: [
      {
        mark: "bar",
        encoding: {
          y: { field: "task", type: "nominal", sort: null, title: null },
          x: { field: "accuracy", type: "quantitative", scale: { domain: [0, 1] } },
        },
      },
      {
        mark: { type: "text", align: "left", dx: 3 },
        encoding: {
          y: { field: "task", type: "nominal", sort: null },
          x: { field: "accuracy", type: "quantitative" },
          text: { field: "accuracy", format: ".3f" },
        },
      },
    ],
    width: 420,
    height: { step: 24 },
  });
}

const TARGETS: readonly (readonly [string, string])[] = [
  ["panel_drop", "panel drop (π0 − after)"],
  ["task_forgetting", "task forgetting F"],
];

/** The fitted law's form RL's Razor uses: c1·KL + c2·KL² through the origin. */
const isRazorForm = (f: FitRow) => !f.form.includes("c0") && f.form.includes("^2");

/** Human form of a fit, e.g. "c1·KL + c2·KL²" → "0.52·KL − 0.10·KL²". */
function fitText(f: FitRow): string {
  const terms: string[] = [];
  if (f.form.includes("c0")) terms.push(f.c0.toPrecision(3));
  terms.push(`${f.c1.toPrecision(3)}·KL`);
  if (f.form.includes("^2")) terms.push(`${f.c2.toPrecision(3)}·KL²`);
  return terms.join(" + ").replace(/\+ -/g, "− ");
}

/**
 * Forgetting against KL: points (colored by variant) and the fitted curves of the given fit sets
 * (each in the RL's Razor form), with R² and n in the legend.
 */
async function lawChart(
  ctx: Context,
  id: string,
  opts: {
    title: string;
    subtitle: string;
    points: readonly { variant: string; kl: number; y: number }[];
    fits: readonly FitRow[];
    x: string;
    y: string;
  },
): Promise<Chart> {
  const points = opts.points.filter((p) => Number.isFinite(p.kl) && Number.isFinite(p.y));
  const xmax = Math.max(0, ...points.map((p) => p.kl)) * 1.03 || 1;
  const curves = opts.fits.filter(isRazorForm).flatMap((f) => {
    const label = `fit (${f.runs}): ${fitText(f)}, R² ${num(f.r2, 2)}, n ${f.n}`;
    return Array.from({ length: 61 }, (_, i) => {
      const x = (xmax * i) / 60;
      return { fit: label, kl: x, y: fin(f.c0 + f.c1 * x + f.c2 * x * x) };
    });
  });
  const variants = ctx.variants.filter((v) => points.some((p) => p.variant === v));
  const layer: Spec[] = [
    {
      data: { values: points.map((p) => ({ variant: p.variant, kl: p.kl, y: p.y })) },
      mark: { type: "point", filled: true, size: 50, opacity: 0.8 },
      encoding: {
        x: { field: "kl", type: "quantitative", title: opts.x, axis: { format: "~r" } },
        y: { field: "y", type: "quantitative", title: opts.y, axis: { format: "~r" } },
        color: { field: "variant", type: "nominal", scale: { domain: variants }, title: "variant" },
        shape: { field: "variant", type: "nominal", scale: { domain: variants }, title: "variant" },
      },
    },
  ];
  if (curves.length > 0) {
    layer.push({
      data: { values: curves },
      mark: { type: "line", color: "#333", strokeWidth: 1.5, clip: true },
      encoding: {
        x: { field: "kl", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        strokeDash: {
          field: "fit",
          type: "nominal",
          title: "forgetting law",
          legend: { orient: "bottom", direction: "vertical" },
        },
      },
    });
  }
  return await render(id, {
    title: { text: opts.title, subtitle: opts.subtitle },
    layer,
    resolve: { scale: { y: "shared" } },
    width: 440,
    height: 280,
  });
}

/** Every forgetting-vs-KL chart: run scope per target (and per task sequence), stage scope. */
async function lawCharts(ctx: Context): Promise<{ chart: Chart; fits: FitRow[] }[]> {
  const out: { chart: Chart; fits: FitRow[] }[] = [];
  const rows = ctx.input.leaderboard.filter((r) => !r.diverged);
  const sequences = [...new Set(rows.map((r) => r.tasks))];
  for (const [target, name] of TARGETS) {
    const finite = rows.filter((r) =>
      Number.isFinite(r[target as keyof LeaderboardRow] as number) && Number.isFinite(r.kl_forward)
    );
    if (finite.length === 0) continue;
    const fitsOf = (pred: (runs: string) => boolean) =>
      ctx.input.fits.filter((f) =>
        f.scope === "run" && f.predictor === "kl_forward" && f.target === target && pred(f.runs)
      );
    const all = fitsOf((r) => !r.includes("tasks "));
    out.push({
      fits: all,
      chart: await lawChart(ctx, `law-${slug(target)}`, {
        title: `${name} against KL(π0‖π)`,
        subtitle: `one point per run and checkpoint (leaderboard rows), ${finite.length} points`,
        points: finite.map((r) => ({
          variant: r.variant,
          kl: r.kl_forward,
          y: r[target as keyof LeaderboardRow] as number,
        })),
        fits: all,
        x: "KL(π0‖π) on the new tasks' inputs",
        y: name,
      }),
    });
    if (sequences.length < 2) continue;
    for (const seq of sequences) {
      const pts = finite.filter((r) => r.tasks === seq);
      if (pts.length === 0) continue;
      const fits = fitsOf((r) => r.endsWith(`tasks ${seq}`));
      out.push({
        fits,
        chart: await lawChart(ctx, `law-${slug(target)}-${slug(seq)}`, {
          title: `${name} against KL(π0‖π): runs training ${seq.split(">").join(" > ")}`,
          subtitle: `${pts.length} points`,
          points: pts.map((r) => ({
            variant: r.variant,
            kl: r.kl_forward,
            y: r[target as keyof LeaderboardRow] as number,
          })),
          fits,
          x: "KL(π0‖π) on the new task's inputs",
          y: name,
        }),
      });
    }
  }
  if (ctx.stageTasks.length > 1) {
    const divergedRuns = new Set(ctx.runs.filter((r) => r.diverged).map(runKey));
    const stages = ctx.input.stages.filter((s) => !divergedRuns.has(runKey(s)));
    for (
      const [target, name] of [["panel_drop", "panel drop (π0 − now)"], [
        "prior_forgetting",
        "forgetting so far",
      ]] as const
    ) {
      const pts = stages.filter((s) => Number.isFinite(s[target]) && Number.isFinite(s.kl_forward));
      if (pts.length === 0) continue;
      const fits = ctx.input.fits.filter((f) =>
        f.scope === "stage" && f.predictor === "kl_forward" && f.target === target
      );
      out.push({
        fits,
        chart: await lawChart(ctx, `law-stage-${slug(target)}`, {
          title: `${name} against KL(π0‖π), per stage checkpoint`,
          subtitle: `one point per run, stage and checkpoint (stages.csv), ${pts.length} points`,
          points: pts.map((s) => ({ variant: s.variant, kl: s.kl_forward, y: s[target] })),
          fits,
          x: "KL(π0‖π) on the stage's new tasks' inputs",
          y: name,
        }),
      });
    }
  }
  return out;
}

/** One interval panel: a point per variant at the mean, a rule over its 95% interval. */
function intervalPanel(
  rows: readonly { variant: string; mean: number; lo: number; hi: number }[],
  opts: { title: string; variants: readonly string[]; level?: number },
): Spec {
  const y = { field: "variant", type: "nominal", sort: opts.variants, title: null };
  const layer: Spec[] = [
    {
      data: {
        values: rows.filter((r) => Number.isFinite(r.lo) && Number.isFinite(r.hi))
          .map((r) => ({ variant: r.variant, lo: r.lo, hi: r.hi })),
      },
      mark: { type: "rule", strokeWidth: 2, color: "#888" },
      encoding: {
        y,
        x: { field: "lo", type: "quantitative", title: opts.title },
        x2: { field: "hi" },
      },
    },
    {
      data: {
        values: rows.filter((r) => Number.isFinite(r.mean))
          .map((r) => ({ variant: r.variant, mean: r.mean })),
      },
      mark: { type: "point", filled: true, size: 70 },
      encoding: {
        y,
        x: {
          field: "mean",
          type: "quantitative",
          title: opts.title,
          scale: { zero: false },
          axis: { format: "~r" },
        },
        color: {
          field: "variant",
          type: "nominal",
          scale: { domain: opts.variants },
          legend: null,
        },
      },
    },
  ];
  if (opts.level !== undefined && Number.isFinite(opts.level)) {
    layer.push({
      data: { values: [{ level: opts.level }] },
      mark: { type: "rule", strokeDash: [4, 3], color: "#c44" },
      encoding: { x: { field: "level", type: "quantitative" } },
    });
  }
  return { layer, width: 220, height: { step: 24 } };
}

/** Trainers at matched new-task accuracy (summary selection "matched"), one chart per order. */
async function matchedCharts(ctx: Context): Promise<Chart[]> {
  const matched = ctx.input.summary.filter((s) => s.selection === "matched");
  const orders = [...new Set(matched.map((s) => s.order))].sort((a, b) => a - b);
  const out: Chart[] = [];
  for (const order of orders) {
    const rows = matched.filter((s) => s.order === order);
    const variants = ctx.variants.filter((v) => rows.some((r) => r.variant === v));
    const of = (metric: string) =>
      rows.filter((r) => r.metric === metric).map((r) => ({
        variant: r.variant,
        mean: r.mean,
        lo: r.ci95_lo,
        hi: r.ci95_hi,
      }));
    const forgetting = of("panel_drop").some((r) => Number.isFinite(r.mean))
      ? ["panel_drop", "panel drop"]
      : ["task_forgetting", "task forgetting F"];
    const level = rows[0].level;
    const panels = [
      intervalPanel(of("new_task_acc"), { title: "new-task accuracy", variants, level }),
      intervalPanel(of(forgetting[0]), { title: forgetting[1], variants }),
      intervalPanel(of("kl_forward"), { title: "KL(π0‖π)", variants }),
    ].filter((p) => (p.layer as Spec[]).some((l) => ((l.data as Spec).values as unknown[]).length));
    if (panels.length === 0) continue;
    const configs = variants.map((v) => {
      const r = rows.find((x) => x.variant === v)!;
      return `${v} lr ${lrText(r.lr)} @${r.steps}`;
    });
    out.push(
      await render(orders.length > 1 ? `matched-${order}` : "matched", {
        title: {
          text: `At matched new-task accuracy${
            orders.length > 1 ? `: order ${order} (${orderLabel(ctx, order)})` : ""
          }`,
          subtitle: [
            `level ${
              num(level)
            } (dashed), each variant's configuration that forgets least there; ` +
            "mean and 95% t-interval over seeds",
            configs.join("; "),
          ],
        },
        hconcat: panels,
      }),
    );
  }
  return out;
}

/** Each panel task's accuracy after the last stage, per variant (best lr), against π0. */
async function panelChart(ctx: Context): Promise<Chart | null> {
  if (ctx.panelTasks.length === 0 || ctx.runs.length === 0) return null;
  const multi = ctx.orders.length > 1;
  const labels: string[] = [];
  const values: Record<string, unknown>[] = [];
  const bases: Record<string, unknown>[] = [];
  for (const task of ctx.panelTasks) {
    const base = ctx.base.find((e) => e.task === task && e.role === "panel");
    bases.push({ task, base: fin(base?.accuracy), text: `π0 ${num(base?.accuracy, 2)}` });
  }
  for (const variant of ctx.variants) {
    const runs = bestRuns(ctx, variant);
    const groups = new Map<string, RunRecord[]>();
    for (const r of runs) {
      const label = multi ? `${variant} · ${orderLabel(ctx, r.order!)}` : variant;
      groups.set(label, [...(groups.get(label) ?? []), r]);
    }
    for (const [label, rs] of groups) {
      labels.push(label);
      for (const task of ctx.panelTasks) {
        const xs = rs.flatMap((r) => {
          const finals = [...finalEvals(ctx, r)].filter(([s]) => s > 0);
          const last = finals[finals.length - 1]?.[1] ?? [];
          return last.filter((e) => e.task === task && e.role === "panel").map((e) => e.accuracy);
        }).filter(Number.isFinite);
        if (xs.length === 0) continue;
        const ci = meanCI(xs);
        values.push({ task, label, variant, mean: ci.mean, lo: fin(ci.lo), hi: fin(ci.hi) });
      }
    }
  }
  if (values.length === 0) return null;
  const panels = ctx.panelTasks.map((task) => {
    const y = {
      field: "label",
      type: "nominal",
      sort: labels,
      title: null,
    };
    return {
      title: { text: task, fontSize: 12 },
      layer: [
        {
          data: { values: values.filter((v) => v.task === task) },
          mark: { type: "bar", height: { band: 0.7 } },
          encoding: {
            y,
            x: {
              field: "mean",
              type: "quantitative",
              scale: { domain: [0, 1] },
              title: "accuracy",
            },
            color: {
              field: "variant",
              type: "nominal",
              scale: { domain: ctx.variants },
              legend: null,
            },
          },
        },
        {
          data: { values: values.filter((v) => v.task === task && v.lo !== null && v.hi !== null) },
          mark: { type: "rule", color: "#333" },
          encoding: { y, x: { field: "lo", type: "quantitative" }, x2: { field: "hi" } },
        },
        {
          data: { values: bases.filter((b) => b.task === task && b.base !== null) },
          layer: [
            {
              mark: { type: "rule", color: "#c44", strokeDash: [4, 3], strokeWidth: 1.5 },
              encoding: { x: { field: "base", type: "quantitative" } },
            },
            {
              mark: { type: "text", color: "#c44", align: "left", dx: 3, y: -6 },
              encoding: { x: { field: "base", type: "quantitative" }, text: { field: "text" } },
            },
          ],
        },
      ],
      width: 260,
      height: { step: 22 },
    };
  });
  return await render("panel", {
    title: {
      text: "Panel: accuracy after the last stage",
      subtitle: "per variant at its best lr, last checkpoint; bar: mean over seeds, line: 95% " +
        "t-interval; dashed: π0",
    },
    concat: panels,
    columns: Math.min(3, panels.length),
  });
}

const CURVE_METRICS = [
  ["loss", "loss"],
  ["reward", "reward"],
  ["kl", "KL(start‖π) on the batch"],
  ["kept", "kept instances"],
] as const;

/** Learning curves of one variant: per step, mean over seeds, one line per lr. */
async function curvesChart(ctx: Context, variant: string): Promise<Chart | null> {
  const runs = ctx.runs.filter((r) => r.variant === variant);
  // One line per lr (and task order, where runs train different sequences): x → steps over seeds.
  const multi = ctx.orders.length > 1;
  const series = new Map<string, { lr: number; order: number; at: Map<number, StepRecord[]> }>();
  const boundaries = new Set<number>();
  for (const run of runs) {
    const steps = (ctx.byRun.get(runKey(run)) ?? [])
      .filter((r): r is StepRecord => r.type === "step")
      .sort((a, b) => a.stage - b.stage || a.step - b.step);
    const key = multi ? `${lrText(run.lr)} · ${orderLabel(ctx, run.order!)}` : lrText(run.lr);
    const line = series.get(key) ?? { lr: run.lr!, order: run.order!, at: new Map() };
    steps.forEach((s, i) => {
      const list = line.at.get(i + 1);
      if (list) list.push(s);
      else line.at.set(i + 1, [s]);
      if (i > 0 && s.stage !== steps[i - 1].stage) boundaries.add(i + 0.5);
    });
    series.set(key, line);
  }
  if ([...series.values()].every((m) => m.at.size === 0)) return null;
  const lrs = [...series.keys()].sort((a, b) =>
    series.get(a)!.lr - series.get(b)!.lr || series.get(a)!.order - series.get(b)!.order
  );
  const panels = CURVE_METRICS.flatMap(([metric, title]) => {
    const values = lrs.flatMap((lr) =>
      [...series.get(lr)!.at].map(([x, ss]) => ({
        lr,
        step: x,
        value: fin(mean(ss.map((s) => s[metric]))),
      }))
    ).filter((v) => v.value !== null);
    if (values.length === 0) return [];
    const layer: Spec[] = [{
      data: { values },
      mark: { type: "line", strokeWidth: 1.5, interpolate: "linear" },
      encoding: {
        x: { field: "step", type: "quantitative", title: "optimiser step (all stages)" },
        y: {
          field: "value",
          type: "quantitative",
          title,
          scale: { zero: metric === "kept" },
          axis: { format: "~r" },
        },
        color: { field: "lr", type: "nominal", sort: lrs, title: multi ? "lr · tasks" : "lr" },
      },
    }];
    if (boundaries.size > 0) {
      layer.push({
        data: { values: [...boundaries].sort((a, b) => a - b).map((x) => ({ x })) },
        mark: { type: "rule", color: "#bbb", strokeDash: [2, 2] },
        encoding: { x: { field: "x", type: "quantitative" } },
      });
    }
    return [{ layer, width: 250, height: 150 }];
  });
  if (panels.length === 0) return null;
  const seeds = new Set(runs.map((r) => r.seed)).size;
  return await render(`curves-${slug(variant)}`, {
    title: {
      text: `${variant}: learning curves`,
      subtitle: `per optimiser step, mean over ${seeds} seed${seeds === 1 ? "" : "s"}${
        boundaries.size > 0 ? "; dotted: a new stage starts" : ""
      }`,
    },
    concat: panels,
    columns: Math.min(4, panels.length),
  });
}

// ---------------------------------------------------------------------------------------------
// The page

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0;
  background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 4rem; background: white; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2.5rem 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
p.lead { margin: 0 0 1rem; color: #444; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; font-size: .9rem;
  margin: .5rem 0 1rem; }
dl.meta dt { color: #666; }
dl.meta dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
nav.toc { background: #f4f6f8; border: 1px solid #e3e6ea; border-radius: 6px; padding: .6rem 1rem;
  font-size: .92rem; }
nav.toc ol { margin: .2rem 0; padding-left: 1.3rem; }
nav.toc ol ol { display: flex; flex-wrap: wrap; gap: 0 1rem; list-style: none; padding-left: .2rem;
  font-size: .88rem; }
figure.chart { margin: 1rem 0 1.5rem; overflow-x: auto; }
div.grid { display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
div.grid figure.chart { margin: .5rem 0; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: .88rem; color: #555; margin-top: .3rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid #e1e1e1; padding: .2rem .5rem; text-align: right; }
th { background: #f4f6f8; font-weight: 600; }
td.l, th.l { text-align: left; }
.note { color: #666; font-style: italic; }
.warn { color: #a33; }
details summary { cursor: pointer; color: #345; }
`;

function table(head: readonly string[], rows: readonly (readonly string[])[], left = 1): string {
  const cell = (tag: string, s: string, i: number) =>
    `<${tag}${i < left ? ' class="l"' : ""}>${s}</${tag}>`;
  return `<table><thead><tr>${head.map((h, i) => cell("th", esc(h), i)).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, i)).join("")}</tr>`).join("")}` +
    `</tbody></table>`;
}

function figure(chart: Chart, caption = ""): string {
  return `<figure class="chart" id="chart-${chart.id}" data-chart="${esc(chart.id)}">${chart.svg}` +
    (caption ? `<figcaption>${caption}</figcaption>` : "") + `</figure>`;
}

/** The header's provenance list, from the records' first line and the manifest when present. */
function provenance(input: ReportInput): string {
  const m = input.manifest ?? null;
  const recipe = input.header.recipe;
  const items: [string, string][] = [
    ["recipe", recipe.id],
    ["forgetbench", String(m?.forgetbench ?? input.header.forgetbench)],
  ];
  if (m) {
    const get = (path: string): unknown =>
      path.split(".").reduce<unknown>(
        (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
        m,
      );
    if (typeof m.recipe_file === "string") items.push(["recipe file", m.recipe_file]);
    if (typeof m.command === "string") items.push(["command", m.command]);
    const git = get("git") as { commit?: string | null; dirty?: boolean | null } | undefined;
    if (git && (git.commit !== undefined || git.dirty !== undefined)) {
      items.push([
        "git commit",
        `${git.commit ?? "unknown"}${
          git.dirty === true
            ? " (dirty: uncommitted changes)"
            : git.dirty === false
            ? " (clean)"
            : ""
        }`,
      ]);
    }
    const device = get("options.device"), engine = get("options.engine");
    if (device !== undefined) items.push(["device", String(device)]);
    if (engine !== undefined) items.push(["engine", String(engine)]);
    const rt = get("runtime") as Record<string, unknown> | undefined;
    if (rt && typeof rt === "object") {
      items.push([
        "runtime",
        Object.entries(rt).map(([k, v]) => `${k} ${v}`).join(", "),
      ]);
    }
    const pk = get("packages") as Record<string, unknown> | undefined;
    if (pk && typeof pk === "object") {
      items.push(["packages", Object.entries(pk).map(([k, v]) => `${k}@${v}`).join(", ")]);
    }
    const bm = get("base_model") as Record<string, unknown> | undefined;
    if (bm && typeof bm === "object") {
      items.push([
        "base model",
        `${bm.id ?? ""}${
          bm.hash ? ` (hash ${bm.hash}${bm.cached ? ", from the cache" : ""})` : ""
        }`,
      ]);
    }
    if (typeof m.started === "string") {
      items.push([
        "ran",
        `${m.started}${typeof m.finished === "string" ? ` → ${m.finished}` : ""}`,
      ]);
    }
  } else {
    items.push([
      "manifest.json",
      "not in the folder when this page was written (deno task report DIR adds its versions, " +
      "git state and device)",
    ]);
  }
  return `<dl class="meta">${
    items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")
  }</dl>`;
}

interface Section {
  readonly id: string;
  readonly title: string;
  readonly html: string;
  readonly sub?: readonly { id: string; title: string }[];
}

/** The best configuration's summary table (summary rows, selection "best"). */
function bestTable(ctx: Context): string {
  const best = ctx.input.summary.filter((s) => s.selection === "best");
  const keys = [...new Set(best.map((s) => JSON.stringify([s.variant, s.order])))];
  const metrics = [
    "new_task_acc",
    "avg_accuracy",
    "task_forgetting",
    "panel_drop",
    "kl_forward",
    "kl_reverse",
  ].filter((m) => best.some((s) => s.metric === m && Number.isFinite(s.mean)));
  const multi = ctx.orders.length > 1;
  keys.sort((a, b) => {
    const [va, oa] = JSON.parse(a), [vb, ob] = JSON.parse(b);
    return ctx.variants.indexOf(va) - ctx.variants.indexOf(vb) || oa - ob;
  });
  const rows = keys.map((k) => {
    const [variant, order] = JSON.parse(k) as [string, number];
    const of = best.filter((s) => s.variant === variant && s.order === order);
    const cell = (m: string) => {
      const s = of.find((x) => x.metric === m);
      if (!s || !Number.isFinite(s.mean)) return "–";
      return Number.isFinite(s.ci95_lo)
        ? `${num(s.mean)} <small>[${num(s.ci95_lo)}, ${num(s.ci95_hi)}]</small>`
        : num(s.mean);
    };
    return [
      esc(variant),
      ...(multi ? [esc(orderLabel(ctx, order))] : []),
      esc(lrText(of[0].lr)),
      num(of[0].steps, 0),
      ...metrics.map(cell),
      String(Math.max(0, ...of.map((s) => s.n))),
      String(of[0].diverged),
    ];
  });
  if (rows.length === 0) return "";
  return table(
    [
      "variant",
      ...(multi ? ["order"] : []),
      "lr",
      "steps",
      ...metrics,
      "seeds",
      "diverged runs",
    ],
    rows,
    multi ? 2 : 1,
  );
}

function fitTable(fits: readonly FitRow[]): string {
  if (fits.length === 0) return "";
  return table(
    ["scope", "runs", "predictor", "target", "form", "fit", "R²", "n"],
    fits.map((f) => [
      esc(f.scope),
      esc(f.runs),
      esc(f.predictor),
      esc(f.target),
      esc(f.form),
      esc(fitText(f)),
      num(f.r2),
      String(f.n),
    ]),
    5,
  );
}

/**
 * A model's attention heads as a layer × head heatmap: per head the share of its circuits
 * (skills × seeds × stages) that hold it.
 */
async function circuitChart(
  id: string,
  model: string,
  circuits: readonly CircuitRecord[],
): Promise<Chart> {
  const L = circuits[0].mask.length, NH = circuits[0].mask[0]?.length ?? 0;
  const values = Array.from({ length: L }, (_, l) =>
    Array.from({ length: NH }, (_, h) => {
      const v = mean(circuits.map((c) => c.mask[l]?.[h] ?? NaN));
      return { layer: `L${l}`, head: `H${h}`, value: fin(v), text: num(v, 2) };
    })).flat();
  const skills = [...new Set(circuits.map((c) => c.skill))];
  return await render(`circuits-${id}`, {
    title: {
      text: model,
      subtitle: `${circuits.length} circuit${circuits.length === 1 ? "" : "s"} (${
        skills.join(", ")
      })`,
    },
    data: { values },
    encoding: {
      x: { field: "head", type: "nominal", title: "head", axis: { orient: "top", labelAngle: 0 } },
      y: { field: "layer", type: "nominal", title: "layer" },
    },
    layer: heatLayers("oranges", "in circuit"),
    width: { step: 40 },
    height: { step: 26 },
  });
}

/** The circuit section: head heatmaps per model, retention per variant and skill, the fits. */
async function circuitSection(ctx: Context): Promise<Section | null> {
  const circuits = ctx.input.records.filter((r): r is CircuitRecord => r.type === "circuit");
  if (circuits.length === 0) return null;
  const finished = new Set(ctx.runs.filter((r) => !r.diverged).map(runKey));
  const models: [string, string, CircuitRecord[]][] = [
    ["base", "π0", circuits.filter((c) => c.variant === null)],
    ...ctx.variants.map((v): [string, string, CircuitRecord[]] => [
      slug(v),
      `${v} (after each stage)`,
      circuits.filter((c) => c.variant === v && finished.has(runKey(c))),
    ]),
  ];
  const charts: string[] = [];
  for (const [id, model, cs] of models) {
    if (cs.length > 0) charts.push(figure(await circuitChart(id, model, cs)));
  }
  const retention = (ctx.input.retention ?? []).filter((r) =>
    finished.has(runKey(r as never)) && Number.isFinite(r.retention as number)
  );
  const skills = [...new Set(retention.map((r) => r.skill as string))];
  const rows = ctx.variants.flatMap((v) =>
    skills.map((s) => {
      const rs = retention.filter((r) => r.variant === v && r.skill === s);
      return rs.length === 0 ? null : [
        esc(v),
        esc(s),
        num(mean(rs.map((r) => r.base_size as number)), 1),
        num(mean(rs.map((r) => r.size as number)), 2),
        num(mean(rs.map((r) => r.retention as number))),
        num(mean(rs.map((r) => r.faithfulness as number))),
        String(rs.length),
      ];
    }).filter((r): r is string[] => r !== null)
  );
  const fits = ctx.input.circuitFits ?? [];
  return {
    id: "circuits",
    title: "Attention-head circuits",
    html: `<p>Per skill, the attention heads that carry its answer, found by differentiable ` +
      `binary masking between clean and counterfactual prompts (docs/metrics.md "Circuits"), in ` +
      `π0 and in every run after each stage. Each heatmap: the share of a model's circuits ` +
      `(skills, seeds, stages) that hold each head.</p><div class="grid">${charts.join("")}</div>` +
      (rows.length
        ? `<h3>Retention of π0's circuits</h3><p>Share of π0's circuit heads a run's circuit ` +
          `of the same skill keeps (retention.csv), mean over seeds and stages.</p>` +
          table(
            ["variant", "skill", "π0 size", "size", "retention", "faithfulness", "n"],
            rows,
            2,
          )
        : `<p class="note">No finished run has circuits yet.</p>`) +
      (fits.length
        ? `<h3>Panel drop against retention and against KL(π0‖π)</h3><p>Least-squares lines ` +
          `over the same run × stage points (circuit_fit.csv).</p>` +
          table(
            ["skill", "predictor", "form", "c0", "c1", "R²", "n"],
            fits.map((f) => [
              esc(f.skill),
              esc(f.predictor),
              esc(f.form),
              num(f.c0),
              num(f.c1),
              num(f.r2),
              String(f.n),
            ]),
            3,
          )
        : ""),
  };
}

/** Builds report.html from a result folder's records and tables (pure, deterministic). */
export async function reportHtml(input: ReportInput): Promise<string> {
  const ctx = contextOf(input);
  const recipe = input.header.recipe;
  const sections: Section[] = [];
  const evalOnly = recipe.stages.length === 0 || ctx.runs.length === 0;
  const diverged = ctx.runs.filter((r) => r.diverged);
  const lbDiverged = input.leaderboard.filter((r) => r.diverged);

  // Overview: what ran, and the best configuration of every variant.
  const facts: [string, string][] = recipe.stages.length === 0
    ? [
      ["stages", "none (evaluation only)"],
      ["panel", ctx.panelTasks.length ? ctx.panelTasks.join(", ") : "none"],
    ]
    : [
      ["stages", recipe.stages.map((u) => u.task).join(" > ")],
      ["panel", ctx.panelTasks.length ? ctx.panelTasks.join(", ") : "none"],
      ["task orders", ctx.orders.map((o) => o.join(" > ")).join("; ") || "–"],
      ["variants", recipe.variants.map((v) => `${v.name} (${v.trainer})`).join(", ") || "none"],
      ["seeds", recipe.seeds.join(", ")],
      [
        "runs",
        `${ctx.runs.length} (${
          ctx.runs.length - diverged.length
        } finished, ${diverged.length} diverged)`,
      ],
    ];
  sections.push({
    id: "overview",
    title: "Overview",
    html: `<dl class="meta">${
      facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")
    }</dl>` +
      (evalOnly ? "" : `<h3>Best configuration per variant</h3>
<p>The learning rate and step budget with the highest mean new-task accuracy; mean over seeds with
its 95% t-interval (summary.csv, selection best). Higher panel drop and task forgetting mean more
forgetting.</p>${bestTable(ctx)}`),
  });

  if (evalOnly) {
    const chart = await baseChart(ctx);
    sections.push({
      id: "base",
      title: "π0's scores",
      html: (chart
        ? figure(chart, "Accuracy of the base model on every task it was evaluated on.")
        : `<p class="note">No evaluation in these records.</p>`) +
        table(
          ["task", "role", "accuracy", "n"],
          ctx.base.map((e) => [esc(e.task), esc(e.role), num(e.accuracy), String(e.n)]),
          2,
        ) +
        `<p class="note">${
          recipe.stages.length ? "No run has finished" : "This recipe trains nothing"
        }: no accuracy matrix, forgetting law, matched comparison or learning curves.</p>`,
    });
  } else {
    // Accuracy matrices.
    const matrices: string[] = [];
    const sub: { id: string; title: string }[] = [];
    for (const v of ctx.variants) {
      const chart = await matrixChart(ctx, v);
      const id = `matrix-${slug(v)}`;
      sub.push({ id: `chart-${id}`, title: v });
      matrices.push(
        chart
          ? figure(chart)
          : `<p class="note" id="chart-${id}">${esc(v)}: no finished run at a best ` +
            `configuration (every run diverged).</p>`,
      );
    }
    sections.push({
      id: "matrix",
      title: "Accuracy matrices",
      html: `<p>The accuracy matrix R[i][j] of docs/metrics.md: rows are π0 and the model after ` +
        `each stage (each at its last checkpoint), columns the stage tasks in recipe order, then ` +
        `the panel; mean over the seeds of the variant's best learning rate.</p>` +
        `<div class="grid">${matrices.join("")}</div>`,
      sub,
    });

    // Forgetting against KL.
    const laws = await lawCharts(ctx);
    sections.push({
      id: "law",
      title: "Forgetting against KL(π0‖π)",
      html: `<p>RL's Razor: forgetting ≈ c1·KL + c2·KL². Each chart shows every finished run's ` +
        `points and the law fitted by least squares through the origin (fit.csv); the table ` +
        `below each lists every fitted form. Diverged runs are left out.</p>` +
        (laws.length === 0
          ? `<p class="note">No forgetting measure is defined here (one stage and no panel), or no ` +
            `run finished with a finite KL.</p>`
          : laws.map(({ chart, fits }) =>
            figure(
              chart,
              fits.length
                ? `Fitted forms of this point set:${fitTable(fits)}`
                : "No fit: fewer than 3 points or too few distinct KL values.",
            )
          ).join("")),
    });

    // Matched comparison.
    const matched = await matchedCharts(ctx);
    sections.push({
      id: "matched",
      title: "Trainers at matched new-task accuracy",
      html:
        `<p>As RL's Razor compares methods: the matched level is the lowest best-configuration ` +
        `new-task accuracy of any variant; each variant is shown at its configuration that reaches ` +
        `it (within ${num(recipe.matchWithin, 2)}) and forgets least (summary.csv, selection ` +
        `matched). Points: mean over seeds; lines: 95% t-interval (none with one seed).</p>` +
        (matched.length
          ? matched.map((c) =>
            figure(c, "Left to right: new-task accuracy (dashed: the level), forgetting, KL.")
          ).join("")
          : `<p class="note">No finished run to compare.</p>`),
    });

    // Panel.
    if (ctx.panelTasks.length > 0) {
      const chart = await panelChart(ctx);
      sections.push({
        id: "panel",
        title: "Panel per benchmark",
        html: `<p>General abilities measured after every stage: each panel task's accuracy after ` +
          `the last stage, per variant at its best lr, against π0's (the drop is the forgetting).` +
          `</p>` +
          (chart
            ? figure(chart, "One chart per panel task.")
            : `<p class="note">No finished run.</p>`),
      });
    }

    // Learning curves.
    const curves: string[] = [];
    const csub: { id: string; title: string }[] = [];
    for (const v of ctx.variants) {
      const chart = await curvesChart(ctx, v);
      if (!chart) continue;
      csub.push({ id: `chart-${chart.id}`, title: v });
      curves.push(
        figure(chart),
      );
    }
    sections.push({
      id: "curves",
      title: "Learning curves",
      html: `<p>From the step records of every run: the training loss, the mean reward of the ` +
        `rollouts (RL trainers), the KL to the stage's start on the batch before the update, and ` +
        `the instances kept for the update (RIF-RFT filters; the others keep all); one line per ` +
        `learning rate, mean over seeds.</p>` +
        (curves.length ? curves.join("") : `<p class="note">No step records.</p>`),
      sub: csub,
    });
  }

  // Attention-head circuits (recipes with a circuits field).
  const circuits = await circuitSection(ctx);
  if (circuits) sections.push(circuits);

  // Diverged runs (leaderboard's diverged column; an evaluation has no runs).
  if (recipe.stages.length > 0) {
    sections.push({
      id: "diverged",
      title: "Diverged runs",
      html: diverged.length === 0
        ? `<p>No run diverged.</p>`
        : `<p class="warn">${diverged.length} of ${ctx.runs.length} runs diverged ` +
          `(${lbDiverged.length} leaderboard rows); they are counted, and left out of every mean, ` +
          `interval and fit.</p>` +
          table(
            ["variant", "diverged runs", "of"],
            ctx.variants.filter((v) => diverged.some((r) => r.variant === v)).map((v) => [
              esc(v),
              String(lbDiverged.filter((r) => r.variant === v).length),
              String(ctx.runs.filter((r) => r.variant === v).length),
            ]),
          ) +
          table(
            ["variant", "lr", "seed", "order", "stage:step", "reason"],
            diverged.map((r) => [
              esc(r.variant),
              esc(lrText(r.lr)),
              String(r.seed),
              String(r.order),
              `${r.diverged!.stage}:${r.diverged!.step}`,
              esc(r.diverged!.reason),
            ]),
            1,
          ),
    });
  }

  const toc = `<nav class="toc"><strong>Contents</strong><ol>${
    sections.map((s) =>
      `<li><a href="#${s.id}">${esc(s.title)}</a>${
        s.sub && s.sub.length > 1
          ? `<ol>${
            s.sub.map((x) => `<li><a href="#${x.id}">${esc(x.title)}</a></li>`).join("")
          }</ol>`
          : ""
      }</li>`
    ).join("")
  }</ol></nav>`;
  const body = sections.map((s) =>
    `<section id="${s.id}"><h2>${esc(s.title)}</h2>${s.html}</section>`
  )
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>forgetbench report: ${esc(recipe.id)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>forgetbench report: ${esc(recipe.id)}</h1>
<p class="lead">${esc(recipe.description)}</p>
${provenance(input)}
</header>
${toc}
${body}
<footer><p class="note">Written by forgetbench from records.jsonl${
    input.manifest ? " and manifest.json" : ""
  }; every number is defined in docs/metrics.md. Rebuild with <code>deno task report DIR</code>.</p></footer>
</main>
</body>
</html>
`;
}
