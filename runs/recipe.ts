// The one recipe shape (ARCHITECTURE.md): a model, optional base pretraining, the stages (a task
// sequence), the panel (tasks measured after every stage), task orders, seeds, trainer variants
// and KL settings. ParityMNIST is a one-stage recipe with FashionMNIST as its panel; the tiny-LM
// track a four-stage recipe with generated skills as its panel; a recipe with no stages only
// evaluates. validateRecipe checks every field before any work starts and fills in defaults;
// every error names the recipe file and the field. Registries (tasks, trainers, families) are
// checked later, in runs/resolve.ts.

import { ValidationError } from "../lib/errors.ts";
import type { Schedule } from "../trainers/types.ts";

/** A task measured as a stage task or on the panel: its id, or with options. */
export type TaskUse = string | {
  readonly task: string;
  /** Evaluate only the first N items of its test split (lm-eval's --limit). */
  readonly items?: number;
  /** The metric used as its accuracy (default: the task's first metric). */
  readonly metric?: string;
};

/** A base-pretraining task: its id, or with the labelling it is pretrained on. */
export type PretrainUse = string | { readonly task: string; readonly labelling?: string };

/** Base pretraining: SFT on the tasks' `pretrain` splits, cached by content hash. */
export interface Pretrain {
  readonly tasks: readonly PretrainUse[];
  /** Initialisation seed and batch-order seed. */
  readonly seed: number;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly schedule?: Schedule;
}

/** One trainer variant: a registered trainer with options and its grid. */
export interface Variant {
  /** Leaderboard name (`sft1`, `grpo_kl`), unique in the recipe; default the trainer id. */
  readonly name?: string;
  /** Registered trainer id (`sft`, `grpo`, …). */
  readonly trainer: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Learning rates (default `train.lrs`). */
  readonly lrs?: readonly number[];
  /** Instances per step (RL: prompts, each with G rollouts); default `train.batch`. */
  readonly batch?: number;
  /** Optimiser steps per stage (a joint multi-task stage runs steps × tasks); default `train.steps`. */
  readonly steps?: number;
  /** Steps within each stage after which to evaluate (default: the last step only). */
  readonly checkpoints?: readonly number[];
  readonly schedule?: Schedule;
  /**
   * Gradient accumulation: each step's batch in this many micro-batches, one optimiser update
   * (default `train.accumulate`, else 1): the step's rows (an RL step's batch × G rollouts) in
   * that many micro-batches, as even as possible; at most one per row.
   */
  readonly accumulate?: number;
  /** Train a LoRA adapter instead of every weight (llama family; models/lora.ts). */
  readonly lora?: Lora;
}

/** A variant's LoRA adapter, as PEFT's LoraConfig names it. */
export interface Lora {
  /** r. */
  readonly rank: number;
  /** lora_alpha: the adapter is scaled by alpha / rank. */
  readonly alpha: number;
  /** target_modules: Linear module names or suffixes (q_proj, ..., down_proj). */
  readonly targets: readonly string[];
  /** lora_dropout: 0 only. */
  readonly dropout?: number;
  /**
   * Writes each run's final model to `<out>/models/<variant>-lr<lr>-seed<seed>-order<k>/`: the
   * adapter merged into the weights (a Hugging Face checkpoint), or as a PEFT adapter folder.
   * Default: not saved.
   */
  readonly save?: "merged" | "adapter";
}

/** A variant's LoRA adapter with every option explicit. */
export interface ResolvedLora {
  readonly rank: number;
  readonly alpha: number;
  readonly targets: readonly string[];
  readonly dropout: 0;
  readonly save: "merged" | "adapter" | null;
}

