// A few-second LM recipe for the resume tests (tests/resume_test.ts): pretraining, three stages
// (so runs save and restore policy snapshots between stages), SFT with two checkpoints per stage,
// GRPO with rollouts, a panel, and the circuits of the panel's skills (so resume and shards
// carry circuit records).

import { VOCAB_SIZE } from "../../models/char_tokenizer.ts";
import { defineRecipe } from "../../runs/recipe.ts";

const STAGES = ["many_answers", "word_math", "science_mc"];
const PANEL = ["copy", "lookup"];

export const recipe = defineRecipe({
  id: "resume_lm",
  description: "tiny LM, three stages, SFT and GRPO: the resume tests' multi-stage recipe",
  model: {
    family: "llama",
    tokenizer: "char",
    config: {
      model_type: "llama",
      vocab_size: VOCAB_SIZE,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 16,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 128,
      tie_word_embeddings: true,
    },
  },
  data: {
    seed: 0,
    sizes: {
      ...Object.fromEntries(STAGES.map((t) => [t, { train: 16, test: 6 }])),
      ...Object.fromEntries(PANEL.map((t) => [t, { pretrain: 64, test: 6 }])),
    },
  },
  pretrain: { tasks: PANEL, seed: 0, steps: 30, batch: 8, lr: 3e-3 },
  stages: STAGES,
  panel: PANEL,
  seeds: [1],
  variants: [
    { trainer: "sft", lrs: [1e-3], steps: 4, checkpoints: [2, 4], batch: 4 },
    { trainer: "grpo", options: { group: 2, mu: 1 }, lrs: [1e-3], steps: 2, batch: 2 },
  ],
  kl: { items: 3, samples: 1 },
  evalBatch: 8,
  circuits: { skills: PANEL, items: 4, steps: 3, lambda: 0.01 },
});
