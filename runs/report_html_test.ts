// report.html (runs/report_html.ts): built from a smoke run's records and from synthetic records
// (several stages, no panel, evaluation only, NaN values, diverged runs): well-formed HTML, every
// chart a non-empty SVG with marks, byte-identical on a second build, nothing fetched from outside.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../tests/cli.ts";
import { buildReport, writeReport } from "./report.ts";
import { normaliseIds, reportHtml, textWidth } from "./report_html.ts";
import {
  type AnyRecord,
  type EvalRecord,
  jsonLine,
  readRecords,
  type RecipeRecord,
  type RunFields,
} from "./records.ts";

type Body = Exclude<AnyRecord, RecipeRecord>;

const VOID = new Set(["meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"]);

/** Well-formedness: a doctype, every non-void tag closed in order, unique ids. */
function checkHtml(html: string, opts: { text?: string } = {}): void {
  ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'), "doctype and html");
  ok(html.trimEnd().endsWith("</html>"), "ends with </html>");
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const [, close, name, rest] = m;
    const tag = name.toLowerCase();
    if (close) {
      const open = stack.pop();
      equal(open, tag, `</${tag}> closes <${open}> at ${m.index}`);
    } else if (!rest.endsWith("/") && !VOID.has(tag)) {
      stack.push(tag);
    }
  }
  deepEqual(stack, [], "every tag closed");
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], "ids are unique");
  for (const m of html.matchAll(/(?:href="#|url\(#)([^")]+)/g)) {
    ok(ids.includes(m[1]), `reference to #${m[1]} resolves`);
  }
  ok(!/<script|<link|<iframe|<img|@import|@font-face/i.test(html), "no script, link or import");
  const external = html.replace(/\sxmlns(:\w+)?="[^"]*"/g, "").match(/https?:\/\/[^\s"')<]*/g);
  equal(external, null, "no http(s) reference besides xmlns");
  // No number shows as NaN (text the records hold, such as a divergence reason, may say it).
  const shown = opts.text ? html.replaceAll(opts.text, "") : html;
  ok(!/>[^<]*\bNaN\b[^<]*</.test(shown), "no NaN shown");
  ok(!/(?:="|\s)NaN\b/.test(shown), "no NaN in attributes");
}

/** The charts of a page: id → SVG. */
function charts(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (
    const m of html.matchAll(
      /<figure class="chart" id="[^"]+" data-chart="([^"]+)">(.*?)<\/figure>/gs,
    )
  ) {
    out.set(m[1], m[2]);
  }
  return out;
}

/** Marks drawn in an SVG's data-mark groups (not axes, legends or titles). */
function marks(svg: string): number {
  let n = 0;
  for (const m of svg.matchAll(/<g class="mark-\w+ role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)) {
    n += [...m[1].matchAll(/<(path|rect|line|text|circle)\b/g)].length;
  }
  return n;
}

function checkCharts(html: string, expected: readonly string[]): void {
  const found = charts(html);
  deepEqual([...found.keys()].sort(), [...expected].sort(), "the expected charts");
  for (const [id, svg] of found) {
    match(svg, /^<svg [^>]*width="\d+(\.\d+)?" height="\d+(\.\d+)?"/, `${id}: an svg with a size`);
    ok(!/width="0"|height="0"/.test(svg.slice(0, 200)), `${id}: a non-empty size`);
    ok(marks(svg) > 0, `${id}: has marks`);
  }
}

// A smoke bench, run once for the tests that read its records.
let smoke: Promise<string> | null = null;
function smokeDir(): Promise<string> {
  smoke ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "fb-report-html-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const res = await cli(["bench", "smoke", "--out", join(dir, "out"), "--quiet"], {
      env: { FORGETBENCH_CACHE: join(dir, "cache") },
    });
    equal(res.code, 0, res.stderr);
    return join(dir, "out");
  })();
  return smoke;
}