/** A recipe as written in runs/recipes/<name>.ts or a user's file. */
export interface Recipe {
  readonly id: string;
  readonly description: string;
  /** The model: `{ family, ... }` (models/families.ts). */
  readonly model: Readonly<Record<string, unknown>>;
  /** Data seed (splits and generated items) and per-task split sizes. */
  readonly data?: {
    readonly seed?: number;
    readonly sizes?: Readonly<Record<string, Readonly<Record<string, number>>>>;
    /**
     * Read every published-file task from the project's fixture records (written in the
     * published formats under the cache, runs/fixtures.ts) instead of the hub: a recipe that runs
     * offline end to end (razor_llm_tiny). `--data` still overrides.
     */
    readonly fixtures?: boolean;
  };
  readonly pretrain?: Pretrain;
  /** The task sequence trained on, stage by stage (empty: evaluation only). */
  readonly stages: readonly TaskUse[];
  /** Tasks measured after every stage (general abilities). */
  readonly panel?: readonly TaskUse[];
  /**
   * Task orders: 1 = as listed (default), 2 adds the reverse, more add seeded shuffles; "each"
   * runs every stage task alone from π0, one task per run (RL's Razor's protocol).
   */
  readonly orders?: number | "each";
  readonly seeds: readonly number[];
  /**
   * Caps every generation budget (evaluation, training rollouts, KL samples) at this many new
   * tokens; default each task's own (lm-eval's max_gen_toks).
   */
  readonly maxNewTokens?: number;
  /** Defaults of every variant's grid. */
  readonly train?: {
    readonly lrs?: readonly number[];
    readonly batch?: number;
    readonly steps?: number;
    readonly checkpoints?: readonly number[];
    readonly schedule?: Schedule;
    readonly accumulate?: number;
  };
  readonly variants: readonly Variant[];
  /**
   * KL settings: test items of each new task, samples per item for sequence outputs, and `max`,
   * a bound on KL(π0‖π) at a checkpoint and on a step's KL to the stage's start above which a
   * run counts as diverged (docs/metrics.md "Divergence"; default: no bound).
   */
  readonly kl?: { readonly items?: number; readonly samples?: number; readonly max?: number };
  /** Requests per forward pass when evaluating. */
  readonly evalBatch?: number;
  /** Matched-accuracy window of summary.csv, in accuracy units (0.02 = 2 points). */
  readonly matchWithin?: number;
  /** Variants left out of a second set of forgetting-vs-KL fits (e.g. those penalising KL). */
  readonly fitExcluding?: readonly string[];
  /**
   * Attention-head circuits (llama models; runs/circuits.ts): for each skill (a task with
   * counterfactuals), on π0 and at the end of every stage, discovery on its first `items` test
   * items that have a counterfactual (fewer where its test split holds fewer), `steps` Adam steps of the mask logits, L1 weight `lambda`;
   * `seed` (default 0) draws the counterfactuals and the logits' jitter.
   */
  readonly circuits?: Circuits;
}

/** A recipe's circuit analysis (see Recipe.circuits). */
export interface Circuits {
  readonly skills: readonly string[];
  readonly items: number;
  readonly steps: number;
  readonly lambda: number;
  readonly seed?: number;
}

/** The circuit analysis with every option explicit. */
export interface ResolvedCircuits {
  readonly skills: readonly string[];
  readonly items: number;
  readonly steps: number;
  readonly lambda: number;
  readonly seed: number;
}

/** A task use with every option explicit. */
export interface ResolvedUse {
  readonly task: string;
  readonly items: number | null;
  readonly metric: string | null;
}

/** A variant with every option explicit. */
export interface ResolvedVariant {
  readonly name: string;
  readonly trainer: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly lrs: readonly number[];
  readonly batch: number;
  readonly steps: number;
  readonly checkpoints: readonly number[];
  readonly schedule: Schedule | null;
  readonly accumulate: number;
  readonly lora: ResolvedLora | null;
}

