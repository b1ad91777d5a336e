// The ONNX language-model backend: any Hugging Face model folder (or hub id) with an ONNX
// decoder that transformers.js runs on onnxruntime-node, scored with lm-evaluation-harness's
// loglikelihood semantics and generating with transformers.js's KV-cache loop; LLaVA-layout
// vision-language models also take images, prompted as MMMU's official LLaVA code does.

import {
  AutoConfig,
  AutoModelForCausalLM,
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  random,
  RawImage,
  StoppingCriteria,
  StoppingCriteriaList,
  Tensor,
} from "@huggingface/transformers";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { cutAtStop, encodePair, windowInput } from "./lm_encoding.ts";
import type { GenerateRequest, ImageInput, Output, Policy, Request, RunOptions } from "./policy.ts";
import { choicePairs, type ChoicesRequest } from "./policy.ts";

/** Score `continuation` given `context`: Σ log p(continuation tokens | context). */
export interface LoglikRequest {
  readonly context: string;
  readonly continuation: string;
}

/** The result of one log-likelihood request. */
export interface LoglikResult {
  /** Σ_t log p(token_t | context, tokens_<t) over the continuation's tokens (natural log). */
  readonly logprob: number;
  /** True when every continuation token is the argmax at its position (lm-eval's is_greedy). */
  readonly greedy: boolean;
  /** How many tokens the continuation took. */
  readonly tokens: number;
}

/** A generation as this backend takes it (a generate request without its kind). */
export type GenerationInput = Pick<GenerateRequest, "prompt" | "until" | "maxTokens" | "images">;

/** How to load an ONNX model. */
export interface OnnxLmOptions {
  /** Execution provider: "cpu" (onnxruntime-node), "cuda" or "webgpu" where installed. */
  readonly device: "cpu" | "cuda" | "webgpu";
  /** Never download: hub ids must already be in the cache dir. */
  readonly offline?: boolean;
  /** Where transformers.js caches hub downloads (default: its own cache dir). */
  readonly cacheDir?: string;
  /** Wrap generation prompts in the tokenizer's chat template (one user turn). */
  readonly chat?: boolean;
  /** Which ONNX weights file to use: fp32 → onnx/model.onnx, q8 → onnx/model_quantized.onnx, ... */
  readonly dtype?: OnnxDtype;
  /**
   * Start contexts and prompts with BOS (lm-eval's add_bos_token). Default: only for Gemma, as
   * lm-eval does.
   */
  readonly addBos?: boolean;
}

/** transformers.js dtype names and the file-name suffix each selects. */
const DTYPE_SUFFIX = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
} as const;

/** A transformers.js ONNX dtype. */
export type OnnxDtype = keyof typeof DTYPE_SUFFIX;

/** Hub ids as transformers.js accepts them: `org/name`. */
const HUB_ID = /^[\w.-]+\/[\w.-]+$/;

/** Default requests per forward pass. */
const DEFAULT_BATCH = 16;

/** lm-eval's fallback context window when the config names none. */
const DEFAULT_MAX_LENGTH = 2048;

/**
 * config.json model types loaded as vision-language models. LLaVA only: the prompt convention
 * (one `<image>` token, then a newline, before the text) is LLaVA-1.5's, and transformers.js's
 * LlavaProcessor is the one whose image-token expansion this backend relies on.
 */
const VISION_MODEL_TYPES: ReadonlySet<string> = new Set(["llava"]);

/** The files a model folder needs, by kind; `suffix` is the dtype's file-name suffix. */
function requiredFiles(kind: "text" | "vision", suffix: string): string[] {
  const common = ["config.json", "tokenizer.json", "tokenizer_config.json"];
  if (kind === "text") return [...common, `onnx/model${suffix}.onnx`];
  return [
    ...common,
    "preprocessor_config.json",
    "processor_config.json",
    ...["embed_tokens", "vision_encoder", "decoder_model_merged"].map((n) =>
      `onnx/${n}${suffix}.onnx`
    ),
  ];
}

