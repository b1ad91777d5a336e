// The task registry: every task module is listed here explicitly (no registration by import
// side effect). tests/task_suite_test.ts checks that every task file is registered, ids are
// unique, and runs every registered task through one shared suite.

import { UsageError } from "../lib/errors.ts";
import { arcEasy } from "./arc_easy.ts";
import { fashionMnist } from "./fashion_mnist.ts";
import { gsm8k } from "./gsm8k.ts";
import { hellaswag } from "./hellaswag.ts";
import { humaneval } from "./humaneval.ts";
import { ifeval } from "./ifeval.ts";
import { mmlu } from "./mmlu.ts";
import { mmluPro } from "./mmlu_pro.ts";
import { mmmu } from "./mmmu.ts";
import { orzMath } from "./orz_math.ts";
import { parityMnist } from "./parity_mnist.ts";
import { scienceqa, scienceqaText } from "./scienceqa.ts";
import { sciknoweval, sciknowevalChemL3 } from "./sciknoweval.ts";
import { toolalpaca } from "./toolalpaca.ts";
import { truthfulqaMc1, truthfulqaMc2 } from "./truthfulqa.ts";
import { winogrande } from "./winogrande.ts";
import { caesar } from "./lm/caesar.ts";
import { manyAnswers } from "./lm/many_answers.ts";
import { scienceMc } from "./lm/science_mc.ts";
import { toolCall } from "./lm/tool_call.ts";
import { wordMath } from "./lm/word_math.ts";
import { arithTask } from "./lm/arith.ts";
import { bracketsTask } from "./lm/brackets.ts";
import { compareTask } from "./lm/compare.ts";
import { copyTask } from "./lm/copy.ts";
import { factsTask } from "./lm/facts.ts";
import { lookupTask } from "./lm/lookup.ts";
import { reverseTask } from "./lm/reverse.ts";
import { sortTask } from "./lm/sort.ts";
import type { Task } from "./task.ts";

export type { Item, Task } from "./task.ts";

/**
 * A task of any item type. The registry holds tasks of different item types, and each caller
 * goes through the Task interface only, so `any` is the honest item type here.
 */
// deno-lint-ignore no-explicit-any
export type AnyTask = Task<any>;

/** Every registered task in one list: the only place a task module is wired in. */
export const TASK_LIST: readonly AnyTask[] = [
  // Image classification (the ParityMNIST experiment).
  parityMnist,
  fashionMnist,
  // Published benchmarks.
  mmluPro,
  hellaswag,
  truthfulqaMc1,
  truthfulqaMc2,
  humaneval,
  mmmu,
  arcEasy,
  gsm8k,
  orzMath,
  sciknoweval,
  sciknowevalChemL3,
  scienceqa,
  scienceqaText,
  toolalpaca,
  mmlu,
  winogrande,
  ifeval,
  // Generated downstream tasks of the tiny LM.
  manyAnswers,
  wordMath,
  scienceMc,
  toolCall,
  caesar,
  // Generated general skills of the tiny LM (its pretraining corpus and general panel).
  copyTask,
  reverseTask,
  sortTask,
  arithTask,
  compareTask,
  bracketsTask,
  factsTask,
  lookupTask,
];

/** Every registered task, by id. */
export const TASKS: Readonly<Record<string, AnyTask>> = Object.freeze(
  Object.fromEntries(TASK_LIST.map((t) => [t.id, t])),
);

/** Looks a task up by id; an unknown id is a usage error listing the known ones. */
export function getTask(id: string, where?: string): AnyTask {
  const t = TASKS[id];
  if (!t) {
    throw new UsageError(
      `${where ? `${where}: ` : ""}unknown task '${id}'; known tasks: ${
        Object.keys(TASKS).join(", ")
      }`,
    );
  }
  return t;
}
