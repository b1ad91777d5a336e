// The one pipeline, for every recipe (README "How a run flows"):
//
//   resolve (validate everything, load and hash every input) → base π0 (pretrained and cached by
//   content hash where the recipe pretrains) → evaluate π0 → for each variant × lr × seed × order,
//   for each stage: train → at each checkpoint evaluate the stage tasks, the panel and the KLs →
//   append records (flushed after every run) → score → write.
//
// The stages of a run come from the trainer's data plan (runs/stages.ts); models, tasks and
// trainers are reached only through their interfaces, so nothing here branches on a plan kind, a
// model family or a recipe. Every CSV is a function of records.jsonl (runs/report.ts).

import { join } from "node:path";
import { writeTextAtomic } from "../lib/atomic.ts";
import { sha256Hex } from "../lib/hash.ts";
import { hashString } from "../lib/rng.ts";
import type { ScoredItem } from "../evals/results.ts";
import type { Device } from "../models/engine.ts";
import type { Policy, Request } from "../models/policy.ts";
import type { DataOptions, ScoreContext } from "../tasks/task.ts";
import { type Base, basePolicy } from "./base.ts";
import { codeExecution, type EvalSet, evalSet, evaluate, meanMetric } from "./evaluate.ts";
import { buildManifest, FORGETBENCH_VERSION, provenance } from "./manifest.ts";
import { type Progress, progress } from "./progress.ts";
import { BASE_RUN, type RecipeRecord, RecordWriter, type RunFields } from "./records.ts";
import { openOutput } from "./outdir.ts";
import {
  checkSameRun,
  clearState,
  codeVersion,
  pruneSnapshots,
  readSnapshot,
  readState,
  type ResumeState,
  saveSnapshot,
  truncateTo,
  writeState,
} from "./resume.ts";
import { CIRCUIT_FILES, CSV_FILES, type Report, writeReport } from "./report.ts";
import { checkMemory, memoryBudgets, type Plan, resolvePlan, type RunKey } from "./resolve.ts";
import type { LoadedRecipe } from "./recipes/mod.ts";
import { planStages, type Stage } from "./stages.ts";
import { circuitRecords } from "./circuits.ts";
import { inShard, type Shard, type ShardInfo } from "./shard.ts";

/**
 * The engines of the in-process families (recorded in the manifest, part of the base cache key):
 * the Llama trains on jax-js and samples rollouts on onnxruntime (models/ort_sampling.ts); the
 * MLP trains and answers on onnxruntime (models/mlp_engine.ts).
 */
export const ENGINE = "@jax-js/jax@0.1.25 + onnxruntime-node@1.30.0";

/** Where and how to run a recipe. */
export interface BenchOptions {
  readonly out: string;
  /** Cache root: pretrained bases under it, hub downloads under datasets/ and models/. */
  readonly cacheDir: string;
  readonly device: Device;
  readonly quiet: boolean;
  readonly data?: DataOptions;
  /** Training memory budget in bytes (`--memory`); the device's own limits apply as well. */
  readonly memory?: number;
  /** Consent to run model-written code (panel tasks such as humaneval) in the sandbox. */
  readonly allowCodeExecution?: boolean;
  /** Sandboxed programs scored at once (default 2). */
  readonly jobs?: number;
  /** Continue the folder's stopped run of the same recipe (runs/resume.ts). */
  readonly resume?: boolean;
  /** Replace a folder that holds another recipe's results. */
  readonly overwrite?: boolean;
  /** Run only this shard of the grid (runs/shard.ts). */
  readonly shard?: Shard;
}

/** What a finished recipe returns besides its files. */
export interface BenchResult extends Report {
  readonly out: string;
  readonly base: {
    readonly cached: boolean;
    readonly pretrained: boolean;
    readonly dir: string | null;
    /** π0's accuracies, as one line. */
    readonly scores: string;
  };
  readonly seconds: number;
  readonly paths: readonly string[];
}

