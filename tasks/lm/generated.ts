// Declares the procedurally generated tasks of the tiny character-level LM, one per file in
// tasks/lm/: five downstream tasks to post-train on (many_answers, word_math, science_mc,
// tool_call, caesar, none of them in the pretraining mixture, each with its own prompt format)
// and seven general skills (copy, reverse, sort, arith, compare, brackets, lookup) that
// pretrain the model and, on their test split, make the general panel that measures forgetting.
// A task file gives its draw, its strict score and its reward; defineGeneratedTask adds what
// every generated task shares: the splits drawn from the data seed, the generate request, the
// SFT labelling and the test fixture.
//
// Scoring conventions (all tasks): the output's trailing whitespace (the "\n") is dropped first
// (`answerText`); anything else must be exactly right except where a task says otherwise.
// Scores stay strict 0/1; rewards may give partial credit where a task documents it.
//
// The skills' strings are short on purpose: a ~0.5M-parameter model must learn all seven in a
// few minutes on two CPU cores (with 2-12-character strings it had not after 11 minutes).

import { hashString, type Rng, rng } from "../../lib/rng.ts";
import { ValidationError } from "../../lib/errors.ts";
import {
  type Counterfactual,
  defineTask,
  type Loaded,
  type LoadOptions,
  type Output,
  PRETRAIN_SPLIT,
  type Task,
  type TaskKind,
  TEST_SPLIT,
  TRAIN_SPLIT,
} from "../task.ts";
import { answerText, generateDistinct, type LmItem, MAX_ANSWER, sampleCorpus } from "./items.ts";

/** Default sizes of a downstream task: trained on (`train`) and measured (`test`). */
export const DOWNSTREAM_SIZES: Readonly<Record<string, number>> = { train: 512, test: 48 };

/**
 * Default sizes of a general skill: a pretraining corpus drawn with repeats (`pretrain`: some
 * skills have only a few hundred distinct prompts, see arith.ts and brackets.ts) and a test
 * panel of distinct prompts, never seen in training whatever the seed.
 */
export const SKILL_SIZES: Readonly<Record<string, number>> = { pretrain: 4000, test: 32 };

/** What a generated task declares; defineGeneratedTask fills in the rest of its Task. */
export interface GeneratedTaskSpec<I extends LmItem> {
  /** The task id; also the file name (`tasks/lm/<id>.ts`), the split-hash salt and id prefix. */
  readonly id: string;
  readonly version: string;
  readonly kind: TaskKind;
  /** One line for reports. */
  readonly description: string;
  /** How items are drawn (the prompt format), for the manifest's source line. */
  readonly generator: string;
  /** Default split sizes (DOWNSTREAM_SIZES or SKILL_SIZES). */
  readonly sizes: Readonly<Record<string, number>>;
  /** Longest answer, which sets the request's token budget; MAX_ANSWER by default. */
  readonly maxAnswer?: number;
  /** Draws one item (everything but its id) from the split's random stream. */
  draw(r: Rng): Omit<I, "id">;
  /** Strict 0/1 score of one raw output (with its "\n"); exact match by default. */
  score?(item: I, output: string): 0 | 1;
  /** RL reward of one raw output in [0, 1]; the score by default. */
  reward?(item: I, output: string): number;
  /** Every correct answer, where that set is finite and small (oracle SFT). */
  correct?(item: I): readonly string[];
  /**
   * A counterfactual of the item for circuit discovery: a prompt of the same length whose
   * correct answer differs (with that answer), drawn from `r`; null where there is none.
   */
  corrupt?(item: I, r: Rng): Counterfactual | null;
}

/** 1 when the output (trailing whitespace removed) is exactly the canonical answer, else 0. */
export function exactMatch(item: LmItem, output: string): 0 | 1 {
  return answerText(output) === item.answer ? 1 : 0;
}

/** The text a generate output answers with (its first generation), or null for any other. */
function firstGeneration(output: Output): string | null {
  return output.kind === "generate" && output.outputs.length > 0 ? output.outputs[0] : null;
}

const SPLITS: readonly string[] = [TEST_SPLIT, TRAIN_SPLIT, PRETRAIN_SPLIT];

/**
 * The wanted splits with a positive size: `train` and `test` are distinct prompts of their
 * hash split; `pretrain` is a corpus drawn with repeats from the train prompts.
 */
