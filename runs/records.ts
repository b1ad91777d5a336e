// records.jsonl, the source of truth of a result folder, and samples.jsonl, its per-item
// outputs (per task, an `ids` line, then one line per checkpoint with every item's output and
// scores in that order). The pipeline appends records while it works and flushes them after every run; every
// CSV is a pure function of the records (runs/report.ts), so `report DIR` rebuilds them from
// the records alone. The first line holds the resolved recipe, so the file is self-contained.
//
// Line types (`type`): recipe; eval (one task at one stage checkpoint: accuracy, n, metrics);
// kl (KL(π0‖π), KL(π‖π0), KL(stage start‖π) at a stage checkpoint); step (one optimiser step);
// run (a run finished or diverged, with its task order); timing (seconds of one phase; the only lines that
// differ between two runs of the same recipe); circuit (one skill's attention-head circuit at
// the end of a stage, runs/circuits.ts). Stage 0 lines (π0's evaluation) have null run
// fields and stand for every run.

import { ValidationError } from "../lib/errors.ts";
import type { ResolvedRecipe } from "./recipe.ts";

/** The fields naming a run (null on π0's lines, which every run shares). */
export interface RunFields {
  readonly variant: string | null;
  readonly trainer: string | null;
  readonly lr: number | null;
  readonly seed: number | null;
  readonly order: number | null;
}

/** The first line. */
export interface RecipeRecord {
  readonly type: "recipe";
  readonly forgetbench: string;
  readonly recipe: ResolvedRecipe;
  /** The task orders the runs' `order` indexes. */
  readonly orders: readonly (readonly string[])[];
  /** Task versions and the sha256 of every data file read, by task and split. */
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** One task evaluated at one checkpoint of a stage (stage 0: π0). */
export interface EvalRecord extends RunFields {
  readonly type: "eval";
  readonly stage: number;
  readonly step: number;
  readonly task: string;
  readonly role: "stage" | "panel";
  /** Mean of the task's accuracy metric over `n` test items. */
  readonly accuracy: number;
  readonly n: number;
  /** Every metric's mean. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** KLs at one checkpoint of a stage, on the stage's new tasks' test inputs. */
export interface KlRecord extends RunFields {
  readonly type: "kl";
  readonly stage: number;
  readonly step: number;
  /** The stage's new tasks, `a+b`. */
  readonly tasks: string;
  readonly kl_forward: number;
  readonly kl_reverse: number;
  readonly kl_prev: number;
  /** Requests the KLs were averaged over. */
  readonly n: number;
}

/** One optimiser step. */
export interface StepRecord extends RunFields {
  readonly type: "step";
  readonly stage: number;
  readonly step: number;
  /** Learning rate of this step (after the schedule). */
  readonly lr_now: number;
  readonly loss: number;
  /** KL(π_ref‖π) on the batch's inputs before the update (π_ref: the stage's start). */
  readonly kl: number;
  readonly seen: number;
  readonly kept: number;
  readonly reward: number;
}

/** A run finished. */
export interface RunRecord extends RunFields {
  readonly type: "run";
  /** The run's task order, `a>b>c`. */
  readonly tasks: string;
  /** Whether its stages were one joint stage. */
  readonly joint: boolean;
  /**
   * Where the run stopped as diverged (a non-finite loss, reward, KL or weights, or a KL above the
   * recipe's kl.max), else null; absent in records of earlier versions.
   */
  readonly diverged?:
    | { readonly stage: number; readonly step: number; readonly reason: string }
    | null;
}

/** Seconds one phase took. */
export interface TimingRecord extends RunFields {
  readonly type: "timing";
  readonly phase: string;
  readonly stage: number | null;
  readonly seconds: number;
}

/**
 * One skill's attention-head circuit at the end of a stage (stage 0: π0), found by
 * differentiable binary masking against counterfactual prompts (runs/circuits.ts).
 */
export interface CircuitRecord extends RunFields {
  readonly type: "circuit";
  readonly stage: number;
  readonly step: number;
  readonly skill: string;
  /** Clean/counterfactual pairs measured. */
  readonly n: number;
  /** Heads in the circuit. */
  readonly size: number;
  /** circuit_p / full_p. */
  readonly faithfulness: number;
  /** Mean p(answer) of the full model, and of the circuit alone (the rest counterfactual). */
  readonly full_p: number;
  readonly circuit_p: number;
  /** Teacher-forced greedy exact match: full model, circuit alone, circuit ablated. */
  readonly acc_full: number;
  readonly acc_circuit: number;
  readonly acc_ablated_cf: number;
  readonly acc_ablated_mean: number;
  /** Discovery's last loss (NLL + λ·Σm). */
  readonly loss: number;
  /** [layer][head]: 1 = in the circuit. */
  readonly mask: readonly (readonly number[])[];
  /** The trained mask logits θ [layer][head]. */
  readonly theta: readonly (readonly number[])[];
  /** Per head: drop in mean p(answer) when that head alone takes its counterfactual value. */
  readonly necessity: readonly (readonly number[])[];
}

/** Any records.jsonl line. */
export type AnyRecord =
  | RecipeRecord
  | EvalRecord
  | KlRecord
  | StepRecord
  | RunRecord
  | TimingRecord
  | CircuitRecord;

/** π0's run fields. */
export const BASE_RUN: RunFields = {
  variant: null,
  trainer: null,
  lr: null,
  seed: null,
  order: null,
};

/** JSON with non-finite numbers as null (JSON has no NaN), keys in insertion order. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
  );
}

/** Appends records and samples to a result folder, a run at a time. */
export class RecordWriter {
  #records: string[] = [];
  #samples: string[] = [];
  private constructor(readonly dir: string) {}

