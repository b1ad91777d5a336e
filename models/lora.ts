// LoRA (Hu et al. 2021) for the jax-js Llama, as Hugging Face PEFT defines it, so adapters move
// between forgetbench and PEFT: adapters on the Linear layers whose module path matches a
// `target_modules` entry (PEFT's rule: the path equals it or ends in "." + it), rank r, scale
// alpha / r, no dropout; A [r, in] drawn kaiming-uniform as PEFT's default init_lora_weights=True
// (U(−1/√in, 1/√in)), B [out, r] zeros, so a fresh adapter leaves the model as it was. The forward
// uses W + (alpha/r)·B·A (the order PEFT merges in); training differentiates only A and B. An
// adapter is saved as a PEFT folder (adapter_config.json + adapter_model.safetensors with PEFT's
// tensor names) or merged into the base weights (models/llama_policy.ts).

import { numpy as np, tree } from "@jax-js/jax";
import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { ValidationError } from "../lib/errors.ts";
import { hashString, rng } from "../lib/rng.ts";
import {
  configKey,
  type LlamaModelConfig,
  type LlamaParams,
  llamaParamShapes,
  program,
} from "./llama.ts";
import { decodeSafetensors, encodeSafetensors, type NamedWeights } from "./safetensors.ts";

/** A LoRA configuration: PEFT's r, lora_alpha, target_modules and lora_dropout (0 only). */
export interface LoraOptions {
  readonly rank: number;
  readonly alpha: number;
  /** Module name suffixes, as PEFT's target_modules list (e.g. "q_proj", "mlp.down_proj"). */
  readonly targets: readonly string[];
  /** PEFT's lora_dropout; forgetbench implements 0 only. */
  readonly dropout?: number;
}

/** One adapted Linear layer: its HF module path and weight shape [out, in]. */
export interface LoraModule {
  readonly module: string;
  readonly out: number;
  readonly in: number;
}

/**
 * Adapter weights by PEFT name without the `base_model.model.` prefix:
 * `<module>.lora_A.weight` [r, in] and `<module>.lora_B.weight` [out, r].
 */
export type LoraParams = { [name: string]: np.Array };

/** An adapter attached to a policy: its options, the frozen base weights and the adapter. */
export interface LoraState {
  readonly options: LoraOptions;
  readonly modules: readonly LoraModule[];
  /** The frozen base weights (never updated while the adapter trains). */
  readonly base: LlamaParams;
  weights: LoraParams;
}

/** PEFT's prefix of adapter tensor names in adapter_model.safetensors. */
export const PEFT_PREFIX = "base_model.model.";

/** Every Linear module of a Llama/Qwen2 layer, as PEFT's target_modules name them. */
export const ALL_PROJECTIONS: readonly string[] = [
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
];

/** alpha / r, the factor of B·A in the forward. */
export function loraScale(o: LoraOptions): number {
  return o.alpha / o.rank;
}

/** Whether two LoRA configurations are the same (targets as a set, as PEFT keeps them). */
export function sameLoraOptions(a: LoraOptions, b: LoraOptions): boolean {
  const ta = [...new Set(a.targets)].sort().join(), tb = [...new Set(b.targets)].sort().join();
  return a.rank === b.rank && a.alpha === b.alpha && ta === tb &&
    (a.dropout ?? 0) === (b.dropout ?? 0);
}

/** Checks rank, alpha and dropout; `where` names the options in errors (e.g. `variants[1].lora`). */
export function checkLoraOptions(o: LoraOptions, where: string): void {
  if (!Number.isInteger(o.rank) || o.rank < 1) {
    throw new ValidationError(`${where}.rank`, `must be a positive integer, got ${o.rank}`);
  }
  if (typeof o.alpha !== "number" || !(o.alpha > 0) || !Number.isFinite(o.alpha)) {
    throw new ValidationError(`${where}.alpha`, `must be a positive number, got ${o.alpha}`);
  }
  if ((o.dropout ?? 0) !== 0) {
    throw new ValidationError(
      `${where}.dropout`,
      `must be 0 (forgetbench implements LoRA without dropout), got ${o.dropout}`,
    );
  }
  if (!Array.isArray(o.targets) || o.targets.length === 0) {
    throw new ValidationError(`${where}.targets`, "must be a non-empty list of module names");
  }
  o.targets.forEach((t, i) => {
    if (typeof t !== "string" || t === "") {
      throw new ValidationError(`${where}.targets[${i}]`, "must be a non-empty module name");
    }
  });
}

