// Safetensors files (the Hugging Face weight format): an 8-byte little-endian header length,
// a JSON header of {name: {dtype, shape, data_offsets}} plus `__metadata__`, then raw
// little-endian tensor bytes. Tensors are float32 in memory whatever their stored dtype: F32,
// BF16 (the upper 16 bits of a float32) and F16 (IEEE half, subnormals included) are read
// exactly, and written with round-to-nearest-even, as torch converts. Used for the cached base
// model and for real checkpoints (models/checkpoint.ts).

import { ValidationError } from "../lib/errors.ts";

/** Tensors by name, row-major float32 with their shapes. */
export type NamedWeights = Map<string, { shape: number[]; data: Float32Array }>;

/** The stored dtypes forgetbench reads and writes. */
export type SafetensorsDtype = "F32" | "BF16" | "F16";

/** Every {@link SafetensorsDtype}, in the order messages list them. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = ["F32", "BF16", "F16"];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, BF16: 2, F16: 2 };

/** What encodeSafetensors stores: one dtype for all tensors, or one per name (default F32). */
export interface EncodeOptions {
  readonly dtype?: SafetensorsDtype | ReadonlyMap<string, SafetensorsDtype>;
}

/**
 * Serialises tensors (sorted by name, so equal weights give equal bytes), converting each to its
 * stored dtype (`opts.dtype`; F32 by default).
 *
 * @example
 * const bytes = encodeSafetensors(weights, { format: "pt" }, { dtype: "BF16" });
 */
