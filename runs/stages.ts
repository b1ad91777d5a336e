// From a task order and a trainer's data plan to the stages of one run, composed outside the
// pipeline's loop (which then has no branch per plan kind): a plain sequence trains stage j on
// task j; replay adds earlier tasks' instances with a batch order that takes a stated fraction of
// every batch from them; the joint multi-task plan is one stage over every task, numbered T, with
// T times the step budget. Also the task orders of a recipe and the training instances of a task.

import { permutation, rng } from "../lib/rng.ts";
import type { BatchOrder, TrainInstance } from "../models/learner.ts";
import type { Request } from "../models/policy.ts";
import type { AnyTask } from "../tasks/mod.ts";
import type { Item } from "../tasks/task.ts";
import { batchOrder } from "../trainers/batches.ts";
import type { DataPlan } from "../trainers/types.ts";

/** One stage of a run. */
export interface Stage {
  /** Stage number: 1..T for a sequence; T for the joint stage. */
  readonly stage: number;
  /** The tasks new at this stage (their test inputs carry the stage's KL). */
  readonly tasks: readonly string[];
  readonly instances: readonly TrainInstance[];
  /** A custom batch order (replay), else epoch-wise shuffling. */
  readonly batches?: BatchOrder;
  readonly steps: number;
  readonly checkpoints: readonly number[];
}

/**
 * The task orders of a recipe: as listed, reversed, then seeded shuffles; or, for "each", every
 * task alone (one run per task from π0).
 */
export function taskOrders(tasks: readonly string[], n: number | "each"): string[][] {
  if (n === "each") return tasks.map((t) => [t]);
  const out: string[][] = [[...tasks]];
  if (n >= 2) out.push([...tasks].reverse());
  for (let k = 2; k < n; k++) {
    out.push(permutation(tasks.length, rng(k, 0x0dde7)).map((i) => tasks[i]));
  }
  return out;
}

/** A batch order that takes round(fraction·batch) instances from `pool` and the rest from `cur`. */
export function mixedBatches(
  cur: readonly number[],
  pool: readonly number[],
  fraction: number,
): BatchOrder {
  return (batch, seed) => {
    const nOld = pool.length ? Math.round(fraction * batch) : 0;
    // Each pool shuffled epoch-wise on its own stream (trainers/batches.ts).
    const a = batchOrder(cur.length, batch - nOld, seed);
    const b = batchOrder(Math.max(pool.length, 1), nOld, (seed ^ 0x01d) >>> 0);
    return () => [...a().map((i) => cur[i]), ...b().map((i) => pool[i])];
  };
}

/** The stages of one run of `order` under a data plan. */
export function planStages(
  order: readonly string[],
  plan: DataPlan,
  opts: {
    train: ReadonlyMap<string, readonly TrainInstance[]>;
    steps: number;
    checkpoints: readonly number[];
  },
): Stage[] {
  const of = (t: string) => opts.train.get(t)!;
  if (plan.kind === "joint") {
    const T = order.length;
    return [{
      stage: T,
      tasks: order,
      instances: order.flatMap(of),
      steps: opts.steps * T,
      checkpoints: opts.checkpoints.map((c) => c * T),
    }];
  }
  return order.map((task, j) => {
    const cur = of(task);
    const earlier = plan.kind === "replay" ? order.slice(0, j).flatMap(of) : [];
    const stage: Stage = {
      stage: j + 1,
      tasks: [task],
      instances: [...cur, ...earlier],
      steps: opts.steps,
      checkpoints: opts.checkpoints,
    };
    if (plan.kind !== "replay") return stage;
    const curIdx = cur.map((_, i) => i), oldIdx = earlier.map((_, i) => cur.length + i);
    return { ...stage, batches: mixedBatches(curIdx, oldIdx, plan.fraction) };
  });
}

/**
 * Training instances of a task's items: the request it builds, its labellings' targets, its
 * reward and correct outputs. `labelling` maps every name to that one labelling (pretraining
 * mixes tasks pretrained on different labellings under one name); `maxNewTokens` caps the
 * generation budget of rollouts (a recipe's maxNewTokens).
 */
export function trainInstances(
  task: AnyTask,
  items: readonly Item[],
  opts: { as?: { name: string; labelling: string }; maxNewTokens?: number } = {},
): TrainInstance[] {
  const t = task.train!;
  const cap = (r: Request): Request =>
    r.kind === "generate" && opts.maxNewTokens !== undefined && r.maxTokens > opts.maxNewTokens
      ? { ...r, maxTokens: opts.maxNewTokens }
      : r;
  return items.map((item) => ({
    request: cap(task.request(item, { shots: [] })),
    targets: (name: string) => {
      const l = opts.as ? (name === opts.as.name ? opts.as.labelling : undefined) : name;
      return l === undefined ? undefined : t.labellings[l]?.(item);
    },
    reward: t.reward ? (y) => t.reward!(item, y) : undefined,
    correct: t.correct ? () => t.correct!(item) : undefined,
  }));
}
