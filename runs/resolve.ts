// Step one of the pipeline: everything a user can get wrong fails here, before any output is
// touched. A validated recipe is checked against the registries (model family, tasks, trainers,
// labellings, rewards, request kinds), then every task's data is loaded and validated, and every
// input is hashed. The result is the plan the pipeline runs.

import { getWebGPUDevice } from "@jax-js/jax";
import { ValidationError } from "../lib/errors.ts";
import { cacheRoot } from "../lib/hub.ts";
import { FAMILIES, type Family, type ModelSpec } from "../models/families.ts";
import type { TrainInstance } from "../models/learner.ts";
import { bucket, type LlamaModelConfig } from "../models/llama.ts";
import { parseLlamaConfig } from "../models/llama_io.ts";
import { loraModules } from "../models/lora.ts";
import {
  deviceLimits,
  estimateMemory,
  formatBytes,
  type MemoryEstimate,
  samplingBudget,
  samplingRows,
  type TrainingShape,
} from "../models/memory.ts";
import type { Policy, RequestKind } from "../models/policy.ts";
import { promptIds, TOKENIZERS } from "../models/tokenizer.ts";
import { type AnyTask, getTask, TASKS } from "../tasks/mod.ts";
import type { DataFileUsed, DataOptions, Item, Loaded } from "../tasks/task.ts";
import { getTrainer, planOf } from "../trainers/mod.ts";
import type { DataPlan, Trainer } from "../trainers/types.ts";
import type { ResolvedRecipe, ResolvedUse, ResolvedVariant } from "./recipe.ts";
import { type CircuitTask, counterfactualItems } from "./circuits.ts";
import { fixtureDataFolder } from "./fixtures.ts";
import { taskOrders, trainInstances } from "./stages.ts";

/** A variant with its trainer, parsed options and data plan. */
export interface PlannedVariant {
  readonly variant: ResolvedVariant;
  readonly trainer: Trainer;
  readonly options: unknown;
  readonly plan: DataPlan;
}

/** One run of the grid. */
export interface RunKey {
  readonly variant: string;
  readonly trainer: string;
  readonly lr: number;
  readonly seed: number;
  readonly order: number;
}

/** A task in use: its data, and how it is measured. */
export interface TaskInUse {
  readonly task: AnyTask;
  readonly loaded: Loaded<Item>;
  readonly use: ResolvedUse;
  /** The metric used as its accuracy. */
  readonly metric: string;
}

/** Everything the pipeline needs, resolved and loaded. */
export interface Plan {
  readonly recipe: ResolvedRecipe;
  readonly file: string;
  readonly family: Family;
  readonly model: ModelSpec;
  readonly stageTasks: readonly TaskInUse[];
  readonly panelTasks: readonly TaskInUse[];
  /** Base pretraining instances (under the labelling name "pretrain"). */
  readonly pretrain: readonly TrainInstance[];
  /** Training instances of every stage task. */
  readonly train: ReadonlyMap<string, readonly TrainInstance[]>;
  readonly variants: readonly PlannedVariant[];
  readonly orders: readonly (readonly string[])[];
  readonly runs: readonly (RunKey & { readonly planned: PlannedVariant })[];
  /** Every data file read. */
  readonly files: readonly DataFileUsed[];
  /**
   * The Llama architecture where it is known before the model is opened (its `config`, or a
   * local `source` folder's config.json), for LoRA targets and the memory model; else null.
   */
  readonly architecture: LlamaModelConfig | null;
  /** The skills of the recipe's circuit analysis, with their test items (none without one). */
  readonly circuitTasks: readonly CircuitTask[];
}

/** Request kinds each family answers. */
const FAMILY_KINDS: Readonly<Record<string, readonly RequestKind[]>> = {
  mlp: ["classify"],
  llama: ["choices", "generate"],
  onnx: ["choices", "generate"],
};

/** What each trainable family's learners implement beyond whole-batch full fine-tuning. */
const FAMILY_TRAINING: Readonly<Record<string, { lora: boolean; accumulate: boolean }>> = {
  mlp: { lora: false, accumulate: false },
  llama: { lora: true, accumulate: true },
};

/** The architecture of a llama spec, where known without opening the model. */
async function architectureOf(model: ModelSpec): Promise<LlamaModelConfig | null> {
  if (model.family !== "llama") return null;
  if (model.config) return model.config as LlamaModelConfig;
  if (typeof model.source !== "string") return null;
  const path = `${model.source}/config.json`;
  try {
    return parseLlamaConfig(JSON.parse(await Deno.readTextFile(path)), path);
  } catch {
    return null; // a hub id, or a folder the loader will report on
  }
}