/** The evaluation sets of a recipe: stage and panel tasks, and the KL requests per stage task. */
interface Measures {
  readonly sets: readonly { set: EvalSet; role: "stage" | "panel"; metric: string }[];
  readonly klRequests: ReadonlyMap<string, readonly Request[]>;
  /** Scoring context: the sandbox where a panel task runs model-written code. */
  readonly score: ScoreContext;
  readonly jobs: number;
}

/** Everything a run needs. */
interface Ctx {
  readonly plan: Plan;
  readonly base: Base;
  readonly measures: Measures;
  readonly rec: RecordWriter;
  readonly prog: Progress;
  /** Resume state: where the folder stands (written at every consistent point). */
  state: ResumeState;
}

/** Runs a validated recipe end to end and writes its result folder. */
export async function runRecipe(loaded: LoadedRecipe, opts: BenchOptions): Promise<BenchResult> {
  // The folder first: a second writer, or another recipe's results, is refused at once.
  const folder = await openOutput(opts.out, { command: "bench", what: loaded.recipe }, {
    overwrite: opts.overwrite ?? false,
    resume: opts.resume ?? false,
    say: opts.quiet ? undefined : (l) => console.error(l),
  });
  try {
    return await runIn(loaded, opts, folder.claim);
  } finally {
    await folder.close();
  }
}

/**
 * Everything a bench checks before it writes anything, then π0 in the cache: resolves the recipe
 * (data, registries), asks consent for code execution, checks the memory model, and opens or
 * pretrains the base model (then the full memory check). `bench --base-only` is this alone (a job
 * before a grid's shards, so that none of them pretrains); `--jobs` runs it in the parent, so a
 * bad input is one line before any child starts and the children find the base cached.
 */
export async function prepareBase(
  loaded: LoadedRecipe,
  opts: Omit<BenchOptions, "out">,
): Promise<{ dir: string | null; cached: boolean }> {
  const checks = await resolveChecked(loaded, opts);
  const base = await openBase(checks, opts, (l) => {
    if (!opts.quiet) console.error(l);
  });
  await base.policy.dispose();
  return { dir: base.dir, cached: base.cached };
}

/** What resolve and the first checks give: the plan, the scoring context, the memory budgets. */
interface Checked {
  readonly plan: Plan;
  readonly score: ScoreContext;
  readonly budgets: () => ReturnType<typeof memoryBudgets>;
  /** Whether the memory model could already be checked in full (else once π0 is open). */
  readonly checked: boolean;
}

/**
 * Resolve (everything a user can get wrong fails here, before any output is touched), consent
 * for code execution, and the memory model where the architecture and tokenizer are known; else
 * a lower bound now and the full check in {@link openBase}.
 */
async function resolveChecked(
  loaded: LoadedRecipe,
  opts: Omit<BenchOptions, "out">,
): Promise<Checked> {
  const plan = await resolvePlan(loaded.recipe, {
    file: loaded.file,
    data: opts.data,
    cacheDir: opts.cacheDir,
    allowCodeExecution: opts.allowCodeExecution,
  });
  const score = await codeExecution(
    [...plan.stageTasks, ...plan.panelTasks].map((t) => t.task),
    { allow: opts.allowCodeExecution ?? false },
  );
  const budgets = () => memoryBudgets({ memory: opts.memory, device: opts.device });
  const checked = checkMemory(plan, { budgets: budgets(), device: opts.device });
  return { plan, score, budgets, checked };
}

