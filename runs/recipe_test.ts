// Tests for runs/recipe.ts validateRecipe: every registered recipe validates, defaults are filled
// in (variant name = trainer id, checkpoints = [steps], train.* defaults, KL, orders 1, data seed
// 0), the default ParityMNIST recipe is a full grid, and every bad field anywhere in a recipe is a
// ValidationError whose message starts with `FILE: field: `.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { RECIPES } from "./recipes/mod.ts";
import { type Recipe, validateRecipe } from "./recipe.ts";

const base = RECIPES.parity_mnist.recipe;

/** validateRecipe(value, "r.ts") must throw a ValidationError `r.ts: <field>: <problem>`. */
function rejects(value: unknown, field: string, problem: RegExp): void {
  throws(
    () => validateRecipe(value, "r.ts"),
    (e: unknown) => {
      ok(e instanceof ValidationError, `expected a ValidationError for ${field}, got ${e}`);
      const prefix = `r.ts: ${field}: `;
      ok(e.message.startsWith(prefix), `'${e.message}' should start with '${prefix}'`);
      ok(problem.test(e.message.slice(prefix.length)), `'${e.message}' should match ${problem}`);
      return true;
    },
  );
}

/** The smallest valid recipe: one stage, one seed, one variant, the grid in `train`. */
const MINIMAL = {
  id: "tiny",
  description: "a minimal recipe",
  model: { family: "mlp", hidden: [8] },
  stages: ["parity_mnist"],
  seeds: [1],
  train: { lrs: [1e-3], batch: 8, steps: 10 },
  variants: [{ trainer: "sft" }],
};

Deno.test("every registered recipe validates, under its own id", () => {
  ok(Object.keys(RECIPES).length >= 4);
  for (const [name, { recipe, file }] of Object.entries(RECIPES)) {
    const r = validateRecipe(recipe, file);
    equal(r.id, name);
    ok(r.variants.length > 0, `${name}: variants`);
    ok(r.seeds.length > 0, `${name}: seeds`);
    for (const v of r.variants) {
      equal(v.checkpoints.at(-1), v.steps, `${name}/${v.name}: the last checkpoint is the budget`);
    }
    for (const n of r.fitExcluding) ok(r.variants.some((v) => v.name === n), `${name}: ${n}`);
  }
});

Deno.test("defaults are filled in", () => {
  deepEqual(validateRecipe(MINIMAL, "r.ts"), {
    id: "tiny",
    description: "a minimal recipe",
    model: { family: "mlp", hidden: [8] },
    data: { seed: 0, sizes: {}, fixtures: false },
    pretrain: null,
    stages: [{ task: "parity_mnist", items: null, metric: null }],
    panel: [],
    orders: 1,
    seeds: [1],
    maxNewTokens: null,
    variants: [{
      name: "sft",
      trainer: "sft",
      options: {},
      lrs: [1e-3],
      batch: 8,
      steps: 10,
      checkpoints: [10],
      schedule: null,
      accumulate: 1,
      lora: null,
    }],
    kl: { items: null, samples: 1, max: null },
    evalBatch: null,
    matchWithin: 0.02,
    fitExcluding: [],
  });
});

