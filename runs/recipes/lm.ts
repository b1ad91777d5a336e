// The `lm` recipe: continual post-training of a tiny character-level Llama on four downstream
// tasks (many_answers, word_math, science_mc, tool_call), comparing SFT, GRPO, RIF-RFT and the
// multi-task upper bound over three seeds, with the seven generated general skills as the panel;
// sized for ≤ 15 minutes on two CPU cores (`deno task bench lm`). `lm_full` adds the other
// trainers and a second task order.

import { VOCAB_SIZE } from "../../models/char_tokenizer.ts";
import { defineRecipe, type Variant } from "../recipe.ts";

const SKILLS = ["copy", "reverse", "sort", "arith", "compare", "brackets", "lookup"];
const DOWNSTREAM = ["many_answers", "word_math", "science_mc", "tool_call"];

// Stage budgets sized for three seeds in ≤ 15 minutes on two cores, cold cache (README "Results
// of bench lm"). GRPO's lr is 1e-4: 3e-4 cost the panel 0.2-0.3 in one stage without learning
// the task; in a probe on an earlier base GRPO needed ~96 steps at 1e-4 to learn many_answers
// (0.25 → 0.46), which the budget does not hold (docs/lm_base_study.md §5).
const SFT = { lrs: [3e-4], steps: 64, batch: 16 } as const;
const RL = { lrs: [1e-4], steps: 32, batch: 8 } as const;
const G = { group: 4, mu: 1 } as const;

/** The default continual post-training recipe (bench lm). */
export const recipe = defineRecipe({
  id: "lm",
  description: "continual post-training of a tiny LM: SFT vs GRPO vs RIF-RFT vs multi-task",
  // 455,936 parameters: 3 layers, d 128, SwiGLU 256, 4 query heads over 2 KV heads, tied head.
  model: {
    family: "llama",
    tokenizer: "char",
    config: {
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
    },
  },
  // 512 training items per downstream task, 48 held out; the skills' pretraining corpus (4000
  // per skill, drawn with repeats) and 32 held-out items each for the panel. Like a real base,
  // π0 has seen the downstream formats (128 items per task drawn from the train prompts, 384
  // for tool_call's longer JSON) and the facts science_mc asks about (the `facts` skill).
  data: {
    seed: 0,
    sizes: {
      ...Object.fromEntries(DOWNSTREAM.map((t) => [t, { train: 512, test: 48, pretrain: 128 }])),
      tool_call: { train: 512, test: 48, pretrain: 1536 },
      ...Object.fromEntries(SKILLS.map((t) => [t, { pretrain: 4000, test: 32 }])),
      facts: { pretrain: 2000, test: 32 },
    },
  },
  // 1500 steps of the mixture (~4 min on two cores) in length-grouped batches, peak lr 1e-3
  // with 5% warmup and a cosine decay to 10% (3e-3 scored 0.55 at 1500 steps; docs/
  // lm_base_study.md): the base scores ~0.6 on its panel (README "Results of bench lm").
  pretrain: {
    tasks: [...SKILLS, "facts", ...DOWNSTREAM],
    seed: 0,
    steps: 1500,
    batch: 32,
    lr: 1e-3,
    schedule: { warmup: 0.05, decay: "cosine", floor: 0.1 },
  },
  stages: DOWNSTREAM,
  panel: SKILLS,
  seeds: [1, 2, 3],
  variants: [
    { trainer: "sft", ...SFT },
    { trainer: "grpo", options: G, ...RL },
    { trainer: "rif_rft", options: G, ...RL },
    { trainer: "multitask", ...SFT },
  ],
  // KL(π0‖π) on the first 24 held-out prompts of each new task, one sample y ∼ π0 each.
  kl: { items: 24, samples: 1 },
  evalBatch: 64,
});

const more: Variant[] = [
  { name: "grpo_kl", trainer: "grpo", options: { ...G, beta: 0.1 }, ...RL },
  { name: "dr_grpo", trainer: "grpo", options: { ...G, drGrpo: true }, ...RL },
  { trainer: "reinforce10", options: { group: 4 }, ...RL },
  { trainer: "sft_kl", options: { beta: 0.1 }, ...SFT },
  { trainer: "replay", options: { fraction: 0.25 }, ...SFT },
];

/** Every LM trainer, two task orders (lm_full: 36 runs, ~40 min on two cores, estimated). */
export const fullRecipe = defineRecipe({
  ...recipe,
  id: "lm_full",
  description: "lm with every trainer (GRPO β>0, Dr. GRPO, REINFORCE, SFT+KL, replay), 2 orders",
  orders: 2,
  variants: [...recipe.variants, ...more],
});
