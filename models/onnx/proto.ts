// A minimal protobuf encoder for the parts of onnx.proto a plain inference graph needs
// (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto), so models
// can be exported without Python. Field numbers follow onnx/onnx.proto; output is deterministic.

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** An initializer or constant tensor; float and int64 data are stored as little-endian raw_data. */
export interface TensorProto {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Little-endian element bytes (ONNX raw_data). */
  readonly raw: Uint8Array;
}

/** A node attribute; exactly one value field is set. */
export type AttributeProto =
  | { readonly name: string; readonly f: number }
  | { readonly name: string; readonly i: number }
  | { readonly name: string; readonly s: string }
  | { readonly name: string; readonly t: TensorProto }
  | { readonly name: string; readonly floats: readonly number[] }
  | { readonly name: string; readonly ints: readonly number[] };

/** One operator application. */
export interface NodeProto {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: readonly AttributeProto[];
}

/** A graph input or output: a tensor with element type and (possibly symbolic) shape. */
export interface ValueInfoProto {
  readonly name: string;
  readonly elemType: number;
  /** Numbers are fixed sizes, strings are named symbolic dimensions. */
  readonly shape: readonly (number | string)[];
}

/** A computation graph. */
export interface GraphProto {
  readonly name: string;
  readonly nodes: readonly NodeProto[];
  readonly initializers: readonly TensorProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
}

/** A complete model file. */
export interface ModelProto {
  readonly graph: GraphProto;
  /** ONNX IR version (default 8). */
  readonly irVersion?: number;
  /** ai.onnx opset version (default 17). */
  readonly opset?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  /** metadata_props, written in key order so equal maps give equal bytes. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Protobuf writer that keeps large byte arrays by reference and copies them once in `finish`,
 * so a model with hundreds of megabytes of weights is not copied per nesting level.
 */
class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  length = 0;

  private flush(): void {
    if (this.pos > 0) {
      this.chunks.push(this.buf.slice(0, this.pos));
      this.pos = 0;
    }
  }

  private byte(b: number): void {
    if (this.pos === this.buf.length) this.flush();
    this.buf[this.pos++] = b;
    this.length++;
  }

  /** Unsigned or negative (two's complement, 10 bytes) varint of a safe integer. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`protobuf varint: ${v} is not a safe integer`);
    }
    if (v < 0) {
      let x = BigInt.asUintN(64, BigInt(v));
      while (x >= 0x80n) {
        this.byte(Number(x & 0x7fn) | 0x80);
        x >>= 7n;
      }
      this.byte(Number(x));
      return;
    }
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length <= 64) {
      for (const b of bytes) this.byte(b);
      return;
    }
    this.flush();
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** Field of wire type 0 (int32/int64/enum/bool). */
  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  /** Field of wire type 5 (float). */
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.raw(b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.raw(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, sub: Writer): void {
    sub.flush();
    this.tag(field, 2);
    this.varint(sub.length);
    this.flush();
    this.chunks.push(...sub.chunks);
    this.length += sub.length;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function writeTensor(t: TensorProto): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d); // dims (repeated int64, unpacked is valid proto2)
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_TENSOR = 4;
const ATTR_FLOATS = 6, ATTR_INTS = 7;

function writeAttribute(a: AttributeProto): Writer {
  const w = new Writer();
  w.string(1, a.name);
  if ("f" in a) {
    w.float(2, a.f);
    w.int(20, ATTR_FLOAT);
  } else if ("i" in a) {
    w.int(3, a.i);
    w.int(20, ATTR_INT);
  } else if ("s" in a) {
    w.string(4, a.s);
    w.int(20, ATTR_STRING);
  } else if ("t" in a) {
    w.message(5, writeTensor(a.t));
    w.int(20, ATTR_TENSOR);
  } else if ("floats" in a) {
    for (const f of a.floats) w.float(7, f);
    w.int(20, ATTR_FLOATS);
  } else {
    for (const i of a.ints) w.int(8, i);
    w.int(20, ATTR_INTS);
  }
  return w;
}

function writeNode(n: NodeProto): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, writeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function writeValueInfo(v: ValueInfoProto): Writer {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === "number") dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Writer();
  tensorType.int(1, v.elemType);
  tensorType.message(2, shape);
  const type = new Writer();
  type.message(1, tensorType);
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

function writeGraph(g: GraphProto): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.message(1, writeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, writeTensor(t));
  for (const i of g.inputs) w.message(11, writeValueInfo(i));
  for (const o of g.outputs) w.message(12, writeValueInfo(o));
  return w;
}

/** Serialises a model to ONNX protobuf bytes; equal inputs always give equal bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion ?? 8);
  w.string(2, model.producerName ?? "forgetbench");
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.message(7, writeGraph(model.graph));
  const opset = new Writer();
  opset.string(1, ""); // the default ai.onnx domain
  opset.int(2, model.opset ?? 17);
  w.message(8, opset);
  const meta = model.metadata ?? {};
  for (const key of Object.keys(meta).sort()) {
    const entry = new Writer();
    entry.string(1, key);
    entry.string(2, meta[key]);
    w.message(14, entry);
  }
  return w.finish();
}

/** A float32 tensor stored as raw_data. */
export function floatTensor(
  name: string,
  dims: readonly number[],
  data: Float32Array,
): TensorProto {
  checkSize(name, dims, data.length);
  return { name, dims, dataType: DataType.FLOAT, raw: littleEndianBytes(data) };
}

/** An int64 tensor stored as raw_data (shape constants, axes, indices). */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  data: readonly number[],
): TensorProto {
  checkSize(name, dims, data.length);
  const raw = new Uint8Array(data.length * 8);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: DataType.INT64, raw };
}

function checkSize(name: string, dims: readonly number[], n: number): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== n) throw new RangeError(`tensor ${name}: ${n} values for shape [${dims}]`);
}

/** The bytes of a float array in little-endian order, without a copy on little-endian hosts. */
function littleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) return bytes;
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}