/** Opens or pretrains π0 (runs/base.ts), then the full memory check (WebGPU's buffer limit too). */
async function openBase(
  c: Checked,
  opts: Omit<BenchOptions, "out">,
  say: (line: string) => void,
): Promise<Base> {
  const { plan } = c;
  const probe = [...plan.stageTasks, ...plan.panelTasks][0];
  const base = await basePolicy(plan, {
    ...opts,
    seed: 0,
    engine: ENGINE,
    offline: opts.data?.offline,
    probe: probe.task.request(probe.loaded.splits.test[0], { shots: [] }),
    onStep: (log, total) => {
      if (log.step === 1) say(`base model: pretraining ${total} steps (cached by content hash)`);
      if (log.step % 100 === 0 || log.step === total) {
        say(`base model: step ${log.step}/${total} loss ${log.loss.toFixed(3)}`);
      }
    },
    onWait: (line) => say(`base model: ${line}`),
  });
  try {
    if (!c.checked || opts.device === "webgpu") {
      checkMemory(plan, { budgets: c.budgets(), policy: base.policy, device: opts.device });
    }
  } catch (e) {
    await base.policy.dispose();
    throw e;
  }
  return base;
}

async function runIn(
  loaded: LoadedRecipe,
  opts: BenchOptions,
  claim: () => Promise<void>,
): Promise<BenchResult> {
  const started = new Date(), t0 = performance.now();
  const checks = await resolveChecked(loaded, opts);
  const { plan, score } = checks;
  const header: RecipeRecord = {
    type: "recipe",
    forgetbench: FORGETBENCH_VERSION,
    recipe: plan.recipe,
    orders: plan.orders,
    inputs: {
      tasks: Object.fromEntries(
        [...plan.stageTasks, ...plan.panelTasks].map((t) => [t.task.id, t.task.version]),
      ),
      data: plan.files.map((f) => ({ task: f.task, split: f.split, sha256: f.sha256 })),
    },
  };
  // Resume: the stopped run must be this one (recipe, inputs, code), else a one-line refusal.
  const code = await codeVersion();
  const resumed = opts.resume ? await readState(opts.out) : null;
  if (resumed) await checkSameRun(opts.out, { header, state: resumed, code });
  else if (opts.resume && !opts.quiet) {
    console.error(`nothing to resume in ${opts.out}: starting from the beginning`);
  }
  // This process's runs: all of them, or its shard's (runs/shard.ts), in plan order.
  const mine = plan.runs.map((run, k) => ({ run, k })).filter(({ k }) => inShard(k, opts.shard));
  const skip = resumed?.done ?? 0;
  const totalSteps = mine.slice(skip).map((m) => m.run).reduce((a, r) => {
    const v = r.planned.variant;
    return a + v.steps * plan.orders[r.order].length;
  }, 0);
  const prog = progress({ quiet: opts.quiet, totalRuns: mine.length, totalSteps });
  const p = plan.recipe.pretrain;
  const base = await openBase(checks, opts, (l) => prog.phase(l));
  const measures = measuresOf(plan, base.policy, { score, jobs: opts.jobs ?? 2 });
  try {
    prog.phase(
      `forgetbench: recipe '${plan.recipe.id}' (${
        opts.shard
          ? `shard ${opts.shard.index}/${opts.shard.count}: ${mine.length} of ${plan.runs.length} runs`
          : `${plan.runs.length} runs`
      }) on ${opts.device}; ` +
        (p
          ? `base model ${base.cached ? "from the cache" : "pretrained and cached"}: ${base.dir}`
          : `model ${base.policy.id}`),
    );
    await claim();
    let rec: RecordWriter, scores = "(evaluated before the stop)";
    if (resumed) {
      // What a killed process appended after its last consistent point is dropped.
      await truncateTo(join(opts.out, "records.jsonl"), resumed.recordsBytes);
      await truncateTo(join(opts.out, "samples.jsonl"), resumed.samplesBytes);
      rec = RecordWriter.reopen(opts.out);
      prog.phase(
        `resuming ${opts.out}: ${skip} of ${mine.length} runs finished${
          resumed.current
            ? `; run ${resumed.current.run + 1} continues after stage ${resumed.current.stage}`
            : ""
        }`,
      );
    } else {
      await clearOutputs(opts.out);
      rec = await RecordWriter.create(opts.out, header);
    }
    const ctx: Ctx = {
      plan,
      base,
      measures,
      rec,
      prog,
      state: resumed ??
        { version: 1, code, recordsBytes: 0, samplesBytes: 0, done: 0, current: null },
    };
    if (!resumed) {
      scores = await evaluateAt(ctx, base.policy, { run: BASE_RUN, stage: 0, step: 0 });
      prog.phase(`base model π0: ${scores}`);
      const c0 = performance.now();
      const circuits = await circuitsAt(ctx, base.policy, { run: BASE_RUN, stage: 0, step: 0 });
      if (circuits) {
        prog.phase(
          `base model π0 circuits (${((performance.now() - c0) / 1000).toFixed(1)} s): ${circuits}`,
        );
      }
      await commit(ctx, { done: 0, current: null });
    }
    for (const [i, { run, k }] of mine.entries()) {
      if (i < skip) continue;
      prog.run(i + 1, `${run.variant} lr=${run.lr} seed=${run.seed} order=${run.order}`);
      await runOne(ctx, run, k);
      await commit(ctx, { done: i + 1, current: null });
      await pruneSnapshots(opts.out, null);
    }
    prog.done();
    // Score and write: every CSV from the records, then the manifest with every output's hash.
    // The report's header shows the provenance the manifest (written last) will hold.
    const report = await writeReport(opts.out, {
      manifest: { ...(await provenance()), options: { device: opts.device, engine: ENGINE } },
    });
    const models = await modelFiles(opts.out);
    const outputs: Record<string, string> = {};
    for (const path of [...report.paths, ...models]) {
      outputs[path.slice(opts.out.length + 1)] = await sha256Hex(await Deno.readFile(path));
    }
    const manifest = await buildManifest({
      command: "bench",
      what: { recipe: plan.recipe, recipe_file: loaded.file },
      options: { device: opts.device, engine: ENGINE },
      dataFiles: plan.files,
      base: {
        hash: base.hash,
        dir: base.dir,
        cached: base.cached,
        id: base.policy.id,
        // The checkpoint's files as read (a folder, the hub cache or a download), with sha256.
        ...(base.policy.files?.length
          ? {
            files: base.policy.files.map((f) => ({
              name: f.name,
              sha256: f.sha256,
              source: f.source,
              ...(f.url ? { url: f.url } : {}),
            })),
          }
          : {}),
      },
      outputs,
      started,
    });
    await writeTextAtomic(
      join(opts.out, "manifest.json"),
      JSON.stringify(manifest, null, 2) + "\n",
    );
    if (opts.shard) {
      const info: ShardInfo = {
        shard: opts.shard,
        runs: mine.map((m) => m.k),
        total: plan.runs.length,
        code,
      };
      await writeTextAtomic(join(opts.out, "shard.json"), JSON.stringify(info, null, 2) + "\n");
    }
    await clearState(opts.out);
    return {
      ...report,
      out: opts.out,
      base: { cached: base.cached, pretrained: p !== null, dir: base.dir, scores },
      seconds: (performance.now() - t0) / 1000,
      paths: [...report.paths, ...models, join(opts.out, "manifest.json")],
    };
  } finally {
    await base.policy.dispose();
  }
}