/** A validated recipe with defaults filled in: what records.jsonl and the manifest hold. */
export interface ResolvedRecipe {
  readonly id: string;
  readonly description: string;
  readonly model: Readonly<Record<string, unknown>>;
  readonly data: {
    readonly seed: number;
    readonly sizes: Readonly<Record<string, Readonly<Record<string, number>>>>;
    readonly fixtures: boolean;
  };
  readonly pretrain:
    | (Omit<Pretrain, "tasks" | "schedule"> & {
      readonly tasks: readonly { task: string; labelling: string }[];
      readonly schedule: Schedule | null;
    })
    | null;
  readonly stages: readonly ResolvedUse[];
  readonly panel: readonly ResolvedUse[];
  readonly orders: number | "each";
  readonly seeds: readonly number[];
  readonly maxNewTokens: number | null;
  readonly variants: readonly ResolvedVariant[];
  readonly kl: {
    readonly items: number | null;
    readonly samples: number;
    readonly max: number | null;
  };
  readonly evalBatch: number | null;
  readonly matchWithin: number;
  readonly fitExcluding: readonly string[];
  /** Absent when the recipe has no circuit analysis. */
  readonly circuits?: ResolvedCircuits;
}

/** Declares a recipe (validated when it is run). */
export function defineRecipe(r: Recipe): Recipe {
  return r;
}

type Raw = Record<string, unknown>;

/** The splits a recipe can size: scored, trained on, and pretrained on (runs/resolve.ts). */
const SPLITS: readonly string[] = ["test", "train", "pretrain"];

function isObj(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Field checkers bound to one file: every error reads `FILE: field: problem`. */
function checkers(file: string) {
  const fail = (field: string, problem: string): never => {
    throw new ValidationError(`${file}: ${field}`, problem);
  };
  const num = (v: unknown, f: string, o: { integer?: boolean; zeroOk?: boolean } = {}) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      return fail(f, `must be a number, got ${JSON.stringify(v)}`);
    }
    if (o.integer && !Number.isInteger(v)) fail(f, `must be an integer, got ${v}`);
    if (v < 0 || (v === 0 && !o.zeroOk)) fail(f, `must be ${o.zeroOk ? "≥ 0" : "> 0"}, got ${v}`);
    return v;
  };
  const list = (v: unknown, f: string, o: { integer?: boolean; zeroOk?: boolean } = {}) => {
    if (!Array.isArray(v) || v.length === 0) return fail(f, "must be a non-empty list of numbers");
    const out = v.map((x, i) => num(x, `${f}[${i}]`, o));
    if (new Set(out).size !== out.length) fail(f, `has duplicates: ${JSON.stringify(out)}`);
    return out;
  };
  const str = (v: unknown, f: string) =>
    typeof v === "string" && v !== "" ? v : fail(f, "must be a non-empty string");
  const obj = (v: unknown, f: string, known: readonly string[]): Raw => {
    if (!isObj(v)) return fail(f, "must be an object");
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) {
        fail(`${f ? `${f}.` : ""}${k}`, `unknown field (known: ${known.join(", ")})`);
      }
    }
    return v;
  };
  const schedule = (v: unknown, f: string): Schedule | null => {
    if (v === undefined || v === null) return null;
    const s = obj(v, f, ["warmup", "decay", "floor"]);
    const warmup = num(s.warmup ?? 0, `${f}.warmup`, { zeroOk: true });
    if (warmup >= 1) fail(`${f}.warmup`, `is a fraction of the steps, below 1; got ${warmup}`);
    const decay = s.decay ?? "constant";
    if (decay !== "constant" && decay !== "cosine") {
      fail(`${f}.decay`, `must be "constant" or "cosine", got ${JSON.stringify(decay)}`);
    }
    const floor = s.floor === undefined ? undefined : num(s.floor, `${f}.floor`, { zeroOk: true });
    if (floor !== undefined && floor > 1) fail(`${f}.floor`, `must be ≤ 1, got ${floor}`);
    return { warmup, decay: decay as Schedule["decay"], ...(floor === undefined ? {} : { floor }) };
  };
  const lora = (v: unknown, f: string): ResolvedLora | null => {
    if (v === undefined || v === null) return null;
    const o = obj(v, f, ["rank", "alpha", "targets", "dropout", "save"]);
    const rank = num(o.rank, `${f}.rank`, { integer: true });
    const alpha = num(o.alpha, `${f}.alpha`);
    if (!Array.isArray(o.targets) || o.targets.length === 0) {
      fail(`${f}.targets`, 'must be a non-empty list of module names, e.g. ["q_proj", "v_proj"]');
    }
    const targets = (o.targets as unknown[]).map((t, i) => str(t, `${f}.targets[${i}]`));
    const dup = targets.find((t, i) => targets.indexOf(t) !== i);
    if (dup) fail(`${f}.targets`, `'${dup}' appears twice`);
    if ((o.dropout ?? 0) !== 0) {
      fail(
        `${f}.dropout`,
        `must be 0 (forgetbench implements LoRA without dropout), got ${JSON.stringify(o.dropout)}`,
      );
    }
    if (o.save !== undefined && o.save !== "merged" && o.save !== "adapter") {
      fail(`${f}.save`, `must be "merged" or "adapter", got ${JSON.stringify(o.save)}`);
    }
    return { rank, alpha, targets, dropout: 0, save: (o.save ?? null) as ResolvedLora["save"] };
  };
  return { fail, num, list, str, obj, schedule, lora };
}