/**
 * Loads a causal LM from a local model folder or a hub id and returns it as a Policy.
 * A folder must hold config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx
 * (or the file `dtype` selects); these are checked first so a bad folder gets a one-line error.
 *
 * A config.json with model_type "llava" makes it a vision-language model (`vision` true): the
 * folder then needs preprocessor_config.json, processor_config.json and the three sessions
 * transformers.js's LlavaForConditionalGeneration runs, onnx/embed_tokens.onnx,
 * onnx/vision_encoder.onnx and onnx/decoder_model_merged.onnx, and is loaded with AutoProcessor
 * and AutoModelForImageTextToText.
 *
 * @example
 * const lm = await loadOnnxLm("runs/tiny", { device: "cpu" });
 * const [r] = await lm.loglikelihood([{ context: "The sky is", continuation: " blue" }]);
 * await lm.dispose();
 */
export async function loadOnnxLm(source: string, opts: OnnxLmOptions): Promise<OnnxLm> {
  const dtype = opts.dtype ?? "fp32";
  if (!(dtype in DTYPE_SUFFIX)) {
    throw new UsageError(
      `model ${source}: unknown dtype ${dtype} (use ${Object.keys(DTYPE_SUFFIX).join(", ")})`,
    );
  }
  const stat = await Deno.stat(source).catch(() => null);
  let path: string;
  let loadOpts: { local_files_only: boolean; cache_dir?: string };
  if (stat) {
    if (!stat.isDirectory) {
      throw new ValidationError(source, "a model source must be a folder or a hub id (org/name)");
    }
    path = await Deno.realPath(source); // absolute, so transformers.js never prefixes localModelPath
    await checkFolder(path, source, DTYPE_SUFFIX[dtype]);
    env.allowLocalModels = true;
    loadOpts = { local_files_only: true };
  } else if (HUB_ID.test(source)) {
    path = source;
    env.allowLocalModels = true;
    env.allowRemoteModels = !opts.offline;
    // Under Deno transformers.js would prefer the web Cache API (Deno's own storage); the file
    // cache keeps downloads in a folder we name and can inspect, as under Node.
    env.useBrowserCache = false;
    env.useFSCache = true;
    if (opts.cacheDir) env.cacheDir = opts.cacheDir;
    loadOpts = { local_files_only: opts.offline ?? false, cache_dir: opts.cacheDir };
  } else {
    throw new UsageError(`model ${source}: no such folder, and not a hub id of the form org/name`);
  }

  let tokenizer: PreTrainedTokenizer, model: PreTrainedModel, processor: Processor | undefined;
  try {
    const config = await AutoConfig.from_pretrained(path, loadOpts);
    const modelOpts = { ...loadOpts, device: opts.device, dtype };
    if (VISION_MODEL_TYPES.has(String(config.model_type))) {
      processor = await AutoProcessor.from_pretrained(path, loadOpts);
      if (!processor.tokenizer || !processor.image_processor) {
        throw new Error("its processor lacks a tokenizer or an image processor");
      }
      tokenizer = processor.tokenizer;
      model = await AutoModelForImageTextToText.from_pretrained(path, { ...modelOpts, config });
    } else {
      tokenizer = await AutoTokenizer.from_pretrained(path, loadOpts);
      model = await AutoModelForCausalLM.from_pretrained(path, modelOpts);
    }
  } catch (e) {
    const why = firstLine(e);
    if (stat) {
      throw new ValidationError(
        source,
        `transformers.js could not load it on ${opts.device}: ${why}`,
      );
    }
    if (opts.offline) {
      throw new UsageError(
        `model ${source} is not in the cache (${
          opts.cacheDir ?? env.cacheDir
        }) and offline mode forbids downloading it: ${why}`,
      );
    }
    throw new UsageError(`model ${source}: could not download or load it: ${why}`);
  }
  return new OnnxLm(source, tokenizer, model, {
    chat: opts.chat ?? false,
    processor,
    addBos: opts.addBos,
  });
}

/**
 * Throws a ValidationError naming `shown` and the first required file the folder lacks; which
 * files are required depends on whether config.json describes a vision-language model.
 */
async function checkFolder(dir: string, shown: string, suffix: string): Promise<void> {
  const isFile = async (file: string) =>
    (await Deno.stat(`${dir}/${file}`).catch(() => null))?.isFile ?? false;
  let kind: "text" | "vision" = "text";
  if (await isFile("config.json")) {
    // An unreadable config is left for transformers.js to report; here it only picks the kind.
    const config = await Deno.readTextFile(`${dir}/config.json`).then(JSON.parse).catch(() => null);
    if (VISION_MODEL_TYPES.has(String(config?.model_type))) kind = "vision";
  }
  const required = requiredFiles(kind, suffix);
  for (const file of required) {
    if (!(await isFile(file))) {
      const what = kind === "vision" ? "a vision-language model folder" : "a model folder";
      throw new ValidationError(shown, `missing ${file} (${what} needs ${required.join(", ")})`);
    }
  }
}

