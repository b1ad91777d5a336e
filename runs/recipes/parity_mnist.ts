// The default recipe (`deno task bench`): RL's Razor on ParityMNIST (Shenfeld, Pari, Agrawal
// 2025). A 785→256→256→10 MLP is pretrained on a small subset of MNIST digits and FashionMNIST,
// then fine-tuned on ParityMNIST (one stage) by every trainer at three learning rates, evaluated
// at three step budgets, with three seeds. FashionMNIST is the panel: forgetting is its panel
// drop. The question is whether forward KL(π0‖π) on ParityMNIST inputs predicts it, and which
// trainers forget less.

import { defineRecipe } from "../recipe.ts";

const rl = { group: 8, mu: 2, clip: 0.2 };

export const recipe = defineRecipe({
  id: "parity_mnist",
  description:
    "RL's Razor ParityMNIST: forgetting of FashionMNIST vs forward KL, SFT vs RL trainers",
  model: { family: "mlp", hidden: [256, 256] },
  // Per class: 150 held out for accuracy and KL (1500 items per task); a limited pretraining
  // subset, 8 digits and 30 clothes, so π0 is competent but imperfect, with room to gain on
  // parity; 500 digits to fine-tune on.
  data: {
    seed: 0,
    sizes: {
      parity_mnist: { test: 150, pretrain: 8, train: 500 },
      fashion_mnist: { test: 150, pretrain: 30 },
    },
  },
  // π0 names the digit itself (a correct-parity answer it prefers) and the clothing class.
  pretrain: {
    tasks: [{ task: "parity_mnist", labelling: "digit" }, "fashion_mnist"],
    seed: 0,
    steps: 300,
    batch: 64,
    lr: 1e-3,
  },
  stages: ["parity_mnist"],
  panel: ["fashion_mnist"],
  seeds: [1, 2, 3],
  train: { lrs: [1e-4, 3e-4, 1e-3], batch: 32, steps: 50, checkpoints: [10, 25, 50] },
  variants: [
    { name: "sft1", trainer: "sft", options: { labelling: "sft1" } },
    { name: "sft2", trainer: "sft", options: { labelling: "sft2" } },
    { name: "oracle_sft", trainer: "sft", options: { labelling: "oracle" } },
    { name: "sft_kl", trainer: "sft_kl", options: { labelling: "sft1", beta: 1 } },
    { name: "grpo", trainer: "grpo", options: { ...rl, beta: 0 } },
    { name: "grpo_kl", trainer: "grpo", options: { ...rl, beta: 0.1 } },
    { name: "reinforce10", trainer: "reinforce10", options: { group: 8 } },
    { name: "rif_rft", trainer: "rif_rft", options: { ...rl, beta: 0 } },
  ],
  matchWithin: 0.02,
  // sft_kl minimises KL(π0‖π) on the new task's inputs by construction, so it can keep that
  // predictor small while forgetting: fit.csv reports the law with and without it.
  fitExcluding: ["sft_kl"],
});
