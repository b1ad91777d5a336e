// Training real sizes through the one pipeline (runs/pipeline.ts), on the tiny LM in seconds: a
// recipe with a LoRA variant (PEFT adapter saved per run) and gradient accumulation, for SFT and
// GRPO, writes the standard outputs with the schedule's per-step learning rate; the saved adapter
// loads back onto π0 and reproduces the run's final model; the memory model refuses a recipe over
// `--memory` (or a LoRA target that matches nothing, or LoRA on the MLP) in one line before any
// output, through runRecipe and through the command line; and every registered recipe fits the
// wasm device's 4 GiB.

import { ALL_PROJECTIONS } from "../models/lora.ts";
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { UsageError } from "../lib/errors.ts";
import { tree } from "@jax-js/jax";
import { llamaForward, padBatch } from "../models/llama.ts";
import { type LlamaPolicy, loadLlamaPolicy } from "../models/llama_policy.ts";
import { promptIds, TOKENIZERS } from "../models/tokenizer.ts";
import { parseBytes } from "../models/memory.ts";
import { runRecipe } from "../runs/pipeline.ts";
import { type Recipe, validateRecipe } from "../runs/recipe.ts";
import { recipe as lm } from "../runs/recipes/lm.ts";
import { RECIPES } from "../runs/recipes/mod.ts";
import { checkMemory, memoryBudgets, resolvePlan } from "../runs/resolve.ts";
import { TASK_LIST } from "../tasks/mod.ts";
import { lrAt } from "../trainers/schedule.ts";
import { cli, exists } from "./cli.ts";
import { isHubTask, writeTaskFixture } from "../runs/fixtures.ts";
import { TINY_LM_CONFIG } from "./tiny_lm.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

const TASKS = ["many_answers", "word_math"];
const SKILLS = ["copy", "compare"];
const ALL = [...ALL_PROJECTIONS];

const TINY: Recipe = {
  ...lm,
  id: "lm_lora",
  model: { ...lm.model, config: TINY_LM_CONFIG },
  data: {
    seed: 0,
    sizes: {
      ...Object.fromEntries(TASKS.map((t) => [t, { train: 16, test: 4 }])),
      ...Object.fromEntries(SKILLS.map((t) => [t, { pretrain: 40, test: 3 }])),
    },
  },
  pretrain: { tasks: SKILLS, seed: 0, steps: 10, batch: 16, lr: 1e-2 },
  stages: TASKS,
  panel: SKILLS,
  orders: 1,
  seeds: [1],
  variants: [
    {
      name: "sft_lora",
      trainer: "sft",
      lrs: [2e-2],
      steps: 4,
      batch: 4,
      accumulate: 2,
      schedule: { warmup: 0.25, decay: "cosine" },
      lora: { rank: 4, alpha: 8, targets: ALL, save: "adapter" },
    },
    {
      name: "sft_lora_merged",
      trainer: "sft",
      lrs: [2e-2],
      steps: 4,
      batch: 4,
      accumulate: 2,
      schedule: { warmup: 0.25, decay: "cosine" },
      lora: { rank: 4, alpha: 8, targets: ALL, save: "merged" },
    },
    {
      name: "grpo_lora",
      trainer: "grpo",
      options: { group: 2 },
      lrs: [1e-2],
      steps: 2,
      batch: 2,
      accumulate: 2,
      lora: { rank: 2, alpha: 4, targets: ["q_proj", "v_proj"], save: "merged" },
    },
    { name: "sft_acc", trainer: "sft", lrs: [1e-2], steps: 2, batch: 4, accumulate: 2 },
  ],
  kl: { items: 2, samples: 1 },
};

/** Runs `f` in a fresh temporary folder, removed afterwards. */
async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const loaded = (r: Recipe, file = "lora.ts") => ({ recipe: validateRecipe(r, file), file });
const rowsOf = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

