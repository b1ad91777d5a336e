// Tests for models/safetensors.ts: a byte-exact round trip (names sorted, 8-byte aligned
// header, metadata kept) and every malformed file rejected with a ValidationError that names
// the file.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import type { NamedWeights } from "./safetensors.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";

function weights(): NamedWeights {
  // Inserted out of order: the file must list them sorted.
  return new Map([
    ["w1", { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-30, -7]) }],
    ["b0", { shape: [2], data: new Float32Array([0.25, -0.125]) }],
    ["w0", { shape: [1, 2], data: new Float32Array([Math.PI, -Infinity]) }],
    ["a", { shape: [], data: new Float32Array([42]) }],
  ]);
}

function headerOf(bytes: Uint8Array): { length: number; json: Record<string, unknown> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return {
    length,
    json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))),
  };
}

/** A file with a hand-written header and `data` bytes of tensor data. */
function file(header: Record<string, unknown>, data: number): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  return out;
}

Deno.test("safetensors: round trip keeps names, shapes, values and metadata", () => {
  const meta = { format: "pt", note: "π0 base, seed 3" };
  const bytes = encodeSafetensors(weights(), meta);
  const { weights: back, metadata } = decodeSafetensors(bytes, "base.safetensors");
  deepEqual(metadata, meta);
  deepEqual([...back.keys()].sort(), ["a", "b0", "w0", "w1"]);
  for (const [name, t] of weights()) {
    deepEqual(back.get(name)!.shape, t.shape, name);
    deepEqual(Array.from(back.get(name)!.data), Array.from(t.data), name);
  }
  // No metadata written → an empty object read back.
  deepEqual(decodeSafetensors(encodeSafetensors(weights()), "x").metadata, {});
});

Deno.test("safetensors: header sorted and 8-byte aligned, data laid out in name order", () => {
  const bytes = encodeSafetensors(weights(), { k: "v" });
  const { length, json } = headerOf(bytes);
  equal(length % 8, 0, "data must start at an 8-byte boundary");
  equal((8 + length) % 8, 0);
  deepEqual(Object.keys(json), ["__metadata__", "a", "b0", "w0", "w1"]);
  // Offsets by hand: a = 1 float (4 bytes), b0 = 2 (8), w0 = 2 (8), w1 = 6 (24).
  deepEqual(json.a, { dtype: "F32", shape: [], data_offsets: [0, 4] });
  deepEqual(json.b0, { dtype: "F32", shape: [2], data_offsets: [4, 12] });
  deepEqual(json.w0, { dtype: "F32", shape: [1, 2], data_offsets: [12, 20] });
  deepEqual(json.w1, { dtype: "F32", shape: [2, 3], data_offsets: [20, 44] });
  equal(bytes.length, 8 + length + 44);
  // Little-endian float32 of b0[0] = 0.25 = 0x3E800000 right after `a`.
  deepEqual(Array.from(bytes.subarray(8 + length + 4, 8 + length + 8)), [0x00, 0x00, 0x80, 0x3e]);
});

Deno.test("safetensors: re-encoding a decoded file gives identical bytes", () => {
  const bytes = encodeSafetensors(weights(), { a: "1" });
  const { weights: back, metadata } = decodeSafetensors(bytes, "f");
  deepEqual(encodeSafetensors(back, metadata), bytes);
  // Insertion order does not matter: equal weights give equal bytes.
  const reversed: NamedWeights = new Map([...weights()].reverse());
  deepEqual(encodeSafetensors(reversed, { a: "1" }), bytes);
});

Deno.test("safetensors: decodes from a view at a non-zero byte offset", () => {
  const bytes = encodeSafetensors(weights());
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  const back = decodeSafetensors(padded.subarray(3), "view").weights;
  deepEqual(Array.from(back.get("w1")!.data), Array.from(weights().get("w1")!.data));
});

function rejects(bytes: Uint8Array, where: string, fragment: RegExp): void {
  throws(
    () => decodeSafetensors(bytes, where),
    (e: unknown) => {
      ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
      ok(e.message.startsWith(`${where}: `), `message names the file: ${e.message}`);
      ok(fragment.test(e.message), `message ${JSON.stringify(e.message)} matches ${fragment}`);
      return true;
    },
  );
}

Deno.test("safetensors: malformed files throw ValidationError naming the file", () => {
  const good = encodeSafetensors(weights());
  const where = "results/cache/base-0123.safetensors";
  rejects(new Uint8Array(5), where, /too short/);
  // Truncated inside the tensor data: the last tensor's offsets run past the end.
  rejects(good.subarray(0, good.length - 4), where, /tensor 'w1' offsets \[20, 44\]/);
  // Truncated inside the header: the declared length runs past the end.
  rejects(good.subarray(0, 20), where, /header length \d+ runs past the end/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  rejects(huge, where, /header length 1099511627776 runs past the end/);
  const notJson = file({}, 0);
  notJson[8] = "x".charCodeAt(0);
  rejects(notJson, where, /header is not JSON/);
  rejects(
    file({ h: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, 4),
    where,
    /tensor 'h' has dtype F16; only F32 is read/,
  );
  // Offsets that disagree with the shape (3 floats need 12 bytes) …
  rejects(
    file({ t: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 12),
    where,
    /tensor 't' offsets \[0, 8\] do not fit shape \[3\]/,
  );
  // … or that run past the data.
  rejects(
    file({ t: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, 12),
    where,
    /tensor 't' offsets \[8, 16\]/,
  );
});

Deno.test("malformed headers and negative offsets are rejected naming the file", () => {
  const make = (header: unknown, data = 8) => {
    const head = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + head.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
    out.set(head, 8);
    return out;
  };
  for (
    const h of [null, [1], { w: { dtype: "F32", shape: [1], data_offsets: [-4, 0] } }, {
      w: { dtype: "F32" },
    }]
  ) {
    throws(
      () => decodeSafetensors(make(h), "bad.safetensors"),
      (e) => e instanceof ValidationError && e.message.startsWith("bad.safetensors: "),
    );
  }
});