/** Validates a recipe value loaded from `file`; returns it resolved, or throws naming the field. */
export function validateRecipe(raw: unknown, file: string): ResolvedRecipe {
  const c = checkers(file);
  if (!isObj(raw)) {
    throw new ValidationError(
      file,
      "must export `recipe`, an object made with defineRecipe({...})",
    );
  }
  const r = c.obj(raw, "", [
    "id",
    "description",
    "model",
    "data",
    "pretrain",
    "stages",
    "panel",
    "orders",
    "seeds",
    "maxNewTokens",
    "train",
    "variants",
    "kl",
    "evalBatch",
    "matchWithin",
    "fitExcluding",
    "circuits",
  ]);
  const id = c.str(r.id, "id");
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(id)) {
    c.fail("id", `'${id}' must be lower-case letters, digits, _ . -`);
  }
  if (!isObj(r.model)) c.fail("model", "must be an object { family, ... }");

  const data = r.data === undefined ? {} : c.obj(r.data, "data", ["seed", "sizes", "fixtures"]);
  if (data.fixtures !== undefined && typeof data.fixtures !== "boolean") {
    c.fail("data.fixtures", `must be true or false, got ${JSON.stringify(data.fixtures)}`);
  }
  const sizes: Record<string, Record<string, number>> = {};
  const keysOf = (v: unknown) => (isObj(v) ? Object.keys(v) : []);
  if (data.sizes !== undefined) {
    const s = c.obj(data.sizes, "data.sizes", keysOf(data.sizes));
    for (const [task, split] of Object.entries(s)) {
      const o = c.obj(split, `data.sizes.${task}`, keysOf(split));
      const unknown = Object.keys(o).find((k) => !SPLITS.includes(k));
      if (unknown !== undefined) {
        c.fail(`data.sizes.${task}.${unknown}`, `unknown split (known: ${SPLITS.join(", ")})`);
      }
      sizes[task] = Object.fromEntries(
        Object.entries(o).map((
          [k, v],
        ) => [k, c.num(v, `data.sizes.${task}.${k}`, { integer: true, zeroOk: true })]),
      );
    }
  }

  const use = (v: unknown, f: string): ResolvedUse => {
    if (typeof v === "string") return { task: c.str(v, f), items: null, metric: null };
    const o = c.obj(v, f, ["task", "items", "metric"]);
    return {
      task: c.str(o.task, `${f}.task`),
      items: o.items === undefined ? null : c.num(o.items, `${f}.items`, { integer: true }),
      metric: o.metric === undefined ? null : c.str(o.metric, `${f}.metric`),
    };
  };
  const uses = (v: unknown, f: string, allowEmpty: boolean) => {
    if (v === undefined && allowEmpty) return [];
    if (!Array.isArray(v)) {
      return c.fail(f, "must be a list of task ids or { task, items?, metric? }");
    }
    const out = v.map((x, i) => use(x, `${f}[${i}]`));
    const ids = out.map((u) => u.task);
    const dup = ids.find((t, i) => ids.indexOf(t) !== i);
    if (dup) c.fail(f, `task '${dup}' appears twice`);
    return out;
  };
  const stages = uses(r.stages, "stages", false);
  const panel = uses(r.panel, "panel", true);
  for (const u of panel) {
    if (stages.some((s) => s.task === u.task)) {
      c.fail("panel", `task '${u.task}' is also a stage task; a panel measures other tasks`);
    }
  }
  if (stages.length === 0 && panel.length === 0) {
    c.fail("stages", "a recipe needs stage or panel tasks");
  }

  let pretrain: ResolvedRecipe["pretrain"] = null;
  if (r.pretrain !== undefined) {
    const p = c.obj(r.pretrain, "pretrain", ["tasks", "seed", "steps", "batch", "lr", "schedule"]);
    if (!Array.isArray(p.tasks) || p.tasks.length === 0) {
      c.fail("pretrain.tasks", "must be a non-empty list of task ids or { task, labelling? }");
    }
    pretrain = {
      tasks: (p.tasks as unknown[]).map((t, i) => {
        const f = `pretrain.tasks[${i}]`;
        if (typeof t === "string") return { task: c.str(t, f), labelling: "sft1" };
        const o = c.obj(t, f, ["task", "labelling"]);
        return {
          task: c.str(o.task, `${f}.task`),
          labelling: o.labelling === undefined ? "sft1" : c.str(o.labelling, `${f}.labelling`),
        };
      }),
      seed: c.num(p.seed, "pretrain.seed", { integer: true, zeroOk: true }),
      steps: c.num(p.steps, "pretrain.steps", { integer: true }),
      batch: c.num(p.batch, "pretrain.batch", { integer: true }),
      lr: c.num(p.lr, "pretrain.lr"),
      schedule: c.schedule(p.schedule, "pretrain.schedule"),
    };
  }

  const train = r.train === undefined
    ? {}
    : c.obj(r.train, "train", ["lrs", "batch", "steps", "checkpoints", "schedule", "accumulate"]);
  if (!Array.isArray(r.variants) || (r.variants.length === 0 && stages.length > 0)) {
    c.fail("variants", "must be a non-empty list of { trainer, name?, options?, ... }");
  }
  const names = new Set<string>();
  const variants = (r.variants as unknown[]).map((v, i): ResolvedVariant => {
    const f = `variants[${i}]`;
    const o = c.obj(v, f, [
      "name",
      "trainer",
      "options",
      "lrs",
      "batch",
      "steps",
      "checkpoints",
      "schedule",
      "accumulate",
      "lora",
    ]);
    const trainer = c.str(o.trainer, `${f}.trainer`);
    const name = o.name === undefined ? trainer : c.str(o.name, `${f}.name`);
    if (names.has(name)) c.fail(`${f}.name`, `'${name}' is used twice`);
    names.add(name);
    const pick = (k: string) =>
      (o[k] !== undefined ? [o[k], `${f}.${k}`] : [train[k], `train.${k}`]) as [unknown, string];
    const need = (k: string) => {
      const [val, at] = pick(k);
      if (val === undefined) c.fail(`${f}.${k}`, `missing (give it here or in train.${k})`);
      return [val, at] as [unknown, string];
    };
    const steps = c.num(...need("steps"), { integer: true });
    const [cps, cpAt] = pick("checkpoints");
    const checkpoints = cps === undefined
      ? [steps]
      : c.list(cps, cpAt, { integer: true }).sort((a, b) => a - b);
    if (checkpoints[checkpoints.length - 1] !== steps) {
      c.fail(
        cpAt,
        `the last checkpoint must be the step budget ${steps}, got ${checkpoints.at(-1)}`,
      );
    }
    if (o.options !== undefined && !isObj(o.options)) c.fail(`${f}.options`, "must be an object");
    const lrs = c.list(...need("lrs"));
    const batch = c.num(...need("batch"), { integer: true });
    const [acc, accAt] = pick("accumulate");
    // At most one micro-batch per row: checked in runs/resolve.ts, which knows an RL step's rows.
    const accumulate = acc === undefined ? 1 : c.num(acc, accAt, { integer: true });
    return {
      name,
      trainer,
      options: (o.options ?? {}) as Raw,
      lrs,
      batch,
      steps,
      checkpoints,
      schedule: c.schedule(...pick("schedule")),
      accumulate,
      lora: c.lora(o.lora, `${f}.lora`),
    };
  });

  const fitExcluding = r.fitExcluding === undefined ? [] : r.fitExcluding;
  if (!Array.isArray(fitExcluding)) c.fail("fitExcluding", "must be a list of variant names");
  for (const n of fitExcluding as unknown[]) {
    if (typeof n !== "string" || !names.has(n)) {
      c.fail("fitExcluding", `'${n}' is not a variant of this recipe`);
    }
  }
  const kl = r.kl === undefined ? {} : c.obj(r.kl, "kl", ["items", "samples", "max"]);
  const matchWithin = c.num(r.matchWithin ?? 0.02, "matchWithin");
  if (matchWithin >= 1) {
    c.fail("matchWithin", `must be below 1 (accuracy units), got ${matchWithin}`);
  }
  if (typeof r.orders === "string" && r.orders !== "each") {
    c.fail("orders", `must be a positive integer or "each", got ${JSON.stringify(r.orders)}`);
  }
  const orders = r.orders === "each" ? "each" : c.num(r.orders ?? 1, "orders", { integer: true });
  if (orders === "each" && stages.length === 0) c.fail("orders", '"each" needs stage tasks');
  if (typeof orders === "number" && orders > 1 && stages.length < 2) {
    c.fail("orders", "more than one order needs at least 2 stages");
  }
  let circuits: ResolvedCircuits | undefined;
  if (r.circuits !== undefined) {
    const o = c.obj(r.circuits, "circuits", ["skills", "items", "steps", "lambda", "seed"]);
    if (!Array.isArray(o.skills) || o.skills.length === 0) {
      c.fail("circuits.skills", "must be a non-empty list of task ids");
    }
    const skills = (o.skills as unknown[]).map((s, i) => c.str(s, `circuits.skills[${i}]`));
    const dup = skills.find((s, i) => skills.indexOf(s) !== i);
    if (dup) c.fail("circuits.skills", `'${dup}' appears twice`);
    circuits = {
      skills,
      items: c.num(o.items, "circuits.items", { integer: true }),
      steps: c.num(o.steps, "circuits.steps", { integer: true }),
      lambda: c.num(o.lambda, "circuits.lambda", { zeroOk: true }),
      seed: c.num(o.seed ?? 0, "circuits.seed", { integer: true, zeroOk: true }),
    };
  }
  return {
    id,
    description: c.str(r.description, "description"),
    model: r.model as Raw,
    data: {
      seed: c.num(data.seed ?? 0, "data.seed", { integer: true, zeroOk: true }),
      sizes,
      fixtures: data.fixtures === true,
    },
    pretrain,
    stages,
    panel,
    orders,
    seeds: c.list(r.seeds, "seeds", { integer: true, zeroOk: true }),
    maxNewTokens: r.maxNewTokens === undefined
      ? null
      : c.num(r.maxNewTokens, "maxNewTokens", { integer: true }),
    variants,
    kl: {
      items: kl.items === undefined ? null : c.num(kl.items, "kl.items", { integer: true }),
      samples: c.num(kl.samples ?? 1, "kl.samples", { integer: true }),
      max: kl.max === undefined || kl.max === null ? null : c.num(kl.max, "kl.max"),
    },
    evalBatch: r.evalBatch === undefined
      ? null
      : c.num(r.evalBatch, "evalBatch", { integer: true }),
    matchWithin,
    fitExcluding: fitExcluding as string[],
    ...(circuits ? { circuits } : {}),
  };
}