/** Decodes one request image (PNG, JPEG, ... bytes) as transformers.js's image processors take it. */
async function decodeImage(image: ImageInput, where: string): Promise<RawImage> {
  try {
    return await RawImage.fromBlob(new Blob([image.bytes as Uint8Array<ArrayBuffer>]));
  } catch (e) {
    throw new UsageError(`${where}: the image bytes could not be decoded: ${firstLine(e)}`);
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** One tokenized loglikelihood request. */
interface Encoded {
  /** Model input: (context + continuation) without its last token, left-truncated to the window. */
  readonly input: number[];
  /** The continuation's tokens; the last `cont.length` input positions predict them. */
  readonly cont: number[];
}

/** Stops each generation row at its own token budget, an EOS token, or a stop string. */
class StopCriteria extends StoppingCriteria {
  private readonly done: boolean[];
  constructor(
    private readonly promptLength: number,
    private readonly rows: readonly { until: readonly string[]; maxTokens: number }[],
    private readonly opts: { eos: ReadonlySet<number>; decode: (ids: number[]) => string },
  ) {
    super();
    this.done = rows.map(() => false);
  }

  override _call(inputIds: number[][], _scores: number[][]): boolean[] {
    return inputIds.map((ids, i) => {
      if (this.done[i]) return true;
      const gen = ids.slice(this.promptLength).map(Number); // ids arrive as bigint
      const row = this.rows[i];
      const stop = gen.length >= row.maxTokens || this.opts.eos.has(gen[gen.length - 1]) ||
        (row.until.length > 0 &&
          row.until.some((s) => s !== "" && this.opts.decode(gen).includes(s)));
      this.done[i] = stop;
      return stop;
    });
  }
}

/** A transformers.js causal LM (or LLaVA-layout VLM) as a Policy (evaluation only). */
export class OnnxLm implements Policy {
  readonly family = "onnx";
  readonly kinds = ["choices", "generate"] as const;
  readonly vision: boolean;
  /** The VLM's image placeholder (processor_config.json's image_token). */
  private readonly imageToken: string;
  /** Token scored after an empty context (lm-eval's prefix_token_id: BOS, else EOS). */
  private readonly prefixId: number;
  private readonly padId: number;
  private readonly eos: ReadonlySet<number>;
  private readonly maxLength: number;
  /**
   * Whether encoding adds the tokenizer's special tokens. lm-eval's HFLM.tok_encode passes
   * add_special_tokens=False for causal models unless add_bos_token is set, which it sets by
   * default only for Gemma (which misbehaves without BOS); we follow that exactly.
   */
  private readonly addSpecial: boolean;

  constructor(
    readonly id: string,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
    private readonly opts: { chat: boolean; processor?: Processor; addBos?: boolean },
  ) {
    this.vision = opts.processor !== undefined;
    this.imageToken = String(opts.processor?.config?.image_token ?? "<image>");
    // Generation pads on the left; the processor pads with the tokenizer's own setting.
    if (this.vision) tokenizer.padding_side = "left";
    // A VLM's config keeps the language model's fields under text_config.
    const config = model.config as unknown as Record<string, unknown>;
    const text = (config.text_config ?? {}) as Record<string, unknown>;
    const field = (k: string) => config[k] ?? text[k];
    const bos = tokenizer.bos_token_id ?? (field("bos_token_id") as number | undefined);
    const eosIds = [
      tokenizer.eos_token_id,
      field("eos_token_id"),
      model.generation_config?.eos_token_id,
    ]
      .flat()
      .filter((x): x is number => typeof x === "number");
    this.eos = new Set(eosIds);
    // lm-eval's prefix_token_id: the tokenizer's BOS, else the tokenizer's EOS (not config.json's
    // bos_token_id: Qwen2.5's names <|endoftext|> there, while its tokenizer has no BOS and lm-eval
    // scores an empty context after <|im_end|>); the config's ids only where the tokenizer has none.
    const prefix = tokenizer.bos_token_id ?? tokenizer.eos_token_id ?? bos ?? eosIds[0];
    if (prefix === undefined) {
      throw new ValidationError(id, "tokenizer has neither a BOS nor an EOS token");
    }
    this.prefixId = prefix;
    this.padId = tokenizer.pad_token_id ?? eosIds[0] ?? 0;
    const window = field("max_position_embeddings") ?? field("n_positions") ?? field("n_ctx");
    this.maxLength = typeof window === "number" ? window : DEFAULT_MAX_LENGTH;
    this.addSpecial = opts.addBos ?? String(config.model_type ?? "").startsWith("gemma");
  }

  countTokens(text: string): number {
    return this.encode(text).length;
  }

  private encode(text: string): number[] {
    if (text === "") return [];
    return this.tokenizer.encode(text, { add_special_tokens: this.addSpecial });
  }

  /** lm-eval's pair encoding and input window (models/lm_encoding.ts). */
  private encodePair(req: LoglikRequest): Encoded {
    const pair = encodePair(req, {
      encode: (t) => (t === "" ? [] : this.tokenizer.encode(t, { add_special_tokens: false })),
      prefixId: this.prefixId,
      addBos: this.addSpecial,
    });
    return { input: windowInput(pair, this.maxLength), cont: pair.cont };
  }

  /** Answers choices requests by log-likelihood and generate requests by generation. */
  async run(requests: readonly Request[], opts: RunOptions = {}): Promise<Output[]> {
    const out = new Array<Output>(requests.length);
    const at = (kind: string) => requests.flatMap((r, i) => (r.kind === kind ? [i] : []));
    const choices = at("choices"), gens = at("generate");
    if (choices.length + gens.length < requests.length) {
      throw new ValidationError(`model ${this.id}`, "answers choices and generate requests only");
    }
    if (choices.length > 0) {
      // Each continuation after its context (its own one where the request has `contexts`).
      const flat = choices.flatMap((i) => choicePairs(requests[i] as ChoicesRequest));
      const res = await this.loglikelihood(flat, opts);
      let k = 0;
      for (const i of choices) {
        const r = requests[i] as Extract<Request, { kind: "choices" }>;
        out[i] = { kind: "choices", logliks: r.continuations.map(() => res[k++].logprob) };
      }
    }
    if (gens.length > 0) {
      const n = opts.samples ?? 1;
      const flat = gens.flatMap((i) => Array(n).fill(requests[i]) as GenerateRequest[]);
      const res = await this.generate(flat, opts);
      gens.forEach((
        i,
        k,
      ) => (out[i] = { kind: "generate", outputs: res.slice(k * n, (k + 1) * n) }));
    }
    return out;
  }

  /** Σ log p(continuation | context) per request, batched longest first as lm-eval does. */
  async loglikelihood(
    requests: readonly LoglikRequest[],
    opts: RunOptions = {},
  ): Promise<LoglikResult[]> {
    const encoded = requests.map((r) => this.encodePair(r));
    // Longest first (as lm-eval) so batches hold similar lengths; ties keep input order.
    const order = encoded.map((_, i) => i).sort((a, b) =>
      encoded[b].input.length - encoded[a].input.length || a - b
    );
    const results = new Array<LoglikResult>(requests.length);
    const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const batch = idx.map((i) => encoded[i]);
      const scored = await this.scoreBatch(batch);
      idx.forEach((i, k) => (results[i] = scored[k]));
      opts.onProgress?.(Math.min(start + batchSize, order.length), order.length);
    }
    return results;
  }

  /** One forward pass over right-padded inputs; log-softmax only at continuation rows. */
  private async scoreBatch(batch: readonly Encoded[]): Promise<LoglikResult[]> {
    const B = batch.length;
    const L = Math.max(...batch.map((e) => e.input.length));
    const ids = new BigInt64Array(B * L).fill(BigInt(this.padId));
    const mask = new BigInt64Array(B * L);
    const pos = new BigInt64Array(B * L).fill(1n); // HF fills padded positions with 1
    batch.forEach((e, b) => {
      e.input.forEach((t, j) => {
        ids[b * L + j] = BigInt(t);
        mask[b * L + j] = 1n;
        pos[b * L + j] = BigInt(j);
      });
    });
    const out = await this.model.forward({
      input_ids: new Tensor("int64", ids, [B, L]),
      attention_mask: new Tensor("int64", mask, [B, L]),
      position_ids: new Tensor("int64", pos, [B, L]),
    });
    const logits = out.logits as Tensor;
    const V = logits.dims[2];
    const data = logits.data as Float32Array;
    return batch.map((e, b) => {
      let logprob = 0, greedy = true;
      const first = e.input.length - e.cont.length;
      e.cont.forEach((tok, k) => {
        const off = (b * L + first + k) * V;
        let max = -Infinity, arg = 0;
        for (let v = 0; v < V; v++) {
          if (data[off + v] > max) {
            max = data[off + v];
            arg = v;
          }
        }
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(data[off + v] - max);
        logprob += data[off + tok] - max - Math.log(z);
        if (arg !== tok) greedy = false;
      });
      return { logprob, greedy, tokens: e.cont.length };
    });
  }

  /**
   * Greedy (or seeded sampling) generation per request. On a VLM, a request with images is
   * prompted as MMMU's official LLaVA-1.5 code does (mmmu/utils/model_utils.py,
   * call_llava_engine_df): one image token and a newline before the prompt, whose `<image N>`
   * placeholders stay in the text as written, and only ONE image, the first the prompt refers to
   * (run_llava.py always passes image_1; MMMU numbers images in order of first mention). Further
   * images are not seen. With `chat`, that text is the user turn of the chat template. Prompts
   * are not truncated on a VLM (a cut could split the image tokens).
   */
  async generate(
    requests: readonly GenerationInput[],
    opts: RunOptions = {},
  ): Promise<string[]> {
    const texts = requests.map((r, i) => this.promptText(this.withImageToken(r, i)));
    const prompts = texts.map((t) => this.encode(t));
    const order = prompts.map((_, i) => i).sort((a, b) =>
      prompts[b].length - prompts[a].length || a - b
    );
    const temperature = opts.temperature ?? 0;
    if (temperature > 0) random.seed(opts.seed ?? 0); // transformers.js samples from this global stream
    const results = new Array<string>(requests.length);
    const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const args = { requests: idx.map((i) => requests[i]), temperature, topP: opts.topP };
      const out = this.vision
        ? await this.generateVisionBatch(idx.map((i) => texts[i]), args)
        : await this.generateBatch(idx.map((i) => prompts[i]), args);
      idx.forEach((i, k) => (results[i] = out[k]));
      opts.onProgress?.(Math.min(start + batchSize, order.length), order.length);
    }
    return results;
  }

  /** The request's prompt, preceded by the image token when it carries images (see generate). */
  private withImageToken(r: GenerationInput, index: number): string {
    if (!r.images || r.images.length === 0) return r.prompt;
    if (!this.vision) {
      throw new UsageError(`model ${this.id} is text-only; task needs a vision-language model`);
    }
    if (r.prompt.includes(this.imageToken)) {
      // The processor expands only the first image token per text; a second would be unmatched.
      throw new UsageError(
        `model ${this.id}: prompt ${index + 1} itself contains the image token ${this.imageToken}`,
      );
    }
    return `${this.imageToken}\n${r.prompt}`;
  }

  private promptText(prompt: string): string {
    if (!this.opts.chat) return prompt;
    // A processor may carry its own template (chat_template.jinja); the tokenizer's otherwise.
    const own = this.opts.processor?.chat_template ?? null;
    if (!own && !this.tokenizer.chat_template) {
      throw new UsageError(`model ${this.id} has no chat template; run without --chat`);
    }
    return this.tokenizer.apply_chat_template([{ role: "user", content: prompt }], {
      tokenize: false,
      add_generation_prompt: true,
      ...(own ? { chat_template: own } : {}),
    }) as string;
  }

  /** Left-pads one batch of prompts and runs transformers.js's cached generation loop. */
  private async generateBatch(
    prompts: readonly number[][],
    opts: { requests: readonly GenerationInput[]; temperature: number; topP?: number },
  ): Promise<string[]> {
    const budget = Math.max(...opts.requests.map((r) => r.maxTokens));
    if (budget <= 0) return prompts.map(() => "");
    const B = prompts.length;
    // An empty prompt would give a zero-width batch: start it from the prefix token instead.
    // lm-eval keeps the last (max_length - max_gen_toks) prompt tokens, leaving room for the budget.
    const room = Math.max(1, this.maxLength - budget);
    const rows = prompts.map((p) => (p.length > 0 ? p.slice(-room) : [this.prefixId]));
    const L = Math.max(...rows.map((p) => p.length));
    const ids = new BigInt64Array(B * L).fill(BigInt(this.padId));
    const mask = new BigInt64Array(B * L);
    rows.forEach((p, b) => {
      p.forEach((t, j) => {
        ids[b * L + (L - p.length) + j] = BigInt(t);
        mask[b * L + (L - p.length) + j] = 1n;
      });
    });
    return await this.runGenerate({
      inputs: {
        input_ids: new Tensor("int64", ids, [B, L]),
        attention_mask: new Tensor("int64", mask, [B, L]),
      },
      ...opts,
      budget,
    });
  }

  /**
   * One VLM batch through the processor (each request's first image → pixel_values; the image
   * token expanded to one per image feature; left padding) and the cached generation loop. The
   * tokenizer's special tokens are added unless the chat template supplies them: LLaVA-1.5 starts
   * from BOS, as MMMU's tokenizer_image_token does.
   */
  private async generateVisionBatch(
    texts: readonly string[],
    opts: { requests: readonly GenerationInput[]; temperature: number; topP?: number },
  ): Promise<string[]> {
    const budget = Math.max(...opts.requests.map((r) => r.maxTokens));
    if (budget <= 0) return texts.map(() => "");
    const images: RawImage[] = [];
    for (const r of opts.requests) {
      if (r.images && r.images.length > 0) {
        images.push(await decodeImage(r.images[0], `model ${this.id}`));
      }
    }
    const kwargs = { padding: true, add_special_tokens: !this.opts.chat };
    // Rows without images keep their text as is: the processor expands only image tokens.
    const enc = images.length > 0
      ? await this.opts.processor!(images, [...texts], kwargs)
      : this.tokenizer([...texts], kwargs);
    const padded = (enc.attention_mask as Tensor).tolist().flat().some((m) => m === 0n);
    if (images.length > 0 && padded && texts.length > 1) {
      // transformers.js 4.3.1's image-text-to-text forward rebuilds the attention mask as all
      // ones over the cache on every step after the first (generic_text_to_text_forward in
      // models/modeling_utils.js), so left padding would be attended and shift positions: a
      // padded batch with images runs one row at a time instead.
      const out: string[] = [];
      for (let k = 0; k < texts.length; k++) {
        out.push(
          ...await this.generateVisionBatch([texts[k]], { ...opts, requests: [opts.requests[k]] }),
        );
      }
      return out;
    }
    return await this.runGenerate({
      inputs: {
        input_ids: enc.input_ids as Tensor,
        attention_mask: enc.attention_mask as Tensor,
        ...(images.length > 0 ? { pixel_values: enc.pixel_values as Tensor } : {}),
      },
      ...opts,
      budget,
    });
  }

  /**
   * transformers.js's generate on prepared (left-padded) inputs; each row's new tokens are cut
   * at its own budget, EOS and stop strings, and decoded without special tokens.
   */
  private async runGenerate(
    opts: {
      inputs: Record<string, Tensor>;
      requests: readonly GenerationInput[];
      budget: number;
      temperature: number;
      topP?: number;
    },
  ): Promise<string[]> {
    const L = opts.inputs.input_ids.dims[1];
    const decode = (t: number[]) =>
      t.length === 0 ? "" : this.tokenizer.decode(t, { skip_special_tokens: true });
    const stopping = new StoppingCriteriaList();
    stopping.push(new StopCriteria(L, opts.requests, { eos: this.eos, decode }));
    const sample = opts.temperature > 0;
    const out = await this.model.generate(
      {
        ...opts.inputs,
        max_new_tokens: opts.budget,
        do_sample: sample,
        ...(sample ? { temperature: opts.temperature, top_p: opts.topP ?? 1 } : {}),
        stopping_criteria: stopping,
      } as Parameters<PreTrainedModel["generate"]>[0],
    );
    const seqs = (out as Tensor).tolist() as bigint[][];
    return seqs.map((seq, b) => {
      const req = opts.requests[b];
      let gen = seq.slice(L).map(Number).slice(0, Math.max(0, req.maxTokens));
      const eosAt = gen.findIndex((t) => this.eos.has(t));
      if (eosAt >= 0) gen = gen.slice(0, eosAt);
      return cutAtStop(decode(gen), req.until);
    });
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
