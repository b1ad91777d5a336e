// Finds a benchmark's data file: a path the user gave, else the local cache, else a download
// from the Hugging Face hub into the cache. Whatever the source, the caller gets the sha256 of
// the bytes it will read, so the manifest records exactly which data a run scored.

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
  const env = options.env ?? processEnv();
  const label = hubLabel(file);

  if (options.dataPath !== undefined) {
    const path = await findLocal(file, options.dataPath);
    const sha256 = await sha256Hex(await Deno.readFile(path));
    checkPin(file, sha256, `${path} (given for ${label})`, "give the pinned version of the file");
    return { path, sha256, source: "local" };
  }

  const cached = cachedPath(file, options.cacheDir ?? cacheRoot(env));
  if (await isFile(cached)) {
    const sha256 = await sha256Hex(await Deno.readFile(cached));
    checkPin(file, sha256, `${cached} (cached ${label})`, "delete it to download it again");
    return { path: cached, sha256, source: "cache" };
  }

  const url = hubUrl(file, env);
  const offline = options.offline ?? isOfflineEnv(env);
  if (offline) {
    const why = options.offline
      ? "offline mode is on"
      : "HF_HUB_OFFLINE/FORGETBENCH_OFFLINE is set";
    throw new UsageError(
      `${label}: not in the cache and ${why}; download ${url} to ${cached} or give its location as the data path`,
    );
  }
  const bytes = await download(url, label, { ...options, token: env.HF_TOKEN || undefined });
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

/** Where `file` lives in the cache under `root`; a revision with `/` is one escaped folder. */
export function cachedPath(file: HubDataFile, root: string): string {
  return join(
    root,
    "datasets",
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
  const endpoint = (env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, "");
  const path = file.path.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/datasets/${file.repo}/resolve/${encodeURIComponent(file.revision)}/${path}`;
}

/** The file as `hf://datasets/<repo>@<revision>/<path>`, the hub's own notation, for messages. */
export function hubLabel(file: HubDataFile): string {
  return `hf://datasets/${file.repo}@${file.revision}/${file.path}`;
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
  options: ResolveOptions & { token?: string },
): Promise<Uint8Array> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { headers });
  } catch (e) {
    throw new UsageError(
      `${label}: download from ${url} failed (${
        oneLine(e)
      }); check the network, or go offline and give the file as the data path`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UsageError(
      `${label}: HTTP ${res.status} ${res.statusText} from ${url}${
        httpHint(res.status, !!options.token)
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

function httpHint(status: number, hasToken: boolean): string {
  if (status === 401 || status === 403) {
    return hasToken
      ? "; HF_TOKEN has no access: accept the dataset's terms on its hub page, or check repo and revision"
      : "; the dataset may be gated, private or misnamed: accept its terms on the hub and set HF_TOKEN";
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
