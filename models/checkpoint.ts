// Hugging Face checkpoint folders, file by file: config.json, generation_config.json, the weights
// (model.safetensors, or model.safetensors.index.json and the shards its weight_map names) and
// the tokenizer files, read from a local folder or a hub model id `org/name[@revision]` (through
// lib/hub.ts's cache), each with its sha256 for the manifest; and written back in the same
// layout. Architecture-free: models/llama_io.ts checks the config and tensors against the model.

import { join } from "node:path";
import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import {
  cacheRoot,
  modelCachedPath,
  modelHubUrl,
  parseModelId,
  resolveModelFile,
  type ResolveOptions,
} from "../lib/hub.ts";
import {
  decodeSafetensors,
  DTYPE_BYTES,
  encodeSafetensors,
  type NamedWeights,
  type SafetensorsDtype,
} from "./safetensors.ts";

/** The single-file weights and the shard index, by their Hugging Face names. */
export const WEIGHTS_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/** Tokenizer files: the two a tokenizer needs, then those copied along when present. */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"] as const;
export const OPTIONAL_TOKENIZER_FILES = [
  "special_tokens_map.json",
  "chat_template.jinja",
  "vocab.json",
  "merges.txt",
] as const;

/** HF's default max_shard_size ("5GB"): weights above it are written in shards with an index. */
export const MAX_SHARD_BYTES = 5e9;

/** One file a checkpoint was read from, for the manifest. */
export interface CheckpointFile {
  /** Its path inside the checkpoint, `/`-separated (`config.json`, a shard's name). */
  readonly name: string;
  /** The local path read (the folder's file, or the hub cache's copy). */
  readonly path: string;
  readonly sha256: string;
  readonly source: "local" | "cache" | "download";
  /** The hub URL, when it was downloaded. */
  readonly url?: string;
}

/** generation_config.json's defaults, where present. */
export interface GenerationDefaults {
  readonly bosId?: number;
  /** One or more EOS ids (Qwen2.5-Instruct and Llama-3-Instruct list several). */
  readonly eosIds?: readonly number[];
  readonly padId?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly doSample?: boolean;
  readonly maxNewTokens?: number;
}

/** What saving a checkpoint in the layout it was loaded in needs to know of that layout. */
export interface CheckpointOrigin {
  /** Where it came from: a folder or a hub id, as given. */
  readonly source: string;
  /** config.json as read (written back with only its dtype field changed). */
  readonly configJson: Readonly<Record<string, unknown>>;
  /** generation_config.json as read; null when the checkpoint had none. */
  readonly generationJson: Readonly<Record<string, unknown>> | null;
  /** Each tensor's stored dtype. */
  readonly dtypes: ReadonlyMap<string, SafetensorsDtype>;
  /** The index's tensor → shard map; null for a single model.safetensors. */
  readonly weightMap: Readonly<Record<string, string>> | null;
}

/** A checkpoint as read: its files, parsed JSON, float32 tensors and where each came from. */
export interface RawCheckpoint extends CheckpointOrigin {
  /** The local folder holding the files (the source folder, or its hub cache folder). */
  readonly dir: string;
  readonly generation: GenerationDefaults;
  readonly tensors: NamedWeights;
  /** The local path of the file each tensor came from, for messages. */
  readonly tensorFile: ReadonlyMap<string, string>;
  /** Where tensors listed by the config but absent would have been: the index or the file. */
  readonly weightsPath: string;
  /** Tokenizer files by name (empty unless `tokenizer` was asked for). */
  readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>;
  /** Every file read, with its sha256. */
  readonly files: readonly CheckpointFile[];
}

/** How to reach a hub checkpoint (lib/hub.ts's options: cache, offline, endpoint, fetch). */
export type SourceOptions = Pick<
  ResolveOptions,
  "cacheDir" | "offline" | "env" | "fetch" | "quiet" | "onProgress"
>;

