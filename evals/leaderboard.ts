// From one run's evaluations to its leaderboard rows and stage points, as pure functions of the
// accuracy matrix R[stage][task] (docs/metrics.md "Continual metrics"), the panel and the KLs.
// runs/report.ts groups the records into RunData; nothing here knows about models or trainers.
//
// Checkpoints: a stage may be evaluated at several steps. A leaderboard row is one checkpoint of
// the last stage, with every earlier stage at its final step (a one-stage recipe has one row per
// checkpoint, which is how ParityMNIST compares step budgets).

import {
  backwardTransfer,
  forgetting,
  forgettingSoFar,
  forwardTransfer,
  plasticity,
} from "./continual.ts";

/** One evaluation point of a run: a stage at one step. */
export interface Checkpoint {
  readonly step: number;
  /** Accuracy per stage task. */
  readonly accs: Readonly<Record<string, number>>;
  /** Mean accuracy over the panel tasks (NaN without a panel). */
  readonly panel: number;
  /** KL(π0‖π) and KL(π‖π0) on the stage's new tasks' test inputs (NaN where not computed). */
  readonly klForward: number;
  readonly klReverse: number;
  /** KL(stage start‖π) on the same inputs. */
  readonly klPrev: number;
  /** Training instances that reached an update, from the run's start to this checkpoint. */
  readonly instances: number;
}

/** One run's evaluations. */
export interface RunData {
  readonly variant: string;
  readonly trainer: string;
  readonly lr: number;
  readonly seed: number;
  readonly order: number;
  /** The stage tasks in training order. */
  readonly tasks: readonly string[];
  /** One stage over every task at once (the multi-task upper bound). */
  readonly joint: boolean;
  /** Where it diverged, `stage:step`, or "" / absent (docs/metrics.md "Divergence"). */
  readonly diverged?: string;
  /** π0's accuracy per stage task, and its panel mean. */
  readonly base: { readonly accs: Readonly<Record<string, number>>; readonly panel: number };
  /** Stages in order, each with its checkpoints in step order. */
  readonly stages: readonly {
    readonly stage: number;
    readonly checkpoints: readonly Checkpoint[];
  }[];
}

/** One leaderboard.csv row. */
export interface LeaderboardRow {
  variant: string;
  trainer: string;
  lr: number;
  seed: number;
  order: number;
  /** The task order, `a>b>c`. */
  tasks: string;
  /** Steps of the last stage at this checkpoint. */
  steps: number;
  /** Mean of R[j][j]: each task just after training it (joint: every task at the end). */
  new_task_acc: number;
  /** AA: mean of the last row. */
  avg_accuracy: number;
  /** F (Chaudhry et al.): max-based forgetting of earlier tasks; NaN with one stage or joint. */
  task_forgetting: number;
  bwt: number;
  fwt: number;
  panel_base: number;
  panel_final: number;
  /** panel_base − panel_final (higher = more forgetting; ParityMNIST's forgetting). */
  panel_drop: number;
  /** Mean over stages of KL(π0‖π) on each stage's new tasks. */
  kl_forward: number;
  kl_reverse: number;
  instances_used: number;
  /** `stage:step` where the run diverged (its metrics are then NaN), else "". */
  diverged: string;
}

/** The columns naming a run, first in every per-run table. */
export const RUN_COLUMNS = ["variant", "trainer", "lr", "seed", "order"] as const;

/** leaderboard.csv's columns, in order. */
export const LEADERBOARD_COLUMNS = [
  ...RUN_COLUMNS,
  "tasks",
  "steps",
  "new_task_acc",
  "avg_accuracy",
  "task_forgetting",
  "bwt",
  "fwt",
  "panel_base",
  "panel_final",
  "panel_drop",
  "kl_forward",
  "kl_reverse",
  "instances_used",
  "diverged",
] as const;

