// Reads benchmark records from the file shapes Hugging Face datasets are published in (parquet,
// JSON Lines, JSON, gzip'd JSON/JSONL), so a task sees plain objects whatever the hub serves.
// Every record keeps its location, so a task's validation error points at the line or row.

import { gunzipSync } from "node:zlib";
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { ValidationError } from "./errors.ts";
import { sha256Hex } from "./hash.ts";

/** The record formats a file can hold (gzip is a wrapper, not a format). */
export type RecordFormat = "parquet" | "jsonl" | "json";

/** The records of one data file, with where each came from. */
export interface RecordFile {
  /** The path as given to readRecords. */
  readonly path: string;
  /** The records in file order. Parquet values are plain: see readRecords. */
  readonly records: Record<string, unknown>[];
  /** Hex sha256 of the file's bytes as stored (compressed bytes for `.gz`). */
  readonly sha256: string;
  /** What the records were parsed as (a `.json` file holding JSON Lines reports "jsonl"). */
  readonly format: RecordFormat;
  /**
   * Where record `i` sits, for ValidationError: `file.jsonl:12` (1-based line) for JSON Lines,
   * `file.parquet row 3` (0-based row, as the hub's dataset viewer counts) for parquet and JSON.
   */
  at(i: number): string;
}

const EXTENSIONS = "expected .parquet, .jsonl, .ndjson or .json, the last three optionally .gz";

/**
 * Reads every record of a `.parquet`, `.jsonl`/`.ndjson`, `.json` (an array of objects, or an
 * object with exactly one array field such as `{"data": [...]}`) or gzip'd `.jsonl.gz`/`.json.gz`
 * file. The format comes from the extension and is checked against the file's first bytes.
 * A JSON or JSON Lines row that is an array of objects (a conversation) is read as an object
 * keyed by position, `{"0": ..., "1": ...}`, as the Hugging Face `datasets` loader reads it.
 *
 * Parquet values come out as plain data: int64 as number where it is a safe integer (bigint
 * beyond ±2^53), structs as objects, lists as arrays, unannotated binary (image `bytes`) as
 * Uint8Array, nulls (including null structs and lists) as null. Every parquet codec hub files
 * use (snappy, zstd, gzip, brotli, lz4) is read.
 *
 * Throws a one-line ValidationError naming the file (and line or row) when the file is missing,
 * empty, truncated, of another format than its name says, or holds anything but records.
 */
export async function readRecords(path: string): Promise<RecordFile> {
  const kind = formatOf(path);
  const stored = await readFileBytes(path);
  if (stored.length === 0) throw new ValidationError(path, "empty file (0 bytes)");
  sniffWrongContent(path, stored);
  const sha256 = await sha256Hex(stored);
  if (kind.format === "parquet") {
    const records = await readParquet(path, stored);
    return finish({ path, records, sha256, format: "parquet", at: (i) => `${path} row ${i}` });
  }
  let bytes = stored;
  if (kind.gzip) {
    if (!isGzip(stored)) {
      throw new ValidationError(path, `named .gz but is not gzip (starts with ${hexHead(stored)})`);
    }
    bytes = gunzip(path, stored);
  } else if (isGzip(stored)) {
    throw new ValidationError(path, "is gzip-compressed; name it with a .gz extension");
  }
  const text = decodeUtf8(path, bytes);
  if (kind.format === "jsonl" || looksLikeJsonLines(text)) {
    const { records, lines } = parseJsonLines(path, text);
    return finish({ path, records, sha256, format: "jsonl", at: (i) => `${path}:${lines[i]}` });
  }
  const records = parseJson(path, text);
  return finish({ path, records, sha256, format: "json", at: (i) => `${path} row ${i}` });
}

/** The value types requireFields checks; a trailing `?` also allows missing or null. */
export type FieldType =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "bytes"
  | "object"
  | "array"
  | "string[]"
  | "number[]"
  | "integer[]"
  | "any";

/** A FieldType, or one with `?` for a field that may be missing or null. */
export type FieldSpec = FieldType | `${FieldType}?`;

type ValueOf<T extends FieldType> = T extends "string" ? string
  : T extends "number" | "integer" ? number
  : T extends "boolean" ? boolean
  : T extends "bytes" ? Uint8Array
  : T extends "object" ? Record<string, unknown>
  : T extends "array" ? unknown[]
  : T extends "string[]" ? string[]
  : T extends "number[]" | "integer[]" ? number[]
  : unknown;

/** The typed fields requireFields returns for a spec (optional ones may be undefined). */
export type FieldsOf<S extends Record<string, FieldSpec>> = {
  [K in keyof S]: S[K] extends `${infer T extends FieldType}?` ? ValueOf<T> | undefined
    : S[K] extends FieldType ? ValueOf<S[K]>
    : never;
};