export function encodeSafetensors(
  weights: NamedWeights,
  metadata: Record<string, string> = {},
  opts: EncodeOptions = {},
): Uint8Array {
  const names = [...weights.keys()].sort();
  const dtypeOf = (name: string): SafetensorsDtype =>
    typeof opts.dtype === "string" ? opts.dtype : opts.dtype?.get(name) ?? "F32";
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const bytes = toBytes(weights.get(name)!.data, dtypeOf(name));
    header[name] = {
      dtype: dtypeOf(name),
      shape: weights.get(name)!.shape,
      data_offsets: [offset, offset + bytes.byteLength],
    };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes, as the spec allows
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** One header entry as the file declares it. */
interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Parses a safetensors file of F32, BF16 or F16 tensors into float32; `where` names the file in
 * errors. `dtypes` holds each tensor's stored dtype (to write it back the same way). A NaN or
 * infinite value is an error naming the tensor and element (no model starts from broken weights)
 * unless `allowNonFinite`.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  where: string,
  opts: { allowNonFinite?: boolean } = {},
): {
  weights: NamedWeights;
  metadata: Record<string, string>;
  dtypes: Map<string, SafetensorsDtype>;
} {
  if (bytes.length < 8) throw new ValidationError(where, "too short to be a safetensors file");
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + n > bytes.length) {
    throw new ValidationError(where, `header length ${n} runs past the end of the file`);
  }
  let header: Record<string, HeaderEntry>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new ValidationError(where, `header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new ValidationError(where, "header is not a JSON object");
  }
  const base = 8 + n, weights: NamedWeights = new Map();
  const dtypes = new Map<string, SafetensorsDtype>();
  const { __metadata__: metadata, ...tensors } = header as Record<string, never>;
  for (const [name, t] of Object.entries(tensors) as [string, HeaderEntry][]) {
    if (t === null || typeof t !== "object") {
      throw new ValidationError(where, `tensor '${name}' has a malformed header entry`);
    }
    const dtype = t.dtype as SafetensorsDtype;
    if (!SAFETENSORS_DTYPES.includes(dtype)) {
      throw new ValidationError(
        where,
        `tensor '${name}' has dtype ${JSON.stringify(t.dtype)}; forgetbench reads ${
          SAFETENSORS_DTYPES.join(", ")
        } (convert the checkpoint first)`,
      );
    }
    const okShape = Array.isArray(t.shape) && t.shape.every((d) => Number.isInteger(d) && d >= 0);
    const okOffsets = Array.isArray(t.data_offsets) && t.data_offsets.length === 2 &&
      t.data_offsets.every(Number.isInteger) && t.data_offsets[0] >= 0;
    if (!okShape || !okOffsets) {
      throw new ValidationError(where, `tensor '${name}' has a malformed shape or data_offsets`);
    }
    const [s, e] = t.data_offsets, count = t.shape.reduce((a, b) => a * b, 1);
    if (e - s !== count * DTYPE_BYTES[dtype] || base + e > bytes.length) {
      throw new ValidationError(
        where,
        `tensor '${name}' offsets [${s}, ${e}] do not fit ${dtype} shape ${
          JSON.stringify(t.shape)
        }`,
      );
    }
    const data = fromBytes(bytes.slice(base + s, base + e), dtype);
    const bad = opts.allowNonFinite ? -1 : firstNonFinite(data);
    if (bad >= 0) {
      throw new ValidationError(
        where,
        `tensor '${name}' holds ${
          data[bad]
        } at element ${bad} (of ${data.length}): the weights are corrupt or diverged`,
      );
    }
    weights.set(name, { shape: t.shape, data });
    dtypes.set(name, dtype);
  }
  return { weights, metadata: (metadata ?? {}) as Record<string, string>, dtypes };
}

/** The index of the first NaN or ±Infinity in `data`, or -1 when every value is finite. */
function firstNonFinite(data: Float32Array): number {
  // An all-ones exponent is NaN or infinity; comparing bits is faster than Number.isFinite.
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7f800000) === 0x7f800000) return i;
  }
  return -1;
}

/** float32 values of a tensor's stored bytes (a fresh, aligned copy). */
function fromBytes(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const out = new Float32Array(halves.length), bits = new Uint32Array(out.buffer);
  if (dtype === "BF16") {
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  } else {
    for (let i = 0; i < halves.length; i++) bits[i] = f16BitsToF32Bits(halves[i]);
  }
  return out;
}

/** The stored bytes of float32 values in `dtype`. */
function toBytes(data: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  if (dtype === "F32") return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const halves = new Uint16Array(data.length);
  const convert = dtype === "BF16" ? f32BitsToBf16Bits : f32BitsToF16Bits;
  for (let i = 0; i < data.length; i++) halves[i] = convert(bits[i]);
  return new Uint8Array(halves.buffer);
}

/**
 * `data` as stored in `dtype` and read back: what a tensor holds after a save in that dtype.
 *
 * @example
 * roundToDtype(new Float32Array([Math.PI]), "BF16"); // Float32Array [3.140625]
 */
export function roundToDtype(data: Float32Array, dtype: SafetensorsDtype): Float32Array {
  return dtype === "F32" ? data.slice() : fromBytes(toBytes(data, dtype), dtype);
}

/**
 * bfloat16 bits of float32 bits, rounded to nearest even (torch's round_to_nearest_even); NaN
 * stays a quiet NaN of the same sign.
 */
export function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff;
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** float32 bits of IEEE half bits (exact: every half is a float32). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16, exp = (h >>> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (frac << 13)) >>> 0; // inf, NaN
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (frac << 13)) >>> 0;
  if (frac === 0) return sign >>> 0; // ±0
  // Subnormal: frac · 2^−24; normalise the fraction into float32's implicit-one form.
  let e = 113, f = frac;
  while ((f & 0x400) === 0) {
    f <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((f & 0x3ff) << 13)) >>> 0;
}

/**
 * IEEE half bits of float32 bits, rounded to nearest even, with half subnormals; values beyond
 * the half range become ±infinity and NaN a quiet NaN.
 */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000, exp = (bits >>> 23) & 0xff, frac = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac !== 0 ? 0x200 | (frac >>> 13) : 0);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): the value is m · 2^(e − 25) with the implicit one restored;
    // shift it to units of 2^−24 and round to nearest even.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to ±0
    const m = frac | 0x800000, shift = 14 - e;
    const half = 1 << (shift - 1), rest = m & ((1 << shift) - 1);
    let q = m >>> shift;
    if (rest > half || (rest === half && (q & 1) === 1)) q++;
    return sign | q; // q may carry into the smallest normal, which is the right encoding
  }
  let q = (e << 10) | (frac >>> 13);
  const rest = frac & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (q & 1) === 1)) q++; // may carry into inf: correct
  return sign | q;
}
