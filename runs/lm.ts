// The `lm` recipe: continual post-training of the tiny character-level Llama on four downstream
// tasks (many_answers, word_math, science_mc, tool_call), comparing SFT, GRPO, RIF-RFT and the
// multi-task upper bound over two seeds; sized for ≤ 15 minutes on two CPU cores
// (`deno task bench lm`). `lm_full` adds the other trainers and a second task order.

import { DEFAULT_LM_CONFIG, DEFAULT_LM_TRAINING } from "./lm_base.ts";
import type { LmRecipe, LmTrainerSpec } from "./lm_runner.ts";

const SFT = { lr: 3e-4, steps: 40, batch: 16 } as const;
const RL = { lr: 3e-4, steps: 12, batch: 8 } as const;
const G = { group: 4, mu: 1 } as const;

/** The default CPT recipe (bench lm). */
export const recipe: LmRecipe = {
  id: "lm",
  description: "continual post-training of a tiny LM: SFT vs GRPO vs RIF-RFT vs multi-task",
  base: { config: DEFAULT_LM_CONFIG, seed: 0, ...DEFAULT_LM_TRAINING },
  tasks: ["many_answers", "word_math", "science_mc", "tool_call"],
  orders: 1,
  seeds: [1, 2],
  trainItems: 512,
  evalItems: 48,
  panelItems: 32,
  klPrompts: 24,
  trainers: [
    { trainer: "sft", ...SFT },
    { trainer: "grpo", options: G, ...RL },
    { trainer: "rif_rft", options: G, ...RL },
    { trainer: "multitask", ...SFT },
  ],
};

const more: LmTrainerSpec[] = [
  { name: "grpo_kl", trainer: "grpo", options: { ...G, beta: 0.1 }, ...RL },
  { name: "dr_grpo", trainer: "grpo", options: { ...G, drGrpo: true }, ...RL },
  { trainer: "reinforce10", options: { group: 4 }, ...RL },
  { trainer: "sft_kl", options: { beta: 0.1 }, ...SFT },
  { trainer: "replay", options: { fraction: 0.25 }, ...SFT },
];

/** Every LM trainer, two task orders (lm_full: 36 runs, ~40 min on two cores, estimated from lm). */
export const fullRecipe: LmRecipe = {
  ...recipe,
  id: "lm_full",
  description: "lm with every trainer (GRPO β>0, Dr. GRPO, REINFORCE, SFT+KL, replay), 2 orders",
  orders: 2,
  trainers: [...recipe.trainers, ...more],
};