/** Reads a checkpoint's files by name; `where(name)` is the file as errors name it. */
interface Reader {
  readonly dir: string;
  where(name: string): string;
  /** What to do about a missing file (hub sources: where to download it from and to). */
  hint(name: string): string;
  read(
    name: string,
    optional: boolean,
  ): Promise<{ bytes: Uint8Array; file: CheckpointFile } | null>;
}

/**
 * Reads the checkpoint at `source`: a local folder, else a hub id `org/name[@revision]`
 * (revision `main` by default) resolved through the cache. config.json is required; weights are
 * model.safetensors or, failing that, model.safetensors.index.json and its shards; with
 * `tokenizer`, tokenizer.json and tokenizer_config.json are required too. Every problem is one
 * line naming the file and the field or tensor: a missing file or shard, a shard whose tensors
 * disagree with the index (missing, extra, listed under another shard), an unsupported dtype, a
 * NaN or infinite weight (models/safetensors.ts).
 *
 * @example
 * const ckpt = await readCheckpoint("Qwen/Qwen2.5-0.5B-Instruct", { tokenizer: true, offline: true });
 */
export async function readCheckpoint(
  source: string,
  opts: SourceOptions & {
    tokenizer?: boolean;
    /** Checks config.json (throwing one-line errors) before any weights are read or fetched. */
    checkConfig?: (json: Record<string, unknown>, where: string) => void;
  } = {},
): Promise<RawCheckpoint> {
  const reader = await readerFor(source, opts);
  const files: CheckpointFile[] = [];
  const take = async (name: string, optional: boolean) => {
    const got = await reader.read(name, optional);
    if (got) files.push(got.file);
    return got?.bytes ?? null;
  };
  const configJson = jsonObject((await take("config.json", false))!, reader.where("config.json"));
  opts.checkConfig?.(configJson, reader.where("config.json"));
  const genBytes = await take("generation_config.json", true);
  const generationJson = genBytes
    ? jsonObject(genBytes, reader.where("generation_config.json"))
    : null;
  const generation = generationJson
    ? parseGeneration(generationJson, reader.where("generation_config.json"))
    : {};
  const tokenizerFiles = new Map<string, Uint8Array>();
  if (opts.tokenizer) {
    for (const name of TOKENIZER_FILES) {
      const bytes = await take(name, true);
      if (!bytes) {
        throw new ValidationError(
          reader.where(name),
          `missing: the tokenizer comes from the checkpoint (${
            TOKENIZER_FILES.join(" and ")
          }), or name tokenizer "char"${reader.hint(name)}`,
        );
      }
      tokenizerFiles.set(name, bytes);
    }
    for (const name of OPTIONAL_TOKENIZER_FILES) {
      const bytes = await take(name, true);
      if (bytes) tokenizerFiles.set(name, bytes);
    }
  }
  // The weights last: a bad config or a missing tokenizer fails before gigabytes are fetched.
  const weights = await readWeights(reader, take);
  return {
    source,
    dir: reader.dir,
    configJson,
    generationJson,
    generation,
    ...weights,
    tokenizerFiles,
    files,
  };
}

/** A reader over a local folder, or over a hub id through the cache. */
async function readerFor(source: string, opts: SourceOptions): Promise<Reader> {
  const stat = await Deno.stat(source).catch(() => null);
  if (stat) {
    if (!stat.isDirectory) {
      throw new ValidationError(
        source,
        "a checkpoint source must be a folder or a hub id (org/name[@revision])",
      );
    }
    return localReader(source);
  }
  const id = parseModelId(source);
  if (!id) {
    throw new UsageError(
      `model source ${source}: no such folder, and not a hub id of the form org/name[@revision]`,
    );
  }
  return hubReader(id, opts);
}