/**
 * The requests every checkpoint evaluates, built once (π0's tokenizer counts prompt tokens; the
 * recipe's maxNewTokens caps generation budgets).
 */
function measuresOf(
  plan: Plan,
  policy: Policy,
  opts: { score: ScoreContext; jobs: number },
): Measures {
  const countTokens = policy.countTokens?.bind(policy);
  const maxNewTokens = plan.recipe.maxNewTokens ?? undefined;
  const sets = [
    ...plan.stageTasks.map((t) => ({ t, role: "stage" as const })),
    ...plan.panelTasks.map((t) => ({ t, role: "panel" as const })),
  ].map(({ t, role }) => ({
    set: evalSet(t.task, t.loaded, { items: t.use.items, countTokens, maxNewTokens }),
    role,
    metric: t.metric,
  }));
  const kl = plan.recipe.kl.items;
  const klRequests = new Map(
    sets.filter((s) => s.role === "stage").map((s) => [
      s.set.task.id,
      kl === null ? s.set.requests : s.set.requests.slice(0, kl),
    ]),
  );
  return { sets, klRequests, ...opts };
}

/** A run stopped by a non-finite loss, reward, KL or weights, or a KL above the recipe's bound. */
class Diverged extends Error {
  constructor(readonly stage: number, readonly step: number, readonly reason: string) {
    super(`diverged at stage ${stage} step ${step}: ${reason}`);
  }
}