/**
 * Checks that `record` has each field of `fields` with the given type and returns those fields,
 * typed. Optional fields (`"string?"`) that are missing or null come back undefined. Throws a
 * ValidationError at `where` (a RecordFile's `at(i)`), e.g.
 * `test.jsonl:12: field 'answer' missing` or `test.parquet row 3: field 'options' item 2 is
 * number, expected string`. `number` must be finite; `integer` must be a safe integer.
 *
 * @example
 * const { question, options } = requireFields(rec, { question: "string", options: "string[]" }, file.at(i));
 */
export function requireFields<const S extends Record<string, FieldSpec>>(
  record: Readonly<Record<string, unknown>>,
  fields: S,
  where: string,
): FieldsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith("?");
    const type = (optional ? spec.slice(0, -1) : spec) as FieldType;
    const value = record[name];
    if (value === undefined || value === null) {
      if (optional) {
        out[name] = undefined;
        continue;
      }
      throw new ValidationError(
        where,
        value === null ? `field '${name}' is null, expected ${type}` : `field '${name}' missing`,
      );
    }
    const problem = typeProblem(value, type);
    if (problem) throw new ValidationError(where, `field '${name}' ${problem}`);
    out[name] = value;
  }
  return out as FieldsOf<S>;
}

/** Why `value` is not of `type`, or "" when it is. */
function typeProblem(value: unknown, type: FieldType): string {
  const element = type.endsWith("[]") ? (type.slice(0, -2) as FieldType) : undefined;
  if (element) {
    if (!Array.isArray(value)) return `is ${describe(value)}, expected ${type}`;
    for (let i = 0; i < value.length; i++) {
      const p = typeProblem(value[i], element);
      if (p) return `item ${i} ${p}`;
    }
    return "";
  }
  const ok = type === "any" ||
    (type === "string" && typeof value === "string") ||
    (type === "number" && typeof value === "number" && Number.isFinite(value)) ||
    (type === "integer" && Number.isSafeInteger(value)) ||
    (type === "boolean" && typeof value === "boolean") ||
    (type === "bytes" && value instanceof Uint8Array) ||
    (type === "array" && Array.isArray(value)) ||
    (type === "object" && describe(value) === "object");
  return ok ? "" : `is ${describe(value)}, expected ${type}`;
}

/** A value's kind in words, as error messages name it. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof Date) return "date";
  if (typeof value === "bigint") return "an integer beyond ±2^53 (bigint)";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "number" && !Number.isInteger(value)) return "a fraction";
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// Formats.

/** The format a file's name declares. */
function formatOf(path: string): { format: RecordFormat; gzip: boolean } {
  const name = path.toLowerCase();
  const gzip = name.endsWith(".gz");
  const base = gzip ? name.slice(0, -3) : name;
  if (base.endsWith(".parquet") && !gzip) return { format: "parquet", gzip };
  if (base.endsWith(".jsonl") || base.endsWith(".ndjson")) return { format: "jsonl", gzip };
  if (base.endsWith(".json")) return { format: "json", gzip };
  throw new ValidationError(path, `unsupported data file type; ${EXTENSIONS}`);
}

/** Reads a whole file, turning file-system failures into one-line errors naming it. */
async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ValidationError(path, "no such file");
    if (e instanceof Deno.errors.IsADirectory) {
      throw new ValidationError(path, "is a folder, not a data file");
    }
    // Some platforms report reading a folder as a generic error; say so plainly.
    const info = await Deno.stat(path).catch(() => undefined);
    if (info?.isDirectory) throw new ValidationError(path, "is a folder, not a data file");
    throw new ValidationError(path, `cannot read (${oneLine(e)})`);
  }
}

