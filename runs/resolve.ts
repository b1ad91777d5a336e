// Step one of the pipeline: everything a user can get wrong fails here, before any output is
// touched. A validated recipe is checked against the registries (model family, tasks, trainers,
// labellings, rewards, request kinds), then every task's data is loaded and validated, and every
// input is hashed. The result is the plan the pipeline runs.

import { ValidationError } from "../lib/errors.ts";
import { FAMILIES, type Family, type ModelSpec } from "../models/families.ts";
import type { TrainInstance } from "../models/learner.ts";
import type { RequestKind } from "../models/policy.ts";
import { type AnyTask, getTask } from "../tasks/mod.ts";
import type { DataFileUsed, DataOptions, Item, Loaded } from "../tasks/task.ts";
import { getTrainer, planOf } from "../trainers/mod.ts";
import type { DataPlan, Trainer } from "../trainers/types.ts";
import type { ResolvedRecipe, ResolvedUse, ResolvedVariant } from "./recipe.ts";
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
}

/** Request kinds each family answers. */
const FAMILY_KINDS: Readonly<Record<string, readonly RequestKind[]>> = {
  mlp: ["classify"],
  llama: ["choices", "generate"],
  onnx: ["choices", "generate"],
};

/** Checks a recipe against the registries and loads its data; throws naming file and field. */
export async function resolvePlan(
  recipe: ResolvedRecipe,
  opts: { file: string; data?: DataOptions },
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
  const check = (field: string, task: AnyTask) => {
    if (!kinds.includes(task.requestKind)) {
      throw new ValidationError(
        at(field),
        `task '${task.id}' asks ${task.requestKind} requests; a ${family.id} model answers ${
          kinds.join(", ")
        }`,
      );
    }
    if (task.executesCode) {
      throw new ValidationError(
        at(field),
        `task '${task.id}' runs model-written code; measure it with eval --allow-code-execution`,
      );
    }
  };
  const uses = (list: readonly ResolvedUse[], field: string) =>
    list.map((use, i) => {
      const task = getTask(use.task, at(`${field}[${i}]`));
      check(`${field}[${i}]`, task);
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
  const usedIds = new Set([
    ...recipe.stages.map((u) => u.task),
    ...recipe.panel.map((u) => u.task),
    ...(recipe.pretrain?.tasks.map((t) => t.task) ?? []),
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
  const variants = recipe.variants.map((v, i): PlannedVariant => {
    const where = at(`variants[${i}]`);
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
    const plan = planOf(trainer, options);
    if (plan.kind !== "stage" && stages.length < 2) {
      throw new ValidationError(
        `${where}.trainer`,
        `'${v.trainer}' trains on a task sequence; this recipe has one stage`,
      );
    }
    return { variant: v, trainer, options, plan };
  });

  // Load every task's data once (validating every record), with the recipe's data seed and sizes.
  const loaded = new Map<string, Loaded<Item>>();
  for (const task of [...stages, ...panel, ...pretrainTasks].map((x) => x.task)) {
    if (loaded.has(task.id)) continue;
    loaded.set(
      task.id,
      await task.load({
        seed: recipe.data.seed,
        sizes: recipe.data.sizes[task.id],
        data: opts.data,
      }),
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
    trainInstances(s.task, split(s.task, "train", `stages[${i}]`)),
  ]));
  const pretrain = pretrainTasks.flatMap((p, i) =>
    trainInstances(p.task, split(p.task, "pretrain", `pretrain.tasks[${i}]`), {
      as: { name: "pretrain", labelling: p.labelling },
    })
  );
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
  };
}