/** Checks a recipe against the registries and loads its data; throws naming file and field. */
export async function resolvePlan(
  recipe: ResolvedRecipe,
  opts: {
    file: string;
    data?: DataOptions;
    /** Cache root (a fixtures recipe's data folder goes under it); default lib/hub.ts's. */
    cacheDir?: string;
    /** The user consented to running model-written code (panel tasks such as humaneval). */
    allowCodeExecution?: boolean;
  },
): Promise<Plan> {
  const f = opts.file;
  const at = (field: string) => `${f}: ${field}`;
  const family = FAMILIES[String(recipe.model.family)];
  if (!family) {
    throw new ValidationError(
      at("model.family"),
      `unknown family ${JSON.stringify(recipe.model.family)} (known: ${
        Object.keys(FAMILIES).join(", ")
      })`,
    );
  }
  const model = family.parse(recipe.model, at("model"));
  const kinds = FAMILY_KINDS[family.id] ?? [];
  if ((recipe.stages.length > 0 || recipe.pretrain) && !family.trainable) {
    throw new ValidationError(
      at("stages"),
      `a ${family.id} model cannot be trained; an evaluation recipe has no stages or pretraining`,
    );
  }
  const check = (field: string, task: AnyTask, role: "panel" | "train" = "train") => {
    if (!kinds.includes(task.requestKind)) {
      throw new ValidationError(
        at(field),
        `task '${task.id}' asks ${task.requestKind} requests; a ${family.id} model answers ${
          kinds.join(", ")
        }`,
      );
    }
    if (task.executesCode && role === "train") {
      throw new ValidationError(
        at(field),
        `task '${task.id}' runs model-written code to score; it can be measured (panel), not trained on`,
      );
    }
    if (task.executesCode && !opts.allowCodeExecution) {
      throw new ValidationError(
        at(field),
        `task '${task.id}' runs model-written code; add --allow-code-execution to run it in the sandbox (docs/sandbox.md says what it contains)`,
      );
    }
  };
  const uses = (list: readonly ResolvedUse[], field: "stages" | "panel") =>
    list.map((use, i) => {
      const task = getTask(use.task, at(`${field}[${i}]`));
      check(`${field}[${i}]`, task, field === "panel" ? "panel" : "train");
      const metric = use.metric ?? task.metrics[0];
      if (!task.metrics.includes(metric)) {
        throw new ValidationError(
          at(`${field}[${i}].metric`),
          `task '${task.id}' has no metric '${metric}' (it has ${task.metrics.join(", ")})`,
        );
      }
      return { task, use, metric };
    });
  const stages = uses(recipe.stages, "stages");
  const panel = uses(recipe.panel, "panel");
  for (const [i, { task }] of stages.entries()) {
    if (!task.train) {
      throw new ValidationError(at(`stages[${i}]`), `task '${task.id}' declares no training part`);
    }
  }
  const pretrainTasks = (recipe.pretrain?.tasks ?? []).map((p, i) => {
    const task = getTask(p.task, at(`pretrain.tasks[${i}]`));
    check(`pretrain.tasks[${i}]`, task);
    if (!task.train?.labellings[p.labelling]) {
      throw new ValidationError(
        at(`pretrain.tasks[${i}].labelling`),
        `task '${task.id}' has no labelling '${p.labelling}' (it has: ${
          Object.keys(task.train?.labellings ?? {}).join(", ") || "none"
        })`,
      );
    }
    return { task, labelling: p.labelling };
  });
  const circuitSkills = (recipe.circuits?.skills ?? []).map((id, i) => {
    const where = at(`circuits.skills[${i}]`);
    const task = getTask(id, where);
    if (!task.counterfactual) {
      const have = Object.values(TASKS).filter((t) => t.counterfactual).map((t) => t.id);
      throw new ValidationError(
        where,
        `task '${id}' declares no counterfactuals (tasks that do: ${have.join(", ")})`,
      );
    }
    return task;
  });
  if (recipe.circuits && family.id !== "llama") {
    throw new ValidationError(
      at("circuits"),
      `circuit discovery patches the heads of an in-process llama model; this recipe's model is ${family.id}`,
    );
  }
  const usedIds = new Set([
    ...recipe.stages.map((u) => u.task),
    ...recipe.panel.map((u) => u.task),
    ...(recipe.pretrain?.tasks.map((t) => t.task) ?? []),
    ...circuitSkills.map((t) => t.id),
  ]);
  // Sizes of registered tasks the recipe does not use are ignored (a recipe spread from another
  // keeps its sizes); an unknown id is a typo, and published files take no sizes.
  for (const id of Object.keys(recipe.data.sizes)) {
    const task = getTask(id, at(`data.sizes.${id}`));
    if (usedIds.has(id) && !task.sizes) {
      throw new ValidationError(
        at(`data.sizes.${id}`),
        `task '${id}' is read whole from its published files and takes no split sizes; evaluate fewer items with { task: "${id}", items: N }`,
      );
    }
  }
  const architecture = await architectureOf(model);
  const variants = recipe.variants.map((v, i): PlannedVariant => {
    const where = at(`variants[${i}]`);
    const can = FAMILY_TRAINING[family.id] ?? { lora: false, accumulate: false };
    if (v.lora && !can.lora) {
      throw new ValidationError(`${where}.lora`, `a ${family.id} model has no LoRA (llama has)`);
    }
    if (v.accumulate > 1 && !can.accumulate) {
      throw new ValidationError(
        `${where}.accumulate`,
        `a ${family.id} model trains whole batches only (llama accumulates); got ${v.accumulate}`,
      );
    }
    if (v.lora && architecture) {
      loraModules(architecture, { targets: v.lora.targets, where: `${where}.lora` });
    }
    const trainer = getTrainer(v.trainer, `${where}.trainer`);
    const options = trainer.parseOptions(v.options, `${where}.options`);
    const labelling = trainer.labelling?.(options);
    for (const { task } of stages) {
      if (trainer.needsReward && !task.train!.reward) {
        throw new ValidationError(
          `${where}.trainer`,
          `'${v.trainer}' needs a reward, and task '${task.id}' declares none`,
        );
      }
      const has = labelling === "oracle"
        ? task.train!.correct !== undefined
        : labelling === undefined || task.train!.labellings[labelling] !== undefined;
      if (!has) {
        throw new ValidationError(
          `${where}.options.labelling`,
          `task '${task.id}' has no labelling '${labelling}' (it has: ${
            [...Object.keys(task.train!.labellings), ...(task.train!.correct ? ["oracle"] : [])]
              .join(", ")
          })`,
        );
      }
    }
    // Micro-batches split the step's rows: an RL step's batch × G rollouts, else its batch.
    const group = trainer.needsReward ? (options as { group?: number }).group ?? 1 : 1;
    const rows = v.batch * group;
    if (v.accumulate > rows) {
      throw new ValidationError(
        `${where}.accumulate`,
        `at most one micro-batch per row: this step has ${rows} ${
          group > 1 ? `rows (batch ${v.batch} × group ${group})` : "rows"
        }, got ${v.accumulate}`,
      );
    }
    const plan = planOf(trainer, options);
    if (plan.kind !== "stage" && (stages.length < 2 || recipe.orders === "each")) {
      throw new ValidationError(
        `${where}.trainer`,
        `'${v.trainer}' trains on a task sequence; this recipe has ${
          recipe.orders === "each" ? 'one task per run (orders: "each")' : "one stage"
        }`,
      );
    }
    return { variant: v, trainer, options, plan };
  });

  // Load every task's data once (validating every record), with the recipe's data seed and sizes;
  // a fixtures recipe reads the project's fixture records, offline, unless --data names a folder.
  const used = [...[...stages, ...panel, ...pretrainTasks].map((x) => x.task), ...circuitSkills];
  let data = opts.data;
  if (recipe.data.fixtures && data?.dataPath === undefined) {
    const cacheDir = opts.cacheDir ?? data?.cacheDir ?? cacheRoot();
    data = { ...data, dataPath: await fixtureDataFolder(used, cacheDir), offline: true };
  }
  const loaded = new Map<string, Loaded<Item>>();
  for (const task of used) {
    if (loaded.has(task.id)) continue;
    loaded.set(
      task.id,
      await task.load({ seed: recipe.data.seed, sizes: recipe.data.sizes[task.id], data }),
    );
  }
  const split = (task: AnyTask, name: string, field: string) => {
    const items = loaded.get(task.id)!.splits[name];
    if (!items?.length) {
      throw new ValidationError(
        at(field),
        `task '${task.id}' has no items in its '${name}' split (sizes: data.sizes.${task.id})`,
      );
    }
    return items;
  };
  const inUse = (x: { task: AnyTask; use: ResolvedUse; metric: string }, field: string) => {
    split(x.task, "test", field);
    return { ...x, loaded: loaded.get(x.task.id)! };
  };
  const train = new Map(stages.map((s, i) => [
    s.task.id,
    trainInstances(s.task, split(s.task, "train", `stages[${i}]`), {
      maxNewTokens: recipe.maxNewTokens ?? undefined,
    }),
  ]));
  const pretrain = pretrainTasks.flatMap((p, i) =>
    trainInstances(p.task, split(p.task, "pretrain", `pretrain.tasks[${i}]`), {
      as: { name: "pretrain", labelling: p.labelling },
    })
  );
  const circuitTasks = circuitSkills.map((task, i): CircuitTask => {
    const c = recipe.circuits!;
    const test = split(task, "test", `circuits.skills[${i}]`);
    const have = counterfactualItems({ task, test }, { n: c.items, seed: c.seed }).length;
    if (have === 0) {
      throw new ValidationError(
        at(`circuits.skills[${i}]`),
        `none of task '${task.id}''s ${test.length} test items has a counterfactual; raise data.sizes.${task.id}.test`,
      );
    }
    return { task, test };
  });
  const orders = stages.length > 0 ? taskOrders(stages.map((s) => s.task.id), recipe.orders) : [];
  const runs = variants.flatMap((planned) =>
    planned.variant.lrs.flatMap((lr) =>
      recipe.seeds.flatMap((seed) =>
        orders.map((_, order) => ({
          variant: planned.variant.name,
          trainer: planned.variant.trainer,
          lr,
          seed,
          order,
          planned,
        }))
      )
    )
  );
  return {
    recipe,
    file: f,
    family,
    model,
    stageTasks: stages.map((s, i) => inUse(s, `stages[${i}]`)),
    panelTasks: panel.map((p, i) => inUse(p, `panel[${i}]`)),
    pretrain,
    train,
    variants,
    orders,
    runs,
    files: [...loaded.values()].flatMap((l) => l.files),
    architecture,
    circuitTasks,
  };
}

