// Safetensors files (the Hugging Face weight format): an 8-byte little-endian header length,
// a JSON header of {name: {dtype, shape, data_offsets}} plus `__metadata__`, then raw
// little-endian tensor bytes. Used for the cached base model now and real checkpoints later.

import { ValidationError } from "../lib/errors.ts";

/** Tensors by name, row-major float32 with their shapes. */
export type NamedWeights = Map<string, { shape: number[]; data: Float32Array }>;

/** Serialises float32 tensors (sorted by name, so equal weights give equal bytes). */
export function encodeSafetensors(
  weights: NamedWeights,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = [...weights.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = weights.get(name)!;
    header[name] = {
      dtype: "F32",
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes, as the spec allows
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = weights.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

/** Parses a safetensors file of F32 tensors; `where` names the file in errors. */
export function decodeSafetensors(
  bytes: Uint8Array,
  where: string,
): { weights: NamedWeights; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new ValidationError(where, "too short to be a safetensors file");
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + n > bytes.length) {
    throw new ValidationError(where, `header length ${n} runs past the end of the file`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new ValidationError(where, `header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new ValidationError(where, "header is not a JSON object");
  }
  const base = 8 + n, weights: NamedWeights = new Map();
  const { __metadata__: metadata, ...tensors } = header as Record<string, never>;
  for (
    const [name, t] of Object.entries(tensors) as [
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] },
    ][]
  ) {
    if (t.dtype !== "F32") {
      throw new ValidationError(where, `tensor '${name}' has dtype ${t.dtype}; only F32 is read`);
    }
    const okShape = Array.isArray(t.shape) && t.shape.every((d) => Number.isInteger(d) && d >= 0);
    const okOffsets = Array.isArray(t.data_offsets) && t.data_offsets.length === 2 &&
      t.data_offsets.every(Number.isInteger) && t.data_offsets[0] >= 0;
    if (!okShape || !okOffsets) {
      throw new ValidationError(where, `tensor '${name}' has a malformed shape or data_offsets`);
    }
    const [s, e] = t.data_offsets, count = t.shape.reduce((a, b) => a * b, 1);
    if (e - s !== count * 4 || base + e > bytes.length) {
      throw new ValidationError(
        where,
        `tensor '${name}' offsets [${s}, ${e}] do not fit shape ${JSON.stringify(t.shape)}`,
      );
    }
    weights.set(name, {
      shape: t.shape,
      data: new Float32Array(bytes.slice(base + s, base + e).buffer),
    });
  }
  return { weights, metadata: (metadata ?? {}) as Record<string, string> };
}