function localReader(dir: string): Reader {
  const where = (name: string) => join(dir, ...name.split("/"));
  return {
    dir,
    where,
    hint: () => "",
    async read(name, optional) {
      const path = where(name);
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(path);
      } catch (e) {
        if (optional && e instanceof Deno.errors.NotFound) return null;
        throw new ValidationError(
          path,
          e instanceof Deno.errors.NotFound ? "missing" : `cannot read (${firstLine(e)})`,
        );
      }
      return { bytes, file: { name, path, sha256: await sha256Hex(bytes), source: "local" } };
    },
  };
}

function hubReader(id: { repo: string; revision: string }, opts: SourceOptions): Reader {
  const root = opts.cacheDir ?? cacheRoot(opts.env);
  const fileOf = (path: string) => ({ repo: id.repo, revision: id.revision, path });
  const where = (name: string) => modelCachedPath(fileOf(name), root);
  return {
    // The cache folder of this revision.
    dir: where("config.json").slice(0, -"/config.json".length),
    where,
    hint: (name) =>
      `; download ${modelHubUrl(fileOf(name), opts.env)} to ${where(name)} or give a local folder`,
    async read(name, optional) {
      const got = await resolveModelFile(fileOf(name), { ...opts, cacheDir: root, optional });
      if (!got) return null;
      const bytes = await Deno.readFile(got.path);
      return {
        bytes,
        file: {
          name,
          path: got.path,
          sha256: got.sha256,
          source: got.source,
          ...(got.url ? { url: got.url } : {}),
        },
      };
    },
  };
}

/** The weights: model.safetensors if present (as transformers prefers it), else the index. */
async function readWeights(
  reader: Reader,
  take: (name: string, optional: boolean) => Promise<Uint8Array | null>,
): Promise<
  Pick<RawCheckpoint, "tensors" | "dtypes" | "tensorFile" | "weightMap" | "weightsPath">
> {
  const single = await take(WEIGHTS_FILE, true);
  if (single) {
    const where = reader.where(WEIGHTS_FILE);
    const { weights, dtypes } = decodeSafetensors(single, where);
    const tensorFile = new Map([...weights.keys()].map((n) => [n, where]));
    return { tensors: weights, dtypes, tensorFile, weightMap: null, weightsPath: where };
  }
  const indexBytes = await take(INDEX_FILE, true);
  if (!indexBytes) {
    throw new ValidationError(
      reader.where(WEIGHTS_FILE),
      `missing, and so is ${INDEX_FILE}: a checkpoint needs its weights as safetensors${
        reader.hint(WEIGHTS_FILE)
      }`,
    );
  }
  const indexPath = reader.where(INDEX_FILE);
  const weightMap = parseIndex(jsonObject(indexBytes, indexPath), indexPath);
  const tensors: NamedWeights = new Map(), dtypes = new Map<string, SafetensorsDtype>();
  const tensorFile = new Map<string, string>();
  for (const shard of [...new Set(Object.values(weightMap))].sort()) {
    const bytes = await take(shard, true);
    if (!bytes) {
      throw new ValidationError(
        reader.where(shard),
        `missing shard (${INDEX_FILE}'s weight_map lists ${
          Object.values(weightMap).filter((s) => s === shard).length
        } tensors in it)${reader.hint(shard)}`,
      );
    }
    const where = reader.where(shard);
    const got = decodeSafetensors(bytes, where);
    for (const [name, t] of got.weights) {
      const listed = weightMap[name];
      if (listed === undefined) {
        throw new ValidationError(where, `tensor '${name}' is not in ${INDEX_FILE}'s weight_map`);
      }
      if (listed !== shard) {
        throw new ValidationError(
          where,
          `tensor '${name}' is listed under '${listed}' in ${INDEX_FILE}'s weight_map`,
        );
      }
      tensors.set(name, t);
      dtypes.set(name, got.dtypes.get(name)!);
      tensorFile.set(name, where);
    }
    for (const [name, s] of Object.entries(weightMap)) {
      if (s === shard && !got.weights.has(name)) {
        throw new ValidationError(
          where,
          `missing tensor '${name}' (${INDEX_FILE}'s weight_map lists it in this shard)`,
        );
      }
    }
  }
  return { tensors, dtypes, tensorFile, weightMap, weightsPath: indexPath };
}