/** The Linear layers of a Llama as HF module paths with their [out, in] shapes (not embeddings). */
export function linearModules(config: LlamaModelConfig): LoraModule[] {
  const out: LoraModule[] = [];
  for (const [name, shape] of llamaParamShapes(config)) {
    if (shape.length !== 2 || !name.endsWith(".weight") || name.includes("embed_tokens")) continue;
    out.push({ module: name.slice(0, -".weight".length), out: shape[0], in: shape[1] });
  }
  return out;
}

/** Whether module path `key` matches a target as PEFT matches a target_modules list entry. */
export function peftMatches(key: string, target: string): boolean {
  return key === target || key.endsWith(`.${target}`);
}

/**
 * The Linear layers the targets select, in the model's order. A target that matches no Linear
 * layer is a one-line error naming `<where>.targets[i]`.
 */
export function loraModules(
  config: LlamaModelConfig,
  opts: { targets: readonly string[]; where: string },
): LoraModule[] {
  const all = linearModules(config);
  opts.targets.forEach((t, i) => {
    if (!all.some((m) => peftMatches(m.module, t))) {
      const names = [...new Set(all.map((m) => m.module.split(".").at(-1)!))];
      throw new ValidationError(
        `${opts.where}.targets[${i}]`,
        `'${t}' matches no Linear module of this model (its Linear modules end in ${
          names.join(", ")
        })`,
      );
    }
  });
  return all.filter((m) => opts.targets.some((t) => peftMatches(m.module, t)));
}

/** Trainable parameters of an adapter: Σ r·(in + out) over its modules. */
export function loraParamCount(modules: readonly LoraModule[], rank: number): number {
  return modules.reduce((a, m) => a + rank * (m.in + m.out), 0);
}

/**
 * A fresh adapter as PEFT initialises one (init_lora_weights=True): A by
 * torch.nn.init.kaiming_uniform_(a=√5), i.e. U(−1/√in, 1/√in), drawn in JavaScript from `seed`
 * (one stream per module, so every device gets the same values); B zeros.
 *
 * @example
 * const w = initLora(loraModules(config, { targets: ["q_proj"], where: "lora" }), { rank: 8, seed: 0 });
 */
export function initLora(
  modules: readonly LoraModule[],
  opts: { rank: number; seed: number },
): LoraParams {
  const out: LoraParams = {};
  for (const m of modules) {
    const r = rng(opts.seed, hashString(`lora_A:${m.module}`));
    const bound = 1 / Math.sqrt(m.in);
    const a = new Float32Array(opts.rank * m.in);
    for (let i = 0; i < a.length; i++) a[i] = (2 * r.next() - 1) * bound;
    out[`${m.module}.lora_A.weight`] = np.array(a).reshape([opts.rank, m.in]);
    out[`${m.module}.lora_B.weight`] = np.zeros([m.out, opts.rank]);
  }
  return out;
}

/**
 * The weights of the adapted model: each targeted W becomes W + scale·(B·A) (PEFT's merge),
 * every other tensor passes through. Consumes `base` and `adapter` (a pure function, usable under
 * jit and grad).
 */
export function mergeLora(
  base: LlamaParams,
  adapter: LoraParams,
  opts: { modules: readonly LoraModule[]; scale: number },
): LlamaParams {
  const out: LlamaParams = { ...base };
  for (const m of opts.modules) {
    const a = adapter[`${m.module}.lora_A.weight`], b = adapter[`${m.module}.lora_B.weight`];
    out[`${m.module}.weight`] = base[`${m.module}.weight`].add(np.matmul(b, a).mul(opts.scale));
  }
  return out;
}