  /** Starts a result folder's records.jsonl (with the recipe line) and samples.jsonl afresh. */
  static async create(dir: string, header: RecipeRecord): Promise<RecordWriter> {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/records.jsonl`, jsonLine(header) + "\n");
    await Deno.writeTextFile(`${dir}/samples.jsonl`, "");
    return new RecordWriter(dir);
  }

  /** Continues a result folder's files (cut back to their complete lengths by the caller). */
  static reopen(dir: string): RecordWriter {
    return new RecordWriter(dir);
  }

  /** Bytes of records.jsonl and samples.jsonl written so far (all flushed). */
  async sizes(): Promise<{ records: number; samples: number }> {
    const size = async (f: string) => (await Deno.stat(`${this.dir}/${f}`)).size;
    return { records: await size("records.jsonl"), samples: await size("samples.jsonl") };
  }

  add(record: Exclude<AnyRecord, RecipeRecord>): void {
    this.#records.push(jsonLine(record));
  }

  /** One per-item line of samples.jsonl. */
  sample(line: Record<string, unknown>): void {
    this.#samples.push(jsonLine(line));
  }

  /** Appends what was added since the last flush. */
  async flush(): Promise<void> {
    const put = async (file: string, lines: string[]) => {
      if (lines.length === 0) return;
      await Deno.writeTextFile(`${this.dir}/${file}`, lines.join("\n") + "\n", { append: true });
    };
    await put("records.jsonl", this.#records.splice(0));
    await put("samples.jsonl", this.#samples.splice(0));
  }
}

const NUMERIC = [
  "accuracy",
  "kl_forward",
  "kl_reverse",
  "kl_prev",
  "loss",
  "kl",
  "reward",
  "seconds",
  "faithfulness",
  "full_p",
  "circuit_p",
  "loss",
];

/**
 * Reads a result folder's records.jsonl; every problem is a one-line error naming the file and
 * line. Nulls of numeric fields read back as NaN.
 */
export async function readRecords(dir: string): Promise<{
  header: RecipeRecord;
  records: Exclude<AnyRecord, RecipeRecord>[];
}> {
  const path = `${dir}/records.jsonl`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ValidationError(path, `cannot read records (${(e as Error).message.split("\n")[0]})`);
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const parsed = lines.map((line, i) => {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new ValidationError(`${path}:${i + 1}`, `not JSON (${(e as Error).message})`);
    }
    if (typeof v !== "object" || v === null || typeof v.type !== "string") {
      throw new ValidationError(`${path}:${i + 1}`, "a record must be an object with a type");
    }
    for (const k of NUMERIC) if (v[k] === null) v[k] = NaN;
    return v as unknown as AnyRecord;
  });
  const [header, ...records] = parsed;
  if (header?.type !== "recipe") {
    throw new ValidationError(`${path}:1`, "the first record must be the recipe (type recipe)");
  }
  const bad = records.findIndex((r) =>
    !["eval", "kl", "step", "run", "timing", "circuit"].includes(r.type)
  );
  if (bad >= 0) {
    throw new ValidationError(`${path}:${bad + 2}`, `unknown record type '${records[bad].type}'`);
  }
  return { header, records: records as Exclude<AnyRecord, RecipeRecord>[] };
}
