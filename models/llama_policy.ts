// The jax-js Llama (models/llama.ts) with its tokenizer as a Policy: it answers benchmark
// requests directly (choices by log-likelihood with lm-evaluation-harness's tokenisation,
// models/lm_encoding.ts; generation with stop strings and budgets through the KV-cached sampler
// of models/sampling.ts), measures KL(π_ref‖π) on generate requests from samples of the reference
// with the exact per-token sum over the vocabulary, and hands the trainers a Learner.

import { nn, numpy as np, tree } from "@jax-js/jax";
import { ValidationError } from "../lib/errors.ts";
import { hashString } from "../lib/rng.ts";
import type { Learner, LearnerOptions, Target, TrainInstance } from "./learner.ts";
import {
  configKey,
  initLlama,
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  oneHot,
  padBatch,
  program,
  scoreKl,
  type TokenBatch,
} from "./llama.ts";
import { loadLlama, saveLlama } from "./llama_io.ts";
import { llamaLearner } from "./llama_learner.ts";
import { cutAtStop, encodePair, generationDone, windowInput } from "./lm_encoding.ts";
import type {
  ChoicesRequest,
  GenerateRequest,
  KlOptions,
  KlResult,
  Output,
  Policy,
  Request,
  RunOptions,
} from "./policy.ts";
import { sample } from "./sampling.ts";
import { promptIds, type Tokenizer } from "./tokenizer.ts";

/** Default requests (or continuations) per forward pass. */
const DEFAULT_BATCH = 32;

/** Rounds up to a multiple of `m`, so that varying lengths share a few compiled programs. */
function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Σ log p(target) per row over the positions with weight 1 (one jitted program per config). */
function loglikProgram(config: LlamaModelConfig) {
  return program(
    `loglik:${configKey(config)}`,
    () => (p: LlamaParams, b: TokenBatch & { targets: np.Array; weights: np.Array }) => {
      const { targets, weights, ...tb } = b;
      const lp = nn.logSoftmax(llamaForward(p, tb, { config }), -1);
      const picked = lp.mul(oneHot(targets, { n: config.vocab_size, dtype: lp.dtype })).sum(-1);
      return picked.mul(weights).sum(-1);
    },
  );
}

/** A Llama-layout language model on jax-js. Sessions of its learners replace `params`. */
export class LlamaPolicy implements Policy {
  readonly family = "llama";
  readonly kinds = ["choices", "generate"] as const;
  /** The live parameters (borrowed by callers; learners' sessions replace them). */
  params: LlamaParams;
  /**
   * Reference samples of KL estimates (this policy as the reference), per parameter set, request
   * list, seed and sample count: π0's are drawn once per recipe; a step replaces the parameters.
   */
  readonly #klSamples = new WeakMap<
    LlamaParams,
    WeakMap<readonly Request[], Map<string, number[][]>>
  >();

  constructor(
    readonly config: LlamaModelConfig,
    params: LlamaParams,
    readonly tokenizer: Tokenizer,
    readonly id: string,
  ) {
    this.params = params;
  }

