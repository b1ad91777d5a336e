// Assembles an experiment's arrays from its two task modules: the pretraining mix, the
// fine-tuning inputs of the new task, and both held-out sets. Knows tasks only through the
// task interface (load, split, render, score, reward, correct, labellings, pretrainTarget).

import type { ClassifierTask as AnyTask } from "../tasks/mod.ts";
import type { Item } from "../tasks/types.ts";
import { ValidationError } from "../lib/errors.ts";
import type { Recipe } from "./recipe.ts";

/** Rendered inputs (n × dim) of a list of items. */
export interface InputSet {
  readonly items: readonly Item[];
  readonly x: Float32Array;
  readonly n: number;
  readonly dim: number;
}

/** Everything an experiment reads, loaded and split once. */
export interface ExperimentData {
  readonly pretrain: InputSet & { readonly labels: readonly number[] };
  readonly train: InputSet;
  readonly heldoutNew: InputSet;
  readonly heldoutPrior: InputSet;
  readonly checksums: Readonly<Record<string, string>>;
}

function render(task: AnyTask, items: readonly Item[]): InputSet {
  if (items.length === 0) return { items, x: new Float32Array(0), n: 0, dim: 0 };
  const first = task.render(items[0]), dim = first.length;
  const x = new Float32Array(items.length * dim);
  items.forEach((it, i) => x.set(i === 0 ? first : task.render(it), i * dim));
  return { items, x, n: items.length, dim };
}

function need(
  splits: Readonly<Record<string, readonly Item[]>>,
  name: string,
  task: AnyTask,
): readonly Item[] {
  const s = splits[name];
  if (!s) {
    throw new ValidationError(
      `task '${task.id}'`,
      `has no '${name}' split (it has: ${Object.keys(splits).join(", ")})`,
    );
  }
  return s;
}

/** Loads both tasks, splits them with the recipe's data seed and renders every split. */
export async function loadExperimentData(
  recipe: Recipe,
  tasks: { newTask: AnyTask; priorTask: AnyTask },
): Promise<ExperimentData> {
  const { newTask, priorTask } = tasks;
  for (const t of [newTask, priorTask]) {
    if (!t.pretrainTarget) {
      throw new ValidationError(
        `task '${t.id}'`,
        "declares no pretrainTarget, so no base model can be pretrained on it",
      );
    }
  }
  const [dn, dp] = await Promise.all([newTask.load(), priorTask.load()]);
  const sn = newTask.split(dn, { seed: recipe.dataSeed, sizes: recipe.splits?.new });
  const sp = priorTask.split(dp, { seed: recipe.dataSeed, sizes: recipe.splits?.prior });
  const preItems = [...need(sn, "pretrain", newTask), ...need(sp, "pretrain", priorTask)];
  const preN = need(sn, "pretrain", newTask).length;
  const pre = render(newTask, need(sn, "pretrain", newTask));
  const preP = render(priorTask, need(sp, "pretrain", priorTask));
  if (pre.dim !== preP.dim) {
    throw new ValidationError(
      `tasks '${newTask.id}' and '${priorTask.id}'`,
      `render inputs of different sizes (${pre.dim} vs ${preP.dim})`,
    );
  }
  const x = new Float32Array(pre.x.length + preP.x.length);
  x.set(pre.x);
  x.set(preP.x, pre.x.length);
  return {
    pretrain: {
      items: preItems,
      x,
      n: preItems.length,
      dim: pre.dim,
      labels: preItems.map((it, i) =>
        (i < preN ? newTask : priorTask).pretrainTarget!(it) as number
      ),
    },
    train: render(newTask, need(sn, "train", newTask)),
    heldoutNew: render(newTask, need(sn, "heldout", newTask)),
    heldoutPrior: render(priorTask, need(sp, "heldout", priorTask)),
    checksums: { ...dn.checksums, ...dp.checksums },
  };
}
