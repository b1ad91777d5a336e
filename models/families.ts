// The model families a recipe can name (`model: { family, ... }`): how each validates its recipe
// section, opens a policy (from a folder or hub id, or freshly initialised from a seed) and reads
// back what Policy.save wrote. Adding a family is one entry here plus its Policy (README "Add a
// model family"); tests/policy_suite_test.ts then runs the shared policy suite on it.

import { join } from "node:path";
import { ValidationError } from "../lib/errors.ts";
import { cacheRoot } from "../lib/hub.ts";
import { type Device, startEngine } from "./engine.ts";
import { parseLlamaConfig } from "./llama_io.ts";
import { LlamaPolicy, loadLlamaPolicy } from "./llama_policy.ts";
import { loadMlp, MlpPolicy } from "./mlp_policy.ts";
import type { Policy, Request } from "./policy.ts";
import { SAFETENSORS_DTYPES, type SafetensorsDtype } from "./safetensors.ts";
import { writeTinyLlama3, writeTinyQwen2 } from "./tiny_checkpoints.ts";
import tinyMerges from "./tiny_merges.json" with { type: "json" };
import { TOKENIZERS } from "./tokenizer.ts";

/** A recipe's model section, validated: the family id plus its own fields (plain JSON). */
export interface ModelSpec {
  readonly family: string;
  readonly [field: string]: unknown;
}

/** What opening a policy may need besides its spec. */
export interface OpenOptions {
  /** Initialisation seed (families that can start from scratch). */
  readonly seed: number;
  /** The jax-js device of trainable in-process families. */
  readonly device: Device;
  /** One request the model will answer, to size input layers (the MLP). */
  readonly probe?: Request;
  /** Cache root of hub downloads. */
  readonly cacheDir?: string;
  readonly offline?: boolean;
}

/** A model family. */
export interface Family {
  readonly id: string;
  readonly description: string;
  /** Whether policies of this family can be trained (have learners). */
  readonly trainable: boolean;
  /** Validates the recipe's model section; errors name `where` and the field. */
  parse(raw: Readonly<Record<string, unknown>>, where: string): ModelSpec;
  /** Opens the policy the spec describes (its `source`, or initialised from `opts.seed`). */
  open(spec: ModelSpec, opts: OpenOptions): Promise<Policy>;
  /** Reads a folder written by Policy.save of this family (a cached base). */
  load(dir: string, spec: ModelSpec, opts: OpenOptions): Promise<Policy>;
}

type Raw = Readonly<Record<string, unknown>>;

function onlyFields(raw: Raw, known: readonly string[], where: string): void {
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) {
      throw new ValidationError(`${where}.${k}`, `unknown field (known: ${known.join(", ")})`);
    }
  }
}

function str(raw: Raw, key: string, where: string): string | undefined {
  const v = raw[key];
  if (v !== undefined && (typeof v !== "string" || v === "")) {
    throw new ValidationError(`${where}.${key}`, "must be a non-empty string");
  }
  return v as string | undefined;
}

/** The ParityMNIST MLP: `hidden` layer sizes; inputs and classes come from the tasks' requests. */
const mlp: Family = {
  id: "mlp",
  description: "MLP classifier on jax-js (classify requests; ParityMNIST)",
  trainable: true,
  parse(raw, where) {
    onlyFields(raw, ["family", "hidden", "source"], where);
    const h = raw.hidden;
    if (!Array.isArray(h) || h.length === 0 || !h.every((x) => Number.isInteger(x) && x > 0)) {
      throw new ValidationError(`${where}.hidden`, "must be a non-empty list of positive integers");
    }
    const source = str(raw, "source", where);
    return { family: "mlp", hidden: h, ...(source ? { source } : {}) };
  },
  async open(spec, opts) {
    await startEngine(opts.device);
    if (typeof spec.source === "string") return await loadMlp(spec.source);
    const probe = opts.probe;
    if (probe?.kind !== "classify") {
      throw new ValidationError(
        "model",
        "an MLP needs classify tasks (its inputs size its layers)",
      );
    }
    const config = {
      inputDim: probe.x.length,
      hidden: spec.hidden as number[],
      classes: probe.classes,
    };
    return MlpPolicy.init(config, opts.seed);
  },
  async load(dir, _spec, opts) {
    await startEngine(opts.device);
    return await loadMlp(dir);
  },
};

/** The stored dtypes a llama model section may name for saved checkpoints. */
const SAVE_DTYPES: readonly string[] = SAFETENSORS_DTYPES;

