// The base model π0 of a recipe, for every family the same way: with a `pretrain` section, SFT
// (trainers/sft.ts) on the pretraining tasks' `pretrain` splits through the family's learner,
// cached by content hash as `<cache>/bases/<hash>/` in the family's own folder layout (meta.json
// written last marks it complete); without one, the model as the recipe names it (a checkpoint
// folder, a hub id, or initialised from seed 0).

import { writeTextAtomic } from "../lib/atomic.ts";
import { UsageError } from "../lib/errors.ts";
import { type Lock, tryLock } from "../lib/lock.ts";
import { hashOf } from "../lib/hash.ts";
import type { Family, ModelSpec, OpenOptions } from "../models/families.ts";
import type { Policy, Request } from "../models/policy.ts";
import { lengthGroupedOrder } from "../trainers/batches.ts";
import { sft } from "../trainers/sft.ts";
import type { StepLog } from "../trainers/types.ts";
import type { Plan } from "./resolve.ts";

/** Bump when anything below changes the pretrained weights of the same recipe. */
// 5: text pretraining in length-grouped batches, each padded to its own longest row.
const BASE_CODE_VERSION = "base/5";

/** π0 and where it came from. */
export interface Base {
  readonly policy: Policy;
  /** The cache key's hash (null without pretraining). */
  readonly hash: string | null;
  readonly dir: string | null;
  /** Whether the pretrained weights came from the cache. */
  readonly cached: boolean;
}

/** What identifies a pretrained base; its hash names the cache folder. */
function baseKey(plan: Plan, opts: { device: string; engine: string }) {
  const p = plan.recipe.pretrain!;
  return {
    code: BASE_CODE_VERSION,
    model: plan.model,
    pretrain: p,
    data: {
      seed: plan.recipe.data.seed,
      tasks: p.tasks.map((t) => ({
        task: t.task,
        sizes: plan.recipe.data.sizes[t.task] ?? null,
        files: plan.files.filter((f) => f.task === t.task).map((f) => f.sha256),
      })),
    },
    engine: opts.engine,
    device: opts.device,
  };
}

/** Opens or pretrains π0. `probe` sizes the input layers of a fresh model. */
export async function basePolicy(
  plan: Plan,
  opts: OpenOptions & {
    cacheDir: string;
    engine: string;
    probe?: Request;
    onStep?: (log: StepLog, total: number) => void;
    /** Told once when another process is pretraining the same base. */
    onWait?: (line: string) => void;
  },
): Promise<Base> {
  const { family, model } = plan;
  const p = plan.recipe.pretrain;
  if (!p) {
    return {
      policy: await family.open(model, { ...opts, seed: 0 }),
      hash: null,
      dir: null,
      cached: false,
    };
  }
  const hash = await hashOf(baseKey(plan, opts));
  const dir = `${opts.cacheDir}/bases/${hash}`;
  // One process pretrains a base; others sharing the cache (shards, --jobs) wait for its
  // meta.json. A pretraining process that died leaves a stale lock, taken over here.
  let lock: Lock | undefined, waited = false;
  while (true) {
    const cached = await readCache(family, model, { dir, opts });
    if (cached) {
      await lock?.release();
      return { policy: cached, hash, dir, cached: true };
    }
    if (lock) break;
    const got = await tryLock(dir, "forgetbench pretraining");
    if ("release" in got) lock = got;
    else {
      if (!waited) opts.onWait?.(`waiting for pid ${got.pid} (${got.command}), pretraining ${dir}`);
      waited = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await pretrain(plan, { ...opts, dir, hash });
  } finally {
    await lock.release();
  }
}

/** Pretrains π0 into the cache folder `dir` (meta.json last) and reopens it from there. */
async function pretrain(
  plan: Plan,
  opts: OpenOptions & {
    dir: string;
    hash: string;
    engine: string;
    device: string;
    onStep?: (log: StepLog, total: number) => void;
  },
): Promise<Base> {
  const { family, model } = plan, { dir, hash } = opts;
  const p = plan.recipe.pretrain!;
  const policy = await family.open(model, { ...opts, seed: p.seed });
  // Text items in length-grouped batches (each step pads to its own longest row), so the few
  // long items of a mixture do not pad every step.
  const lengths = plan.pretrain.map((inst) =>
    inst.request.kind === "generate"
      ? inst.request.prompt.length + String(inst.targets("pretrain")?.[0] ?? "").length
      : 0
  );
  const grouped = plan.pretrain.length > 0 &&
    plan.pretrain.every((i) => i.request.kind === "generate");
  const learner = policy.learner!(
    plan.pretrain,
    grouped ? { batches: lengthGroupedOrder(lengths) } : {},
  );
  await sft.train(learner, {
    lr: p.lr,
    schedule: p.schedule ?? undefined,
    checkpoints: [p.steps],
    batch: p.batch,
    seed: p.seed,
    options: { labelling: "pretrain", beta: 0 },
    onStep: (log) => opts.onStep?.(log, p.steps),
  });
  await policy.save!(dir);
  await writeTextAtomic(
    `${dir}/meta.json`,
    JSON.stringify({ key: baseKey(plan, opts), family: family.id }, null, 2) + "\n",
  );
  // Continue from what the cache holds (a BF16 or F16 checkpoint's layout rounds the trained
  // weights on save), so a run with a fresh base and one with a cached base are identical.
  await policy.dispose();
  return { policy: await family.load(dir, model, opts), hash, dir, cached: false };
}

/** A complete cache folder's policy, undefined when absent; a damaged one is a one-line error. */
async function readCache(
  family: Family,
  model: ModelSpec,
  at: { dir: string; opts: OpenOptions },
): Promise<Policy | undefined> {
  try {
    await Deno.stat(`${at.dir}/meta.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined; // absent, or never finished
    throw e;
  }
  try {
    return await family.load(at.dir, model, at.opts);
  } catch (e) {
    throw new UsageError(
      `${
        (e as Error).message.split("\n")[0]
      }; cached base model ${at.dir} is unreadable, delete it to pretrain again`,
    );
  }
}
