// The `eval` and `score` commands as pipelines: resolve everything a user can get wrong first
// (tasks, flags, code-execution consent, data files, model folder), then run, then write
// results.csv, samples.jsonl and manifest.json. Nothing is written unless every step succeeded.

import { join } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { sha256Hex } from "../lib/hash.ts";
import { UsageError } from "../lib/errors.ts";
import { probeSandbox, runPython, type SandboxLimits } from "../evals/sandbox.ts";
import {
  aggregate,
  type ResultRow,
  resultsCsv,
  sampleLine,
  type ScoredItem,
} from "../evals/results.ts";
import type { LanguageModel } from "../models/lm.ts";
import { getTextTask, isTextTask, TASK_LIST, type TextTask } from "../tasks/mod.ts";
import type { ScoreContext, TextRequest } from "../tasks/types.ts";
import { type DataFileUsed, loadTaskDocs, loadTestFile } from "./text_data.ts";
import { buildRequests, runModel, scoreAll, type TaskDocs } from "./text_eval.ts";
import { matchPredictions, parsePredictions } from "./predictions.ts";
import { provenance } from "./manifest.ts";

/** Reports progress on stderr unless quiet. */
export type Say = (line: string) => void;

/** Tasks by id; `all` means every text benchmark. Unknown ids are a usage error. */
export function resolveTasks(ids: readonly string[]): TextTask[] {
  const want = ids.includes("all") ? TASK_LIST.filter(isTextTask).map((t) => t.id) : ids;
  return [...new Set(want)].map(getTextTask);
}