  /** A freshly initialised model (HF's initialisation from `seed`). */
  static init(config: LlamaModelConfig, opts: { seed: number; tokenizer: Tokenizer }): LlamaPolicy {
    if (opts.tokenizer.vocabSize > config.vocab_size) {
      throw new ValidationError(
        "model.config.vocab_size",
        `${config.vocab_size} is below the ${opts.tokenizer.name} tokenizer's ${opts.tokenizer.vocabSize} ids`,
      );
    }
    return new LlamaPolicy(
      config,
      initLlama(config, { seed: opts.seed }),
      opts.tokenizer,
      `initialised from seed ${opts.seed}`,
    );
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  async run(requests: readonly Request[], opts: RunOptions = {}): Promise<Output[]> {
    const out = new Array<Output>(requests.length);
    const choices: number[] = [], gens: number[] = [];
    requests.forEach((r, i) => {
      if (r.kind === "choices") choices.push(i);
      else if (r.kind === "generate") gens.push(i);
      else throw new ValidationError(`request ${i}`, `a language model cannot answer ${r.kind}`);
    });
    if (choices.length > 0) {
      const rs = choices.map((i) => requests[i] as ChoicesRequest);
      const lls = await this.#loglikelihoods(rs, opts);
      choices.forEach((i, k) => (out[i] = { kind: "choices", logliks: lls[k] }));
    }
    if (gens.length > 0) {
      const rs = gens.map((i) => requests[i] as GenerateRequest);
      const texts = await this.#generate(rs, opts);
      gens.forEach((i, k) => (out[i] = { kind: "generate", outputs: texts[k] }));
    }
    opts.onProgress?.(requests.length, requests.length);
    return out;
  }

  /** Σ log p(continuation | context) of every continuation, with lm-eval's tokenisation. */
  async #loglikelihoods(
    requests: readonly ChoicesRequest[],
    opts: RunOptions,
  ): Promise<number[][]> {
    const tok = this.tokenizer, maxLength = this.config.max_position_embeddings;
    const prefixId = tok.bosId ?? tok.eosId ?? 0;
    const rows = requests.flatMap((r) =>
      r.continuations.map((continuation) => {
        const pair = encodePair({ context: r.context, continuation }, {
          encode: (t) => tok.encode(t),
          prefixId,
          addBos: tok.addBos,
        });
        return { input: windowInput(pair, maxLength), full: [...pair.ctx, ...pair.cont], pair };
      })
    );
    const size = opts.batchSize ?? DEFAULT_BATCH, f = loglikProgram(this.config);
    const T = Math.min(maxLength, roundUp(Math.max(1, ...rows.map((r) => r.input.length)), 16));
    const sums: number[] = [];
    for (let s = 0; s < rows.length; s += size) {
      const chunk = rows.slice(s, s + size);
      const targets = new Int32Array(size * T), weights = new Float32Array(size * T);
      chunk.forEach((r, b) => {
        // Input position t predicts full[t + 1] of the window; the last cont.length do count.
        const window = r.full.slice(-(maxLength + 1));
        const n = r.input.length, k = Math.min(r.pair.cont.length, n);
        for (let j = 0; j < k; j++) {
          const t = n - k + j;
          targets[b * T + t] = window[t + 1];
          weights[b * T + t] = 1;
        }
      });
      const batch = padBatch(chunk.map((r) => r.input), {
        length: T,
        rows: size,
        padId: tok.padId,
      });
      const res = f(tree.ref(this.params), {
        ...batch,
        targets: np.array(targets, { dtype: np.int32 }).reshape([size, T]),
        weights: np.array(weights).reshape([size, T]),
      });
      const d = await res.data();
      for (let b = 0; b < chunk.length; b++) sums.push(d[b]);
      opts.onProgress?.(Math.min(s + size, rows.length), rows.length);
    }
    let k = 0;
    return requests.map((r) => r.continuations.map(() => sums[k++]));
  }