// ---- the memory model's check (docs/metrics.md "Memory model") ----

/** A memory limit and what set it, for messages. */
export interface MemoryBudget {
  /** Bytes everything together may use (null: no total). */
  readonly bytes: number | null;
  /** Bytes one array may use (null: no such limit). */
  readonly buffer: number | null;
  readonly source: string;
}

/** The budgets a run must fit: `--memory` where given, and what the jax-js device reports. */
export function memoryBudgets(opts: { memory?: number; device: string }): MemoryBudget[] {
  const out: MemoryBudget[] = [];
  if (opts.memory !== undefined) {
    out.push({ bytes: opts.memory, buffer: null, source: `--memory ${formatBytes(opts.memory)}` });
  }
  const d = deviceLimits(opts.device, { webgpuDevice: getWebGPUDevice });
  if (d.total !== null || d.buffer !== null) {
    out.push({ bytes: d.total, buffer: d.buffer, source: d.source });
  }
  return out;
}

/** A training row's padded length, as the Llama learner pads it. */
function bucket8(n: number): number {
  return bucket(n, 8);
}

/** Token lengths of training instances: prompt + SFT target (+ stop), and the generation budget. */
function lengths(
  instances: readonly TrainInstance[],
  opts: { labelling: string; count: (text: string) => number },
): { sft: number; prompt: number; generate: number } {
  let sft = 1, prompt = 1, generate = 1;
  for (const inst of instances) {
    const r = inst.request;
    if (r.kind !== "generate" && r.kind !== "choices") continue;
    const p = opts.count(r.kind === "generate" ? r.prompt : r.context);
    const until = r.kind === "generate" ? r.until[0] ?? "" : "";
    const gen = r.kind === "generate"
      ? r.maxTokens
      : Math.max(1, ...r.continuations.map((c) => opts.count(c)));
    const targets = inst.targets(opts.labelling) ?? [];
    const target = Math.max(0, ...targets.map((t) => opts.count(String(t) + until) + 1));
    prompt = Math.max(prompt, p);
    generate = Math.max(generate, gen);
    sft = Math.max(sft, p + target);
  }
  return { sft, prompt, generate };
}