Deno.test("variant fields override train.*; task uses, pretraining and schedules resolve", () => {
  const r = validateRecipe({
    ...MINIMAL,
    stages: ["a", { task: "b", items: 50, metric: "acc_norm" }],
    panel: [{ task: "p" }],
    orders: 2,
    data: { seed: 3, sizes: { a: { test: 0, train: 5 } } },
    pretrain: {
      tasks: ["a", { task: "b", labelling: "digit" }, { task: "p" }],
      seed: 0,
      steps: 5,
      batch: 4,
      lr: 1e-3,
      schedule: { warmup: 0.1, decay: "cosine", floor: 0 },
    },
    train: {
      lrs: [1e-3, 3e-4],
      batch: 8,
      steps: 10,
      checkpoints: [10, 5],
      schedule: {},
      accumulate: 2,
    },
    variants: [
      { trainer: "sft" },
      {
        name: "g",
        trainer: "grpo",
        options: { beta: 0.1 },
        lrs: [1e-5],
        batch: 2,
        steps: 4,
        checkpoints: [4],
        schedule: { decay: "cosine" },
        accumulate: 1,
        lora: { rank: 8, alpha: 16, targets: ["q_proj", "v_proj"], save: "adapter" },
      },
    ],
    kl: { items: 24, samples: 2, max: null },
    evalBatch: 64,
    matchWithin: 0.05,
    fitExcluding: ["g"],
  }, "r.ts");
  deepEqual(r.stages, [
    { task: "a", items: null, metric: null },
    { task: "b", items: 50, metric: "acc_norm" },
  ]);
  deepEqual(r.panel, [{ task: "p", items: null, metric: null }]);
  deepEqual(r.data, { seed: 3, sizes: { a: { test: 0, train: 5 } }, fixtures: false });
  // Pretraining tasks default to the sft1 labelling.
  deepEqual(r.pretrain!.tasks, [
    { task: "a", labelling: "sft1" },
    { task: "b", labelling: "digit" },
    { task: "p", labelling: "sft1" },
  ]);
  deepEqual(r.pretrain!.schedule, { warmup: 0.1, decay: "cosine", floor: 0 });
  const [sft, g] = r.variants;
  // From train: checkpoints sorted; an empty schedule is a constant one without warmup.
  deepEqual(sft, {
    name: "sft",
    trainer: "sft",
    options: {},
    lrs: [1e-3, 3e-4],
    batch: 8,
    steps: 10,
    checkpoints: [5, 10],
    schedule: { warmup: 0, decay: "constant" },
    accumulate: 2,
    lora: null,
  });
  deepEqual(g, {
    name: "g",
    trainer: "grpo",
    options: { beta: 0.1 },
    lrs: [1e-5],
    batch: 2,
    steps: 4,
    checkpoints: [4],
    schedule: { warmup: 0, decay: "cosine" },
    accumulate: 1,
    lora: { rank: 8, alpha: 16, targets: ["q_proj", "v_proj"], dropout: 0, save: "adapter" },
  });
  deepEqual([r.orders, r.kl, r.evalBatch, r.matchWithin, r.fitExcluding], [
    2,
    { items: 24, samples: 2, max: null },
    64,
    0.05,
    ["g"],
  ]);
  // A panel-only recipe evaluates without variants.
  const evalOnly = validateRecipe({ ...MINIMAL, stages: [], panel: ["p"], variants: [] }, "r.ts");
  deepEqual([evalOnly.stages, evalOnly.variants.length], [[], 0]);
});

Deno.test("the default recipe is a full grid: every trainer kind × ≥3 lrs × ≥3 seeds", () => {
  const r = validateRecipe(base, RECIPES.parity_mnist.file);
  const kinds = new Set(r.variants.map((v) => v.trainer));
  for (const k of ["sft", "sft_kl", "grpo", "reinforce10", "rif_rft"]) ok(kinds.has(k), k);
  const labellings = r.variants.filter((v) => v.trainer === "sft").map((v) => v.options.labelling);
  for (const l of ["sft1", "sft2", "oracle"]) ok(labellings.includes(l), l);
  ok(r.variants.some((v) => v.trainer === "grpo" && v.options.beta === 0));
  ok(r.variants.some((v) => v.trainer === "grpo" && (v.options.beta as number) > 0));
  for (const v of r.variants) {
    ok(v.lrs.length >= 3, `${v.name}: lrs`);
    ok(v.checkpoints.length >= 3, `${v.name}: step budgets`);
  }
  ok(r.seeds.length >= 3);
  deepEqual(r.panel.map((u) => u.task), ["fashion_mnist"]);
});