async function html(header: RecipeRecord, records: readonly Body[], manifest?: object) {
  const r = buildReport(header, records);
  return await reportHtml({
    header,
    records,
    leaderboard: r.leaderboard,
    summary: r.summary,
    fits: r.fits,
    stages: r.stages,
    manifest: manifest as Record<string, unknown> | undefined,
  });
}

const SMOKE_VARIANTS = ["sft1", "oracle_sft", "sft_kl", "grpo_kl", "reinforce10", "rif_rft"];

Deno.test("report.html of a smoke run: every chart, well-formed, deterministic, offline", async () => {
  const dir = await smokeDir();
  const page = await Deno.readTextFile(join(dir, "report.html"));
  checkHtml(page);
  checkCharts(page, [
    ...SMOKE_VARIANTS.map((v) => `matrix-${v.replace("_", "-")}`),
    ...SMOKE_VARIANTS.map((v) => `curves-${v.replace("_", "-")}`),
    "law-panel-drop",
    "matched",
    "panel",
  ]);
  match(page, /<h1>forgetbench report: smoke<\/h1>/);
  match(page, /seconds-long end-to-end check of the ParityMNIST pipeline/);
  for (const s of ["overview", "matrix", "law", "matched", "panel", "curves", "diverged"]) {
    match(page, new RegExp(`<a href="#${s}">`), `table of contents links ${s}`);
    match(page, new RegExp(`<section id="${s}">`));
  }
  match(page, /R² \d\.\d\d, n 24/, "the fitted law's R² and n");
  match(page, /No run diverged\./);

  // Deterministic: built again in this process (vega's id counters have moved on), and rebuilt
  // from the folder, byte for byte.
  const { header, records } = await readRecords(dir);
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  const again = await html(header, records, manifest);
  equal(again, await html(header, records, manifest), "two builds are equal");
  const res = await writeReport(dir);
  ok(res.paths.includes(join(dir, "report.html")), "report.html among the paths");
  const rebuilt = await Deno.readTextFile(join(dir, "report.html"));
  equal(rebuilt, again, "writeReport writes the same page");
  const m2 = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  match(m2.outputs_sha256["report.html"], /^[0-9a-f]{64}$/, "the manifest hashes report.html");
  // The header's provenance comes from the manifest.
  match(rebuilt, new RegExp(`${manifest.git.commit ?? "unknown"}`));
  if (manifest.options?.engine) {
    ok(rebuilt.includes(`<dt>engine</dt><dd>${manifest.options.engine}</dd>`), "engine");
  }
  match(rebuilt, /vega-lite@6\.5\.0/);
});

