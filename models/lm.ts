// The language-model interface every LM backend implements (lm-evaluation-harness's three
// requests, less loglikelihood_rolling which no task here needs). Tasks build requests; the
// harness batches them through one of these; backends know nothing of tasks.

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

/** An image passed to a vision-language model: encoded bytes (PNG, JPEG, ...). */
export interface ImageInput {
  readonly bytes: Uint8Array;
}

/** Generate text after `prompt` until a stop sequence or the token budget. */
export interface GenerateRequest {
  readonly prompt: string;
  /** Stop sequences: generation ends at the first one, which is cut from the output. */
  readonly until: readonly string[];
  /** Token budget for the generated text. */
  readonly maxTokens: number;
  /** Images for a vision-language model, in the order the prompt refers to them. */
  readonly images?: readonly ImageInput[];
}

/** Options shared by batched calls. */
export interface BatchOptions {
  /** Requests per forward pass. */
  readonly batchSize?: number;
  /** Called after each batch with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Sampling options for generation; temperature 0 (the default) is greedy. */
export interface GenerateOptions extends BatchOptions {
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
}

/** A causal language model, as the evaluation harness sees it. */
export interface LanguageModel {
  /** Where it came from (folder or hub id), for results and the manifest. */
  readonly id: string;
  /** Whether `generate` accepts images. */
  readonly vision: boolean;
  loglikelihood(
    requests: readonly LoglikRequest[],
    opts?: BatchOptions,
  ): Promise<LoglikResult[]>;
  generate(requests: readonly GenerateRequest[], opts?: GenerateOptions): Promise<string[]>;
  /** Tokens `text` encodes to, as the model's own prompts are encoded (prompt-length rules). */
  countTokens?(text: string): number;
  /** Frees native sessions. */
  dispose(): Promise<void>;
}
