// The `circuits` recipe (issue 14, items 2 and 3: which attention heads each trainer damages):
// the `lm` recipe (spread, so it follows lm.ts) over three seeds, plus the circuit analysis of
// runs/circuits.ts. On π0 and at the end of every stage of every run, for each listed skill, the
// heads that carry its answer are found by differentiable binary masking between each test
// prompt and a counterfactual of the same length (evals/circuits.ts), then measured; the report
// writes circuits.csv, retention.csv (how much of π0's circuit a run keeps) and circuit_fit.csv
// (panel drop against retention and against KL(π0‖π)).

import { defineRecipe } from "../recipe.ts";
import { recipe as lm } from "./lm.ts";

/** lm with three seeds and the circuits of the skills π0 solves best (bench circuits). */
export const recipe = defineRecipe({
  ...lm,
  id: "circuits",
  description: "lm with three seeds and per-head circuits of π0's skills after every stage",
  seeds: [1, 2, 3],
  // Two skills π0 answers best with circuits of several heads (brackets' is one head); 16 items
  // and 20 steps keep the analysis near 4 s per model and skill on two cores (README "Circuits").
  circuits: { skills: ["reverse", "compare"], items: 16, steps: 20, lambda: 0.03 },
});