/**
 * The tiny Qwen2.5's 1024 BPE merges, learned from the tasks' fixture records (runs/fixtures.ts
 * tinyMergesJson; about 2.9 characters per token on them, where DEFAULT_MERGES gives about 1.3).
 */
export const TINY_MERGES: readonly (readonly [string, string])[] = (tinyMerges as string[]).map(
  (m) => m.split(" ") as [string, string],
);

/**
 * Tiny random checkpoints the project writes in published layouts (models/tiny_checkpoints.ts),
 * for recipes that run end to end offline: `generate: NAME` with a `seed`.
 */
const GENERATED: Readonly<
  Record<string, (dir: string, o: { seed: number }) => Promise<unknown>>
> = {
  "tiny-qwen2.5": (dir, o) => writeTinyQwen2(dir, { ...o, merges: TINY_MERGES }),
  "tiny-llama3": writeTinyLlama3,
};

/**
 * The folder of a generated checkpoint under the cache (`models/generated/NAME-seedK/`), written
 * on first use into a fresh folder beside it and renamed into place; the same name and seed
 * always give byte-identical files.
 */
export async function generatedCheckpoint(
  name: string,
  seed: number,
  cacheDir: string,
): Promise<string> {
  const root = join(cacheDir, "models", "generated");
  const dir = join(root, `${name}-seed${seed}`);
  if (await Deno.stat(join(dir, "config.json")).catch(() => null)) return dir;
  await Deno.mkdir(root, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: root, prefix: ".writing-" });
  try {
    await GENERATED[name](tmp, { seed });
    await Deno.rename(tmp, dir).catch(async (e) => {
      if (!(await Deno.stat(join(dir, "config.json")).catch(() => null))) throw e;
    });
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return dir;
}

/**
 * The Llama/Qwen2 layout on jax-js: `config` (Hugging Face config.json fields) to start from
 * scratch with a named tokenizer (`tokenizer`, default "char"); `source`, a Hugging Face
 * Llama / Llama-3 / Qwen2 / Qwen2.5 checkpoint (a folder, or a hub id `org/name[@revision]`)
 * whose own tokenizer is used unless `tokenizer: "char"` is named; or `generate`, a tiny random
 * checkpoint the project writes in a published layout ("tiny-qwen2.5": BF16, q/k/v biases, tied
 * embeddings, byte-level BPE with ChatML; "tiny-llama3": F16 in two shards, rope_scaling llama3)
 * from `seed` (default 0) and then reads like any folder. `dtype` is the dtype saved checkpoints
 * store ("F32", "BF16", "F16"; default as loaded, F32 from scratch); `chat: true` wraps prompts
 * in the checkpoint tokenizer's chat template.
 */