function generateSplits<I extends LmItem>(
  spec: GeneratedTaskSpec<I>,
  opts: LoadOptions,
): Loaded<I> {
  const sizes = { ...spec.sizes, ...opts.sizes };
  for (const name of [...Object.keys(sizes), ...(opts.splits ?? [])]) {
    if (!SPLITS.includes(name)) {
      throw new ValidationError(
        `task '${spec.id}'`,
        `unknown split '${name}'; a generated task has ${SPLITS.join(", ")}`,
      );
    }
  }
  const { seed } = opts, draw = (r: Rng) => spec.draw(r);
  const splits: Record<string, I[]> = {};
  for (const name of SPLITS) {
    const n = sizes[name] ?? 0;
    if (n === 0 || (opts.splits && !opts.splits.includes(name))) continue;
    splits[name] = name === PRETRAIN_SPLIT
      ? sampleCorpus<I>(spec.id, { seed, n, draw })
      : generateDistinct<I>(spec.id, { seed, n, split: name as "train" | "test", draw });
  }
  return { splits, files: [] };
}

/**
 * Declares a generated LM task: splits drawn from the data seed, one generate request per item
 * (stop at "\n"), the `acc` metric (the strict score of the first generation; any other output
 * scores 0), SFT on the canonical answer (`sft1`), the RL reward, and a fixture.
 *
 * @example
 * export const echo = defineGeneratedTask({
 *   id: "echo", version: "1", kind: "general", description: "repeat a digit",
 *   generator: "`e:<d>=` with d a digit", sizes: SKILL_SIZES,
 *   draw: (r) => ({ prompt: `e:${r.int(10)}=`, answer: "..." }),
 * });
 */
export function defineGeneratedTask<I extends LmItem>(spec: GeneratedTaskSpec<I>): Task<I> {
  const score = spec.score ?? exactMatch;
  const reward = spec.reward ?? score;
  // One token past the longest answer for the "\n" that ends it (the old runner's budget).
  const maxTokens = (spec.maxAnswer ?? MAX_ANSWER) + 1;
  const correct = spec.correct;
  return defineTask<I>({
    id: spec.id,
    version: spec.version,
    kind: spec.kind,
    description: spec.description,
    source: {
      description: `generated from the data seed: ${spec.generator}`,
      url: `tasks/lm/${spec.id}.ts`,
      license: "MIT (generated by forgetbench)",
    },
    requestKind: "generate",
    metrics: ["acc"],
    sizes: spec.sizes,
    load: (opts) => Promise.resolve().then(() => generateSplits(spec, opts)),
    request: (item) => ({ kind: "generate", prompt: item.prompt, until: ["\n"], maxTokens }),
    target: (item) => item.answer,
    score: (item, output) => {
      const text = firstGeneration(output);
      return { metrics: { acc: text === null ? 0 : score(item, text) } };
    },
    ...(spec.corrupt
      ? { counterfactual: (item: I, seed: number) => corrupted(spec, item, seed) }
      : {}),
    train: {
      labellings: { sft1: (item) => [item.answer] },
      reward: (item, y) => reward(item, String(y)),
      ...(correct ? { correct: (item: I) => correct(item) } : {}),
    },
    fixture: {
      perfect: (item) => ({ kind: "generate", outputs: [item.answer] }),
      // No task's answer holds "~" (nor a number, JSON or a letter), so it scores 0 everywhere.
      wrong: () => ({ kind: "generate", outputs: ["~"] }),
      sizes: { train: 4, test: 4, pretrain: 4 },
    },
  });
}

/**
 * A task's counterfactual of `item`, from a stream of (seed, task, prompt) alone; checks the
 * task's `corrupt` kept the length and changed the answer (a broken task module fails loudly).
 */
function corrupted<I extends LmItem>(
  spec: GeneratedTaskSpec<I>,
  item: I,
  seed: number,
): Counterfactual | null {
  const cf = spec.corrupt!(item, rng(seed, hashString(`counterfactual:${spec.id}:${item.prompt}`)));
  if (cf === null) return null;
  if ([...cf.prompt].length !== [...item.prompt].length || cf.answer === item.answer) {
    throw new ValidationError(
      `task '${spec.id}'`,
      `corrupt(${JSON.stringify(item.prompt)}) gave ${
        JSON.stringify(cf)
      }: a counterfactual keeps the prompt's length and changes its answer`,
    );
  }
  return cf;
}