/** Rejects the two wrong contents a hub file commonly has: a Git LFS pointer or an HTML page. */
function sniffWrongContent(path: string, bytes: Uint8Array): void {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith("version https://git-lfs")) {
    throw new ValidationError(
      path,
      "is a Git LFS pointer, not the data; run `git lfs pull` in the clone or download the file",
    );
  }
  if (/^<(!doctype html|html)/i.test(head)) {
    throw new ValidationError(path, "is an HTML page, not the data; download the file itself");
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function isParquet(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new TextDecoder().decode(bytes.subarray(0, 4)) === "PAR1";
}

function hexHead(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function gunzip(path: string, bytes: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (e) {
    throw new ValidationError(path, `truncated or corrupt gzip (${oneLine(e)})`);
  }
}

function decodeUtf8(path: string, bytes: Uint8Array): string {
  if (isParquet(bytes)) {
    throw new ValidationError(path, "is a parquet file; name it with a .parquet extension");
  }
  try {
    // The default decoder drops a leading byte-order mark, which some exporters write.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError(path, "is not valid UTF-8 text");
  }
}

/**
 * Whether a `.json` file is really JSON Lines: many hub repos name JSONL files `.json` (pandas
 * `to_json(lines=True)`), and a second top-level value on line 2 gives it away.
 */
function looksLikeJsonLines(text: string): boolean {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("{")) return false;
  try {
    JSON.parse(trimmed);
    return false;
  } catch {
    const first = trimmed.split("\n", 1)[0];
    try {
      return isRecord(JSON.parse(first));
    } catch {
      return false;
    }
  }
}

function parseJsonLines(
  path: string,
  text: string,
): { records: Record<string, unknown>[]; lines: number[] } {
  const records: Record<string, unknown>[] = [], lines: number[] = [];
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) {
    const line = all[i].trim();
    if (line === "") continue; // blank lines, including the final newline, hold no record
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new ValidationError(`${path}:${i + 1}`, `not valid JSON (${oneLine(e)})`);
    }
    const record = asRecord(value);
    if (!record) {
      throw new ValidationError(
        `${path}:${i + 1}`,
        `expected a JSON object, got ${describe(value)}`,
      );
    }
    records.push(record);
    lines.push(i + 1);
  }
  return { records, lines };
}

function parseJson(path: string, text: string): Record<string, unknown>[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(path, `not valid JSON (${oneLine(e)})`);
  }
  if (isRecord(value)) {
    // Hub JSON files often wrap the records: {"data": [...]}, {"version": "1", "data": [...]}.
    const wrapper = value;
    const arrays = Object.keys(wrapper).filter((k) => Array.isArray(wrapper[k]));
    if (arrays.length !== 1) {
      const fields = Object.keys(wrapper).slice(0, 8).join(", ");
      throw new ValidationError(
        path,
        `expected an array of objects or an object with exactly one array field, got an object ` +
          (arrays.length ? `with array fields ${arrays.join(", ")}` : `with fields ${fields}`),
      );
    }
    value = wrapper[arrays[0]];
  }
  if (!Array.isArray(value)) {
    throw new ValidationError(path, `expected an array of objects, got ${describe(value)}`);
  }
  return value.map((v, i) => {
    const record = asRecord(v);
    if (!record) {
      throw new ValidationError(`${path} row ${i}`, `expected a JSON object, got ${describe(v)}`);
    }
    return record;
  });
}

/**
 * A row as a record: an object as it is; an array of objects (a conversation, as
 * Open-Reasoner-Zero publishes each record: `[{"from": "human", ...}, {"from": "assistant", ...}]`)
 * as an object keyed by position, `{"0": ..., "1": ...}`, which is how the Hugging Face
 * `datasets` JSON loader reads it; anything else is not a record (null).
 */
function asRecord(v: unknown): Record<string, unknown> | null {
  if (isRecord(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every(isRecord)) {
    return Object.fromEntries(v.map((x, i) => [String(i), x]));
  }
  return null;
}

async function readParquet(path: string, bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  if (!isParquet(bytes)) {
    const what = isGzip(bytes) ? "gzip data" : `bytes ${hexHead(bytes)}`;
    throw new ValidationError(path, `not a parquet file (starts with ${what}, not PAR1)`);
  }
  const tail = new TextDecoder().decode(bytes.subarray(bytes.length - 4));
  if (bytes.length < 12 || tail !== "PAR1") {
    throw new ValidationError(path, "truncated parquet file (no PAR1 footer); download it again");
  }
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let rows: Record<string, unknown>[];
  try {
    // utf8: false keeps unannotated BYTE_ARRAY columns (image bytes) binary; the default decodes
    // every byte array as text. String columns carry a UTF8/STRING annotation and still decode.
    rows = await parquetReadObjects({ file: file as ArrayBuffer, compressors, utf8: false });
  } catch (e) {
    throw new ValidationError(path, `corrupt parquet file (${oneLine(e)})`);
  }
  return rows.map((row) => plain(row) as Record<string, unknown>);
}

/** Parquet values as plain data: safe bigints as numbers, undefined as null, typed arrays as arrays. */
function plain(v: unknown): unknown {
  if (v === undefined) return null; // hyparquet gives undefined for a null struct or list
  if (typeof v === "bigint") {
    return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
  }
  if (v === null || typeof v !== "object" || v instanceof Uint8Array || v instanceof Date) return v;
  if (Array.isArray(v)) return v.map(plain);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, plain);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x);
  return out;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function finish(file: RecordFile): RecordFile {
  if (file.records.length === 0) throw new ValidationError(file.path, "holds no records");
  return file;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
}
