// Finds a benchmark's data file or a model checkpoint's file: a path the user gave, else the
// local cache, else a download from the Hugging Face hub into the cache. Whatever the source, the
// caller gets the sha256 of the bytes it will read, so the manifest records exactly which data a
// run scored and which weights it started from.

import { basename, dirname, join } from "node:path";
import { UsageError, ValidationError } from "./errors.ts";
import { writeBytesAtomic } from "./atomic.ts";
import { sha256Hex } from "./hash.ts";

/** One data file as published on the hub (structurally tasks/types.ts HubFile). */
export interface HubDataFile {
  /** `org/name` of a dataset repository. */
  readonly repo: string;
  /** A commit hash (reproducible) or a branch or ref such as `main` or `refs/convert/parquet`. */
  readonly revision: string;
  /** The file's path inside the repository, `/`-separated. */
  readonly path: string;
  /** Pinned hex sha256; any other bytes are refused. */
  readonly sha256?: string;
}

/** Options for resolveDataFile. */
export interface ResolveOptions {
  /**
   * A path the user gave: the file itself, or a folder holding it under its hub path
   * (a clone of the dataset repo) or under its bare file name. Searched first; never falls back.
   */
  readonly dataPath?: string;
  /** Cache root (default: see cacheRoot); files live under `datasets/<repo>/<revision>/<path>`. */
  readonly cacheDir?: string;
  /** Refuse to download (default: env HF_HUB_OFFLINE or FORGETBENCH_OFFLINE set to 1/true). */
  readonly offline?: boolean;
  /** Environment to read HF_ENDPOINT, HF_TOKEN, offline and cache variables from (default: process). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** fetch to download with (default: global fetch). */
  readonly fetch?: typeof fetch;
  /** Called as bytes arrive; `total` is null when the server does not say. */
  readonly onProgress?: (done: number, total: number | null) => void;
  /** No progress lines on stderr (they are shown for downloads of 8 MiB and more). */
  readonly quiet?: boolean;
}

/** Where a data file was found. */
export interface ResolvedFile {
  /** Local path to read. */
  readonly path: string;
  /** Hex sha256 of the file's bytes, for the manifest. */
  readonly sha256: string;
  readonly source: "local" | "cache" | "download";
  /** The hub URL, when it was downloaded. */
  readonly url?: string;
}

const PROGRESS_MIN_BYTES = 8 * 2 ** 20;

/**
 * Resolves `file` to a local path, in order: `options.dataPath`, the cache, a download from
 * `${HF_ENDPOINT ?? "https://huggingface.co"}/datasets/<repo>/resolve/<revision>/<path>` (with
 * `Authorization: Bearer $HF_TOKEN` when set) written into the cache only once complete and,
 * when pinned, verified. Offline, a file not found locally is a UsageError saying where to put it.
 * A pinned sha256 is checked whatever the source; a mismatch names the file and both hashes.
 */
export async function resolveDataFile(
  file: HubDataFile,
  options: ResolveOptions = {},
): Promise<ResolvedFile> {
  checkHubFile(file);
  if (options.dataPath !== undefined) {
    const path = await findLocal(file, options.dataPath);
    const sha256 = await sha256Hex(await Deno.readFile(path));
    checkPin(
      file,
      sha256,
      `${path} (given for ${hubLabel(file)})`,
      "give the pinned version of the file",
    );
    return { path, sha256, source: "local" };
  }
  return (await resolveHubFile("datasets", file, options, "give its location as the data path"))!;
}

/** One file of a model repository on the hub (`org/name` at a revision). */
export type HubModelFile = HubDataFile;

/**
 * Resolves a model repository's file as {@link resolveDataFile} resolves a dataset's: the cache
 * (`<cache>/models/<org>/<name>/<revision>/<path>`), else a download from
 * `${HF_ENDPOINT}/<org>/<name>/resolve/<revision>/<path>` into the cache. With `optional`, a
 * file the hub does not have (HTTP 404), or one missing from the cache when offline, is `null`
 * instead of an error (generation_config.json, the shard index). Offline, a required file not in
 * the cache is a one-line UsageError saying where to put it.
 *
 * @example
 * const cfg = await resolveModelFile({ repo: "Qwen/Qwen2.5-0.5B", revision: "main", path: "config.json" });
 */
