import { equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { RECIPES } from "./mod.ts";
import { validateRecipe } from "./recipe.ts";
import { resolveVariants } from "./runner.ts";

const base = RECIPES.parity_mnist.recipe;

function rejects(value: unknown, message: RegExp): void {
  throws(
    () => validateRecipe(value, "r.ts"),
    (e) => e instanceof ValidationError && message.test(e.message),
  );
}

Deno.test("registered recipes validate and their trainers resolve", () => {
  for (const [name, { recipe, file }] of Object.entries(RECIPES)) {
    const r = validateRecipe(recipe, file);
    equal(r.id, name);
    ok(resolveVariants(r, file).length > 0);
  }
});

Deno.test("the default recipe is a full grid: every trainer kind × ≥3 lrs × ≥3 seeds", () => {
  const kinds = new Set(base.trainers.map((t) => t.trainer));
  for (const k of ["sft", "sft_kl", "grpo", "reinforce10", "rif_rft"]) ok(kinds.has(k), k);
  const labellings = base.trainers.filter((t) => t.trainer === "sft").map((t) =>
    t.options?.labelling
  );
  for (const l of ["sft1", "sft2", "oracle"]) ok(labellings.includes(l), l);
  ok(base.trainers.some((t) => t.trainer === "grpo" && t.options?.beta === 0));
  ok(base.trainers.some((t) => t.trainer === "grpo" && (t.options?.beta as number) > 0));
  ok(base.finetune.lrs.length >= 3 && base.finetune.seeds.length >= 3);
});

Deno.test("recipe errors name the file and the field", () => {
  rejects(
    { ...base, finetune: { ...base.finetune, lrs: [1e-3, -1] } },
    /^r\.ts: finetune\.lrs\[1\]: must be > 0, got -1$/,
  );
  rejects(
    { ...base, finetune: { ...base.finetune, checkpoints: [0, 10] } },
    /^r\.ts: finetune\.checkpoints\[0\]: must be > 0, got 0$/,
  );
  rejects(
    { ...base, finetune: { ...base.finetune, seeds: [1, 1] } },
    /finetune\.seeds: has duplicates/,
  );
  rejects({ ...base, base: { ...base.base, steps: 2.5 } }, /base\.steps: must be an integer/);
  rejects(
    { ...base, trainers: [base.trainers[0], base.trainers[0]] },
    /trainers\[1\]\.name: 'sft1' is used twice/,
  );
  rejects({ ...base, fitExcluding: ["nope"] }, /fitExcluding: 'nope' is not a trainer variant/);
  rejects({ ...base, matchWithin: 2 }, /matchWithin: must be below 1/);
  rejects(
    { ...base, splits: { new: { heldout: -1 } } },
    /splits\.new\.heldout: must be ≥ 0, got -1/,
  );
  rejects({ ...base, splits: { old: {} } }, /splits\.old: unknown key/);
  rejects(undefined, /^r\.ts: must export `recipe`/);
});

Deno.test("trainer options are validated when the recipe is resolved", () => {
  const bad = validateRecipe({
    ...base,
    trainers: [{ name: "g", trainer: "grpo", options: { mu: 0 } }],
    fitExcluding: [],
  }, "r.ts");
  throws(
    () => resolveVariants(bad, "r.ts"),
    /r\.ts: trainers\[0\]\.options\.mu: must be ≥ 1, got 0/,
  );
  const typo = validateRecipe({
    ...base,
    trainers: [{ name: "s", trainer: "sft", options: { labeling: "sft1" } }],
    fitExcluding: [],
  }, "r.ts");
  throws(() => resolveVariants(typo, "r.ts"), /unknown option 'labeling' \(known: labelling\)/);
});