Deno.test("the lm recipe takes its variant names from trainer ids and checkpoints = [steps]", () => {
  const r = validateRecipe(RECIPES.lm.recipe, RECIPES.lm.file);
  deepEqual(r.variants.map((v) => v.name), r.variants.map((v) => v.trainer));
  for (const v of r.variants) deepEqual(v.checkpoints, [v.steps]);
  equal(r.stages.length, 4);
  deepEqual(r.pretrain!.schedule, { warmup: 0.05, decay: "cosine", floor: 0.1 });
  equal(validateRecipe(RECIPES.lm_full.recipe, RECIPES.lm_full.file).orders, 2);
});

Deno.test("unknown fields anywhere are errors naming them", () => {
  const m = MINIMAL;
  rejects({ ...base, finetune: {} }, "finetune", /^unknown field \(known: id, description,/);
  rejects(
    { ...m, data: { seeds: 1 } },
    "data.seeds",
    /^unknown field \(known: seed, sizes, fixtures\)$/,
  );
  rejects({ ...m, train: { ...m.train, lr: 1 } }, "train.lr", /^unknown field/);
  rejects({ ...m, variants: [{ trainer: "sft", option: {} }] }, "variants[0].option", /^unknown/);
  rejects({ ...m, stages: [{ task: "a", item: 5 }] }, "stages[0].item", /^unknown field/);
  rejects({ ...m, panel: [{ task: "p", metrics: "x" }] }, "panel[0].metrics", /^unknown field/);
  rejects({ ...m, kl: { item: 3 } }, "kl.item", /^unknown field \(known: items, samples, max\)$/);
  rejects({ ...base, pretrain: { ...base.pretrain, step: 1 } }, "pretrain.step", /^unknown/);
  rejects(
    { ...base, pretrain: { ...base.pretrain, tasks: [{ task: "a", label: "x" }] } },
    "pretrain.tasks[0].label",
    /^unknown field \(known: task, labelling\)$/,
  );
  rejects(
    { ...m, train: { ...m.train, schedule: { warm: 0.1 } } },
    "train.schedule.warm",
    /^unknown field \(known: warmup, decay, floor\)$/,
  );
  rejects(
    { ...m, data: { sizes: { a: { tset: 5, train: 5 } } } },
    "data.sizes.a.tset",
    /^unknown split \(known: test, train, pretrain\)$/,
  );
});

Deno.test("bad numbers and lists name the field", () => {
  const m = MINIMAL;
  const train = (t: object) => ({ ...m, train: { ...m.train, ...t } });
  rejects(train({ lrs: [1e-3, -1] }), "train.lrs[1]", /^must be > 0, got -1$/);
  rejects(train({ lrs: [NaN] }), "train.lrs[0]", /^must be a number/);
  rejects(train({ lrs: [] }), "train.lrs", /^must be a non-empty list of numbers$/);
  rejects(train({ lrs: [1e-3, 1e-3] }), "train.lrs", /^has duplicates: \[0\.001,0\.001\]$/);
  // A grid value taken from train.* is reported where it was written.
  rejects(train({ batch: 0 }), "train.batch", /^must be > 0, got 0$/);
  rejects(train({ steps: 2.5 }), "train.steps", /^must be an integer, got 2\.5$/);
  rejects({ ...m, variants: [{ trainer: "sft", batch: 0 }] }, "variants[0].batch", /> 0/);
  rejects(train({ checkpoints: [0, 10] }), "train.checkpoints[0]", /^must be > 0, got 0$/);
  rejects({ ...m, seeds: [1, 1] }, "seeds", /^has duplicates: \[1,1\]$/);
  rejects({ ...m, seeds: [1, "2"] }, "seeds[1]", /^must be a number, got "2"$/);
  rejects({ ...m, seeds: 1 }, "seeds", /^must be a non-empty list of numbers$/);
  rejects({ ...m, seeds: [-1] }, "seeds[0]", /^must be ≥ 0, got -1$/);
  rejects({ ...m, data: { seed: 0.5 } }, "data.seed", /^must be an integer, got 0\.5$/);
  rejects(
    { ...m, data: { sizes: { parity_mnist: { test: -1 } } } },
    "data.sizes.parity_mnist.test",
    /^must be ≥ 0, got -1$/,
  );
  rejects({ ...base, pretrain: { ...base.pretrain, steps: 2.5 } }, "pretrain.steps", /integer/);
  rejects({ ...base, pretrain: { ...base.pretrain, lr: 0 } }, "pretrain.lr", /^must be > 0/);
  rejects({ ...base, pretrain: { ...base.pretrain, tasks: [] } }, "pretrain.tasks", /non-empty/);
  rejects({ ...m, stages: [{ task: "a", items: 0 }] }, "stages[0].items", /^must be > 0, got 0$/);
  rejects({ ...m, kl: { samples: 0 } }, "kl.samples", /^must be > 0, got 0$/);
  rejects({ ...m, kl: { items: 1.5 } }, "kl.items", /^must be an integer/);
  rejects({ ...m, kl: { max: -1 } }, "kl.max", /^must be > 0/);
  rejects({ ...m, evalBatch: 1.5 }, "evalBatch", /^must be an integer, got 1\.5$/);
  rejects({ ...m, matchWithin: 2 }, "matchWithin", /^must be below 1/);
  rejects({ ...m, orders: 0 }, "orders", /^must be > 0, got 0$/);
  rejects({ ...m, variants: [{ trainer: "sft", lrs: [-1] }] }, "variants[0].lrs[0]", /> 0/);
});

Deno.test("missing or malformed fields name the field", () => {
  const m = MINIMAL;
  rejects({ ...m, id: "Parity MNIST" }, "id", /^'Parity MNIST' must be lower-case/);
  rejects({ ...m, id: "" }, "id", /^must be a non-empty string$/);
  rejects({ ...m, description: undefined }, "description", /^must be a non-empty string$/);
  rejects({ ...m, model: "mlp" }, "model", /^must be an object/);
  rejects({ ...m, stages: "parity_mnist" }, "stages", /^must be a list of task ids/);
  rejects({ ...m, stages: [""] }, "stages[0]", /^must be a non-empty string$/);
  rejects({ ...m, stages: [] }, "stages", /^a recipe needs stage or panel tasks$/);
  rejects({ ...m, stages: ["a", "a"] }, "stages", /^task 'a' appears twice$/);
  rejects({ ...m, variants: [] }, "variants", /^must be a non-empty list/);
  rejects({ ...m, variants: [{ name: "x" }] }, "variants[0].trainer", /non-empty string/);
  rejects({ ...m, variants: [{ trainer: "sft", options: 3 }] }, "variants[0].options", /object/);
  rejects(
    { ...m, train: { lrs: [1e-3], batch: 8 } },
    "variants[0].steps",
    /^missing \(give it here or in train\.steps\)$/,
  );
  rejects({ ...m, pretrain: "yes" }, "pretrain", /^must be an object$/);
  rejects({ ...m, kl: 3 }, "kl", /^must be an object$/);
});

Deno.test("undefined is not a recipe: the file must export one", () => {
  throws(() => validateRecipe(undefined, "r.ts"), /^ValidationError: r\.ts: must export `recipe`/);
  throws(() => validateRecipe([], "r.ts"), /^ValidationError: r\.ts: must export `recipe`/);
});

Deno.test("checkpoints must end at the step budget", () => {
  const m = MINIMAL;
  rejects(
    { ...m, train: { ...m.train, checkpoints: [5, 8] } },
    "train.checkpoints",
    /^the last checkpoint must be the step budget 10, got 8$/,
  );
  rejects(
    { ...m, train: { ...m.train, checkpoints: [5, 20] } },
    "train.checkpoints",
    /step budget 10, got 20/,
  );
  // A variant with its own steps but the recipe's checkpoints: the error names where they came
  // from and the variant's budget.
  rejects(
    { ...base, variants: [{ trainer: "sft", steps: 20 }] },
    "train.checkpoints",
    /^the last checkpoint must be the step budget 20, got 50$/,
  );
  rejects(
    { ...m, variants: [{ trainer: "sft", checkpoints: [3, 3, 10] }] },
    "variants[0].checkpoints",
    /^has duplicates/,
  );
});

Deno.test("variant names are unique, defaults included", () => {
  rejects(
    { ...base, variants: [base.variants[0], base.variants[0]] },
    "variants[1].name",
    /^'sft1' is used twice$/,
  );
  rejects(
    { ...MINIMAL, variants: [{ trainer: "grpo" }, { trainer: "grpo" }] },
    "variants[1].name",
    /^'grpo' is used twice$/,
  );
  // A name equal to another variant's default is a clash too.
  rejects(
    { ...MINIMAL, variants: [{ trainer: "sft" }, { name: "sft", trainer: "sft_kl" }] },
    "variants[1].name",
    /^'sft' is used twice$/,
  );
});

Deno.test("a panel task may not be a stage task", () => {
  rejects(
    { ...base, panel: ["fashion_mnist", "parity_mnist"] },
    "panel",
    /^task 'parity_mnist' is also a stage task/,
  );
  rejects({ ...base, panel: ["fashion_mnist", "fashion_mnist"] }, "panel", /appears twice/);
});

Deno.test("schedule fields are checked wherever a schedule is given", () => {
  const m = MINIMAL;
  const at = (schedule: unknown) => ({ ...m, train: { ...m.train, schedule } });
  rejects(at({ warmup: 1 }), "train.schedule.warmup", /^is a fraction of the steps, below 1/);
  rejects(at({ warmup: -0.1 }), "train.schedule.warmup", /^must be ≥ 0, got -0\.1$/);
  rejects(at({ decay: "linear" }), "train.schedule.decay", /^must be "constant" or "cosine"/);
  rejects(at({ floor: 2 }), "train.schedule.floor", /^must be ≤ 1, got 2$/);
  rejects(at(5), "train.schedule", /^must be an object$/);
  rejects(
    { ...m, variants: [{ trainer: "sft", schedule: { warmup: 2 } }] },
    "variants[0].schedule.warmup",
    /below 1/,
  );
  rejects(
    { ...base, pretrain: { ...base.pretrain, schedule: { decay: "step" } } },
    "pretrain.schedule.decay",
    /"constant" or "cosine"/,
  );
});

Deno.test("fitExcluding names variants; orders > 1 need two stages", () => {
  rejects({ ...base, fitExcluding: ["nope"] }, "fitExcluding", /^'nope' is not a variant/);
  // A trainer id is not a variant name when the variant is named otherwise.
  rejects({ ...base, fitExcluding: ["grpo_kl", "sft"] }, "fitExcluding", /^'sft' is not/);
  rejects({ ...base, fitExcluding: "sft_kl" }, "fitExcluding", /^must be a list of variant names$/);
  rejects({ ...base, orders: 2 }, "orders", /^more than one order needs at least 2 stages$/);
  const two: Recipe = { ...base, stages: ["parity_mnist", "other"], orders: 3 };
  equal(validateRecipe(two, "r.ts").orders, 3);
  equal(validateRecipe({ ...two, orders: "each" }, "r.ts").orders, "each");
  rejects({ ...two, orders: "all" as never }, "orders", /^must be a positive integer or "each"/);
  rejects(
    { ...MINIMAL, stages: [], panel: ["p"], variants: [], orders: "each" },
    "orders",
    /^"each" needs stage tasks$/,
  );
});

Deno.test("data.fixtures and maxNewTokens: defaults, values, bad values named", () => {
  const r = validateRecipe(MINIMAL, "r.ts");
  deepEqual([r.data.fixtures, r.maxNewTokens], [false, null]);
  const f = validateRecipe({ ...MINIMAL, data: { fixtures: true }, maxNewTokens: 32 }, "r.ts");
  deepEqual([f.data.fixtures, f.maxNewTokens], [true, 32]);
  rejects({ ...MINIMAL, data: { fixtures: "yes" as never } }, "data.fixtures", /true or false/);
  rejects({ ...MINIMAL, maxNewTokens: 0 }, "maxNewTokens", /^must be > 0, got 0$/);
  rejects({ ...MINIMAL, maxNewTokens: 2.5 }, "maxNewTokens", /^must be an integer/);
});

// Fails at the time of writing: validateRecipe calls Object.keys on data.sizes (and on each
// task's sizes) before checking that it is an object, so `null` escapes as a TypeError
// ("Cannot convert undefined or null to object") that names neither the file nor the field.
Deno.test("a null data.sizes, or a null task entry in it, is a ValidationError naming it", () => {
  rejects({ ...MINIMAL, data: { sizes: null } }, "data.sizes", /^must be an object$/);
  rejects(
    { ...MINIMAL, data: { sizes: { parity_mnist: null } } },
    "data.sizes.parity_mnist",
    /^must be an object$/,
  );
});

Deno.test("accumulate and lora are checked, each error naming its field", () => {
  const m = MINIMAL;
  const v = (extra: Record<string, unknown>) => ({
    ...m,
    variants: [{ trainer: "sft", ...extra }],
  });
  rejects(v({ accumulate: 0 }), "variants[0].accumulate", /^must be > 0, got 0$/);
  rejects(v({ accumulate: 1.5 }), "variants[0].accumulate", /^must be an integer, got 1\.5$/);
  // Uneven micro-batches are fine (each weighs its share); too many is a resolve-time error.
  equal(validateRecipe(v({ accumulate: 3 }), "r.ts").variants[0].accumulate, 3);
  equal(validateRecipe(v({ accumulate: 4 }), "r.ts").variants[0].accumulate, 4);
  const lora = (l: unknown) => v({ lora: l });
  const ok4 = { rank: 4, alpha: 8, targets: ["q_proj"] };
  rejects(lora(3), "variants[0].lora", /^must be an object$/);
  rejects(
    lora({ ...ok4, r: 4 }),
    "variants[0].lora.r",
    /^unknown field \(known: rank, alpha, targets, dropout, save\)$/,
  );
  rejects(lora({ ...ok4, rank: 0 }), "variants[0].lora.rank", /^must be > 0, got 0$/);
  rejects(lora({ ...ok4, rank: 2.5 }), "variants[0].lora.rank", /^must be an integer/);
  rejects(lora({ ...ok4, alpha: "16" }), "variants[0].lora.alpha", /^must be a number/);
  rejects(lora({ ...ok4, targets: [] }), "variants[0].lora.targets", /^must be a non-empty list/);
  rejects(
    lora({ ...ok4, targets: ["q_proj", ""] }),
    "variants[0].lora.targets[1]",
    /non-empty string/,
  );
  rejects(
    lora({ ...ok4, targets: ["q_proj", "q_proj"] }),
    "variants[0].lora.targets",
    /'q_proj' appears twice/,
  );
  rejects(
    lora({ ...ok4, dropout: 0.05 }),
    "variants[0].lora.dropout",
    /^must be 0 \(forgetbench implements LoRA without dropout\), got 0\.05$/,
  );
  rejects(
    lora({ ...ok4, save: "peft" }),
    "variants[0].lora.save",
    /^must be "merged" or "adapter"/,
  );
  deepEqual(validateRecipe(lora({ ...ok4, dropout: 0 }), "r.ts").variants[0].lora, {
    ...ok4,
    dropout: 0,
    save: null,
  });
});