  /** `samples` generations per request (greedy at temperature 0), stop strings cut off. */
  async #generate(requests: readonly GenerateRequest[], opts: RunOptions): Promise<string[][]> {
    const n = opts.samples ?? 1;
    const flat = requests.flatMap((r) => Array<GenerateRequest>(n).fill(r));
    const ids = await this.#sampleRows(flat, {
      temperature: opts.temperature ?? 0,
      topP: opts.topP,
      seed: opts.seed ?? 0,
      batchSize: opts.batchSize,
    });
    const texts = ids.map((t, i) => cutAtStop(this.tokenizer.decode(t), flat[i].until));
    return requests.map((_, i) => texts.slice(i * n, (i + 1) * n));
  }

  /** New token ids per request, in chunks of `batchSize` rows, each chunk seeded on its own. */
  async #sampleRows(
    requests: readonly GenerateRequest[],
    opts: { temperature: number; topP?: number; seed: number; batchSize?: number },
  ): Promise<number[][]> {
    const size = opts.batchSize ?? 64, out: number[][] = [];
    for (let s = 0; s < requests.length; s += size) {
      const chunk = requests.slice(s, s + size);
      chunk.forEach((r, i) => {
        if (r.images?.length) {
          throw new ValidationError(`request ${s + i}`, "carries images; this model is text-only");
        }
      });
      const got = await sample(this.params, chunk.map((r) => promptIds(this.tokenizer, r.prompt)), {
        config: this.config,
        maxTokens: Math.max(...chunk.map((r) => r.maxTokens)),
        temperature: opts.temperature,
        topP: opts.topP,
        seed: s === 0 ? opts.seed : (opts.seed + hashString(`chunk:${s}`)) >>> 0,
        stopWhen: (row, t) => generationDone(chunk[row], t, this.tokenizer),
      });
      out.push(...got.tokens);
    }
    return out;
  }

  /**
   * KL(π_ref‖π) on generate requests: `samples` completions y ∼ π_ref per request (temperature
   * 1, the request's stop strings and budget), and along each the exact per-token KL summed over
   * the vocabulary (docs/metrics.md "KL", sequences); the mean over all samples. The reference's
   * samples are drawn once per request list and seed. Reverse KL is not estimated (null).
   */
  async kl(
    reference: Policy,
    requests: readonly Request[],
    opts: KlOptions = {},
  ): Promise<KlResult> {
    const ref = asLlama(reference, "kl reference");
    const gens = requests.map((r, i) => {
      if (r.kind !== "generate") {
        throw new ValidationError(
          `request ${i}`,
          `KL of a language model needs generate requests, not ${r.kind}`,
        );
      }
      return r;
    });
    const seqs = await ref.#referenceSamples(requests, gens, opts);
    const per = await scoreKl([ref.params, this.params], seqs.map((s) => s.ids), {
      config: this.config,
      batchSize: opts.batchSize ?? 32,
    });
    let total = 0;
    per.forEach((row, i) => {
      for (let t = seqs[i].promptLength; t < row.length; t++) total += row[t];
    });
    return { forward: total / Math.max(1, seqs.length), reverse: null };
  }

  /** Prompt + sampled completion of each request (× samples), memoised on this reference. */
  async #referenceSamples(
    key: readonly Request[],
    requests: readonly GenerateRequest[],
    opts: KlOptions,
  ): Promise<{ ids: number[]; promptLength: number }[]> {
    const n = opts.samples ?? 1, seed = opts.seed ?? 0, memo = `${seed}:${n}`;
    let byParams = this.#klSamples.get(this.params);
    if (!byParams) this.#klSamples.set(this.params, byParams = new WeakMap());
    let byKey = byParams.get(key);
    if (!byKey) byParams.set(key, byKey = new Map());
    const flat = requests.flatMap((r) => Array<GenerateRequest>(n).fill(r));
    const prompts = flat.map((r) => promptIds(this.tokenizer, r.prompt));
    let done = byKey.get(memo);
    if (!done) {
      const ids = await this.#sampleRows(flat, { temperature: 1, seed });
      done = ids.map((t, i) => [...prompts[i], ...t]);
      byKey.set(memo, done);
    }
    return done.map((ids, i) => ({ ids, promptLength: prompts[i].length }));
  }

  learner(instances: readonly TrainInstance[], opts: LearnerOptions): Learner<Target> {
    return llamaLearner(this, instances, opts) as Learner<Target>;
  }

  clone(): LlamaPolicy {
    return new LlamaPolicy(this.config, tree.ref(this.params), this.tokenizer, this.id);
  }

  /** Writes a Hugging Face folder: config.json and model.safetensors (models/llama_io.ts). */
  async save(dir: string): Promise<void> {
    const tok = this.tokenizer;
    await saveLlama(dir, {
      config: this.config,
      params: this.params,
      extra: {
        bos_token_id: tok.bosId,
        eos_token_id: tok.eosId,
        pad_token_id: tok.padId,
        forgetbench_tokenizer: tok.name,
      },
    });
  }

  dispose(): Promise<void> {
    tree.dispose(this.params);
    return Promise.resolve();
  }
}

/** `p` as a Llama policy, or a one-line error naming what needed one. */
function asLlama(p: unknown, what: string): LlamaPolicy {
  if (!(p instanceof LlamaPolicy)) throw new ValidationError(what, "must be a Llama policy");
  return p;
}

/** Reads a folder written by LlamaPolicy.save (or a float32 HF Llama/Qwen2 checkpoint). */
export async function loadLlamaPolicy(
  dir: string,
  opts: { tokenizer: Tokenizer },
): Promise<LlamaPolicy> {
  const { config, params } = await loadLlama(dir);
  return new LlamaPolicy(config, params, opts.tokenizer, dir);
}