export async function resolveModelFile(
  file: HubModelFile,
  options: ResolveOptions & { optional?: boolean } = {},
): Promise<ResolvedFile | null> {
  checkHubFile(file);
  return await resolveHubFile("models", file, options, "give a local model folder instead");
}

/** The cache, then the hub: the steps dataset and model files share. */
async function resolveHubFile(
  kind: RepoKind,
  file: HubDataFile,
  options: ResolveOptions & { optional?: boolean },
  instead: string,
): Promise<ResolvedFile | null> {
  const env = options.env ?? processEnv();
  const label = labelOf(kind, file);
  const cached = pathIn(kind, file, options.cacheDir ?? cacheRoot(env));
  if (await isFile(cached)) {
    const sha256 = await sha256Hex(await Deno.readFile(cached));
    checkPin(file, sha256, `${cached} (cached ${label})`, "delete it to download it again");
    return { path: cached, sha256, source: "cache" };
  }

  const url = urlOf(kind, file, env);
  const offline = options.offline ?? isOfflineEnv(env);
  if (offline) {
    if (options.optional) return null;
    const why = options.offline
      ? "offline mode is on"
      : "HF_HUB_OFFLINE/FORGETBENCH_OFFLINE is set";
    throw new UsageError(
      `${label}: not in the cache and ${why}; download ${url} to ${cached} or ${instead}`,
    );
  }
  const bytes = await download(url, label, {
    ...options,
    token: env.HF_TOKEN || undefined,
    kind,
  });
  if (bytes === null) return null;
  const sha256 = await sha256Hex(bytes);
  checkPin(
    file,
    sha256,
    `${label} downloaded from ${url}`,
    "the hub file changed or the download was corrupted",
  );
  await Deno.mkdir(dirname(cached), { recursive: true });
  await writeBytesAtomic(cached, bytes);
  return { path: cached, sha256, source: "download", url };
}

/**
 * The cache root: `$FORGETBENCH_CACHE`, else `$XDG_CACHE_HOME/forgetbench`, else
 * `~/.cache/forgetbench`.
 */
export function cacheRoot(
  env: Readonly<Record<string, string | undefined>> = processEnv(),
): string {
  if (env.FORGETBENCH_CACHE) return env.FORGETBENCH_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "forgetbench");
  const home = env.HOME || env.USERPROFILE;
  if (!home) throw new UsageError("no cache folder: set FORGETBENCH_CACHE (or HOME)");
  return join(home, ".cache", "forgetbench");
}

/** Dataset repositories live under `datasets/` on the hub and in the cache; model ones under `models/` in the cache and at the root of the hub. */
type RepoKind = "datasets" | "models";

/** Where `file` lives in the cache under `root`; a revision with `/` is one escaped folder. */
export function cachedPath(file: HubDataFile, root: string): string {
  return pathIn("datasets", file, root);
}

/** Where a model repository's file lives in the cache: `<root>/models/<org>/<name>/<revision>/<path>`. */
export function modelCachedPath(file: HubModelFile, root: string): string {
  return pathIn("models", file, root);
}

function pathIn(kind: RepoKind, file: HubDataFile, root: string): string {
  return join(
    root,
    kind,
    ...file.repo.split("/"),
    encodeURIComponent(file.revision),
    ...file.path.split("/"),
  );
}

/** The hub's download URL for `file`, at `$HF_ENDPOINT` when set. */
export function hubUrl(
  file: HubDataFile,
  env: Readonly<Record<string, string | undefined>> = processEnv(),
): string {
  return urlOf("datasets", file, env);
}

/** The hub's download URL of a model repository's file: `<endpoint>/<org>/<name>/resolve/<revision>/<path>`. */
export function modelHubUrl(
  file: HubModelFile,
  env: Readonly<Record<string, string | undefined>> = processEnv(),
): string {
  return urlOf("models", file, env);
}

