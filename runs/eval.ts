// The `eval` and `score` commands: the evaluation part of the pipeline (runs/evaluate.ts) on a
// model opened directly, or on another tool's predictions. Everything a user can get wrong is
// resolved first (tasks, flags, code-execution consent, data files, model folder); then they run
// and write results.csv, samples.jsonl and manifest.json. Nothing is written unless every step
// succeeded.

import { join } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { sha256Hex } from "../lib/hash.ts";
import { UsageError } from "../lib/errors.ts";
import {
  aggregate,
  type ResultRow,
  resultsCsv,
  sampleLine,
  type ScoredItem,
} from "../evals/results.ts";
import type { Output, Policy, RunOptions } from "../models/policy.ts";
import { type AnyTask, getTask, TASK_LIST } from "../tasks/mod.ts";
import type { DataFileUsed, DataOptions, Item, Loaded } from "../tasks/task.ts";
import { loadTestFile } from "../tasks/hub_data.ts";
import { codeExecution, evalSet, evaluate, scoreAll } from "./evaluate.ts";
import { buildManifest } from "./manifest.ts";
import { matchPredictions, parsePredictions, referenceOutput } from "./predictions.ts";

/** Reports progress on stderr unless quiet. */
export type Say = (line: string) => void;

/** Tasks by id; `all` means every task read from published files. Unknown ids are a usage error. */
export function resolveTasks(ids: readonly string[]): AnyTask[] {
  const want = ids.includes("all")
    ? TASK_LIST.filter((t) => t.source.splits !== undefined).map((t) => t.id)
    : ids;
  return [...new Set(want)].map((id) => {
    const task = getTask(id);
    if (task.requestKind === "classify") {
      throw new UsageError(
        `task '${id}' is a classifier task (classify requests); eval measures language models, so measure it in a bench recipe`,
      );
    }
    return task;
  });
}

/** Writes the result files of one command into `out`, each atomically, manifest last. */
async function writeResults(
  out: string,
  parts: {
    rows: ResultRow[];
    samples: string[];
    manifest: Omit<Parameters<typeof buildManifest>[0], "outputs">;
  },
): Promise<string[]> {
  const files: Record<string, string> = {
    "results.csv": resultsCsv(parts.rows),
    "samples.jsonl": parts.samples.map((l) => l + "\n").join(""),
  };
  const outputs: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    outputs[name] = await sha256Hex(new TextEncoder().encode(text));
  }
  const manifest = await buildManifest({ ...parts.manifest, outputs });
  files["manifest.json"] = JSON.stringify(manifest, null, 2) + "\n";
  await Deno.mkdir(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeTextAtomic(join(out, name), text);
  return Object.keys(files).map((f) => join(out, f));
}

/** Options of `eval`. */
export interface EvalOptions {
  readonly tasks: readonly AnyTask[];
  readonly out: string;
  readonly data: DataOptions;
  readonly limit?: number;
  readonly allowCodeExecution: boolean;
  readonly run: RunOptions;
  /** Caps every generation's token budget (the tasks' own budgets otherwise). */
  readonly maxNewTokens?: number;
  /** Scorings (sandboxed programs) in flight at once. */
  readonly jobs: number;
  readonly say: Say;
  /** Opens the model once data and flags are known to be good. */
  readonly openModel: () => Promise<Policy>;
  /** The model's description for the manifest (source, family, device, options). */
  readonly modelInfo: Record<string, unknown>;
}

/** Result of `eval` or `score`. */
export interface RunResult {
  readonly rows: ResultRow[];
  readonly files: string[];
}

