// Evaluation, the one path every command shares (bench after each stage, eval, score): build each
// test item's request (few-shot examples and the model's token counter included), run them through
// a policy in batches, and score every output the way the task's reference code does. `score`
// enters at the last step with outputs read from a predictions file.

import { UsageError } from "../lib/errors.ts";
import type { ScoredItem } from "../evals/results.ts";
import { probeSandbox, runPython, type SandboxLimits } from "../evals/sandbox.ts";
import type { Output, Policy, Request, RunOptions } from "../models/policy.ts";
import type { AnyTask } from "../tasks/mod.ts";
import type { Item, ItemScore, Loaded, ScoreContext } from "../tasks/task.ts";

/** A task's test items and their requests, ready to run. */
export interface EvalSet {
  readonly task: AnyTask;
  readonly items: readonly Item[];
  readonly requests: readonly Request[];
}

/**
 * The requests of a task's test split (its first `items` when given), with few-shot examples
 * from the other splits and, where the task asks, the model's token counter. `maxNewTokens`
 * caps every generation budget.
 */
export function evalSet(
  task: AnyTask,
  loaded: Loaded<Item>,
  opts: {
    items?: number | null;
    countTokens?: (text: string) => number;
    maxNewTokens?: number;
  } = {},
): EvalSet {
  const { test = [], ...pools } = loaded.splits;
  const items = opts.items == null ? test : test.slice(0, opts.items);
  const requests = items.map((item) => {
    const shots = task.fewshot?.(item, pools) ?? [];
    const r = task.request(item, { shots, countTokens: opts.countTokens });
    return r.kind === "generate" && opts.maxNewTokens !== undefined &&
        r.maxTokens > opts.maxNewTokens
      ? { ...r, maxTokens: opts.maxNewTokens }
      : r;
  });
  return { task, items, requests };
}

/**
 * Scores outputs with at most `jobs` scorings in flight (code execution runs in parallel child
 * processes; pure scorers finish at once). Results keep the items' order.
 */
export async function scoreAll(
  set: EvalSet,
  outputs: readonly Output[],
  opts: { ctx: ScoreContext; jobs: number; onProgress?: (done: number, total: number) => void },
): Promise<ScoredItem[]> {
  const { task, items, requests } = set;
  const n = items.length;
  const scores: ItemScore[] = new Array(n);
  let next = 0, done = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      scores[i] = await task.score(items[i], outputs[i], opts.ctx);
      opts.onProgress?.(++done, n);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, n)) }, worker));
  return items.map((item, i) => ({
    id: item.id,
    request: requests[i],
    target: task.target(item),
    output: outputs[i],
    score: scores[i],
  }));
}

/** Runs a task's requests through `policy` and scores every output. */
export async function evaluate(
  policy: Policy,
  set: EvalSet,
  opts: {
    run?: RunOptions;
    ctx?: ScoreContext;
    jobs?: number;
    onScored?: (done: number, total: number) => void;
  } = {},
): Promise<ScoredItem[]> {
  const outputs = await policy.run(set.requests, opts.run);
  return await scoreAll(set, outputs, {
    ctx: opts.ctx ?? {},
    jobs: opts.jobs ?? 1,
    onProgress: opts.onScored,
  });
}

/** The mean of one metric over scored items (an item without it counts 0): the task accuracy. */
export function meanMetric(items: readonly ScoredItem[], metric: string): number {
  if (items.length === 0) return NaN;
  return items.reduce((a, it) => a + (it.score.metrics[metric] ?? 0), 0) / items.length;
}

/**
 * The scoring context of `tasks`: the sandbox hook where one runs model-written code and the user
 * consented (a usage error otherwise, and a sandbox error when none works here); else empty.
 */
export async function codeExecution(
  tasks: readonly AnyTask[],
  opts: { allow: boolean; limits?: SandboxLimits },
): Promise<ScoreContext> {
  const needing = tasks.filter((t) => t.executesCode).map((t) => t.id);
  if (needing.length === 0) return {};
  if (!opts.allow) {
    throw new UsageError(
      `${
        needing.join(", ")
      } runs model-written code; add --allow-code-execution to run it in the sandbox (docs/sandbox.md says what it contains)`,
    );
  }
  await probeSandbox(); // no usable sandbox is an error before any model runs
  return { runPython: (program) => runPython(program, opts.limits) };
}