function urlOf(
  kind: RepoKind,
  file: HubDataFile,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const endpoint = (env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, "");
  const path = file.path.split("/").map(encodeURIComponent).join("/");
  const repo = kind === "datasets" ? `datasets/${file.repo}` : file.repo;
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(file.revision)}/${path}`;
}

/** The file as `hf://datasets/<repo>@<revision>/<path>`, the hub's own notation, for messages. */
export function hubLabel(file: HubDataFile): string {
  return labelOf("datasets", file);
}

/** A model repository's file as `hf://<repo>@<revision>/<path>`, for messages. */
export function modelHubLabel(file: HubModelFile): string {
  return labelOf("models", file);
}

function labelOf(kind: RepoKind, file: HubDataFile): string {
  return `hf://${kind === "datasets" ? "datasets/" : ""}${file.repo}@${file.revision}/${file.path}`;
}

/**
 * A hub model id `org/name` or `org/name@revision` (default revision `main`) as repo and
 * revision; null when `source` is not of that form.
 *
 * @example
 * parseModelId("Qwen/Qwen2.5-0.5B-Instruct@7ae557604adf67be50417f59c2c2f167def9a775");
 */
export function parseModelId(source: string): { repo: string; revision: string } | null {
  const m = /^([\w.-]+\/[\w.-]+)(?:@([^@\s]+))?$/.exec(source);
  if (!m || m[1].split("/").some((s) => /^\.+$/.test(s))) return null;
  return { repo: m[1], revision: m[2] ?? "main" };
}

// ---------------------------------------------------------------------------------------------

/** Rejects names that could escape the cache folder or are not hub names at all. */
function checkHubFile(file: HubDataFile): void {
  const where = `hub file ${JSON.stringify(file.path)}`;
  if (!/^[\w.-]+\/[\w.-]+$/.test(file.repo) || file.repo.split("/").some((s) => /^\.+$/.test(s))) {
    throw new ValidationError(where, `repo '${file.repo}' must look like 'org/name'`);
  }
  if (!file.revision || /^\.+$/.test(file.revision)) {
    throw new ValidationError(where, `revision '${file.revision}' is not a branch, tag or commit`);
  }
  const parts = file.path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\\"))) {
    throw new ValidationError(where, "path must be relative, '/'-separated, without '.' or '..'");
  }
  if (file.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(file.sha256)) {
    throw new ValidationError(where, `sha256 '${file.sha256}' is not 64 lowercase hex digits`);
  }
}

function checkPin(file: HubDataFile, sha256: string, what: string, hint: string): void {
  if (file.sha256 !== undefined && sha256 !== file.sha256) {
    throw new ValidationError(
      what,
      `sha256 is ${sha256} but the task pins ${file.sha256}; ${hint}`,
    );
  }
}

/** The file `dataPath` names for `file`: itself, or inside it under the hub path or bare name. */
async function findLocal(file: HubDataFile, dataPath: string): Promise<string> {
  const info = await Deno.stat(dataPath).catch(() => undefined);
  if (!info) {
    throw new ValidationError(
      dataPath,
      `no such file or folder (given as the data for ${hubLabel(file)})`,
    );
  }
  if (!info.isDirectory) return dataPath;
  const names = [...new Set([file.path, basename(file.path)])];
  for (const name of names) {
    const path = join(dataPath, ...name.split("/"));
    if (await isFile(path)) return path;
  }
  throw new ValidationError(
    dataPath,
    `folder holds ${names.length > 1 ? "neither " : "no "}${names.join(" nor ")} (looked for ${
      hubLabel(file)
    })`,
  );
}

async function isFile(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined))?.isFile ?? false;
}

