// RL's Razor's LLM protocol (Shenfeld, Pari, Agrawal 2025, §4): Qwen2.5-3B-Instruct fine-tuned on
// one new task per run (math: Open-Reasoner-Zero questions; science: SciKnowEval Chemistry L-3;
// tool use: ToolAlpaca), SFT against GRPO (binary reward, no KL penalty, Dr. GRPO loss, group 64)
// over a learning-rate grid; forgetting measured on HellaSwag, TruthfulQA, MMLU, IFEval,
// WinoGrande and HumanEval as lm-evaluation-harness scores them, and KL(π0‖π) on the new task's
// held-out prompts by sampling from π0. summary.csv compares the methods per task (Pareto:
// forgetting at matched new-task accuracy), fit.csv fits forgetting against KL over all runs and
// per task.
//
// `razor_llm` is the paper's scale: `bench razor_llm --model DIR|HUB_ID --allow-code-execution`
// (HumanEval runs model-written code in the sandbox); README "RL's Razor on LLMs" gives its
// hardware needs and wall time. `razor_llm_tiny` is the same protocol end to end on two CPU
// cores in minutes: a tiny random checkpoint the project writes in Qwen2.5-Instruct's exact layout
// (BF16 safetensors, q/k/v biases, tied embeddings, byte-level BPE tokenizer.json with the ChatML
// template), the tasks' fixture records in their published formats, small budgets, and the panel
// without HumanEval (which needs --allow-code-execution and a sandbox).

import { ALL_PROJECTIONS } from "../../models/lora.ts";
import { defineRecipe } from "../recipe.ts";

/** The three new tasks, each trained alone from π0 (orders: "each"). */
const TASKS = ["orz_math", "sciknoweval_chem_l3", "toolalpaca"];

/** The prior-knowledge panel of the paper, with the metric lm-eval reports first for each. */
const PANEL = [
  { task: "hellaswag", metric: "acc_norm" },
  "truthfulqa_mc2",
  "mmlu",
  { task: "ifeval", metric: "prompt_level_strict_acc" },
  "winogrande",
];

/** The paper's GRPO: binary reward, β = 0, Dr. GRPO's constant normaliser, 64 rollouts. */
const GRPO = { group: 64, mu: 1, beta: 0, drGrpo: true } as const;

/** Linear warmup over the first 5% of steps, then cosine decay (both methods). */
const SCHEDULE = { warmup: 0.05, decay: "cosine" } as const;

export const recipe = defineRecipe({
  id: "razor_llm",
  description:
    "RL's Razor LLM: Qwen2.5-3B-Instruct on math, science, tool use alone; SFT vs GRPO; KL vs forgetting",
  model: { family: "llama", source: "Qwen/Qwen2.5-3B-Instruct", chat: true },
  stages: TASKS,
  panel: [...PANEL, "humaneval"],
  orders: "each",
  seeds: [1],
  variants: [
    // 32 sequences per step, one per micro-batch (jax-js keeps every activation: docs/metrics.md
    // "Memory model").
    {
      trainer: "sft",
      lrs: [1e-5, 3e-5, 5e-5, 7e-5, 9e-5],
      batch: 32,
      accumulate: 32,
      steps: 500,
      schedule: SCHEDULE,
    },
    // 8 prompts × 64 rollouts per step, one rollout per micro-batch (sampled in larger chunks).
    {
      trainer: "grpo",
      options: GRPO,
      lrs: [1e-5, 2e-5, 3e-5, 4e-5, 5e-5],
      batch: 8,
      accumulate: 512,
      steps: 200,
      schedule: SCHEDULE,
    },
  ],
  // Generation budgets as the tasks define them (ORZ 1024 new tokens, SciKnowEval and ToolAlpaca
  // 512, lm-eval's for the panel); KL(π0‖π) on 128 held-out prompts, one sample y ∼ π0 each.
  kl: { items: 128, samples: 1 },
  evalBatch: 16,
  matchWithin: 0.02,
});

/**
 * razor_llm with LoRA (r 64, alpha 128, all projections) and generations capped at 768 new
 * tokens: what fits one 141 GB GPU for most of the grid by the memory model (README "RL's Razor
 * on LLMs").
 */
export const loraRecipe = defineRecipe({
  ...recipe,
  id: "razor_llm_lora",
  description: "razor_llm with LoRA r 64 on all projections and 768-token generations",
  variants: recipe.variants.map((v) => ({
    ...v,
    lora: { rank: 64, alpha: 128, targets: ALL_PROJECTIONS },
  })),
  maxNewTokens: 768,
});

/** razor_llm end to end on CPU: a generated tiny Qwen2.5 checkpoint and fixture records. */
export const tinyRecipe = defineRecipe({
  id: "razor_llm_tiny",
  description:
    "razor_llm on CPU: a tiny generated Qwen2.5-layout checkpoint, fixture records, small budgets",
  model: { family: "llama", generate: "tiny-qwen2.5", seed: 0, chat: true },
  data: { fixtures: true },
  stages: TASKS,
  panel: PANEL,
  orders: "each",
  seeds: [1],
  variants: [
    { trainer: "sft", lrs: [3e-4, 1e-3], batch: 4, accumulate: 4, steps: 6, schedule: SCHEDULE },
    {
      trainer: "grpo",
      options: { ...GRPO, group: 4 },
      lrs: [1e-3, 3e-3],
      batch: 2,
      accumulate: 2,
      steps: 3,
      schedule: SCHEDULE,
    },
  ],
  maxNewTokens: 16,
  kl: { items: 2, samples: 2 },
  evalBatch: 8,
  matchWithin: 0.02,
});