const llama: Family = {
  id: "llama",
  description: "Llama/Qwen2-layout language model on jax-js (trainable; choices and generate)",
  trainable: true,
  parse(raw, where) {
    onlyFields(
      raw,
      ["family", "config", "source", "generate", "seed", "tokenizer", "dtype", "chat"],
      where,
    );
    const source = str(raw, "source", where);
    const generate = str(raw, "generate", where);
    const given = [raw.config, source, generate].filter((x) => x !== undefined).length;
    if (given !== 1) {
      throw new ValidationError(
        where,
        "give exactly one of config (to start from scratch), source (a checkpoint folder or hub id) or generate (a tiny checkpoint the project writes)",
      );
    }
    if (generate !== undefined && !GENERATED[generate]) {
      throw new ValidationError(
        `${where}.generate`,
        `unknown generated checkpoint '${generate}' (known: ${Object.keys(GENERATED).join(", ")})`,
      );
    }
    if (
      raw.seed !== undefined && (generate === undefined || !Number.isInteger(raw.seed) ||
        (raw.seed as number) < 0)
    ) {
      throw new ValidationError(
        `${where}.seed`,
        generate === undefined
          ? "only a generated checkpoint takes a seed"
          : `must be an integer ≥ 0, got ${JSON.stringify(raw.seed)}`,
      );
    }
    const tokenizer = str(raw, "tokenizer", where);
    if (tokenizer !== undefined && !TOKENIZERS[tokenizer]) {
      throw new ValidationError(
        `${where}.tokenizer`,
        `unknown tokenizer '${tokenizer}' (known: ${
          Object.keys(TOKENIZERS).join(", ")
        }; leave it out to use the source checkpoint's own)`,
      );
    }
    const dtype = str(raw, "dtype", where);
    if (dtype !== undefined && !SAVE_DTYPES.includes(dtype)) {
      throw new ValidationError(
        `${where}.dtype`,
        `must be one of ${
          SAVE_DTYPES.join(", ")
        } (the dtype saved checkpoints store), got '${dtype}'`,
      );
    }
    if (raw.chat !== undefined && typeof raw.chat !== "boolean") {
      throw new ValidationError(`${where}.chat`, "must be true or false");
    }
    if (raw.chat === true && (raw.config !== undefined || tokenizer !== undefined)) {
      throw new ValidationError(
        `${where}.chat`,
        "chat formatting needs a checkpoint's own tokenizer (source or generate, no tokenizer field)",
      );
    }
    const options = { ...(dtype ? { dtype } : {}), ...(raw.chat === true ? { chat: true } : {}) };
    if (source) {
      return { family: "llama", source, ...(tokenizer ? { tokenizer } : {}), ...options };
    }
    if (generate) {
      const seed = (raw.seed as number | undefined) ?? 0;
      return { family: "llama", generate, seed, ...(tokenizer ? { tokenizer } : {}), ...options };
    }
    const config = parseLlamaConfig(raw.config, `${where}.config`);
    const name = tokenizer ?? "char", tok = TOKENIZERS[name];
    if (tok.vocabSize > config.vocab_size) {
      throw new ValidationError(
        `${where}.config.vocab_size`,
        `${config.vocab_size} is below the ${name} tokenizer's ${tok.vocabSize} ids`,
      );
    }
    return { family: "llama", config, tokenizer: name, ...options };
  },
  async open(spec, opts) {
    if (typeof spec.source === "string") return await this.load(spec.source, spec, opts);
    if (typeof spec.generate === "string") {
      const dir = await generatedCheckpoint(
        spec.generate,
        spec.seed as number,
        opts.cacheDir ?? cacheRoot(),
      );
      return await this.load(dir, spec, opts);
    }
    await startEngine(opts.device);
    const p = LlamaPolicy.init(spec.config as never, {
      seed: opts.seed,
      tokenizer: TOKENIZERS[spec.tokenizer as string],
    });
    if (spec.dtype === undefined) return p;
    return new LlamaPolicy(p.config, p.params, p.tokenizer, p.id, {
      saveDtype: spec.dtype as SafetensorsDtype,
    });
  },
  async load(dir, spec, opts) {
    await startEngine(opts.device);
    return await loadLlamaPolicy(dir, {
      tokenizer: typeof spec.tokenizer === "string" ? TOKENIZERS[spec.tokenizer] : undefined,
      chat: spec.chat === true,
      saveDtype: spec.dtype as SafetensorsDtype | undefined,
      cacheDir: opts.cacheDir,
      offline: opts.offline,
    });
  },
};

const ONNX_DEVICES = ["cpu", "cuda", "webgpu"];

/**
 * ONNX language models through transformers.js (evaluation only): `source` is a model folder or
 * hub id; `device` an ONNX Runtime execution provider; `dtype` which weights file.
 */
const onnx: Family = {
  id: "onnx",
  description: "ONNX language model through transformers.js (evaluation only)",
  trainable: false,
  parse(raw, where) {
    onlyFields(raw, ["family", "source", "device", "dtype", "chat", "addBos"], where);
    const source = str(raw, "source", where);
    if (!source) throw new ValidationError(`${where}.source`, "an ONNX model needs a source");
    const device = str(raw, "device", where) ?? "cpu";
    if (!ONNX_DEVICES.includes(device)) {
      throw new ValidationError(`${where}.device`, `must be one of ${ONNX_DEVICES.join(", ")}`);
    }
    for (const k of ["chat", "addBos"]) {
      if (raw[k] !== undefined && typeof raw[k] !== "boolean") {
        throw new ValidationError(`${where}.${k}`, "must be true or false");
      }
    }
    return { family: "onnx", ...raw, source, device, dtype: str(raw, "dtype", where) ?? "fp32" };
  },
  async open(spec, opts) {
    // Imported on demand: ONNX Runtime is a native addon that training runs never load.
    const { loadOnnxLm } = await import("./onnx_lm.ts");
    return await loadOnnxLm(spec.source as string, {
      device: spec.device as "cpu",
      dtype: spec.dtype as "fp32",
      chat: spec.chat as boolean | undefined,
      addBos: spec.addBos as boolean | undefined,
      offline: opts.offline,
      cacheDir: opts.cacheDir === undefined ? undefined : `${opts.cacheDir}/models`,
    });
  },
  load(dir, spec, opts) {
    return this.open({ ...spec, source: dir }, opts);
  },
};

/** Every model family, by id. */
export const FAMILIES: Readonly<Record<string, Family>> = { mlp, llama, onnx };
