// The LM base model π0: a tiny character-level Llama (models/llama.ts, models/char_tokenizer.ts)
// pretrained with SFT on a shuffled mixture of every general skill's train split
// (tasks/lm/skills.ts), then scored greedily on each skill's heldout split: the "general panel"
// that later measures forgetting. Cached by content hash as `cacheDir/lm-base-<hash>/`
// (config.json + model.safetensors via saveLlama, and meta.json with the losses and panel,
// written last), so repeated runs reuse it. The hash covers everything that shapes the weights:
// config, seed, steps, batch, lr, data spec, device and CODE_VERSION.

import { tree } from "@jax-js/jax";
import { writeTextAtomic } from "../lib/atomic.ts";
import { UsageError } from "../lib/errors.ts";
import { hashOf } from "../lib/hash.ts";
import { permutation, rng } from "../lib/rng.ts";
import {
  BOS_ID,
  decode,
  encode,
  NEWLINE_ID,
  PAD_ID,
  VOCAB_SIZE,
} from "../models/char_tokenizer.ts";
import { type Device, startEngine } from "../models/engine.ts";
import {
  countParams,
  initLlama,
  type LlamaModelConfig,
  type LlamaParams,
  sample,
} from "../models/llama.ts";
import { loadLlama, saveLlama } from "../models/llama_io.ts";
import {
  disposeTrainState,
  type Example,
  initTrainState,
  makeTrainStep,
  type SftBatch,
  sftBatch,
  sftLoss,
} from "../models/llama_losses.ts";
import { MAX_ANSWER } from "../tasks/lm/items.ts";
import {
  generateSkill,
  sampleSkill,
  scoreSkill,
  SKILL_NAMES,
  type SkillItem,
  type SkillName,
} from "../tasks/lm/skills.ts";

/** Bump when anything below changes the trained weights (schedule, data encoding, loss). */
export const CODE_VERSION = "lm-base/2";

/** Every training row is padded to this many tokens (one compiled program). */
export const SEQ_LEN = 24;

/**
 * Default architecture (455,936 parameters): 3 layers, d 128, SwiGLU 256, 4 query heads over 2 kv
 * heads, tied head, the char tokenizer's vocabulary.
 */
export const DEFAULT_LM_CONFIG: LlamaModelConfig = {
  model_type: "llama",
  vocab_size: VOCAB_SIZE,
  hidden_size: 128,
  intermediate_size: 256,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 32,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: true,
};

/**
 * Default pretraining settings for {@link DEFAULT_LM_CONFIG}: 105–140 s on 2 wasm CPU cores
 * (0.18–0.23 s per step), final loss ~0.8, general panel 0.40 (copy 0.22, reverse 0.34, sort
 * 0.44, arith 0.09, compare 0.66, brackets 0.75, lookup 0.31). Measured on the same skills: 1000
 * steps at lr 4e-3 gave no better panel (0.39); with 2–12-character strings, 4 layers, SwiGLU 384
 * and 760 steps at 2e-3 (11 min) the panel stayed near chance.
 */
export const DEFAULT_LM_TRAINING = {
  steps: 600,
  batch: 32,
  lr: 3e-3,
  itemsPerSkill: 4000,
} as const;

/** What one training step reports to `onStep`. */
export interface LmStepInfo {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
}

/** Options of {@link pretrainLmBase}. */
export interface LmBaseOptions {
  readonly config: LlamaModelConfig;
  /** Seeds the initial weights, the training items and the batch order. */
  readonly seed: number;
  readonly steps: number;
  /** Rows per step. */
  readonly batch: number;
  /** Peak AdamW learning rate (linear warmup over 5% of steps, cosine decay to 10%). */
  readonly lr: number;
  /** Train items per skill (arith has ~8k distinct train prompts). */
  readonly itemsPerSkill: number;
  readonly cacheDir: string;
  /** Engine device (default wasm); part of the cache key. */
  readonly device?: Device;
  /** Heldout items per skill in the panel (default 100; not part of the cache key). */
  readonly evalItems?: number;
  /** Called after every step. */
  readonly onStep?: (info: LmStepInfo) => void;
}