/** Why a step log or KL shows divergence, or null. */
function divergence(
  v: { loss?: number; reward?: number; kl?: number },
  klMax: number | null,
): string | null {
  for (const [k, x] of Object.entries(v)) {
    if (x !== undefined && !Number.isFinite(x)) return `${k} ${x}`;
  }
  if (klMax !== null && v.kl !== undefined && v.kl > klMax) {
    return `kl ${v.kl} above kl.max ${klMax}`;
  }
  return null;
}

/** Whether a policy's weights hold a NaN or an infinity (false where it cannot tell). */
async function weightsBroken(policy: Policy): Promise<boolean> {
  const w = await policy.snapshot?.();
  if (!w) return false;
  for (const { data } of w.values()) {
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return true;
  }
  return false;
}

/** Flushes the records and writes the resume state: a point a killed run continues from. */
async function commit(
  ctx: Ctx,
  at: { done: number; current: ResumeState["current"] },
): Promise<void> {
  await ctx.rec.flush();
  const sizes = await ctx.rec.sizes();
  ctx.state = {
    ...ctx.state,
    recordsBytes: sizes.records,
    samplesBytes: sizes.samples,
    done: at.done,
    current: at.current,
  };
  await writeState(ctx.rec.dir, ctx.state);
}

/**
 * One run (index `index` in the plan): its stages from the data plan, each trained, evaluated at
 * every checkpoint, the policy saved after each stage for resume. A diverging run stops and is
 * recorded as diverged; the grid goes on.
 */
async function runOne(
  ctx: Ctx,
  run: RunKey & Plan["runs"][number],
  index: number,
): Promise<void> {
  const { plan, rec } = ctx, { planned } = run, v = planned.variant;
  const fields: RunFields = {
    variant: run.variant,
    trainer: run.trainer,
    lr: run.lr,
    seed: run.seed,
    order: run.order,
  };
  const order = plan.orders[run.order];
  const stages = planStages(order, planned.plan, {
    train: plan.train,
    steps: v.steps,
    checkpoints: v.checkpoints,
  });
  const klMax = plan.recipe.kl.max;
  const policy = ctx.base.policy.clone!();
  let diverged: Diverged | null = null;
  try {
    // Resume: continue after the stage whose policy was saved.
    let from = 1;
    const cur = ctx.state.current;
    if (cur && cur.run === index) {
      await policy.restore!(await readSnapshot(rec.dir, cur.file), cur.file);
      from = cur.stage + 1;
    }
    for (const st of stages) {
      if (st.stage < from) continue;
      try {
        await runStage(ctx, { policy, st, run, fields, order, klMax });
      } catch (e) {
        if (!(e instanceof Diverged)) throw e;
        diverged = e;
        ctx.prog.note(`stopped: ${e.message}`);
        break;
      }
      const last = st.stage === stages[stages.length - 1].stage;
      if (!last) {
        const w = await policy.snapshot?.();
        if (w) {
          const file = await saveSnapshot(rec.dir, { run: index, stage: st.stage }, w);
          await commit(ctx, { done: index, current: { run: index, stage: st.stage, file } });
          await pruneSnapshots(rec.dir, file);
        }
      }
    }
    if (v.lora?.save && !diverged) await saveModel(ctx, { policy, run, save: v.lora.save });
    rec.add({
      type: "run",
      ...fields,
      tasks: order.join(">"),
      joint: planned.plan.kind === "joint",
      diverged: diverged
        ? { stage: diverged.stage, step: diverged.step, reason: diverged.reason }
        : null,
    });
  } finally {
    await policy.dispose();
  }
}

