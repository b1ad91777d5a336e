// Writes records in the exact shapes Hugging Face datasets are published in (parquet as pyarrow
// lays it out, JSON Lines, JSON arrays, gzip'd JSON/JSONL), so tests and offline recipes read
// fixtures through the real data path. Same records and options, same bytes: they can be pinned.

import * as zlib from "node:zlib";
import { dirname, join } from "node:path";
import type { SchemaElement } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";

/** The published formats writeFixture writes. */
export type FixtureFormat = "parquet" | "jsonl" | "json" | "jsonl.gz" | "json.gz";

/**
 * A parquet column type as the `datasets` library writes it. `float` is float64 (a Python float),
 * `image` is the `Image()` feature's struct `{bytes: binary, path: string}`; lists and structs
 * nest, e.g. TruthfulQA's `{struct: {choices: "list<string>", labels: "list<int32>"}}`.
 */
export type ColumnType =
  | "string"
  | "int64"
  | "int32"
  | "float"
  | "float32"
  | "bool"
  | "binary"
  | "image"
  | "list<string>"
  | "list<int64>"
  | "list<int32>"
  | "list<float>"
  | { readonly list: ColumnType }
  | { readonly struct: Readonly<Record<string, ColumnType>> };

/** Parquet codecs a fixture can be compressed with (the hub holds all of them). */
export type FixtureCodec = "SNAPPY" | "GZIP" | "BROTLI" | "ZSTD" | "UNCOMPRESSED";

/** Options for writeFixture. */
export interface FixtureOptions {
  /** Parquet column types by name; columns not named are inferred from the values. */
  readonly columns?: Readonly<Record<string, ColumnType>>;
  /** Parquet compression (default SNAPPY, as pyarrow writes hub files). */
  readonly codec?: FixtureCodec;
}

/**
 * Writes `records` to `dir/name` in `format` and returns the path. `.<format>` is appended unless
 * `name` already ends with it; `name` may hold folders (`data/test-00000-of-00001`), created as
 * needed. Parquet columns are the union of the records' keys in first-seen order, all nullable
 * as pyarrow writes them; integers are int64 unless `options.columns` says otherwise.
 *
 * @example
 * const path = await writeFixture(dir, "test", [{ question: "2+2?", answer: 4 }], "parquet");
 */
export async function writeFixture(
  dir: string,
  name: string,
  records: readonly Readonly<Record<string, unknown>>[],
  format: FixtureFormat,
  options: FixtureOptions = {},
): Promise<string> {
  const path = join(dir, name.endsWith(`.${format}`) ? name : `${name}.${format}`);
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeFile(path, fixtureBytes(records, format, options));
  return path;
}

/** The bytes writeFixture writes, for tests that serve a file rather than store it. */
export function fixtureBytes(
  records: readonly Readonly<Record<string, unknown>>[],
  format: FixtureFormat,
  options: FixtureOptions = {},
): Uint8Array<ArrayBuffer> {
  if (format === "parquet") return parquetBytes(records, options);
  const text = format.startsWith("jsonl")
    ? records.map((r) => toJson(r) + "\n").join("")
    : `[\n${records.map(toJson).join(",\n")}\n]\n`;
  const bytes = new TextEncoder().encode(text);
  return format.endsWith(".gz") ? gzipDeterministic(bytes) : bytes;
}

function toJson(record: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(record, (_k, v) => {
    if (v instanceof Uint8Array) {
      throw new Error("fixture: binary values cannot be written as JSON");
    }
    if (typeof v === "bigint") throw new Error("fixture: bigint values cannot be written as JSON");
    return v;
  });
}

