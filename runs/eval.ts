// The `eval` and `score` commands: the evaluation part of the pipeline (runs/evaluate.ts) on a
// model opened directly, or on another tool's predictions. Everything a user can get wrong is
// resolved first (tasks, flags, code-execution consent, data files, model folder); then they run
// and write results.csv, samples.jsonl and manifest.json. Nothing is written unless every step
// succeeded.

import { join } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { sha256Hex } from "../lib/hash.ts";
import { UsageError, ValidationError } from "../lib/errors.ts";
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
import { firstDifference, openOutput, type Owner } from "./outdir.ts";
import { codeVersion } from "./resume.ts";
import { hashString } from "../lib/rng.ts";

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
  /** Continue a stopped eval of the same model, tasks and options in `out`. */
  readonly resume?: boolean;
  /** Items run, scored and saved at a time (default {@link EVAL_CHUNK}). */
  readonly chunk?: number;
  /** Replace `out` even when it holds another command's or model's results. */
  readonly overwrite?: boolean;
}

/**
 * Items an eval runs, scores and journals at a time: a killed eval loses at most one chunk.
 * Chunk c of a task samples with its own seed (the run's seed for c = 0), so outputs do not
 * depend on where a run stopped.
 */
export const EVAL_CHUNK = 64;

/** The eval journal of finished chunks, `out/.resume/eval.jsonl`. */
function journalPath(out: string): string {
  return join(out, ".resume", "eval.jsonl");
}

/** JSON with non-finite numbers kept (`{"$n":"NaN"}`), for exact round trips of scored items. */
function exactJson(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => typeof x === "number" && !Number.isFinite(x) ? { $n: String(x) } : x,
  );
}

function parseExact(text: string): unknown {
  return JSON.parse(
    text,
    (_k, x) =>
      x && typeof x === "object" && typeof x.$n === "string" && Object.keys(x).length === 1
        ? Number(x.$n)
        : x,
  );
}

/**
 * The chunks a stopped eval finished, by task and start item, when its journal's key (model,
 * tasks, options, data files, code) matches `key`; a different key is a one-line refusal.
 */
async function readJournal(
  out: string,
  key: unknown,
): Promise<Map<string, ScoredItem[]> | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(journalPath(out));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const lines = text.split("\n");
  // A line cut short by the kill is not a finished chunk: cut it off before appending more.
  const whole = lines.slice(0, -1);
  if (!text.endsWith("\n")) {
    const keep = new TextEncoder().encode(text.slice(0, text.lastIndexOf("\n") + 1)).length;
    await Deno.truncate(journalPath(out), keep);
  }
  const chunks = new Map<string, ScoredItem[]>();
  for (const [i, line] of whole.entries()) {
    const v = parseExact(line) as {
      key?: unknown;
      task?: string;
      start?: number;
      items?: ScoredItem[];
    };
    if (i === 0) {
      const diff = firstDifference(
        JSON.parse(JSON.stringify(v.key)),
        JSON.parse(JSON.stringify(key)),
      );
      if (diff) {
        throw new UsageError(
          `cannot resume ${out}: this eval differs from the one that stopped in ${diff}; rerun without --resume to start over`,
        );
      }
      continue;
    }
    chunks.set(`${v.task}:${v.start}`, v.items!);
  }
  return whole.length > 0 ? chunks : null;
}

/** Result of `eval` or `score`. */
export interface RunResult {
  readonly rows: ResultRow[];
  readonly files: string[];
}

/** `eval`: runs a model on tasks and writes results.csv, samples.jsonl, manifest.json. */
export async function runEval(opts: EvalOptions): Promise<RunResult> {
  const owner: Owner = {
    command: "eval",
    what: {
      model: opts.modelInfo,
      tasks: opts.tasks.map((t) => t.id),
      options: evalOptions(opts),
    },
  };
  const folder = await openOutput(opts.out, owner, {
    overwrite: opts.overwrite ?? false,
    resume: opts.resume ?? false,
    say: opts.say,
  });
  try {
    return await evalIn(opts, owner, folder.claim);
  } finally {
    await folder.close();
  }
}

/** The options that change an eval's results (in its manifest, and its identity). */
function evalOptions(opts: EvalOptions) {
  return {
    limit: opts.limit ?? null,
    batch_size: opts.run.batchSize ?? null,
    samples: opts.run.samples ?? 1,
    temperature: opts.run.temperature ?? 0,
    seed: opts.run.seed ?? 0,
    max_new_tokens: opts.maxNewTokens ?? null,
    chunk: opts.chunk ?? EVAL_CHUNK,
  };
}

