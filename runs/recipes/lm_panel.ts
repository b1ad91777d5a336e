// `lm_panel`: the tiny LM of the `lm` recipe (same base, from the same cache) post-trained on two
// downstream tasks, with published benchmarks as its forgetting panel: HellaSwag (acc_norm) and
// TruthfulQA MC2, scored by log-likelihood after every stage with lm-evaluation-harness's rules.
// Their data come from the hub, the cache or `--data DIR` (`deno task fixtures DIR` writes
// fixture files in the published formats for an offline try).

import { defineRecipe } from "../recipe.ts";
import { recipe as lm } from "./lm.ts";

export const recipe = defineRecipe({
  ...lm,
  id: "lm_panel",
  description: "the tiny LM on two tasks, HellaSwag and TruthfulQA MC2 as the forgetting panel",
  stages: ["many_answers", "word_math"],
  panel: [
    { task: "hellaswag", items: 500, metric: "acc_norm" },
    { task: "truthfulqa_mc2", items: 500 },
  ],
  variants: lm.variants.filter((v) => v.trainer === "sft" || v.trainer === "grpo"),
});