/**
 * The live weights of a model with an adapter: the untargeted tensors shared with the frozen base
 * (references, no copies) and each targeted W + scale·B·A computed by one jitted program per
 * architecture and adapter layout. Borrows `state`.
 */
export function mergedWeights(state: LoraState, opts: { config: LlamaModelConfig }): LlamaParams {
  const modules = state.modules, scale = loraScale(state.options);
  const f = program(
    `lora-merge:${configKey(opts.config)}:${scale}:${modules.map((m) => m.module).join(",")}`,
    () => (w: LlamaParams, a: LoraParams) => {
      const merged = mergeLora(w, a, { modules, scale });
      return Object.fromEntries(
        modules.map((m) => [`${m.module}.weight`, merged[`${m.module}.weight`]]),
      );
    },
  );
  const targets: LlamaParams = {};
  for (const m of modules) targets[`${m.module}.weight`] = state.base[`${m.module}.weight`].ref;
  const merged = f(targets, tree.ref(state.weights)) as LlamaParams;
  const out: LlamaParams = {};
  for (const [name, w] of Object.entries(state.base)) out[name] = merged[name] ?? w.ref;
  return out;
}

/** A ready-made PEFT adapter_config.json for `options` (PEFT 0.x LoraConfig fields). */
export function adapterConfigJson(
  options: LoraOptions,
  opts: { baseModel: string },
): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: opts.baseModel,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: options.alpha,
    lora_dropout: options.dropout ?? 0,
    modules_to_save: null,
    peft_type: "LORA",
    r: options.rank,
    rank_pattern: {},
    revision: null,
    target_modules: [...options.targets].sort(),
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
  };
}

/**
 * Writes a PEFT adapter folder: adapter_config.json and adapter_model.safetensors (float32,
 * `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]). Borrows
 * `weights`.
 *
 * @example
 * await saveLoraAdapter("out/adapter", { options, weights, baseModel: "Qwen/Qwen2.5-3B" });
 */
export async function saveLoraAdapter(
  dir: string,
  adapter: { options: LoraOptions; weights: LoraParams; baseModel: string },
): Promise<void> {
  const named: NamedWeights = new Map();
  for (const name of Object.keys(adapter.weights).sort()) {
    const w = adapter.weights[name];
    const d = await w.ref.data();
    named.set(`${PEFT_PREFIX}${name}`, {
      shape: w.shape,
      data: d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>),
    });
  }
  await Deno.mkdir(dir, { recursive: true });
  const json = adapterConfigJson(adapter.options, { baseModel: adapter.baseModel });
  await writeTextAtomic(`${dir}/adapter_config.json`, JSON.stringify(json, null, 2) + "\n");
  await writeBytesAtomic(
    `${dir}/adapter_model.safetensors`,
    encodeSafetensors(named, { format: "pt" }),
  );
}

/** A PEFT adapter folder as read back: its options, base model and tensors by PEFT name. */
export interface LoadedAdapter {
  readonly options: LoraOptions;
  readonly baseModel: string | null;
  /** Tensors by name without the `base_model.model.` prefix. */
  readonly tensors: NamedWeights;
}

/**
 * Reads a PEFT LoRA adapter folder (what {@link saveLoraAdapter} or PEFT's save_pretrained
 * writes, float32 safetensors). What forgetbench does not implement (DoRA, rsLoRA, dropout,
 * biases, per-module ranks, fan_in_fan_out) is a one-line error naming the file and field.
 */
