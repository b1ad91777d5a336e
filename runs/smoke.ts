// A tiny recipe for the end-to-end test and for trying the pipeline in seconds: a small MLP,
// few items, one learning rate, two seeds, a few steps; every trainer kind once.

import { defineRecipe } from "./recipe.ts";

export const recipe = defineRecipe({
  id: "smoke",
  description: "seconds-long end-to-end check of the ParityMNIST pipeline",
  newTask: "parity_mnist",
  priorTask: "fashion_mnist",
  dataSeed: 0,
  splits: { new: { heldout: 10, pretrain: 10, train: 20 }, prior: { heldout: 10, pretrain: 10 } },
  model: { hidden: [32] },
  base: { seed: 0, steps: 40, batch: 32, lr: 3e-3 },
  finetune: { batch: 16, checkpoints: [3, 6], seeds: [1, 2], lrs: [1e-3] },
  trainers: [
    { name: "sft1", trainer: "sft", options: { labelling: "sft1" } },
    { name: "oracle_sft", trainer: "sft", options: { labelling: "oracle" } },
    { name: "sft_kl", trainer: "sft_kl", options: { beta: 1 } },
    { name: "grpo_kl", trainer: "grpo", options: { group: 4, mu: 2, beta: 0.1 } },
    { name: "reinforce10", trainer: "reinforce10", options: { group: 4 } },
    { name: "rif_rft", trainer: "rif_rft", options: { group: 4, mu: 1 } },
  ],
  matchWithin: 0.02,
});