Deno.test("report.html: header without a manifest, or from the caller's provenance", async () => {
  const dir = await smokeDir();
  const { header, records } = await readRecords(dir);
  const bare = await html(header, records);
  checkHtml(bare);
  match(bare, /not in the folder when this page was written/);
  ok(!bare.includes("<dt>git commit</dt>"));
  const tmp = await Deno.makeTempDir({ prefix: "fb-report-html-" });
  try {
    await Deno.copyFile(join(dir, "records.jsonl"), join(tmp, "records.jsonl"));
    await writeReport(tmp, {
      manifest: { git: { commit: "abc123", dirty: true }, options: { device: "wasm" } },
    });
    const page = await Deno.readTextFile(join(tmp, "report.html"));
    match(page, /abc123 \(dirty: uncommitted changes\)/);
    match(page, /<dt>device<\/dt><dd>wasm<\/dd>/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Synthetic records: any number of stages, with or without a panel, NaN values, divergence.

/** A deterministic stream of numbers in [0, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Synthetic {
  stages: string[];
  panel: string[];
  variants?: { name: string; trainer: string }[];
  nan?: boolean;
  diverge?: "one" | "variant";
}

async function synthetic(o: Synthetic): Promise<{ header: RecipeRecord; records: Body[] }> {
  const { header: smokeHeader } = await readRecords(await smokeDir());
  const variants = o.variants ??
    [{ name: "sft", trainer: "sft" }, { name: "grpo", trainer: "grpo" }];
  const lrs = [1e-3, 3e-3], seeds = [1, 2, 3], checkpoints = [2, 4];
  const use = (task: string) => ({ task, items: null, metric: null });
  const header: RecipeRecord = {
    ...smokeHeader,
    recipe: {
      ...smokeHeader.recipe,
      id: "synthetic",
      description: 'synthetic records <with> markup & "quotes"',
      stages: o.stages.map(use),
      panel: o.panel.map(use),
      seeds,
      variants: variants.map((v) => ({
        ...smokeHeader.recipe.variants[0],
        name: v.name,
        trainer: v.trainer,
        lrs,
        steps: 4,
        checkpoints,
      })),
      fitExcluding: [],
    },
    orders: o.stages.length ? [o.stages] : [],
  };
  const rand = stream(7);
  const records: Body[] = [];
  const base: RunFields = { variant: null, trainer: null, lr: null, seed: null, order: null };
  const evalOf = (run: RunFields, stage: number, step: number, task: string, panel: boolean) =>
    ({
      type: "eval",
      ...run,
      stage,
      step,
      task,
      role: panel ? "panel" : "stage",
      accuracy: Math.round(rand() * 20) / 20,
      n: 20,
      metrics: {},
    }) as EvalRecord;
  for (const t of o.stages) records.push(evalOf(base, 0, 0, t, false));
  for (const t of o.panel) records.push(evalOf(base, 0, 0, t, true));
  if (o.stages.length === 0) return { header, records };
  let k = 0;
  for (const v of variants) {
    for (const lr of lrs) {
      for (const seed of seeds) {
        const run: RunFields = { variant: v.name, trainer: v.trainer, lr, seed, order: 0 };
        const diverges = (o.diverge === "one" && k === 1) ||
          (o.diverge === "variant" && v === variants[variants.length - 1]);
        k++;
        let stopped: { stage: number; step: number; reason: string } | null = null;
        for (let stage = 1; stage <= o.stages.length && !stopped; stage++) {
          for (let step = 1; step <= 4; step++) {
            const bad = diverges && stage === o.stages.length && step === 3;
            records.push({
              type: "step",
              ...run,
              stage,
              step,
              lr_now: lr,
              loss: bad ? NaN : 2 / (step + stage) + rand() * 0.1,
              kl: o.nan && step === 2 ? NaN : rand() * 0.2,
              seen: 8,
              kept: v.trainer === "grpo" ? 4 + Math.floor(rand() * 5) : 8,
              reward: v.trainer === "grpo" ? rand() : NaN,
            });
            if (bad) {
              stopped = { stage, step, reason: "loss is NaN" };
              break;
            }
            if (!checkpoints.includes(step)) continue;
            for (const t of o.stages) records.push(evalOf(run, stage, step, t, false));
            for (const t of o.panel) records.push(evalOf(run, stage, step, t, true));
            if (o.nan && seed === 2 && stage === 1) {
              const last = records[records.length - 1] as EvalRecord;
              records[records.length - 1] = { ...last, accuracy: NaN };
            }
            const kl = (0.05 + rand()) * stage * step * lr * 300;
            records.push({
              type: "kl",
              ...run,
              stage,
              step,
              tasks: o.stages[stage - 1],
              kl_forward: kl,
              kl_reverse: o.nan ? NaN : kl * 1.1,
              kl_prev: kl / stage,
              n: 20,
            });
          }
        }
        records.push({
          type: "run",
          ...run,
          tasks: o.stages.join(">"),
          joint: false,
          diverged: stopped,
        });
      }
    }
  }
  // As read back from records.jsonl (NaN written as null, read as NaN).
  const text = [header, ...records].map((r) => jsonLine(r)).join("\n") + "\n";
  const dir = await Deno.makeTempDir({ prefix: "fb-report-synth-" });
  try {
    await Deno.writeTextFile(join(dir, "records.jsonl"), text);
    return await readRecords(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("report.html: three stages and a panel (task forgetting, stage-scope law)", async () => {
  const { header, records } = await synthetic({ stages: ["a", "b", "c"], panel: ["p", "q"] });
  const page = await html(header, records);
  checkHtml(page);
  checkCharts(page, [
    "matrix-sft",
    "matrix-grpo",
    "law-panel-drop",
    "law-task-forgetting",
    "law-stage-panel-drop",
    "law-stage-prior-forgetting",
    "matched",
    "panel",
    "curves-sft",
    "curves-grpo",
  ]);
  // Rows of the matrix: π0 and after each stage, columns the tasks then the panel.
  const matrix = charts(page).get("matrix-sft")!;
  for (const label of ["π0", "after 1: a", "after 2: b", "after 3: c", "panel: p", "panel: q"]) {
    ok(matrix.includes(`>${label}</text>`), label);
  }
  match(page, /synthetic records &lt;with&gt; markup &amp; &quot;quotes&quot;/, "escaped");
  equal(page, await html(header, records), "deterministic");
});

Deno.test("report.html: one stage without a panel has no forgetting measure", async () => {
  const { header, records } = await synthetic({ stages: ["a"], panel: [] });
  const page = await html(header, records);
  checkHtml(page);
  checkCharts(page, ["matrix-sft", "matrix-grpo", "matched", "curves-sft", "curves-grpo"]);
  match(page, /No forgetting measure is defined here/);
  ok(!page.includes('<section id="panel">'), "no panel section");
});

Deno.test("report.html: an evaluation-only recipe shows π0's scores", async () => {
  const { header, records } = await synthetic({ stages: [], panel: ["p", "q", "r"] });
  const page = await html(header, records);
  checkHtml(page);
  checkCharts(page, ["base"]);
  match(page, /This recipe trains nothing/);
  for (const s of ["matrix", "law", "matched", "curves", "diverged"]) {
    ok(!page.includes(`<section id="${s}">`), `no ${s} section`);
  }
});

Deno.test("report.html: NaN values and diverged runs", async () => {
  const { header, records } = await synthetic({
    stages: ["a", "b"],
    panel: ["p"],
    nan: true,
    diverge: "one",
  });
  const page = await html(header, records);
  checkHtml(page, { text: "loss is NaN" });
  match(page, /1 of 12 runs diverged/);
  match(page, /<td>loss is NaN<\/td>/);
  ok(charts(page).has("matrix-sft") && charts(page).has("law-panel-drop"));

  // Every run of a variant diverged: no matrix for it, the others still drawn.
  const all = await synthetic({ stages: ["a", "b"], panel: ["p"], diverge: "variant" });
  const page2 = await html(all.header, all.records);
  checkHtml(page2, { text: "loss is NaN" });
  match(page2, /6 of 12 runs diverged/);
  ok(charts(page2).has("matrix-sft"));
  ok(!charts(page2).has("matrix-grpo"));
  match(page2, /grpo: no finished run at a best configuration/);
});

Deno.test("normaliseIds renames vega's ids and their references per chart", () => {
  const svg = '<svg><defs><clipPath id="clip7"><rect/></clipPath><linearGradient ' +
    'id="gradient_3"/></defs><g clip-path="url(#clip7)"/><rect fill="url(#gradient_3)"/>' +
    '<use href="#clip7"/><g clip-path="url(#clip71)"/></svg>';
  equal(
    normaliseIds(svg, "c"),
    '<svg><defs><clipPath id="c-1"><rect/></clipPath><linearGradient id="c-2"/></defs>' +
      '<g clip-path="url(#c-1)"/><rect fill="url(#c-2)"/><use href="#c-1"/>' +
      '<g clip-path="url(#clip71)"/></svg>',
  );
});

Deno.test("textWidth: DejaVu Sans advance widths", () => {
  equal(textWidth("0", 10), 6.36);
  equal(textWidth("mm", 10, true), 20.84);
  ok(textWidth("π0", 11) > textWidth("0", 11));
});
