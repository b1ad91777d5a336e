// Reads predictions made by any other tool, for `score`: JSONL lines `{"id", "output"}` where id
// is the dataset's own item id, human-eval's `{"task_id", "completion"}` sample format, or
// forgetbench's own samples.jsonl (`output`, or `loglikelihoods` per choice). Several lines with
// one id are several samples (pass@k). Every problem names the file and line.

import { UsageError, ValidationError } from "../lib/errors.ts";
import type { AnyTask } from "../tasks/mod.ts";
import type { Item, Output, RequestKind } from "../tasks/task.ts";

/** Outputs by item id, in the file's order. */
export type Predictions = ReadonlyMap<string, Output>;

/** The line each id first appears on, of every Predictions parsePredictions made. */
const LINES = new WeakMap<Predictions, ReadonlyMap<string, number>>();

function idOf(v: unknown): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function isNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");
}

/** One line's output, typed by what the line holds. */
function lineOutput(rec: Record<string, unknown>, where: string): Output {
  const out = "completion" in rec ? rec.completion : "output" in rec ? rec.output : undefined;
  if (out === undefined && isNumbers(rec.loglikelihoods)) {
    return { kind: "choices", logliks: rec.loglikelihoods };
  }
  if (typeof out === "string") return { kind: "generate", outputs: [out] };
  if (Array.isArray(out) && out.length > 0 && out.every((x) => typeof x === "string")) {
    return { kind: "generate", outputs: out };
  }
  if (isNumbers(out)) return { kind: "choices", logliks: out };
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
  const byId = new Map<string, Output>(), lineOf = new Map<string, number>();
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
    if (prev === undefined) {
      byId.set(id, out);
      lineOf.set(id, i + 1);
    } else if (prev.kind === "generate" && out.kind === "generate") {
      byId.set(id, { kind: "generate", outputs: [...prev.outputs, ...out.outputs] });
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
  LINES.set(byId, lineOf);
  return byId;
}

/** What the errors call each kind of output. */
const NEEDS: Readonly<Record<RequestKind, string>> = {
  choices: "per-choice log-likelihoods",
  generate: "a text output",
  classify: "a class label",
};
const GOT: Readonly<Record<RequestKind, string>> = {
  choices: "log-likelihoods",
  generate: "text",
  classify: "a label",
};

/**
 * Pairs predictions with the data's items: every prediction id must be an item of the data file
 * and every item needs a prediction of the task's request kind.
 */
export function matchPredictions(
  preds: Predictions,
  opts: {
    ids: readonly string[];
    file: string;
    dataFile: string;
    kind: RequestKind;
    /**
     * Records of the data file the task does not score (kinds it skips, documented per task):
     * with any, predictions for ids that are not items are left out and counted in `ignored`
     * (a prediction file made from every record of the file is accepted); without, each is an
     * error.
     */
    skippedRecords?: number;
  },
): { outputs: Output[]; ignored: number; at: (id: string) => string } {
  const known = new Set(opts.ids);
  // `file:line` of the line an id first appears on, where parsePredictions read it.
  const at = (id: string) => {
    const line = LINES.get(preds)?.get(id);
    return line === undefined ? opts.file : `${opts.file}:${line}`;
  };
  let ignored = 0;
  for (const id of preds.keys()) {
    if (known.has(id)) continue;
    if ((opts.skippedRecords ?? 0) > 0) {
      ignored++;
      continue;
    }
    throw new ValidationError(at(id), `id '${id}' is not an item of ${opts.dataFile}`);
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
  const outputs = opts.ids.map((id) => {
    const out = preds.get(id)!;
    if (out.kind !== opts.kind) {
      throw new ValidationError(
        at(id),
        `id '${id}': the task needs ${NEEDS[opts.kind]}, got ${GOT[out.kind]}`,
      );
    }
    return out;
  });
  return { outputs, ignored, at };
}

/**
 * The dataset's own answer to an item as a prediction (`score --reference-answers`): the first
 * SFT target of a task that trains (the published answer field, in the form the task's scorer
 * reads: GSM8K's "#### N" line, ORZ's \boxed answer, ToolAlpaca's Action lines, SciKnowEval's
 * answer), or for log-likelihood multiple choice the gold choice scored highest. Tasks scored by
 * rules without a reference answer (IFEval) have none: a usage error.
 */
export function referenceOutput(task: AnyTask, item: Item): Output {
  const sft = task.train?.labellings.sft1;
  if (sft) {
    const targets = sft(item);
    if (targets?.length) return { kind: "generate", outputs: [String(targets[0])] };
  }
  if (task.requestKind === "choices") return task.fixture.perfect(item);
  throw new UsageError(
    `--reference-answers: task '${task.id}' has no reference answers (it is scored by rules or programs); give --predictions`,
  );
}