function meanOf(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The matrix rows (tasks in training order) of a run whose last stage is at checkpoint `last`. */
function matrixOf(run: RunData, last: Checkpoint): number[][] {
  const row = (accs: Readonly<Record<string, number>>) => run.tasks.map((t) => accs[t]);
  const finals = run.stages.slice(0, -1).map((s) => s.checkpoints[s.checkpoints.length - 1]);
  return [row(run.base.accs), ...finals.map((c) => row(c.accs)), row(last.accs)];
}

/** One row per checkpoint of the run's last stage. */
export function leaderboardRows(run: RunData): LeaderboardRow[] {
  const name = {
    variant: run.variant,
    trainer: run.trainer,
    lr: run.lr,
    seed: run.seed,
    order: run.order,
    tasks: run.tasks.join(">"),
  };
  if (run.diverged) {
    // One row that says where; no metric of a run that did not finish is reported.
    const [stage, step] = run.diverged.split(":").map(Number);
    const s = run.stages.find((x) => x.stage === stage);
    return [{
      ...name,
      steps: Number.isFinite(step) ? step : NaN,
      new_task_acc: NaN,
      avg_accuracy: NaN,
      task_forgetting: NaN,
      bwt: NaN,
      fwt: NaN,
      panel_base: run.base.panel,
      panel_final: NaN,
      panel_drop: NaN,
      kl_forward: NaN,
      kl_reverse: NaN,
      instances_used: s?.checkpoints.at(-1)?.instances ?? NaN,
      diverged: run.diverged,
    }];
  }
  if (run.stages.length === 0) return [];
  const earlier = run.stages.slice(0, -1).map((s) => s.checkpoints[s.checkpoints.length - 1]);
  const lastStage = run.stages[run.stages.length - 1];
  return lastStage.checkpoints.map((c) => {
    const R = matrixOf(run, c);
    const sequence = !run.joint && R.length === run.tasks.length + 1;
    const kls = [...earlier, c];
    return {
      ...name,
      steps: c.step,
      new_task_acc: sequence ? plasticity(R) : meanOf(R[R.length - 1]),
      avg_accuracy: meanOf(R[R.length - 1]),
      task_forgetting: sequence ? forgetting(R) : NaN,
      bwt: sequence ? backwardTransfer(R) : NaN,
      fwt: sequence ? forwardTransfer(R) : NaN,
      panel_base: run.base.panel,
      panel_final: c.panel,
      panel_drop: run.base.panel - c.panel,
      kl_forward: meanOf(kls.map((k) => k.klForward)),
      kl_reverse: meanOf(kls.map((k) => k.klReverse)),
      instances_used: c.instances,
      diverged: "",
    };
  });
}

/** One stages.csv row: a stage checkpoint of a run, the points of the per-stage law. */
export interface StageRow {
  variant: string;
  trainer: string;
  lr: number;
  seed: number;
  order: number;
  stage: number;
  step: number;
  /** The tasks new at this stage, `a+b`. */
  tasks: string;
  kl_forward: number;
  kl_reverse: number;
  kl_prev: number;
  panel: number;
  /** Panel of π0 − panel now. */
  panel_drop: number;
  /** Forgetting so far of the tasks trained before this stage (max-based, as F). */
  prior_forgetting: number;
}

/** stages.csv's columns, in order. */
export const STAGE_COLUMNS = [
  ...RUN_COLUMNS,
  "stage",
  "step",
  "tasks",
  "kl_forward",
  "kl_reverse",
  "kl_prev",
  "panel",
  "panel_drop",
  "prior_forgetting",
] as const;

/** Every checkpoint of every stage of a run, with the forgetting so far at it. */
export function stageRows(run: RunData): StageRow[] {
  const row = (accs: Readonly<Record<string, number>>) => run.tasks.map((t) => accs[t]);
  const out: StageRow[] = [];
  const finals: number[][] = [row(run.base.accs)];
  run.stages.forEach((s, k) => {
    // Sequential stage k + 1 follows tasks 0..k−1; a joint stage has none before it.
    const done = run.joint ? [] : run.tasks.slice(0, k).map((_, c) => c);
    for (const c of s.checkpoints) {
      const R = [...finals, row(c.accs)];
      out.push({
        variant: run.variant,
        trainer: run.trainer,
        lr: run.lr,
        seed: run.seed,
        order: run.order,
        stage: s.stage,
        step: c.step,
        tasks: run.joint ? run.tasks.join("+") : run.tasks[k],
        kl_forward: c.klForward,
        kl_reverse: c.klReverse,
        kl_prev: c.klPrev,
        panel: c.panel,
        panel_drop: run.base.panel - c.panel,
        prior_forgetting: done.length > 0 && R.length > 2 ? forgettingSoFar(R, done) : NaN,
      });
    }
    finals.push(row(s.checkpoints[s.checkpoints.length - 1].accs));
  });
  return out;
}