/** One training phase to check: where in the recipe it is, and its shape. */
interface Phase {
  readonly field: string;
  readonly shape: TrainingShape;
}

/** The training phases of a plan: base pretraining, then every variant. */
function phases(
  plan: Plan,
  opts: { config: LlamaModelConfig; count?: (text: string) => number; device: string },
): Phase[] {
  const { config } = opts;
  // Without a tokenizer the sequence terms are left out: a lower bound, checked again later.
  const len = (instances: readonly TrainInstance[], labelling: string) =>
    opts.count
      ? lengths(instances, { labelling, count: opts.count })
      : { sft: 0, prompt: 0, generate: 0 };
  const out: Phase[] = [];
  const p = plan.recipe.pretrain;
  if (p && plan.pretrain.length > 0) {
    const l = len(plan.pretrain, "pretrain");
    out.push({
      field: "pretrain",
      shape: { config, microBatch: p.batch, seqLen: bucket8(l.sft), references: 0 },
    });
  }
  const train = [...plan.train.values()].flat();
  const stages = plan.orders[0]?.length ?? 1;
  plan.variants.forEach((pv, i) => {
    const v = pv.variant, o = pv.options as { group?: number; beta?: number };
    const l = len(train, pv.trainer.labelling?.(pv.options) ?? "sft1");
    const rl = pv.trainer.needsReward, group = rl ? o.group ?? 1 : 1;
    const lora = v.lora && { rank: v.lora.rank, targets: v.lora.targets };
    out.push({
      field: `variants[${i}] ('${v.name}')`,
      shape: {
        config,
        lora,
        microBatch: Math.ceil(v.batch * group / v.accumulate),
        accumulate: v.accumulate,
        seqLen: bucket8(rl ? l.prompt + l.generate : l.sft),
        // SFT always runs the stage's start as a reference (the KL it logs, and SFT+KL's β).
        klTarget: !rl,
        sampling: rl && opts.count
          ? {
            rows: samplingRows(config, {
              rows: v.batch * group,
              length: bucket(l.prompt + l.generate, 16),
              prompt: bucket(l.prompt, 16),
            }, samplingBudget(opts.device)),
            length: bucket(l.prompt + l.generate, 16),
            prompt: bucket(l.prompt, 16),
          }
          : null,
        references: pv.plan.kind === "joint" || stages < 2 ? 1 : 2,
      },
    });
  });
  return out;
}

