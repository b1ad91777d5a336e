// The base model π0: an MLP pretrained with SFT on both tasks' `pretrain` splits (a limited
// subset, so it is competent but imperfect on each). Cached by content hash under the cache
// folder, as safetensors, so repeated benches reuse it; the hash covers everything that shapes
// the weights (model, pretraining settings, data seed, splits, data checksums, engine, device).

import { UsageError } from "../lib/errors.ts";
import { hashOf } from "../lib/hash.ts";
import { writeBytesAtomic } from "../lib/atomic.ts";
import { MlpPolicy } from "../models/mlp.ts";
import { decodeSafetensors, encodeSafetensors } from "../models/safetensors.ts";
import { sft } from "../trainers/sft.ts";
import { type ClassificationData, mlpLearner } from "../trainers/mod.ts";
import type { ExperimentData } from "./data.ts";
import type { Recipe } from "./recipe.ts";

/** Output classes of the shared head. */
export const CLASSES = 10;

/** What identifies a base model; its hash names the cache file. */
export function baseKey(
  recipe: Recipe,
  data: ExperimentData,
  opts: { device: string; engine: string },
) {
  return {
    format: 1,
    model: recipe.model,
    base: recipe.base,
    dataSeed: recipe.dataSeed,
    splits: recipe.splits ?? null,
    tasks: [recipe.newTask, recipe.priorTask],
    checksums: data.checksums,
    engine: opts.engine,
    device: opts.device,
  };
}

/** Pretrains π0 on the pretraining mix (plain SFT on the true labels). */
export async function pretrainBase(recipe: Recipe, data: ExperimentData): Promise<MlpPolicy> {
  const p = data.pretrain;
  const policy = MlpPolicy.init(
    { inputDim: p.dim, hidden: recipe.model.hidden, classes: CLASSES },
    recipe.base.seed,
  );
  const mix: ClassificationData = {
    x: p.x,
    n: p.n,
    dim: p.dim,
    classes: CLASSES,
    lp0: new Float32Array(p.n * CLASSES), // unused: β = 0
    reward: () => 0,
    correct: (i) => [p.labels[i]],
    labelling: (name) => (name === "pretrain" ? (i) => [p.labels[i]] : undefined),
  };
  await sft.train(mlpLearner(policy, mix), {
    lr: recipe.base.lr,
    checkpoints: [recipe.base.steps],
    batch: recipe.base.batch,
    seed: recipe.base.seed,
    options: { labelling: "pretrain", beta: 0 },
  });
  return policy;
}

/** Loads π0 from the cache, or pretrains and caches it. */
export async function baseModel(
  recipe: Recipe,
  data: ExperimentData,
  opts: { cacheDir: string; device: string; engine: string },
): Promise<{ policy: MlpPolicy; hash: string; path: string; cached: boolean }> {
  const hash = await hashOf(baseKey(recipe, data, opts));
  const path = `${opts.cacheDir}/base-${hash}.safetensors`;
  const config = { inputDim: data.pretrain.dim, hidden: recipe.model.hidden, classes: CLASSES };
  let bytes: Uint8Array | undefined;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (bytes) {
    try {
      const policy = MlpPolicy.fromWeights(config, decodeSafetensors(bytes, path).weights);
      return { policy, hash, path, cached: true };
    } catch (e) {
      throw new UsageError(
        `${path}: cached base model is unreadable (${
          (e as Error).message
        }); delete it to pretrain again`,
      );
    }
  }
  const policy = await pretrainBase(recipe, data);
  await Deno.mkdir(opts.cacheDir, { recursive: true });
  await writeBytesAtomic(
    path,
    encodeSafetensors(await policy.weights(), { forgetbench: "base", key: hash }),
  );
  return { policy, hash, path, cached: false };
}