/** Downloads `url` whole, with progress, as one-line errors on any failure. */
async function download(
  url: string,
  label: string,
  options: ResolveOptions & { token?: string; optional?: boolean; kind: RepoKind },
): Promise<Uint8Array | null> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { headers });
  } catch (e) {
    throw new UsageError(
      `${label}: download from ${url} failed (${
        oneLine(e)
      }); check the network, or go offline and ${
        options.kind === "datasets" ? "give the file as the data path" : "give a local model folder"
      }`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status === 404 && options.optional) return null;
    throw new UsageError(
      `${label}: HTTP ${res.status} ${res.statusText} from ${url}${
        httpHint(res.status, { hasToken: !!options.token, kind: options.kind })
      }`,
    );
  }
  // With a content-encoding the length is of the encoded bytes, not of what fetch yields.
  const length = res.headers.get("content-length");
  const total = length && !res.headers.get("content-encoding") ? Number(length) : null;
  const show = progressLine(label, options.quiet ?? false);
  const chunks: Uint8Array[] = [];
  let done = 0;
  try {
    for await (const chunk of res.body ?? new ReadableStream<Uint8Array>()) {
      chunks.push(chunk);
      done += chunk.length;
      options.onProgress?.(done, total);
      show(done, total, false);
    }
  } catch (e) {
    throw new UsageError(
      `${label}: download from ${url} broke off after ${done} bytes (${oneLine(e)}); run again`,
    );
  }
  show(done, total, true);
  if (total !== null && done !== total) {
    throw new UsageError(
      `${label}: download from ${url} stopped at ${done} of ${total} bytes; run again`,
    );
  }
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

function httpHint(status: number, o: { hasToken: boolean; kind: RepoKind }): string {
  const what = o.kind === "datasets" ? "dataset" : "model";
  if (status === 401 || status === 403) {
    return o.hasToken
      ? `; HF_TOKEN has no access: accept the ${what}'s terms on its hub page, or check repo and revision`
      : `; the ${what} may be gated, private or misnamed: accept its terms on the hub and set HF_TOKEN`;
  }
  if (status === 404) return "; check the repo, revision and path";
  return "";
}

/**
 * Progress on stderr for large downloads: an updating line on a terminal, otherwise one line at
 * the start and one at the end so logs stay short.
 */
function progressLine(
  label: string,
  quiet: boolean,
): (done: number, total: number | null, final: boolean) => void {
  const tty = !quiet && Deno.stderr.isTerminal();
  let started = false, last = 0;
  const write = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(s));
  return (done, total, final) => {
    if (quiet || Math.max(done, total ?? 0) < PROGRESS_MIN_BYTES) return;
    const text = `${label}: ${mib(done)}${total !== null ? ` / ${mib(total)}` : ""} MiB`;
    if (!started) {
      started = true;
      if (!tty) write(`downloading ${label}${total !== null ? ` (${mib(total)} MiB)` : ""}\n`);
    }
    const now = Date.now();
    if (tty && (final || now - last >= 200)) {
      last = now;
      write(`\r${text}${final ? "\n" : ""}`);
    } else if (!tty && final) {
      write(`${text} done\n`);
    }
  };
}

function mib(n: number): string {
  return (n / 2 ** 20).toFixed(1);
}

/** The process environment, or nothing where env access is not granted. */
function processEnv(): Readonly<Record<string, string | undefined>> {
  const names = [
    "HF_ENDPOINT",
    "HF_TOKEN",
    "HF_HUB_OFFLINE",
    "FORGETBENCH_OFFLINE",
    "FORGETBENCH_CACHE",
    "XDG_CACHE_HOME",
    "HOME",
    "USERPROFILE",
  ];
  const out: Record<string, string | undefined> = {};
  for (const n of names) {
    try {
      out[n] = Deno.env.get(n);
    } catch {
      out[n] = undefined; // no --allow-env for this name: treat as unset
    }
  }
  return out;
}

/** HF_HUB_OFFLINE / FORGETBENCH_OFFLINE, read the way huggingface_hub reads them. */
function isOfflineEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const on = (v: string | undefined) =>
    ["1", "on", "yes", "true"].includes((v ?? "").toLowerCase());
  return on(env.HF_HUB_OFFLINE) || on(env.FORGETBENCH_OFFLINE);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
}