/** The index's weight_map: tensor name → shard file name (relative, no `..`). */
function parseIndex(json: Record<string, unknown>, where: string): Record<string, string> {
  const map = json.weight_map;
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new ValidationError(where, "field 'weight_map' must be an object of tensor → shard file");
  }
  for (const [name, shard] of Object.entries(map)) {
    const ok = typeof shard === "string" && shard !== "" &&
      shard.split("/").every((p) => p !== "" && p !== "." && p !== ".." && !p.includes("\\"));
    if (!ok) {
      throw new ValidationError(
        where,
        `field 'weight_map.${name}' must be a relative shard file name, got ${
          JSON.stringify(shard)
        }`,
      );
    }
  }
  return map as Record<string, string>;
}

/** generation_config.json's fields forgetbench uses, each checked. */
function parseGeneration(j: Record<string, unknown>, where: string): GenerationDefaults {
  const fail = (k: string, want: string): never => {
    throw new ValidationError(where, `field '${k}' must be ${want}, got ${JSON.stringify(j[k])}`);
  };
  const present = (k: string) => j[k] !== undefined && j[k] !== null;
  const id = (k: string) => {
    if (!present(k)) return undefined;
    if (!Number.isInteger(j[k]) || (j[k] as number) < 0) fail(k, "a token id");
    return j[k] as number;
  };
  const num = (k: string, ok: (v: number) => boolean, want: string) => {
    if (!present(k)) return undefined;
    if (typeof j[k] !== "number" || !ok(j[k] as number)) fail(k, want);
    return j[k] as number;
  };
  let eosIds: number[] | undefined;
  if (present("eos_token_id")) {
    const e = j.eos_token_id;
    eosIds = Array.isArray(e) ? e : [e as number];
    if (!eosIds.every((v) => Number.isInteger(v) && v >= 0)) {
      fail("eos_token_id", "a token id or a list of them");
    }
  }
  if (present("do_sample") && typeof j.do_sample !== "boolean") fail("do_sample", "true or false");
  const out: Record<string, unknown> = {
    bosId: id("bos_token_id"),
    eosIds,
    padId: id("pad_token_id"),
    temperature: num("temperature", (v) => v >= 0, "a number ≥ 0"),
    topP: num("top_p", (v) => v > 0 && v <= 1, "a number in (0, 1]"),
    topK: num("top_k", (v) => Number.isInteger(v) && v >= 0, "a whole number ≥ 0"),
    doSample: j.do_sample as boolean | undefined,
    maxNewTokens: num("max_new_tokens", (v) => Number.isInteger(v) && v > 0, "a positive integer"),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as GenerationDefaults;
}

/** What {@link writeCheckpoint} writes. */
export interface CheckpointContents {
  readonly configJson: Readonly<Record<string, unknown>>;
  readonly generationJson?: Readonly<Record<string, unknown>> | null;
  readonly tensors: NamedWeights;
  /** One stored dtype for every tensor, or one per tensor name (default F32). */
  readonly dtype: SafetensorsDtype | ReadonlyMap<string, SafetensorsDtype>;
  /**
   * Shard as this tensor → shard map does (the source's, when it was sharded and names exactly
   * these tensors); otherwise in shards of at most `maxShardBytes` when the weights exceed it.
   */
  readonly weightMap?: Readonly<Record<string, string>> | null;
  /** Default {@link MAX_SHARD_BYTES}. */
  readonly maxShardBytes?: number;
  /** Tokenizer files by name, written verbatim. */
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Writes a checkpoint folder (created if missing): config.json, generation_config.json (when
 * given), the tokenizer files, and the weights as model.safetensors or, sharded, as
 * `model-0000i-of-0000n.safetensors` (or the given map's names) with model.safetensors.index.json
 * (`metadata.total_size`, sorted `weight_map`, as transformers writes it). Weight files of an
 * earlier layout in `dir` are removed, so loaders never see stale weights. Same inputs →
 * byte-identical files.
 *
 * @example
 * await writeCheckpoint(dir, { configJson, tensors, dtype: "BF16", weightMap: null });
 */
export async function writeCheckpoint(dir: string, ckpt: CheckpointContents): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
  await writeTextAtomic(join(dir, "config.json"), json(ckpt.configJson));
  if (ckpt.generationJson) {
    await writeTextAtomic(join(dir, "generation_config.json"), json(ckpt.generationJson));
  }
  for (const [name, bytes] of ckpt.tokenizerFiles ?? []) {
    await writeBytesAtomic(join(dir, name), bytes);
  }
  const dtypeOf = (name: string): SafetensorsDtype =>
    typeof ckpt.dtype === "string" ? ckpt.dtype : ckpt.dtype.get(name) ?? "F32";
  const bytesOf = (name: string) =>
    ckpt.tensors.get(name)!.data.length * DTYPE_BYTES[dtypeOf(name)];
  const names = [...ckpt.tensors.keys()].sort();
  const total = names.reduce((a, n) => a + bytesOf(n), 0);
  const map = shardMap(names, { ...ckpt, bytesOf, total });
  const written = new Set<string>();
  if (!map) {
    await writeBytesAtomic(
      join(dir, WEIGHTS_FILE),
      encodeSafetensors(ckpt.tensors, { format: "pt" }, { dtype: ckpt.dtype }),
    );
    written.add(WEIGHTS_FILE);
  } else {
    for (const shard of [...new Set(Object.values(map))].sort()) {
      const part: NamedWeights = new Map(
        names.filter((n) => map[n] === shard).map((n) => [n, ckpt.tensors.get(n)!]),
      );
      await Deno.mkdir(join(dir, shard, ".."), { recursive: true });
      await writeBytesAtomic(
        join(dir, shard),
        encodeSafetensors(part, { format: "pt" }, { dtype: ckpt.dtype }),
      );
      written.add(shard);
    }
    const index = {
      metadata: { total_size: total },
      weight_map: Object.fromEntries(names.map((n) => [n, map[n]])),
    };
    await writeTextAtomic(join(dir, INDEX_FILE), json(index));
    written.add(INDEX_FILE);
  }
  for await (const e of Deno.readDir(dir)) {
    const stale = e.isFile && !written.has(e.name) &&
      (e.name === WEIGHTS_FILE || e.name === INDEX_FILE ||
        /^model-\d+-of-\d+\.safetensors$/.test(e.name));
    if (stale) await Deno.remove(join(dir, e.name));
  }
}

/** The shard of each tensor, or null for one model.safetensors. */
function shardMap(
  names: readonly string[],
  o: {
    weightMap?: Readonly<Record<string, string>> | null;
    maxShardBytes?: number;
    bytesOf: (name: string) => number;
    total: number;
  },
): Record<string, string> | null {
  const given = o.weightMap;
  if (
    given && Object.keys(given).length === names.length && names.every((n) => n in given)
  ) {
    return { ...given };
  }
  const max = o.maxShardBytes ?? MAX_SHARD_BYTES;
  if (!given && o.total <= max) return null;
  // As transformers' save_pretrained: tensors in order, a new shard when the next would overflow.
  const groups: string[][] = [[]];
  let size = 0;
  for (const n of names) {
    const b = o.bytesOf(n);
    if (size > 0 && size + b > max) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(n);
    size += b;
  }
  const pad = (i: number) => String(i).padStart(5, "0");
  const map: Record<string, string> = {};
  groups.forEach((g, i) => {
    for (const n of g) map[n] = `model-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
  });
  return map;
}

function jsonObject(bytes: Uint8Array, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ValidationError(where, `not JSON (${firstLine(e)})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ValidationError(where, "not a JSON object");
  }
  return v as Record<string, unknown>;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
