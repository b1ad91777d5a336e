// A tiny recipe for the end-to-end test and for trying the pipeline in seconds: a small MLP,
// few items, one learning rate, two seeds, a few steps; every trainer kind once.

import { defineRecipe } from "../recipe.ts";

export const recipe = defineRecipe({
  id: "smoke",
  description: "seconds-long end-to-end check of the ParityMNIST pipeline",
  model: { family: "mlp", hidden: [32] },
  data: {
    seed: 0,
    sizes: {
      parity_mnist: { test: 10, pretrain: 10, train: 20 },
      fashion_mnist: { test: 10, pretrain: 10 },
    },
  },
  pretrain: {
    tasks: [{ task: "parity_mnist", labelling: "digit" }, "fashion_mnist"],
    seed: 0,
    steps: 40,
    batch: 32,
    lr: 3e-3,
  },
  stages: ["parity_mnist"],
  panel: ["fashion_mnist"],
  seeds: [1, 2],
  train: { lrs: [1e-3], batch: 16, steps: 6, checkpoints: [3, 6] },
  variants: [
    { name: "sft1", trainer: "sft", options: { labelling: "sft1" } },
    { name: "oracle_sft", trainer: "sft", options: { labelling: "oracle" } },
    { name: "sft_kl", trainer: "sft_kl", options: { beta: 1 } },
    { name: "grpo_kl", trainer: "grpo", options: { group: 4, mu: 2, beta: 0.1 } },
    { name: "reinforce10", trainer: "reinforce10", options: { group: 4 } },
    { name: "rif_rft", trainer: "rif_rft", options: { group: 4, mu: 1 } },
  ],
  matchWithin: 0.02,
});
