// Per-item scores to the two result files of `eval` and `score`: results.csv (one row per task
// and metric: mean, its standard error, n) and samples.jsonl (one line per item, what the model
// was asked, what it answered and how that scored). Pure functions: writing is the caller's.

import { mean, sampleStd } from "./stats.ts";
import { toCsv } from "./csv.ts";
import type { ItemScore, Output, Request } from "../tasks/task.ts";

/** One results.csv row. */
export interface ResultRow {
  readonly task: string;
  readonly metric: string;
  readonly value: number;
  readonly stderr: number;
  readonly n: number;
}

/** results.csv's columns, in order. */
export const RESULT_COLUMNS = ["task", "metric", "value", "stderr", "n"] as const;

/** One scored item, as the harness carries it from model to files. */
export interface ScoredItem {
  readonly id: string;
  readonly request: Request;
  readonly target: string;
  readonly output: Output;
  readonly score: ItemScore;
}

/**
 * Mean of each metric over items with lm-evaluation-harness's `mean_stderr`
 * (sample standard deviation / √n; docs/metrics.md "Uncertainty": over items). n = 1 gives no stderr.
 */
export function aggregate(
  task: string,
  metrics: readonly string[],
  items: readonly ScoredItem[],
): ResultRow[] {
  return metrics.map((metric) => {
    const xs = items.map((it) => it.score.metrics[metric]).filter((v) => v !== undefined);
    return {
      task,
      metric,
      value: mean(xs),
      stderr: xs.length > 1 ? sampleStd(xs) / Math.sqrt(xs.length) : NaN,
      n: xs.length,
    };
  });
}

/** results.csv text. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  return toCsv(rows, RESULT_COLUMNS);
}

/**
 * The samples.jsonl line of one item (keys in a fixed order, so equal runs give equal bytes).
 * A classify request has no text to show (its input is a vector): the line holds no prompt, and
 * the output is the label. A choices request scored pairwise adds its per-choice `contexts`.
 */
export function sampleLine(task: string, item: ScoredItem): string {
  const { request: req, output: out } = item;
  const line: Record<string, unknown> = { task, id: item.id };
  if (req.kind === "choices") {
    line.prompt = req.context;
    if (req.contexts) line.contexts = req.contexts;
    line.choices = req.continuations;
  } else if (req.kind === "generate") {
    line.prompt = req.prompt;
  }
  line.target = item.target;
  if (out.kind === "choices") line.loglikelihoods = out.logliks;
  else if (out.kind === "generate") {
    line.output = out.outputs.length === 1 ? out.outputs[0] : out.outputs;
  } else line.output = out.label;
  if (item.score.extracted !== undefined) line.extracted = item.score.extracted;
  const names = Object.keys(item.score.metrics);
  line.score = item.score.metrics[names[0]];
  if (names.length > 1) line.metrics = item.score.metrics;
  return JSON.stringify(line);
}