/** One stage of a run: train, evaluate at each checkpoint, record steps, KLs and timings. */
async function runStage(
  ctx: Ctx,
  a: {
    policy: Policy;
    st: Stage;
    run: RunKey & Plan["runs"][number];
    fields: RunFields;
    order: readonly string[];
    klMax: number | null;
  },
): Promise<void> {
  const { rec } = ctx, { policy, st, run, fields, order, klMax } = a;
  const v = run.planned.variant;
  // The stage's start: π_ref of the β penalties and step logs, and of kl_prev.
  const start = policy.clone!();
  try {
    const learner = policy.learner!(st.instances, {
      reference: start,
      batches: st.batches,
      accumulate: v.accumulate,
      ...(v.lora
        ? { lora: { rank: v.lora.rank, alpha: v.lora.alpha, targets: v.lora.targets } }
        : {}),
    });
    let evalSeconds = 0, circuitSeconds = 0, lastStep = 0;
    const t0 = performance.now();
    await run.planned.trainer.train(learner, {
      lr: run.lr,
      schedule: v.schedule ?? undefined,
      batch: v.batch,
      // Stage 1 trains from the run's seed itself; later stages from seeds derived from it.
      seed: (run.seed + 0x9e3779b1 * (st.stage - 1)) >>> 0,
      checkpoints: st.checkpoints,
      options: run.planned.options,
      onStep(log) {
        rec.add({
          type: "step",
          ...fields,
          stage: st.stage,
          step: log.step,
          lr_now: log.lr,
          loss: log.loss,
          kl: log.kl,
          seen: log.seen,
          kept: log.kept ?? log.seen,
          reward: log.reward ?? NaN,
        });
        ctx.prog.step(log.step, st.steps);
        lastStep = log.step;
        const why = divergence({ loss: log.loss, reward: log.reward, kl: log.kl }, klMax);
        if (why) throw new Diverged(st.stage, log.step, why);
      },
      async onCheckpoint(step) {
        const e0 = performance.now();
        let scores: string, kl: number;
        try {
          scores = await evaluateAt(ctx, policy, { run: fields, stage: st.stage, step, order });
          kl = await stageKl(ctx, { policy, start, stage: st, run, fields, step });
        } catch (e) {
          // A policy gone numerically wild fails its KL's checks (NaN log-probabilities) or its
          // sampling; the weights are copied out to look only then, never on the way.
          if (e instanceof RangeError || await weightsBroken(policy)) {
            throw new Diverged(st.stage, step, `weights not finite (${(e as Error).message})`);
          }
          throw e;
        }
        const why = divergence({ kl }, klMax);
        if (why) throw new Diverged(st.stage, step, `KL(π0‖π): ${why}`);
        evalSeconds += (performance.now() - e0) / 1000;
        // The circuits of the stage's final model (timed apart from the evaluation).
        if (step === st.steps && ctx.plan.recipe.circuits) {
          const c0 = performance.now();
          await circuitsAt(ctx, policy, { run: fields, stage: st.stage, step });
          circuitSeconds += (performance.now() - c0) / 1000;
        }
        if (step === st.steps) {
          ctx.prog.note(
            `stage ${st.stage} (${st.tasks.join("+")}): ${scores} KL(π0‖π) ${kl.toFixed(3)}`,
          );
        }
      },
    }).catch(async (e) => {
      // Non-finite weights make a trainer's own checks fail mid-step (e.g. a rollout's KL):
      // that is divergence, not a crash of the grid.
      if (!(e instanceof Diverged) && await weightsBroken(policy)) {
        throw new Diverged(st.stage, lastStep + 1, `weights not finite (${(e as Error).message})`);
      }
      throw e;
    });
    const train = (performance.now() - t0) / 1000 - evalSeconds - circuitSeconds;
    const phases: [string, number][] = [["train", train], ["evaluate", evalSeconds]];
    if (ctx.plan.recipe.circuits) phases.push(["circuits", circuitSeconds]);
    for (const [phase, seconds] of phases) {
      rec.add({ type: "timing", ...fields, phase, stage: st.stage, seconds });
    }
  } finally {
    await start.dispose();
  }
}