/** gzip with a fixed header (mtime 0, OS "unknown") so the bytes match on every platform. */
function gzipDeterministic(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(zlib.gzipSync(bytes, { level: 9 }));
  out[4] =
    out[5] =
    out[6] =
    out[7] =
      0;
  out[9] = 0xff;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parquet.

// Compressors for the codecs hyparquet-writer does not bring (it writes snappy itself).
const COMPRESSORS = {
  GZIP: (b: Uint8Array) => new Uint8Array(zlib.gzipSync(b)),
  BROTLI: (b: Uint8Array) => new Uint8Array(zlib.brotliCompressSync(b)),
  ZSTD: (b: Uint8Array) => new Uint8Array(zlib.zstdCompressSync(b)),
};

function parquetBytes(
  records: readonly Readonly<Record<string, unknown>>[],
  options: FixtureOptions,
): Uint8Array<ArrayBuffer> {
  const names: string[] = [];
  for (const r of records) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  for (const k of Object.keys(options.columns ?? {})) if (!names.includes(k)) names.push(k);
  if (names.length === 0) throw new Error("fixture: parquet needs at least one column");
  const schema: SchemaElement[] = [{ name: "schema", num_children: names.length }];
  const columnData = names.map((name) => {
    const values = records.map((r) => r[name] ?? null);
    const type = options.columns?.[name] ?? inferType(name, values);
    schema.push(...schemaOf(name, type));
    return { name, data: values.map((v) => encode(v, type, name)) };
  });
  return new Uint8Array(
    parquetWriteBuffer({
      columnData,
      schema,
      codec: options.codec ?? "SNAPPY",
      compressors: COMPRESSORS,
    }),
  );
}

const LIST_SHORTHAND: Record<string, ColumnType> = {
  "list<string>": { list: "string" },
  "list<int64>": { list: "int64" },
  "list<int32>": { list: "int32" },
  "list<float>": { list: "float" },
};

/** Schema elements for one column, laid out as pyarrow writes them (3-level lists). */
function schemaOf(name: string, type: ColumnType): SchemaElement[] {
  const o = "OPTIONAL" as const;
  if (typeof type === "string" && type in LIST_SHORTHAND) {
    return schemaOf(name, LIST_SHORTHAND[type]);
  }
  if (typeof type === "object" && "list" in type) {
    return [
      {
        name,
        repetition_type: o,
        converted_type: "LIST",
        logical_type: { type: "LIST" },
        num_children: 1,
      },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      ...schemaOf("element", type.list),
    ];
  }
  if (typeof type === "object") {
    const fields = Object.entries(type.struct);
    return [
      { name, repetition_type: o, num_children: fields.length },
      ...fields.flatMap(([k, t]) => schemaOf(k, t)),
    ];
  }
  switch (type) {
    case "string":
      return [{
        name,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
        repetition_type: o,
      }];
    case "binary":
      return [{ name, type: "BYTE_ARRAY", repetition_type: o }];
    case "int64":
      return [{ name, type: "INT64", repetition_type: o }];
    case "int32":
      return [{ name, type: "INT32", repetition_type: o }];
    case "float":
      return [{ name, type: "DOUBLE", repetition_type: o }];
    case "float32":
      return [{ name, type: "FLOAT", repetition_type: o }];
    case "bool":
      return [{ name, type: "BOOLEAN", repetition_type: o }];
    case "image":
      return schemaOf(name, { struct: { bytes: "binary", path: "string" } });
  }
  throw new Error(`fixture: unknown column type ${JSON.stringify(type)}`);
}

/** A value converted to what hyparquet-writer expects for `type` (int64 wants bigint). */
function encode(v: unknown, type: ColumnType, where: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeof type === "string" && type in LIST_SHORTHAND) {
    return encode(v, LIST_SHORTHAND[type], where);
  }
  if (typeof type === "object" && "list" in type) {
    if (!Array.isArray(v)) {
      throw new Error(`fixture: column ${where} expects arrays, got ${typeof v}`);
    }
    return v.map((x) => encode(x, type.list, where));
  }
  if (type === "image") return encode(v, { struct: { bytes: "binary", path: "string" } }, where);
  if (typeof type === "object") {
    const obj = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(type.struct).map(([k, t]) => [k, encode(obj[k], t, `${where}.${k}`)]),
    );
  }
  if (type === "int64") {
    if (typeof v === "bigint") return v;
    if (Number.isInteger(v)) return BigInt(v as number);
    throw new Error(`fixture: column ${where} is int64 but holds ${String(v)}`);
  }
  return v;
}

/** The column type pyarrow would infer from `values` (Python ints are int64). */
function inferType(where: string, values: readonly unknown[]): ColumnType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) {
    throw new Error(`fixture: column ${where} has no values to infer a type from; give columns`);
  }
  const kinds = new Set(present.map(kindOf));
  if (kinds.size === 1 || (kinds.size === 2 && kinds.has("int") && kinds.has("float"))) {
    const kind = kinds.has("float") ? "float" : [...kinds][0];
    switch (kind) {
      case "string":
      case "float":
      case "bool":
      case "binary":
      case "image":
        return kind;
      case "int":
        return "int64";
      case "list":
        return { list: inferType(`${where}[]`, present.flatMap((v) => v as unknown[])) };
      case "struct": {
        const keys: string[] = [];
        for (const v of present) {
          for (const k of Object.keys(v as object)) if (!keys.includes(k)) keys.push(k);
        }
        return {
          struct: Object.fromEntries(
            keys.map((
              k,
            ) => [
              k,
              inferType(`${where}.${k}`, present.map((v) => (v as Record<string, unknown>)[k])),
            ]),
          ),
        };
      }
    }
  }
  throw new Error(`fixture: column ${where} mixes ${[...kinds].join(", ")}; give columns`);
}

function kindOf(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (v instanceof Uint8Array) return "binary";
  if (Array.isArray(v)) return "list";
  if (typeof v === "object" && v !== null) {
    const keys = Object.keys(v);
    const img = keys.every((k) => k === "bytes" || k === "path") && keys.includes("bytes");
    return img ? "image" : "struct";
  }
  return typeof v;
}