Deno.test(
  "pipeline: LoRA and accumulation variants write the standard outputs and the adapters",
  opts,
  () =>
    withDir(async (dir) => {
      const out = `${dir}/out`;
      const res = await runRecipe(loaded(TINY), {
        out,
        cacheDir: `${dir}/cache`,
        device: "wasm",
        quiet: true,
        memory: parseBytes("1GiB", "--memory"),
      });
      for (
        const f of [
          "matrix.csv",
          "leaderboard.csv",
          "summary.csv",
          "stages.csv",
          "fit.csv",
          "timings.csv",
          "records.jsonl",
          "samples.jsonl",
          "manifest.json",
        ]
      ) ok((await Deno.stat(`${out}/${f}`)).size > 0, f);
      const board = rowsOf(await Deno.readTextFile(`${out}/leaderboard.csv`));
      deepEqual(board.map((r) => r.variant), [
        "sft_lora",
        "sft_lora_merged",
        "grpo_lora",
        "sft_acc",
      ]);
      // Same settings and seed, saved two ways: the same run.
      deepEqual(
        (({ variant: _, ...r }) => r)(board[0]),
        (({ variant: _, ...r }) => r)(board[1]),
      );
      for (const r of board) ok(Number(r.kl_forward) > 0, `${r.variant} moved: ${r.kl_forward}`);
      // The resolved recipe records every variant's accumulation and adapter.
      const lines = (await Deno.readTextFile(`${out}/records.jsonl`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      const recipe = lines[0].recipe;
      deepEqual(recipe.variants.map((v: { accumulate: number }) => v.accumulate), [2, 2, 2, 2]);
      deepEqual(recipe.variants[0].lora, {
        rank: 4,
        alpha: 8,
        targets: ALL,
        dropout: 0,
        save: "adapter",
      });
      equal(recipe.variants[3].lora, null);
      // The learning rate is per optimiser step: warmup then cosine, whatever the micro-batches.
      const steps = lines.filter((l) => l.type === "step" && l.variant === "sft_lora");
      equal(steps.length, 2 * 4);
      for (const s of steps) {
        const want = lrAt(s.step, {
          lr: 2e-2,
          steps: 4,
          schedule: { warmup: 0.25, decay: "cosine" },
        });
        equal(s.lr_now, want, `stage ${s.stage} step ${s.step}`);
        ok(Number.isFinite(s.loss) && s.seen === 4);
      }
      // Each LoRA run's final model: a PEFT adapter folder, or the merged checkpoint.
      const adapter = `${out}/models/sft_lora-lr0.02-seed1-order0`;
      const cfg = JSON.parse(await Deno.readTextFile(`${adapter}/adapter_config.json`));
      equal(cfg.peft_type, "LORA");
      equal(cfg.r, 4);
      equal(cfg.base_model_name_or_path, res.base.dir);
      const merged = `${out}/models/grpo_lora-lr0.01-seed1-order0`;
      ok((await Deno.stat(`${merged}/model.safetensors`)).size > 0);
      const manifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
      for (
        const f of [
          "models/sft_lora-lr0.02-seed1-order0/adapter_config.json",
          "models/sft_lora-lr0.02-seed1-order0/adapter_model.safetensors",
          "models/grpo_lora-lr0.01-seed1-order0/model.safetensors",
        ]
      ) ok(/^[0-9a-f]{64}$/.test(manifest.outputs_sha256[f]), f);
      // The adapter on π0 is the run's final model: the same run saved merged gives its logits.
      const tokenizer = TOKENIZERS.char;
      const withAdapter = await loadLlamaPolicy(res.base.dir!, { tokenizer });
      await withAdapter.loadAdapter(adapter);
      const twin = await loadLlamaPolicy(`${out}/models/sft_lora_merged-lr0.02-seed1-order0`, {
        tokenizer,
      });
      const probe = () => padBatch([promptIds(tokenizer, "copy: abc ->")], { length: 16 });
      const logits = async (p: LlamaPolicy) =>
        await llamaForward(tree.ref(p.params), probe(), { config: TINY_LM_CONFIG }).data();
      const [a, b] = [await logits(withAdapter), await logits(twin)];
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
      ok(d < 1e-5, `adapter on π0 vs the merged twin: ${d}`);
      await Promise.all([withAdapter.dispose(), twin.dispose()]);
    }),
);

Deno.test(
  "pipeline: over --memory, unmatched LoRA targets, LoRA on the MLP: one line, before any output",
  opts,
  () =>
    withDir(async (dir) => {
      const out = `${dir}/out`, cacheDir = `${dir}/cache`;
      const bad = async (r: Recipe, re: RegExp, memory?: string) => {
        await rejects(
          () =>
            runRecipe(loaded(r), {
              out,
              cacheDir,
              device: "wasm",
              quiet: true,
              memory: memory === undefined ? undefined : parseBytes(memory, "--memory"),
            }),
          (e: unknown) => {
            ok(e instanceof UsageError, String(e));
            ok(re.test(e.message) && !e.message.includes("\n"), e.message);
            return true;
          },
        );
        await rejects(Deno.stat(out), Deno.errors.NotFound);
        await rejects(Deno.stat(cacheDir), Deno.errors.NotFound, "no base was pretrained");
      };
      // The pretraining phase is the first to exceed 1 MiB.
      await bad(
        TINY,
        /^lora\.ts: pretrain: training needs about [\d.]+ MiB \(weights [\d.]+ KiB, gradients [\d.]+ KiB, AdamW moments [\d.]+ KiB, activations [\d.]+ MiB for 16 × \d+ tokens\), over --memory 1\.0 MiB; use a smaller pretrain\.batch \(docs\/metrics\.md "Memory model"\)$/,
        "1MiB",
      );
      // Without pretraining, the variant's own estimate: its micro-batch of 2 rows.
      await bad(
        {
          ...TINY,
          pretrain: undefined,
          variants: [{ ...TINY.variants[0], batch: 64, accumulate: 2 }],
        },
        /^lora\.ts: variants\[0\] \('sft_lora'\): training needs about [\d.]+ MiB \(.*activations [\d.]+ MiB for 32 × \d+ tokens\), over --memory 2\.0 MiB; use lora, a smaller batch or a larger accumulate/,
        "2MiB",
      );
      await bad(
        {
          ...TINY,
          variants: [{
            ...TINY.variants[0],
            lora: { rank: 4, alpha: 8, targets: ["q_proj", "qkv_proj"] },
          }],
        },
        /^lora\.ts: variants\[0\]\.lora\.targets\[1\]: 'qkv_proj' matches no Linear module of this model/,
      );
      const mlp = RECIPES.smoke.recipe;
      await bad(
        { ...mlp, variants: [{ ...mlp.variants[0], lora: { rank: 2, alpha: 2, targets: ["x"] } }] },
        /variants\[0\]\.lora: a mlp model has no LoRA \(llama has\)$/,
      );
      await bad(
        { ...mlp, variants: [{ ...mlp.variants[0], batch: 8, accumulate: 2 }] },
        /variants\[0\]\.accumulate: a mlp model trains whole batches only/,
      );
    }),
);

Deno.test(
  "every registered recipe fits the wasm device's 4 GiB",
  opts,
  () =>
    withDir(async (dir) => {
      for (const t of TASK_LIST.filter(isHubTask)) await writeTaskFixture(`${dir}/data`, t);
      const data = { dataPath: `${dir}/data`, offline: true, cacheDir: `${dir}/cache` };
      for (const [name, { recipe, file }] of Object.entries(RECIPES)) {
        if (name === "razor_llm" || name === "razor_llm_lora") continue; // GPU recipes: below
        const plan = await resolvePlan(validateRecipe(recipe, file), { file, data });
        // razor_llm_tiny's generated checkpoint is known once opened: a lower bound here.
        const complete = checkMemory(plan, { budgets: memoryBudgets({ device: "wasm" }) });
        ok(complete || name === "razor_llm_tiny", name);
      }
      // razor_llm with Qwen2.5-3B-Instruct's config.json as a local folder: its weights,
      // gradient sum and AdamW moments alone (69.0 GiB) are refused on wasm; they fit 141 GB.
      const qwen = `${dir}/qwen2.5-3b`;
      await Deno.mkdir(qwen);
      await Deno.writeTextFile(`${qwen}/config.json`, JSON.stringify(QWEN25_3B_CONFIG));
      const { recipe, file } = RECIPES.razor_llm;
      const plan = await resolvePlan(
        validateRecipe({ ...recipe, model: { family: "llama", source: qwen, chat: true } }, file),
        { file, data, allowCodeExecution: true },
      );
      throws(
        () => checkMemory(plan, { budgets: memoryBudgets({ device: "wasm" }) }),
        /razor_llm\.ts: variants\[0\] \('sft'\): training needs at least 69\.0 GiB \(weights 11\.5 GiB, references 11\.5 GiB, gradients 23\.0 GiB, AdamW moments 23\.0 GiB\), over the wasm device's 4 GiB/,
      );
      equal(
        checkMemory(plan, { budgets: [{ bytes: 141e9, buffer: null, source: "--memory 141GB" }] }),
        false,
        "a lower bound until the checkpoint's tokenizer is open",
      );
    }),
);

/** Qwen2.5-3B-Instruct's config.json as published. */
const QWEN25_3B_CONFIG = {
  architectures: ["Qwen2ForCausalLM"],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 11008,
  max_position_embeddings: 32768,
  max_window_layers: 70,
  model_type: "qwen2",
  num_attention_heads: 16,
  num_hidden_layers: 36,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.43.1",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

Deno.test(
  "bench --memory: bad sizes and budgets too small are one line, exit 2, no output",
  opts,
  () =>
    withDir(async (dir) => {
      const out = `${dir}/out`;
      for (
        const [args, re] of [
          [["--memory", "16"], /^error: --memory: '16' is not a size; write a number and a unit/],
          [["--memory=-2GiB"], /^error: --memory: '-2GiB' is not a size/],
          [
            ["--memory", "1MiB"],
            /^error: runs\/recipes\/lm\.ts: pretrain: training needs about [\d.]+ MiB .*, over --memory 1\.0 MiB; use a smaller pretrain\.batch/,
          ],
        ] as const
      ) {
        const r = await cli(["bench", "lm", "--out", out, "--cache", `${dir}/cache`, ...args]);
        equal(r.code, 2, r.stderr);
        ok(re.test(r.stderr) && r.stderr.trim().split("\n").length === 1, r.stderr);
        equal(await exists(out), false);
      }
    }),
);