async function evalIn(
  opts: EvalOptions,
  owner: Owner,
  claim: () => Promise<void>,
): Promise<RunResult> {
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
    // The journal: finished chunks of items, kept until the results are written.
    const key = {
      ...(owner.what as Record<string, unknown>),
      data: dataFiles.map((f) => ({ task: f.task, split: f.split, sha256: f.sha256 })),
      code: await codeVersion(),
    };
    const done = opts.resume ? await readJournal(opts.out, key) : null;
    if (opts.resume && !done) {
      opts.say(`nothing to resume in ${opts.out}: starting from the beginning`);
    }
    await claim();
    await Deno.mkdir(join(opts.out, ".resume"), { recursive: true });
    if (!done) await Deno.writeTextFile(journalPath(opts.out), exactJson({ key }) + "\n");
    const rows: ResultRow[] = [], samples: string[] = [];
    for (const { task, data } of loaded) {
      const set = evalSet(task, data, {
        items: opts.limit,
        countTokens: model.countTokens?.bind(model),
        maxNewTokens: opts.maxNewTokens,
      });
      const t0 = performance.now();
      const items: ScoredItem[] = [];
      const n = set.items.length;
      const chunk = opts.chunk ?? EVAL_CHUNK;
      let ranHere = 0;
      for (let start = 0; start < n; start += chunk) {
        const kept = done?.get(`${task.id}:${start}`);
        if (kept) {
          items.push(...kept);
          continue;
        }
        const end = Math.min(n, start + chunk);
        const part = {
          ...set,
          items: set.items.slice(start, end),
          requests: set.requests.slice(start, end),
        };
        const seed = opts.run.seed ?? 0;
        const got = await evaluate(model, part, {
          run: {
            ...opts.run,
            seed: start === 0 ? seed : (seed + hashString(`eval-chunk:${start}`)) >>> 0,
          },
          ctx,
          jobs: opts.jobs,
          onScored: task.executesCode
            ? (d) => {
              if ((start + d) % 20 === 0 || start + d === n) {
                opts.say(`${task.id}: scored ${start + d}/${n}`);
              }
            }
            : undefined,
        });
        await Deno.writeTextFile(
          journalPath(opts.out),
          exactJson({ task: task.id, start, items: got }) + "\n",
          { append: true },
        );
        items.push(...got);
        ranHere += end - start;
        const left = (n - end) * ((performance.now() - t0) / 1000 / ranHere);
        opts.say(`${task.id}: ${end}/${n} items${end < n ? ` · ETA ${Math.ceil(left)} s` : ""}`);
      }
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
        options: evalOptions(opts),
        dataFiles,
        started,
      },
    });
    await Deno.remove(join(opts.out, ".resume"), { recursive: true }).catch(() => {});
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
  /** Replace `out` even when it holds another command's results. */
  readonly overwrite?: boolean;
}

/** `score`: scores another tool's predictions on a task's data; writes the same result files. */
export async function runScore(opts: ScoreOptions): Promise<RunResult & { items: ScoredItem[] }> {
  const folder = await openOutput(opts.out, {
    command: "score",
    what: {
      task: opts.task.id,
      data: opts.data,
      predictions: opts.predictions,
      reference_answers: opts.referenceAnswers ?? false,
    },
  }, { overwrite: opts.overwrite ?? false, resume: false, say: opts.say });
  try {
    const res = await scoreIn(opts);
    await folder.claim();
    await writeResults(opts.out, res.parts);
    return { rows: res.rows, items: res.items, files: res.files };
  } finally {
    await folder.close();
  }
}

async function scoreIn(opts: ScoreOptions) {
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
  let at = (id: string) => `${opts.data} item '${id}'`;
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
    ({ outputs, ignored, at } = matchPredictions(
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
  }).catch((e) => {
    // A task's check of one output (e.g. a log-likelihood per choice): name the predictions line.
    const m = e instanceof ValidationError && e.message.match(/^item '(.*?)': ([^]*)$/);
    if (m) throw new ValidationError(at(m[1]), `id '${m[1]}': ${m[2]}`);
    throw e;
  });
  const rows = aggregate(opts.task.id, opts.task.metrics, items).filter((r) => r.n > 0);
  const samples = items.map((it) => sampleLine(opts.task.id, it));
  const parts = {
    rows,
    samples,
    manifest: {
      command: "score" as const,
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
  };
  const files = ["results.csv", "samples.jsonl", "manifest.json"].map((f) => join(opts.out, f));
  return { rows, items, files, parts };
}