/** `eval`: runs a model on tasks and writes results.csv, samples.jsonl, manifest.json. */
export async function runEval(opts: EvalOptions): Promise<RunResult> {
  const started = new Date();
  if ((opts.run.samples ?? 1) > 1 && !(opts.run.temperature! > 0)) {
    throw new UsageError(
      "--samples above 1 needs --temperature above 0 (greedy samples are identical)",
    );
  }
  const ctx = await codeExecution(opts.tasks, { allow: opts.allowCodeExecution });
  const loaded: { task: AnyTask; data: Loaded<Item> }[] = [];
  const dataFiles: DataFileUsed[] = [];
  for (const task of opts.tasks) {
    opts.say(`loading ${task.id}`);
    const data = await task.load({ seed: 0, data: opts.data });
    if (!data.splits.test?.length) {
      throw new UsageError(`task ${task.id}: its test split has no items`);
    }
    loaded.push({ task, data });
    dataFiles.push(...data.files);
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
      if (!model.kinds.includes(task.requestKind)) {
        throw new UsageError(
          `task ${task.id} asks ${task.requestKind} requests; model ${model.id} answers ${
            model.kinds.join(", ")
          }`,
        );
      }
    }
    const rows: ResultRow[] = [], samples: string[] = [];
    for (const { task, data } of loaded) {
      const set = evalSet(task, data, {
        items: opts.limit,
        countTokens: model.countTokens?.bind(model),
        maxNewTokens: opts.maxNewTokens,
      });
      const t0 = performance.now();
      const items = await evaluate(model, set, {
        run: {
          ...opts.run,
          onProgress: (done, total) => opts.say(`${task.id}: ${done}/${total} model requests`),
        },
        ctx,
        jobs: opts.jobs,
        onScored: task.executesCode
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
    const files = await writeResults(opts.out, {
      rows,
      samples,
      manifest: {
        command: "eval",
        what: {
          model: opts.modelInfo,
          tasks: opts.tasks.map((t) => ({ id: t.id, version: t.version })),
        },
        options: {
          limit: opts.limit ?? null,
          batch_size: opts.run.batchSize ?? null,
          samples: opts.run.samples ?? 1,
          temperature: opts.run.temperature ?? 0,
          seed: opts.run.seed ?? 0,
          max_new_tokens: opts.maxNewTokens ?? null,
        },
        dataFiles,
        started,
      },
    });
    return { rows, files };
  } finally {
    await model.dispose();
  }
}

/** Options of `score`. */
export interface ScoreOptions {
  readonly task: AnyTask;
  /** A data file (the test split) or a folder as `eval --data` takes it. */
  readonly data: string;
  /** A predictions file, or null with `referenceAnswers`. */
  readonly predictions: string | null;
  /** Score the dataset's own answers (a check of the data and the scorer). */
  readonly referenceAnswers?: boolean;
  readonly out: string;
  readonly allowCodeExecution: boolean;
  readonly jobs: number;
  readonly say: Say;
}

/** `score`: scores another tool's predictions on a task's data; writes the same result files. */
export async function runScore(opts: ScoreOptions): Promise<RunResult & { items: ScoredItem[] }> {
  const started = new Date();
  const ctx = await codeExecution([opts.task], { allow: opts.allowCodeExecution });
  const isDir = (await Deno.stat(opts.data).catch(() => null))?.isDirectory ?? false;
  const data = isDir
    ? await opts.task.load({
      seed: 0,
      splits: ["test"],
      data: { dataPath: opts.data, offline: true },
    })
    : await loadTestFile(opts.task, opts.data);
  if (!data.splits.test?.length) {
    throw new UsageError(`${opts.data}: no test items of ${opts.task.id}`);
  }
  const set = evalSet(opts.task, { ...data, splits: { test: data.splits.test } });
  let text = "", outputs: Output[], ignored = 0;
  if (opts.predictions === null) {
    if (!opts.referenceAnswers) throw new UsageError("score needs --predictions");
    outputs = set.items.map((item) => referenceOutput(opts.task, item));
  } else {
    try {
      text = await Deno.readTextFile(opts.predictions);
    } catch (e) {
      throw new UsageError(
        `${opts.predictions}: cannot read predictions (${(e as Error).message})`,
      );
    }
    ({ outputs, ignored } = matchPredictions(
      parsePredictions(text, opts.predictions, { task: opts.task.id }),
      {
        ids: set.items.map((d) => d.id),
        file: opts.predictions,
        dataFile: opts.data,
        kind: opts.task.requestKind,
        skippedRecords: data.skipped,
      },
    ));
  }
  if (ignored > 0) {
    opts.say(
      `${ignored} predictions name records ${opts.task.id} does not score (${data.skipped} skipped in ${opts.data}); left out`,
    );
  }
  opts.say(`scoring ${set.items.length} items of ${opts.task.id}`);
  const items = await scoreAll(set, outputs, {
    ctx,
    jobs: opts.jobs,
    onProgress: (done, total) => {
      if (done % 20 === 0 || done === total) opts.say(`scored ${done}/${total}`);
    },
  });
  const rows = aggregate(opts.task.id, opts.task.metrics, items).filter((r) => r.n > 0);
  const samples = items.map((it) => sampleLine(opts.task.id, it));
  const files = await writeResults(opts.out, {
    rows,
    samples,
    manifest: {
      command: "score",
      what: {
        task: { id: opts.task.id, version: opts.task.version },
        predictions: opts.predictions === null ? { reference_answers: true } : {
          path: opts.predictions,
          sha256: await sha256Hex(new TextEncoder().encode(text)),
          ignored,
        },
        skipped_records: data.skipped ?? 0,
      },
      options: {},
      dataFiles: data.files,
      started,
    },
  });
  return { rows, items, files };
}
