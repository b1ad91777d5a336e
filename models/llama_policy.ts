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
  bucket,
  configKey,
  dtypeOf,
  initLlama,
  llamaForward,
  type LlamaModelConfig,
  type LlamaParams,
  oneHot,
  padBatch,
  paramsFromWeights,
  program,
  rowsWithin,
  scoreKl,
  type TokenBatch,
  weightsOf,
} from "./llama.ts";
import type {
  CheckpointFile,
  CheckpointOrigin,
  GenerationDefaults,
  SourceOptions,
} from "./checkpoint.ts";
import { checkpointDtype, loadLlama, saveLlama } from "./llama_io.ts";
import { llamaLearner } from "./llama_learner.ts";
import {
  adapterParams,
  checkLoraOptions,
  initLora,
  loadLoraAdapter,
  loraModules,
  type LoraOptions,
  type LoraParams,
  type LoraState,
  mergedWeights,
  sameLoraOptions,
  saveLoraAdapter,
} from "./lora.ts";
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
import { choicePairs } from "./policy.ts";
import { type GenerationEngine, OrtSampler, resolveEngine } from "./ort_sampling.ts";
import { sample, type SampleOptions, type Samples } from "./sampling.ts";
import type { NamedWeights, SafetensorsDtype } from "./safetensors.ts";
import { loadHfTokenizer, promptIds, type Tokenizer, withChat } from "./tokenizer.ts";

/** Default requests (or continuations) per forward pass. */
const DEFAULT_BATCH = 32;

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

/** Where a policy's weights came from, and how to save them. */
export interface LlamaPolicyOptions {
  /** The checkpoint it was loaded from: save() writes the same layout, dtypes and files. */
  readonly origin?: CheckpointOrigin;
  /** generation_config.json's defaults (eos/bos/pad ids, temperature, top_p, ...). */
  readonly generation?: GenerationDefaults;
  /** Every file read with its sha256, for manifests. */
  readonly files?: readonly CheckpointFile[];
  /** The dtype save() stores tensors in (default: as loaded; F32 for a fresh model). */
  readonly saveDtype?: SafetensorsDtype;
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

  /**
   * Which sampler generates (evaluation, KL samples, RL rollouts): "jax" (models/sampling.ts on
   * the jax-js device), "onnxruntime" (models/ort_sampling.ts on the CPU) or "auto" (default; see
   * {@link samplingEngine}). Either draws the same tokens from equal logits.
   */
  sampler: GenerationEngine = "auto";
  #ort: OrtSampler | null = null;

  constructor(
    readonly config: LlamaModelConfig,
    params: LlamaParams,
    readonly tokenizer: Tokenizer,
    readonly id: string,
    readonly checkpoint: LlamaPolicyOptions = {},
  ) {
    this.params = params;
  }

  /** The stored dtype of the checkpoint it was loaded from (F32 for a fresh model). */
  get dtype(): SafetensorsDtype {
    return this.checkpoint.origin ? checkpointDtype(this.checkpoint.origin.dtypes) : "F32";
  }

  /** generation_config.json's defaults of the checkpoint it was loaded from ({} if none). */
  get generation(): GenerationDefaults {
    return this.checkpoint.generation ?? {};
  }

  /** What ends a generation: the tokenizer's EOS and every EOS id of generation_config.json. */
  get stops(): { stopIds: ReadonlySet<number>; decode(ids: readonly number[]): string } {
    const ids = [this.tokenizer.eosId, ...(this.generation.eosIds ?? [])];
    const stopIds = new Set(ids.filter((x): x is number => x !== null));
    return { stopIds, decode: (t) => this.tokenizer.decode(t) };
  }