export async function loadLoraAdapter(dir: string): Promise<LoadedAdapter> {
  const cfgPath = `${dir}/adapter_config.json`, stPath = `${dir}/adapter_model.safetensors`;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(await Deno.readTextFile(cfgPath));
  } catch (e) {
    throw new ValidationError(cfgPath, `cannot read (${(e as Error).message.split("\n")[0]})`);
  }
  const fail = (field: string, problem: string): never => {
    throw new ValidationError(cfgPath, `field '${field}' ${problem}`);
  };
  if (j === null || typeof j !== "object") fail("(root)", "is not a JSON object");
  if (j.peft_type !== "LORA") {
    fail("peft_type", `must be "LORA", got ${JSON.stringify(j.peft_type)}`);
  }
  for (
    const [k, ok] of [
      ["bias", j.bias === undefined || j.bias === "none"],
      ["use_dora", !j.use_dora],
      ["use_rslora", !j.use_rslora],
      ["fan_in_fan_out", !j.fan_in_fan_out],
      ["rank_pattern", !j.rank_pattern || Object.keys(j.rank_pattern).length === 0],
      ["alpha_pattern", !j.alpha_pattern || Object.keys(j.alpha_pattern).length === 0],
      ["modules_to_save", !j.modules_to_save],
    ] as const
  ) {
    if (!ok) fail(k, `has ${JSON.stringify(j[k])}, which forgetbench does not implement`);
  }
  const targets = typeof j.target_modules === "string" ? null : j.target_modules;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) {
    fail("target_modules", "must be a list of module names (a regular expression is not read)");
  }
  const options: LoraOptions = {
    rank: j.r as number,
    alpha: j.lora_alpha as number,
    targets: targets as string[],
    dropout: (j.lora_dropout ?? 0) as number,
  };
  try {
    checkLoraOptions(options, "lora");
  } catch (e) {
    throw new ValidationError(cfgPath, (e as Error).message);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(stPath);
  } catch (e) {
    throw new ValidationError(stPath, `cannot read (${(e as Error).message.split("\n")[0]})`);
  }
  const tensors: NamedWeights = new Map();
  for (const [name, t] of decodeSafetensors(bytes, stPath).weights) {
    const m = name.match(/^base_model\.model\.(.+\.lora_[AB])(?:\.default)?\.weight$/);
    if (!m) throw new ValidationError(stPath, `'${name}' is not a PEFT LoRA tensor name`);
    tensors.set(`${m[1]}.weight`, t);
  }
  const base = j.base_model_name_or_path;
  return { options, baseModel: typeof base === "string" ? base : null, tensors };
}

/**
 * The adapter weights of a loaded folder checked against a model: the tensors must be exactly
 * those of the modules its target_modules select, with shapes [r, in] and [out, r].
 */
export function adapterParams(
  loaded: LoadedAdapter,
  opts: { config: LlamaModelConfig; where: string },
): { modules: LoraModule[]; weights: LoraParams } {
  const modules = loraModules(opts.config, { targets: loaded.options.targets, where: opts.where });
  const r = loaded.options.rank, weights: LoraParams = {};
  const want = new Map<string, number[]>();
  for (const m of modules) {
    want.set(`${m.module}.lora_A.weight`, [r, m.in]);
    want.set(`${m.module}.lora_B.weight`, [m.out, r]);
  }
  for (const name of loaded.tensors.keys()) {
    if (!want.has(name)) {
      throw new ValidationError(opts.where, `tensor '${PEFT_PREFIX}${name}' is not of this model`);
    }
  }
  for (const [name, shape] of want) {
    const t = loaded.tensors.get(name);
    if (!t) {
      tree.dispose(weights);
      throw new ValidationError(opts.where, `missing tensor '${PEFT_PREFIX}${name}'`);
    }
    if (t.shape.join() !== shape.join()) {
      tree.dispose(weights);
      throw new ValidationError(
        opts.where,
        `tensor '${PEFT_PREFIX}${name}' has shape [${t.shape}], want [${shape}]`,
      );
    }
    weights[name] = np.array(t.data as Float32Array<ArrayBuffer>).reshape(shape);
  }
  return { modules, weights };
}
