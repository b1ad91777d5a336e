// Recipes: one file per experiment, declared with defineRecipe({...}). A recipe names the model,
// the task pair, the base-model pretraining, the trainer variants and the grid (learning rates ×
// step budgets × seeds). Everything is validated before any work starts; every error names the
// recipe file and the field.

import { ValidationError } from "../lib/errors.ts";

/** One trainer variant: a registered trainer with options, named for the leaderboard. */
export interface TrainerVariant {
  /** Leaderboard name (`sft1`, `grpo_kl`); unique in the recipe. */
  readonly name: string;
  /** Registered trainer id (`sft`, `grpo`, …). */
  readonly trainer: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Learning rates for this variant (defaults to `finetune.lrs`). */
  readonly lrs?: readonly number[];
}

/** A ParityMNIST-style experiment: pretrain on new + prior task, fine-tune on the new task. */
export interface Recipe {
  readonly id: string;
  readonly description: string;
  /** The task fine-tuned on (its held-out accuracy is `new_task_acc`). */
  readonly newTask: string;
  /** The prior task whose held-out accuracy drop is the forgetting. */
  readonly priorTask: string;
  /** Seed of the data splits (the same for every run, so runs are compared on the same items). */
  readonly dataSeed: number;
  /** Per-class split sizes, overriding the tasks' defaults. */
  readonly splits?: {
    readonly new?: Readonly<Record<string, number>>;
    readonly prior?: Readonly<Record<string, number>>;
  };
  readonly model: { readonly hidden: readonly number[] };
  /** Base model π0: supervised pretraining on both tasks' `pretrain` splits. */
  readonly base: {
    readonly seed: number;
    readonly steps: number;
    readonly batch: number;
    readonly lr: number;
  };
  /** The grid: every variant × lr × seed trains to max(checkpoints), evaluated at each. */
  readonly finetune: {
    readonly batch: number;
    readonly checkpoints: readonly number[];
    readonly seeds: readonly number[];
    readonly lrs: readonly number[];
  };
  readonly trainers: readonly TrainerVariant[];
  /** Matched-accuracy window for summary.csv, in accuracy units (0.02 = 2 points). */
  readonly matchWithin: number;
  /**
   * Variants left out of a second forgetting-vs-KL fit, e.g. those whose loss penalises the
   * very KL being used as the predictor (sft_kl keeps KL on new-task inputs small by design).
   */
  readonly fitExcluding?: readonly string[];
}

/** Declares a recipe (validated when the runner resolves it). */
export function defineRecipe(r: Recipe): Recipe {
  return r;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function positive(
  v: unknown,
  where: string,
  opts?: { integer?: boolean; zeroOk?: boolean },
): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ValidationError(where, `must be a number, got ${JSON.stringify(v)}`);
  }
  if (opts?.integer && !Number.isInteger(v)) {
    throw new ValidationError(where, `must be an integer, got ${v}`);
  }
  if (v < 0 || (v === 0 && !opts?.zeroOk)) {
    throw new ValidationError(where, `must be ${opts?.zeroOk ? "≥ 0" : "> 0"}, got ${v}`);
  }
  return v;
}

function list(
  v: unknown,
  where: string,
  opts?: { integer?: boolean; zeroOk?: boolean; unique?: boolean },
): number[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new ValidationError(where, "must be a non-empty list of numbers");
  }
  const out = v.map((x, i) => positive(x, `${where}[${i}]`, opts));
  if (opts?.unique && new Set(out).size !== out.length) {
    throw new ValidationError(where, `has duplicates: ${JSON.stringify(out)}`);
  }
  return out;
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string" || v === "") {
    throw new ValidationError(where, "must be a non-empty string");
  }
  return v;
}

function fitExcluding(v: unknown, names: ReadonlySet<string>, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    throw new ValidationError(where, "must be a list of trainer variant names");
  }
  for (const n of v) {
    if (typeof n !== "string" || !names.has(n)) {
      throw new ValidationError(where, `'${n}' is not a trainer variant of this recipe`);
    }
  }
  return v as string[];
}