  /** Every checkpoint file it was loaded from, with its sha256 (empty for a fresh model). */
  get files(): readonly CheckpointFile[] {
    return this.checkpoint.files ?? [];
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

  /**
   * Σ log p(continuation | context) of every continuation (after its own context where the
   * request has `contexts`), with lm-eval's tokenisation.
   */
  async #loglikelihoods(
    requests: readonly ChoicesRequest[],
    opts: RunOptions,
  ): Promise<number[][]> {
    const tok = this.tokenizer, maxLength = this.config.max_position_embeddings;
    const prefixId = tok.bosId ?? tok.eosId ?? 0;
    const rows = requests.flatMap((r) =>
      choicePairs(r).map((p) => {
        const pair = encodePair(p, {
          encode: (t) => tok.encode(t),
          prefixId,
          addBos: tok.addBos,
        });
        return { input: windowInput(pair, maxLength), full: [...pair.ctx, ...pair.cont], pair };
      })
    );
    const f = loglikProgram(this.config);
    const T = Math.min(maxLength, bucket(Math.max(1, ...rows.map((r) => r.input.length)), 16));
    const size = rowsWithin(this.config, T, opts.batchSize ?? DEFAULT_BATCH);
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

  /**
   * The engine {@link sample} runs on: {@link sampler}, with "auto" resolved to onnxruntime when
   * the weights are float32 and fit one ONNX protobuf (models/ort_sampling.ts resolveEngine;
   * ~9× jax-js's tokens/s on the CPU, bench/llama_step.ts), else jax (half-precision weights
   * would sample from other logits; larger models are better served by jax-js on a GPU).
   */
  samplingEngine(): "jax" | "onnxruntime" {
    if (this.sampler === "auto" && dtypeOf(this.params) !== np.float32) return "jax";
    return resolveEngine(this.sampler, this.config);
  }

  /**
   * Samples from the live parameters as models/sampling.ts `sample()` does, on
   * {@link samplingEngine} (which it also reports). onnxruntime reloads the weights whenever
   * they changed since its last call. Its log-probabilities are onnxruntime's (equal to jax-js's
   * up to float32 rounding); a loss that needs the trained model's own recomputes them.
   */
  async sample(
    prompts: readonly (readonly number[])[],
    opts: Omit<SampleOptions, "config">,
  ): Promise<Samples & { engine: "jax" | "onnxruntime" }> {
    const engine = this.samplingEngine(), o = { ...opts, config: this.config };
    if (engine === "jax") return { ...(await sample(this.params, prompts, o)), engine };
    this.#ort ??= new OrtSampler(this.config);
    return { ...(await this.#ort.sample(this.params, prompts, o)), engine };
  }

  /**
   * The logits of every position of each sequence ([length × V] row-major per sequence) on
   * onnxruntime, from the sampler's session with the live weights (loaded when they changed).
   */
  async ortLogits(seqs: readonly (readonly number[])[]): Promise<Float32Array[]> {
    this.#ort ??= new OrtSampler(this.config);
    return await this.#ort.logits(this.params, seqs);
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
    requests.forEach((r, i) => {
      if (r.images?.length) {
        throw new ValidationError(`request ${i}`, "carries images; this model is text-only");
      }
    });
    const prompts = requests.map((r) => promptIds(this.tokenizer, r.prompt));
    const longest = Math.max(0, ...requests.map((r, i) => prompts[i].length + r.maxTokens));
    const size = rowsWithin(this.config, longest, opts.batchSize ?? 64);
    const out: number[][] = [], stops = this.stops;
    for (let s = 0; s < requests.length; s += size) {
      const chunk = requests.slice(s, s + size);
      const got = await this.sample(prompts.slice(s, s + size), {
        maxTokens: Math.max(...chunk.map((r) => r.maxTokens)),
        temperature: opts.temperature,
        topP: opts.topP,
        seed: s === 0 ? opts.seed : (opts.seed + hashString(`chunk:${s}`)) >>> 0,
        stopWhen: (row, t) => generationDone(chunk[row], t, stops),
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

  // ---- LoRA (models/lora.ts): an attached adapter keeps the frozen base weights apart, and
  // `params` holds the merged weights W + (alpha/r)·B·A that every forward pass uses, so
  // evaluation, sampling, KL and save() see the adapted model unchanged. ----

  /** The attached LoRA adapter, or null. */
  lora: LoraState | null = null;

  /**
   * Attaches a fresh adapter (PEFT's initialisation from `seed`: B = 0, so the model is
   * unchanged), or keeps the attached one when its options are the same. `where` names the
   * options in errors.
   */
  attachLora(options: LoraOptions, opts: { seed: number; where?: string }): LoraState {
    const where = opts.where ?? "lora";
    checkLoraOptions(options, where);
    const modules = loraModules(this.config, { targets: options.targets, where });
    if (this.lora) {
      if (sameLoraOptions(this.lora.options, options)) return this.lora;
      throw new ValidationError(
        where,
        `the model already carries a LoRA adapter of r ${this.lora.options.rank} on ${
          this.lora.options.targets.join(", ")
        }; merge it first (mergeAndUnload)`,
      );
    }
    const weights = initLora(modules, { rank: options.rank, seed: opts.seed });
    this.lora = { options, modules, base: this.params, weights };
    this.params = tree.ref(this.params); // B = 0: the merged weights are the base's
    return this.lora;
  }

  /** Takes over new adapter weights (a training step's) and recomputes the merged weights. */
  setLoraWeights(weights: LoraParams): void {
    if (!this.lora) throw new ValidationError("lora", "no adapter is attached");
    this.lora.weights = weights;
    const old = this.params;
    this.params = mergedWeights(this.lora, { config: this.config });
    tree.dispose(old);
  }

  /** Keeps the merged weights as the model's own and drops the adapter (PEFT's merge_and_unload). */
  mergeAndUnload(): void {
    if (!this.lora) return;
    tree.dispose([this.lora.base, this.lora.weights]);
    this.lora = null;
  }

  /**
   * Writes the attached adapter as a PEFT folder (adapter_config.json,
   * adapter_model.safetensors); `baseModel` is its base_model_name_or_path. save() writes the
   * merged model instead.
   */
  async saveAdapter(dir: string, opts: { baseModel: string }): Promise<void> {
    if (!this.lora) throw new ValidationError(dir, "the model has no LoRA adapter to save");
    await saveLoraAdapter(dir, { ...this.lora, baseModel: opts.baseModel });
  }

  /** Attaches the adapter of a PEFT folder (models/lora.ts loadLoraAdapter) to this model. */
  async loadAdapter(dir: string): Promise<void> {
    if (this.lora) throw new ValidationError(dir, "the model already carries a LoRA adapter");
    const loaded = await loadLoraAdapter(dir);
    const { modules, weights } = adapterParams(loaded, {
      config: this.config,
      where: `${dir}/adapter_model.safetensors`,
    });
    this.lora = { options: loaded.options, modules, base: this.params, weights };
    this.params = mergedWeights(this.lora, { config: this.config });
  }

  clone(): LlamaPolicy {
    const c = new LlamaPolicy(
      this.config,
      tree.ref(this.params),
      this.tokenizer,
      this.id,
      this.checkpoint,
    );
    const l = this.lora;
    c.lora = l && { ...l, base: tree.ref(l.base), weights: tree.ref(l.weights) };
    c.sampler = this.sampler;
    return c;
  }

  /**
   * Writes a Hugging Face folder (models/llama_io.ts saveLlama): a model loaded from a checkpoint
   * in the layout it came in (its config.json and generation_config.json, tensors in their
   * stored dtypes or `saveDtype`, sharded with an index if it was) with its tokenizer files; a
   * fresh model as config.json and a float32 model.safetensors.
   */
  async save(dir: string): Promise<void> {
    const tok = this.tokenizer, { origin, saveDtype } = this.checkpoint;
    await saveLlama(dir, {
      config: this.config,
      params: this.params,
      origin,
      dtype: saveDtype,
      tokenizerFiles: tok.files,
      extra: {
        bos_token_id: tok.bosId,
        eos_token_id: tok.eosId,
        pad_token_id: tok.padId,
        forgetbench_tokenizer: tok.name,
      },
    });
  }

  async snapshot(): Promise<NamedWeights | null> {
    if (this.lora) return null; // the adapter's A and B are state the merged weights do not show
    const out: NamedWeights = new Map();
    const shapes = new Map(Object.entries(this.params).map(([k, a]) => [k, [...a.shape]]));
    for (const [name, data] of await weightsOf(this.params)) {
      out.set(name, { shape: shapes.get(name)!, data });
    }
    return out;
  }

  restore(weights: NamedWeights, where: string): Promise<void> {
    for (const [name, a] of Object.entries(this.params)) {
      const t = weights.get(name);
      if (!t || t.shape.join() !== a.shape.join()) {
        throw new ValidationError(where, `tensor '${name}' must have shape [${a.shape}]`);
      }
    }
    const next = paramsFromWeights(
      new Map([...weights].map(([k, t]) => [k, t.data])),
      { config: this.config, dtype: dtypeOf(this.params) },
    );
    tree.dispose(this.params);
    this.params = next;
    return Promise.resolve();
  }

  async dispose(): Promise<void> {
    tree.dispose(this.params);
    this.mergeAndUnload();
    await this.#ort?.release();
    this.#ort = null;
  }
}

/** `p` as a Llama policy, or a one-line error naming what needed one. */
function asLlama(p: unknown, what: string): LlamaPolicy {
  if (!(p instanceof LlamaPolicy)) throw new ValidationError(what, "must be a Llama policy");
  return p;
}

/** How {@link loadLlamaPolicy} reads a checkpoint. */
export interface LoadPolicyOptions extends SourceOptions {
  /** The tokenizer; default: the checkpoint's own (tokenizer.json through transformers.js). */
  readonly tokenizer?: Tokenizer;
  /** Wrap prompts in the tokenizer's chat template (models/tokenizer.ts withChat). */
  readonly chat?: boolean;
  /** The dtype save() stores tensors in (default: as loaded). */
  readonly saveDtype?: SafetensorsDtype;
  /** Names the settings in errors (default "model"). */
  readonly where?: string;
}

/**
 * Reads a Hugging Face Llama / Llama-3 / Qwen2 / Qwen2.5 checkpoint, from a folder (one written
 * by LlamaPolicy.save included) or a hub id `org/name[@revision]`, with its own tokenizer unless
 * one is given; the policy records the checkpoint's layout, stored dtype, generation defaults and
 * every file read with its sha256.
 *
 * @example
 * const policy = await loadLlamaPolicy("Qwen/Qwen2.5-0.5B-Instruct", { offline: true });
 */
export async function loadLlamaPolicy(
  source: string,
  opts: LoadPolicyOptions = {},
): Promise<LlamaPolicy> {
  const where = opts.where ?? "model";
  const { config, params, checkpoint } = await loadLlama(source, {
    ...opts,
    tokenizer: opts.tokenizer === undefined,
  });
  try {
    let tokenizer = opts.tokenizer ??
      await loadHfTokenizer(checkpoint.tokenizerFiles, { name: source, where: checkpoint.dir });
    if (tokenizer.vocabSize > config.vocab_size) {
      throw new ValidationError(
        checkpoint.files.find((f) => f.name === "config.json")!.path,
        `field 'vocab_size' ${config.vocab_size} is below the ${tokenizer.name} tokenizer's ${tokenizer.vocabSize} ids`,
      );
    }
    if (opts.chat) tokenizer = withChat(tokenizer, `${where}.chat`);
    const { configJson, generationJson, dtypes, weightMap } = checkpoint;
    return new LlamaPolicy(config, params, tokenizer, source, {
      origin: { source, configJson, generationJson, dtypes, weightMap },
      generation: checkpoint.generation,
      files: checkpoint.files,
      saveDtype: opts.saveDtype,
    });
  } catch (e) {
    tree.dispose(params);
    throw e;
  }
}