/** A pretrained LM base. */
export interface LmBase {
  /** The weights (the caller owns them; dispose with tree.dispose). */
  readonly params: LlamaParams;
  readonly config: LlamaModelConfig;
  /** Greedy heldout accuracy per skill, in [0, 1]. */
  readonly panel: Record<SkillName, number>;
  /** Whether the weights came from the cache. */
  readonly cached: boolean;
  /** The cache key and folder. */
  readonly hash: string;
  readonly dir: string;
  /** Training loss per step (as recorded when it was trained). */
  readonly losses: readonly number[];
}

/** meta.json of a cache folder. */
interface Meta {
  readonly key: unknown;
  readonly losses: number[];
  readonly evalItems: number;
  readonly panel: Record<SkillName, number>;
  readonly wallSeconds: number;
}

/** An item as SFT example: bos + prompt, then answer + "\n" as the target. */
export function skillExample(item: SkillItem): Example {
  return { prompt: [BOS_ID, ...encode(item.prompt)], completion: encode(item.answer + "\n") };
}

/** What identifies an LM base; its hash names the cache folder. */
export function lmBaseKey(opts: LmBaseOptions) {
  return {
    code: CODE_VERSION,
    config: opts.config,
    seed: opts.seed,
    steps: opts.steps,
    batch: opts.batch,
    lr: opts.lr,
    data: {
      skills: SKILL_NAMES,
      itemsPerSkill: opts.itemsPerSkill,
      split: "train",
      seqLen: SEQ_LEN,
    },
    device: opts.device ?? "wasm",
  };
}

/** Linear warmup over the first 5% of steps, then cosine from `lr` down to lr/10. */
function lrAt(step: number, opts: { steps: number; lr: number }): number {
  const warm = Math.max(1, Math.round(opts.steps * 0.05));
  if (step < warm) return (opts.lr * (step + 1)) / warm;
  const f = (step - warm) / Math.max(1, opts.steps - warm);
  return opts.lr * (0.1 + 0.45 * (1 + Math.cos(Math.PI * f)));
}

function checkOptions(opts: LmBaseOptions): void {
  for (const k of ["steps", "batch", "itemsPerSkill"] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) {
      throw new UsageError(`pretrainLmBase: ${k} must be a positive integer, got ${opts[k]}`);
    }
  }
  if (!(opts.lr > 0)) throw new UsageError(`pretrainLmBase: lr must be > 0, got ${opts.lr}`);
  if (opts.config.vocab_size < VOCAB_SIZE) {
    throw new UsageError(
      `pretrainLmBase: vocab_size ${opts.config.vocab_size} < the char tokenizer's ${VOCAB_SIZE}`,
    );
  }
}

/** SFT on the skill mixture; returns the trained weights and the loss per step. */
async function train(opts: LmBaseOptions): Promise<{ params: LlamaParams; losses: number[] }> {
  const { config, seed } = opts;
  const examples: Example[] = [];
  for (const name of SKILL_NAMES) {
    for (const item of sampleSkill(name, { seed, n: opts.itemsPerSkill, split: "train" })) {
      const ex = skillExample(item);
      if (ex.prompt.length + ex.completion.length > SEQ_LEN) {
        throw new UsageError(`pretrainLmBase: item ${item.id} is longer than ${SEQ_LEN} tokens`);
      }
      examples.push(ex);
    }
  }
  const r = rng(seed, 0x1b05e);
  let order = permutation(examples.length, r), at = 0;
  const sft = makeTrainStep((p, b: SftBatch) => sftLoss(p, b, { config }), {
    lr: opts.lr,
    clipNorm: 1,
  });
  let state = initTrainState(initLlama(config, { seed }));
  const losses: number[] = [];
  try {
    for (let step = 0; step < opts.steps; step++) {
      const rows: Example[] = [];
      while (rows.length < opts.batch) {
        if (at === order.length) [order, at] = [permutation(examples.length, r), 0];
        rows.push(examples[order[at++]]);
      }
      const lr = lrAt(step, opts);
      const res = await sft.step(state, sftBatch(rows, { length: SEQ_LEN, padId: PAD_ID }), { lr });
      state = res.state;
      losses.push(res.loss);
      opts.onStep?.({ step, loss: res.loss, lr });
    }
  } catch (e) {
    disposeTrainState(state);
    throw e;
  } finally {
    sft.dispose();
  }
  tree.dispose([state.m, state.v]);
  return { params: state.params, losses };
}

/**
 * Greedy accuracy per skill on `opts.items` heldout items each (drawn with `opts.seed`, default
 * 0, the same panel for every model): sample at temperature 0, stop at "\n", scoreSkill.
 * Borrows `params`.
 */