/** One line saying what an estimate is made of. */
function parts(e: MemoryEstimate, s: TrainingShape, complete: boolean): string {
  const b = e.bytes, f = formatBytes;
  const items = [
    `weights ${f(b.weights)}`,
    ...(b.references > 0 ? [`references ${f(b.references)}`] : []),
    `gradients ${f(b.gradients)}`,
    `AdamW moments ${f(b.moments)}`,
    ...(complete
      ? [`activations ${f(b.activations)} for ${s.microBatch} × ${s.seqLen} tokens`]
      : []),
    ...(b.sampling > 0
      ? [`sampling ${f(b.sampling)} for ${s.sampling!.rows} × ${s.sampling!.length} tokens`]
      : []),
  ];
  return items.join(", ");
}

/**
 * Estimates every training phase of a plan with the memory model (models/memory.ts) and refuses
 * the first that does not fit a budget, in one line naming the recipe field. The architecture is
 * the plan's, else the opened `policy`'s; token lengths come from the recipe's named tokenizer,
 * else the opened policy's. Returns false when neither is known yet (a checkpoint to open): the
 * check then covered weights, gradients and moments only (a lower bound), and the pipeline calls
 * it again with the opened policy. Families without an architecture here (mlp) are not estimated.
 */
export function checkMemory(
  plan: Plan,
  opts: {
    budgets: readonly MemoryBudget[];
    policy?: Policy;
    /** The jax-js device trained on (its sampling budget); default wasm. */
    device?: string;
  },
): boolean {
  const opened = opts.policy as (Policy & { config?: LlamaModelConfig }) | undefined;
  const config = plan.architecture ?? (plan.family.id === "llama" ? opened?.config : undefined);
  if (!config) return plan.family.id !== "llama";
  const named = typeof plan.model.tokenizer === "string" ? TOKENIZERS[plan.model.tokenizer] : null;
  const count = named
    ? (t: string) => promptIds(named, t).length
    : opened?.countTokens
    ? (t: string) => opened.countTokens!(t) + 1
    : undefined;
  for (const { field, shape } of phases(plan, { config, count, device: opts.device ?? "wasm" })) {
    const e = estimateMemory(shape);
    const advice = field === "pretrain"
      ? "use a smaller pretrain.batch"
      : "use lora, a smaller batch or a larger accumulate";
    for (const b of opts.budgets) {
      if (b.bytes !== null && e.bytes.total > b.bytes) {
        throw new ValidationError(
          `${plan.file}: ${field}`,
          `training needs ${count ? "about" : "at least"} ${formatBytes(e.bytes.total)} (${
            parts(e, shape, count !== undefined)
          }), over ${b.source}; ${advice} (docs/metrics.md "Memory model")`,
        );
      }
      if (count && b.buffer !== null && e.largestTensor > b.buffer) {
        throw new ValidationError(
          `${plan.file}: ${field}`,
          `its largest tensor takes ${formatBytes(e.largestTensor)}, over ${b.source} (${
            formatBytes(b.buffer)
          } per buffer); ${advice.replace("use lora, a", "use a")}`,
        );
      }
    }
  }
  return count !== undefined;
}
