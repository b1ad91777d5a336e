// Supervised fine-tuning on a labelling of the new task (METRICS.md "Trainers"):
//   sft1 / sft2: the task's fixed labellings (one target per item, drawn once from the seed
//                where the labelling allows several: a dataset annotated once);
//   oracle:      target = π0 restricted to the correct outputs and renormalised, the
//                KL-minimal correct policy ("Oracle SFT (ParityMNIST)").
// Also the loop behind sft_kl, which adds β·KL(π0‖π) on the same inputs.

import { ValidationError } from "../lib/errors.ts";
import { hashString, rng } from "../lib/rng.ts";
import { meanKL } from "../evals/kl.ts";
import type { MlpPolicy } from "../models/mlp.ts";
import { batchOrder, gather } from "./batches.ts";
import { onlyKeys } from "./options.ts";
import type { ClassificationData, Trainer, TrainOptions } from "./types.ts";

/** Target distributions q (n × classes) for a labelling. */
export function sftTargets(
  data: ClassificationData,
  labelling: string,
  seed: number,
): Float32Array {
  const c = data.classes, q = new Float32Array(data.n * c);
  if (labelling === "oracle") {
    for (let i = 0; i < data.n; i++) {
      const ok = data.correct(i);
      let z = 0;
      for (const y of ok) z += Math.exp(data.lp0[i * c + y]);
      for (const y of ok) q[i * c + y] = Math.exp(data.lp0[i * c + y]) / z;
    }
    return q;
  }
  const allowed = data.labelling(labelling);
  if (!allowed) {
    throw new ValidationError(
      "trainer options.labelling",
      `the task has no labelling '${labelling}'`,
    );
  }
  const r = rng(seed, hashString(`labels:${labelling}`));
  for (let i = 0; i < data.n; i++) {
    const ys = allowed(i);
    q[i * c + ys[ys.length === 1 ? 0 : r.int(ys.length)]] = 1;
  }
  return q;
}

/** The SFT loop: soft-target cross-entropy on `q`, plus β·KL(π0‖π) when β > 0. */
export async function sftLoop(
  policy: MlpPolicy,
  data: ClassificationData,
  opts: TrainOptions<{ labelling: string; beta: number }>,
): Promise<void> {
  const q = sftTargets(data, opts.options.labelling, opts.seed);
  const next = batchOrder(data.n, opts.batch, opts.seed);
  const adam = policy.adam({ lr: opts.lr });
  const last = Math.max(...opts.checkpoints);
  try {
    for (let step = 1; step <= last; step++) {
      const idx = next();
      const lp0 = gather(data.lp0, idx, data.classes);
      const r = await adam.soft(gather(data.x, idx, data.dim), {
        q: gather(q, idx, data.classes),
        lp0,
        beta: opts.options.beta,
      });
      opts.onStep?.({ step, loss: r.loss, kl: meanKL(lp0, r.logProbs, { classes: data.classes }) });
      if (opts.checkpoints.includes(step)) await opts.onCheckpoint?.(step);
    }
  } finally {
    adam.dispose();
  }
}

/** Parses `labelling` (sft1, sft2, oracle, or any labelling the task declares). */
export function parseLabelling(raw: Readonly<Record<string, unknown>>, where: string): string {
  const v = raw.labelling ?? "sft1";
  if (typeof v !== "string" || v === "") {
    throw new ValidationError(`${where}.labelling`, "must be a labelling name");
  }
  return v;
}

/** Plain SFT. Options: `labelling` ("sft1" default, "sft2", "oracle"). */
export const sft: Trainer<{ labelling: string; beta: number }> = {
  id: "sft",
  description:
    "supervised fine-tuning on a labelling (sft1, sft2, or oracle = π0 renormalised over correct outputs)",
  parseOptions(raw, where) {
    onlyKeys(raw, ["labelling"], where);
    return { labelling: parseLabelling(raw, where), beta: 0 };
  },
  train: sftLoop,
};