export async function generalPanel(
  params: LlamaParams,
  opts: { config: LlamaModelConfig; items: number; seed?: number; batchSize?: number },
): Promise<Record<SkillName, number>> {
  const panel = {} as Record<SkillName, number>;
  const size = opts.batchSize ?? 64;
  for (const name of SKILL_NAMES) {
    const items = generateSkill(name, { seed: opts.seed ?? 0, n: opts.items, split: "heldout" });
    let right = 0;
    for (let s = 0; s < items.length; s += size) {
      const chunk = items.slice(s, s + size);
      const out = await sample(params, chunk.map((it) => skillExample(it).prompt), {
        config: opts.config,
        maxTokens: MAX_ANSWER + 1,
        temperature: 0,
        stopToken: NEWLINE_ID,
      });
      chunk.forEach((it, i) => (right += scoreSkill(it, decode(out.tokens[i]))));
    }
    panel[name] = items.length ? right / items.length : 0;
  }
  return panel;
}

/** Reads a cache folder; a damaged one is a one-line UsageError naming the file. */
async function readCache(
  dir: string,
): Promise<{ meta: Meta; params: LlamaParams; config: LlamaModelConfig } | undefined> {
  const metaPath = `${dir}/meta.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(metaPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined; // absent or never finished
    throw e;
  }
  const damaged = (msg: string): never => {
    throw new UsageError(
      `${
        msg.replace(/\s*\n\s*/g, " ")
      }; cached LM base is unreadable, delete ${dir} to pretrain again`,
    );
  };
  let meta: Meta | undefined;
  try {
    meta = JSON.parse(text) as Meta;
  } catch (e) {
    damaged(`${metaPath}: not JSON (${(e as Error).message})`);
  }
  if (!meta || !Array.isArray(meta.losses) || typeof meta.panel !== "object") {
    damaged(`${metaPath}: missing losses or panel`);
  }
  try {
    const { config, params } = await loadLlama(dir);
    return { meta: meta!, params, config };
  } catch (e) {
    return damaged((e as Error).message);
  }
}

/**
 * Loads the LM base from `cacheDir/lm-base-<hash>/`, or pretrains it (SFT on all skills' train
 * splits, teacher forcing on answer + "\n", prompts masked), scores the general panel and caches
 * it. Starts the engine on `device` (default wasm).
 *
 * @example
 * const base = await pretrainLmBase({
 *   ...DEFAULT_LM_TRAINING, config: DEFAULT_LM_CONFIG, seed: 0, cacheDir: "results/cache",
 * });
 */
export async function pretrainLmBase(opts: LmBaseOptions): Promise<LmBase> {
  checkOptions(opts);
  await startEngine(opts.device ?? "wasm");
  const key = lmBaseKey(opts);
  const hash = await hashOf(key);
  const dir = `${opts.cacheDir}/lm-base-${hash}`;
  const evalItems = opts.evalItems ?? 100;
  const hit = await readCache(dir);
  if (hit) {
    const panel = hit.meta.evalItems === evalItems
      ? hit.meta.panel
      : await generalPanel(hit.params, { config: hit.config, items: evalItems });
    return {
      params: hit.params,
      config: hit.config,
      panel,
      cached: true,
      hash,
      dir,
      losses: hit.meta.losses,
    };
  }
  const t0 = performance.now();
  const { params, losses } = await train(opts);
  const wallSeconds = (performance.now() - t0) / 1000;
  const panel = await generalPanel(params, { config: opts.config, items: evalItems });
  await saveLlama(dir, {
    config: opts.config,
    params,
    extra: { bos_token_id: BOS_ID, eos_token_id: NEWLINE_ID, pad_token_id: PAD_ID },
  });
  const meta: Meta = { key, losses, evalItems, panel, wallSeconds };
  await writeTextAtomic(`${dir}/meta.json`, JSON.stringify(meta, null, 2) + "\n");
  return { params, config: opts.config, panel, cached: false, hash, dir, losses };
}

/** Parameter count of a config (re-exported for reports). */
export function lmParamCount(config: LlamaModelConfig): number {
  return countParams(config);
}

/** Frees an LM base's weights. */
export function disposeLmBase(base: LmBase): void {
  tree.dispose(base.params);
}