/**
 * Evaluates the stage tasks (π0: every one; a run: those of its task order) and the panel at a
 * checkpoint: records one eval line per task and one samples.jsonl line per task's items; returns
 * the accuracies as a short text for progress.
 */
async function evaluateAt(
  ctx: Ctx,
  policy: Policy,
  at: { run: RunFields; stage: number; step: number; order?: readonly string[] },
): Promise<string> {
  const parts: string[] = [];
  const panel: number[] = [];
  for (const { set, role, metric } of ctx.measures.sets) {
    // A run of one task alone (orders: "each") is not measured on the tasks it never trains.
    if (role === "stage" && at.order && !at.order.includes(set.task.id)) continue;
    const items = await evaluate(policy, set, {
      run: { batchSize: ctx.plan.recipe.evalBatch ?? undefined },
      ctx: ctx.measures.score,
      jobs: ctx.measures.jobs,
    });
    const accuracy = meanMetric(items, metric);
    const metrics = Object.fromEntries(
      set.task.metrics.map((m: string) => [m, meanMetric(items, m)]),
    );
    ctx.rec.add({
      type: "eval",
      ...at.run,
      stage: at.stage,
      step: at.step,
      task: set.task.id,
      role,
      accuracy,
      n: items.length,
      metrics,
    });
    if (at.stage === 0) ctx.rec.sample({ task: set.task.id, ids: set.items.map((i) => i.id) });
    ctx.rec.sample(sampleLine(at, set.task.id, items));
    if (role === "stage") parts.push(`${set.task.id} ${accuracy.toFixed(2)}`);
    else panel.push(accuracy);
  }
  if (panel.length > 0) {
    parts.push(`panel ${(panel.reduce((a, b) => a + b, 0) / panel.length).toFixed(3)}`);
  }
  return parts.join(" ");
}

/**
 * The recipe's circuit analysis of a policy (runs/circuits.ts): one circuit record per skill;
 * returns each skill's circuit size and faithfulness as a short text, or null without one.
 */
async function circuitsAt(
  ctx: Ctx,
  policy: Policy,
  at: { run: RunFields; stage: number; step: number },
): Promise<string | null> {
  const c = ctx.plan.recipe.circuits;
  if (!c) return null;
  const records = await circuitRecords(policy, ctx.plan.circuitTasks, c, at);
  for (const r of records) ctx.rec.add(r);
  return records.map((r) =>
    `${r.skill} ${r.size} heads (faithfulness ${r.faithfulness.toFixed(2)})`
  )
    .join(", ");
}

/**
 * A bench samples.jsonl line: one task at one checkpoint, its items' outputs and scores aligned
 * with the task's `ids` line (written once, before its first checkpoint): columns rather than a
 * line per item, ten times smaller for the ParityMNIST grid's 650,000 item outputs.
 */
function sampleLine(
  at: { run: RunFields; stage: number; step: number },
  task: string,
  items: readonly ScoredItem[],
): Record<string, unknown> {
  const output = (o: ScoredItem["output"]) =>
    o.kind === "classify"
      ? o.label
      : o.kind === "choices"
      ? o.logliks
      : o.outputs.length === 1
      ? o.outputs[0]
      : o.outputs;
  const names = Object.keys(items[0]?.score.metrics ?? {});
  const extracted = items.some((it) => it.score.extracted !== undefined);
  return {
    ...at.run,
    stage: at.stage,
    step: at.step,
    task,
    outputs: items.map((it) => output(it.output)),
    ...(extracted ? { extracted: items.map((it) => it.score.extracted ?? null) } : {}),
    scores: Object.fromEntries(names.map((m) => [m, items.map((it) => it.score.metrics[m])])),
  };
}

