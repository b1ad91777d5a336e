// The evaluation pipeline for text benchmarks, top to bottom: build each item's request (with its
// few-shot examples), batch all requests of a task through the model, then score every output
// the way the task's reference code does. `score` enters at the last step with outputs read from
// a predictions file, so both commands share one scorer.

import type { LanguageModel } from "../models/lm.ts";
import type {
  ItemScore,
  RequestContext,
  ScoreContext,
  TextOutput,
  TextRequest,
} from "../tasks/types.ts";
import type { TextTask } from "../tasks/mod.ts";
import type { ScoredItem } from "../evals/results.ts";
import type { Item } from "../tasks/types.ts";

/** A task's loaded documents: the scored split and the few-shot pools. */
export interface TaskDocs {
  readonly test: readonly Item[];
  readonly pools: Readonly<Record<string, readonly Item[]>>;
}

/** How to run the model. */
export interface ModelRunOptions {
  readonly batchSize: number;
  /** Generations per item (pass@k needs n ≥ k); 1 with temperature 0 is greedy. */
  readonly samples: number;
  readonly temperature: number;
  readonly seed: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Each item's request, few-shot examples included. */
export function buildRequests(
  task: TextTask,
  docs: TaskDocs,
  ctx: RequestContext = {},
): TextRequest[] {
  return docs.test.map((doc) => task.request(doc, task.fewshot?.(doc, docs.pools) ?? [], ctx));
}

/** Runs every request of one task through the model, in as few batched calls as possible. */
export async function runModel(
  model: LanguageModel,
  requests: readonly TextRequest[],
  opts: ModelRunOptions,
): Promise<TextOutput[]> {
  if (requests.length === 0) return [];
  if (requests.every((r) => r.type === "loglikelihood")) {
    const flat = requests.flatMap((r) =>
      r.continuations.map((continuation) => ({ context: r.context, continuation }))
    );
    const res = await model.loglikelihood(flat, opts);
    let k = 0;
    return requests.map((r) => ({
      type: "loglikelihood",
      logliks: r.continuations.map(() => res[k++].logprob),
    }));
  }
  if (requests.every((r) => r.type === "generation")) {
    const flat = requests.flatMap((r) =>
      Array.from({ length: opts.samples }, () => ({
        prompt: r.prompt,
        until: r.until,
        maxTokens: r.maxTokens,
        images: r.images,
      }))
    );
    const res = await model.generate(flat, opts);
    return requests.map((_, i) => ({
      type: "generation",
      outputs: res.slice(i * opts.samples, (i + 1) * opts.samples),
    }));
  }
  throw new Error("a task mixed request types"); // defineTextTask fixes one type per task
}

/**
 * Scores outputs with at most `jobs` scorings in flight (code execution runs in parallel child
 * processes; pure scorers finish at once). Results keep the documents' order.
 */
export async function scoreAll(
  task: TextTask,
  items: {
    docs: readonly Item[];
    requests: readonly TextRequest[];
    outputs: readonly TextOutput[];
  },
  opts: { ctx: ScoreContext; jobs: number; onProgress?: (done: number, total: number) => void },
): Promise<ScoredItem[]> {
  const n = items.docs.length;
  const scores: ItemScore[] = new Array(n);
  let next = 0, done = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      scores[i] = await task.score(items.docs[i], items.outputs[i], opts.ctx);
      opts.onProgress?.(++done, n);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, n)) }, worker));
  return items.docs.map((doc, i) => ({
    id: doc.id,
    request: items.requests[i],
    target: task.target(doc),
    output: items.outputs[i],
    score: scores[i],
  }));
}