function splitSizes(v: unknown, where: string): Recipe["splits"] {
  if (v === undefined) return undefined;
  if (!isObj(v)) {
    throw new ValidationError(where, "must be an object {new?, prior?} of per-class sizes");
  }
  for (const [side, sizes] of Object.entries(v)) {
    if (side !== "new" && side !== "prior") {
      throw new ValidationError(`${where}.${side}`, "unknown key (use new or prior)");
    }
    if (!isObj(sizes)) {
      throw new ValidationError(`${where}.${side}`, "must map split names to per-class sizes");
    }
    for (const [name, n] of Object.entries(sizes)) {
      positive(n, `${where}.${side}.${name}`, { integer: true, zeroOk: true });
    }
  }
  return v as Recipe["splits"];
}

/** Validates a recipe value loaded from `file`; returns it typed, or throws naming the field. */
export function validateRecipe(raw: unknown, file: string): Recipe {
  const at = (f: string) => `${file}: ${f}`;
  if (!isObj(raw)) {
    throw new ValidationError(
      file,
      "must export `recipe`, an object made with defineRecipe({...})",
    );
  }
  const r = raw;
  for (const k of ["model", "base", "finetune"]) {
    if (!isObj(r[k])) throw new ValidationError(at(k), "must be an object");
  }
  const model = r.model as Record<string, unknown>, base = r.base as Record<string, unknown>;
  const ft = r.finetune as Record<string, unknown>;
  if (!Array.isArray(r.trainers) || r.trainers.length === 0) {
    throw new ValidationError(at("trainers"), "must be a non-empty list");
  }
  const names = new Set<string>();
  const trainers = r.trainers.map((t, i): TrainerVariant => {
    const w = `trainers[${i}]`;
    if (!isObj(t)) {
      throw new ValidationError(at(w), "must be an object {name, trainer, options?, lrs?}");
    }
    const name = str(t.name, at(`${w}.name`));
    if (names.has(name)) throw new ValidationError(at(`${w}.name`), `'${name}' is used twice`);
    names.add(name);
    if (t.options !== undefined && !isObj(t.options)) {
      throw new ValidationError(at(`${w}.options`), "must be an object");
    }
    return {
      name,
      trainer: str(t.trainer, at(`${w}.trainer`)),
      options: (t.options ?? {}) as Record<string, unknown>,
      lrs: t.lrs === undefined ? undefined : list(t.lrs, at(`${w}.lrs`), { unique: true }),
    };
  });
  const matchWithin = positive(r.matchWithin ?? 0.02, at("matchWithin"));
  if (matchWithin >= 1) {
    throw new ValidationError(
      at("matchWithin"),
      `must be below 1 (accuracy units), got ${matchWithin}`,
    );
  }
  return {
    id: str(r.id, at("id")),
    description: str(r.description, at("description")),
    newTask: str(r.newTask, at("newTask")),
    priorTask: str(r.priorTask, at("priorTask")),
    dataSeed: positive(r.dataSeed, at("dataSeed"), { integer: true, zeroOk: true }),
    splits: splitSizes(r.splits, at("splits")),
    model: { hidden: list(model.hidden, at("model.hidden"), { integer: true }) },
    base: {
      seed: positive(base.seed, at("base.seed"), { integer: true, zeroOk: true }),
      steps: positive(base.steps, at("base.steps"), { integer: true }),
      batch: positive(base.batch, at("base.batch"), { integer: true }),
      lr: positive(base.lr, at("base.lr")),
    },
    finetune: {
      batch: positive(ft.batch, at("finetune.batch"), { integer: true }),
      checkpoints: list(ft.checkpoints, at("finetune.checkpoints"), { integer: true, unique: true })
        .sort((a, b) => a - b),
      seeds: list(ft.seeds, at("finetune.seeds"), { integer: true, zeroOk: true, unique: true }),
      lrs: list(ft.lrs, at("finetune.lrs"), { unique: true }),
    },
    trainers,
    matchWithin,
    fitExcluding: fitExcluding(r.fitExcluding, names, at("fitExcluding")),
  };
}