/**
 * KL(π0‖π), KL(π‖π0) and KL(stage start‖π) on the stage's new tasks' test requests, averaged over
 * the tasks; recorded as one kl line. Sequence KLs sample the reference with seeds fixed by the
 * task (π0) or by the run and stage (the stage's start), so every run meets the same π0 samples.
 */
async function stageKl(
  ctx: Ctx,
  a: {
    policy: Policy;
    start: Policy;
    stage: Stage;
    run: RunKey;
    fields: RunFields;
    step: number;
  },
): Promise<number> {
  const { recipe } = ctx.plan;
  let fwd = 0, rev = 0, prev = 0, n = 0;
  const first = a.stage.stage === 1 || a.stage.tasks.length > 1;
  for (const task of a.stage.tasks) {
    const reqs = ctx.measures.klRequests.get(task)!;
    const samples = recipe.kl.samples;
    const k0 = await a.policy.kl!(ctx.base.policy, reqs, {
      seed: hashString(`kl:${task}`),
      samples,
    });
    // At the first stage the stage's start is π0 itself.
    const kp = first ? k0 : await a.policy.kl!(a.start, reqs, {
      seed: hashString(`klprev:${task}:${a.run.seed}:${a.stage.stage}`),
      samples,
    });
    fwd += k0.forward;
    rev += k0.reverse ?? NaN;
    prev += kp.forward;
    n += reqs.length;
  }
  const t = a.stage.tasks.length;
  ctx.rec.add({
    type: "kl",
    ...a.fields,
    stage: a.stage.stage,
    step: a.step,
    tasks: a.stage.tasks.join("+"),
    kl_forward: fwd / t,
    kl_reverse: rev / t,
    kl_prev: prev / t,
    n,
  });
  return fwd / t;
}

/**
 * Writes a run's final model as its variant asks: the adapter merged into the weights (the
 * family's checkpoint layout, Policy.save) or a PEFT adapter folder whose base is π0's folder (or
 * the model the recipe names). Records the files for the manifest.
 */
async function saveModel(
  ctx: Ctx,
  a: { policy: Policy; run: RunKey; save: "merged" | "adapter" },
): Promise<void> {
  const { run } = a;
  const name = `${run.variant}-lr${run.lr}-seed${run.seed}-order${run.order}`;
  const dir = join(ctx.rec.dir, "models", name);
  // Only LoRA variants save, and only families with LoRA (llama) pass resolve with one.
  const p = a.policy as Policy & {
    saveAdapter?(dir: string, o: { baseModel: string }): Promise<void>;
  };
  if (a.save === "merged") await p.save!(dir);
  else {
    const source = ctx.plan.model.source;
    await p.saveAdapter!(dir, {
      baseModel: ctx.base.dir ?? (typeof source === "string" ? source : ctx.base.policy.id),
    });
  }
}

/** The model files runs saved (`models/<run>/*`), sorted, for the manifest. */
async function modelFiles(out: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const d of Deno.readDir(join(out, "models"))) {
      if (!d.isDirectory) continue;
      for await (const e of Deno.readDir(join(out, "models", d.name))) {
        if (e.isFile) files.push(join(out, "models", d.name, e.name));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return files.sort();
}

/** Removes a folder's previous results, so that old CSVs never sit beside new records. */
async function clearOutputs(dir: string): Promise<void> {
  const names = [
    ...CSV_FILES,
    ...CIRCUIT_FILES,
    "records.jsonl",
    "samples.jsonl",
    "manifest.json",
    "report.html",
    // Files of earlier forgetbench versions' schemas.
    "train_log.jsonl",
    "shard.json",
    "kl_points.csv",
  ];
  for (const n of names) await Deno.remove(join(dir, n)).catch(() => {});
  await Deno.remove(join(dir, "models"), { recursive: true }).catch(() => {});
  await clearState(dir);
}