/** The sandbox hook, only when the user consented and a task needs it. */
async function codeExecution(
  tasks: readonly TextTask[],
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

/** Writes the result files of one command into `out`, each atomically, manifest last. */
async function writeResults(
  out: string,
  parts: { rows: ResultRow[]; samples: string[]; manifest: Record<string, unknown> },
): Promise<string[]> {
  const files: Record<string, string> = {
    "results.csv": resultsCsv(parts.rows),
    "samples.jsonl": parts.samples.map((l) => l + "\n").join(""),
  };
  const sha: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    sha[name] = await sha256Hex(new TextEncoder().encode(text));
  }
  files["manifest.json"] = JSON.stringify({ ...parts.manifest, outputs_sha256: sha }, null, 2) +
    "\n";
  await Deno.mkdir(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeTextAtomic(join(out, name), text);
  return Object.keys(files).map((f) => join(out, f));
}

/** Options of `eval`. */
export interface EvalOptions {
  readonly tasks: readonly TextTask[];
  readonly out: string;
  readonly dataPath?: string;
  readonly cacheDir?: string;
  readonly offline: boolean;
  readonly limit?: number;
  readonly allowCodeExecution: boolean;
  readonly batchSize: number;
  readonly samples: number;
  readonly temperature: number;
  readonly seed: number;
  /** Caps every generation's token budget (the tasks' own budgets otherwise). */
  readonly maxNewTokens?: number;
  /** Scorings (sandboxed programs) in flight at once. */
  readonly jobs: number;
  readonly say: Say;
  /** Opens the model once data and flags are known to be good. */
  readonly openModel: () => Promise<LanguageModel>;
  /** The model's description for the manifest (source, device, options). */
  readonly modelInfo: Record<string, unknown>;
}

/** Result of `eval` or `score`. */
export interface TextRunResult {
  readonly rows: ResultRow[];
  readonly files: string[];
}

function capTokens(req: TextRequest, cap: number | undefined): TextRequest {
  return req.type === "generation" && cap !== undefined && req.maxTokens > cap
    ? { ...req, maxTokens: cap }
    : req;
}

/** `eval`: runs a model on tasks and writes results.csv, samples.jsonl, manifest.json. */
export async function runEval(opts: EvalOptions): Promise<TextRunResult> {
  const started = new Date();
  if (opts.samples > 1 && opts.temperature === 0) {
    throw new UsageError(
      "--samples above 1 needs --temperature above 0 (greedy samples are identical)",
    );
  }
  const ctx = await codeExecution(opts.tasks, { allow: opts.allowCodeExecution });
  const loaded: { task: TextTask; docs: TaskDocs }[] = [];
  const dataFiles: DataFileUsed[] = [];
  for (const task of opts.tasks) {
    opts.say(`loading ${task.id}`);
    const { docs, files } = await loadTaskDocs(task, {
      dataPath: opts.dataPath,
      cacheDir: opts.cacheDir,
      offline: opts.offline,
      limit: opts.limit,
    });
    loaded.push({ task, docs });
    dataFiles.push(...files);
  }
  opts.say(`opening model ${String(opts.modelInfo.source)}`);
  const model = await opts.openModel();
  try {
    for (const { task } of loaded) {
      if (task.needsImages && !model.vision) {
        throw new UsageError(
          `task ${task.id} passes images: model ${model.id} is text-only; give a vision-language model or leave ${task.id} out`,
        );
      }
    }
    const rows: ResultRow[] = [], samples: string[] = [];
    for (const { task, docs } of loaded) {
      const countTokens = model.countTokens?.bind(model);
      const requests = buildRequests(task, docs, { countTokens })
        .map((r) => capTokens(r, opts.maxNewTokens));
      const t0 = performance.now();
      const outputs = await runModel(model, requests, {
        batchSize: opts.batchSize,
        samples: opts.samples,
        temperature: opts.temperature,
        seed: opts.seed,
        onProgress: (done, total) => opts.say(`${task.id}: ${done}/${total} model requests`),
      });
      const items = await scoreAll(task, { docs: docs.test, requests, outputs }, {
        ctx,
        jobs: opts.jobs,
        onProgress: task.executesCode
          ? (done, total) => {
            if (done % 20 === 0 || done === total) opts.say(`${task.id}: scored ${done}/${total}`);
          }
          : undefined,
      });
      const taskRows = aggregate(task.id, task.metrics, items).filter((r) => r.n > 0);
      opts.say(
        `${task.id}: ${
          taskRows.map((r) => `${r.metric} ${r.value.toFixed(4)}`).join(", ")
        } (n = ${items.length}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
      rows.push(...taskRows);
      samples.push(...items.map((it) => sampleLine(task.id, it)));
    }
    const manifest = {
      command: "eval",
      model: opts.modelInfo,
      tasks: opts.tasks.map((t) => ({ id: t.id, version: t.version })),
      options: {
        limit: opts.limit ?? null,
        batch_size: opts.batchSize,
        samples: opts.samples,
        temperature: opts.temperature,
        seed: opts.seed,
        max_new_tokens: opts.maxNewTokens ?? null,
      },
      data_files: dataFiles,
      ...(await provenance()),
      started: started.toISOString(),
      finished: new Date().toISOString(),
    };
    return { rows, files: await writeResults(opts.out, { rows, samples, manifest }) };
  } finally {
    await model.dispose();
  }
}

/** Options of `score`. */
export interface ScoreOptions {
  readonly task: TextTask;
  readonly data: string;
  readonly predictions: string;
  readonly out: string;
  readonly allowCodeExecution: boolean;
  readonly jobs: number;
  readonly say: Say;
}

/** `score`: scores another tool's predictions on a data file; writes the same result files. */
export async function runScore(
  opts: ScoreOptions,
): Promise<TextRunResult & { items: ScoredItem[] }> {
  const started = new Date();
  const ctx = await codeExecution([opts.task], { allow: opts.allowCodeExecution });
  const { docs, files } = await loadTestFile(opts.task, opts.data);
  let text: string;
  try {
    text = await Deno.readTextFile(opts.predictions);
  } catch (e) {
    throw new UsageError(`${opts.predictions}: cannot read predictions (${(e as Error).message})`);
  }
  const outputs = matchPredictions(
    parsePredictions(text, opts.predictions, { task: opts.task.id }),
    {
      ids: docs.test.map((d) => d.id),
      file: opts.predictions,
      dataFile: opts.data,
      output: opts.task.output,
    },
  );
  opts.say(`scoring ${docs.test.length} items of ${opts.task.id}`);
  const requests = buildRequests(opts.task, docs);
  const items = await scoreAll(opts.task, { docs: docs.test, requests, outputs }, {
    ctx,
    jobs: opts.jobs,
    onProgress: (done, total) => {
      if (done % 20 === 0 || done === total) opts.say(`scored ${done}/${total}`);
    },
  });
  const rows = aggregate(opts.task.id, opts.task.metrics, items).filter((r) => r.n > 0);
  const manifest = {
    command: "score",
    task: { id: opts.task.id, version: opts.task.version },
    predictions: {
      path: opts.predictions,
      sha256: await sha256Hex(new TextEncoder().encode(text)),
    },
    data_files: files,
    ...(await provenance()),
    started: started.toISOString(),
    finished: new Date().toISOString(),
  };
  const samples = items.map((it) => sampleLine(opts.task.id, it));
  return { rows, items, files: await writeResults(opts.out, { rows, samples, manifest }) };
}
