// Tests for models/safetensors.ts: a byte-exact round trip (names sorted, 8-byte aligned
// header, metadata kept), BF16 and F16 read exactly and written with round-to-nearest-even
// (checked against hand-worked bits and V8's own Float16Array), and every malformed file or
// unsupported dtype rejected with a ValidationError that names the file and the tensor.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import type { NamedWeights } from "./safetensors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f16BitsToF32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
} from "./safetensors.ts";
import { rng } from "../lib/rng.ts";

/** weights() holds -Infinity: these tests read it back as stored. */
const ANY = { allowNonFinite: true };

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
  const { weights: back, metadata } = decodeSafetensors(bytes, "base.safetensors", ANY);
  deepEqual(metadata, meta);
  deepEqual([...back.keys()].sort(), ["a", "b0", "w0", "w1"]);
  for (const [name, t] of weights()) {
    deepEqual(back.get(name)!.shape, t.shape, name);
    deepEqual(Array.from(back.get(name)!.data), Array.from(t.data), name);
  }
  // No metadata written → an empty object read back.
  deepEqual(decodeSafetensors(encodeSafetensors(weights()), "x", ANY).metadata, {});
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
  const { weights: back, metadata } = decodeSafetensors(bytes, "f", ANY);
  deepEqual(encodeSafetensors(back, metadata), bytes);
  // Insertion order does not matter: equal weights give equal bytes.
  const reversed: NamedWeights = new Map([...weights()].reverse());
  deepEqual(encodeSafetensors(reversed, { a: "1" }), bytes);
});

Deno.test("safetensors: decodes from a view at a non-zero byte offset", () => {
  const bytes = encodeSafetensors(weights());
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  const back = decodeSafetensors(padded.subarray(3), "view", ANY).weights;
  deepEqual(Array.from(back.get("w1")!.data), Array.from(weights().get("w1")!.data));
});

function rejects(
  bytes: Uint8Array,
  where: string,
  fragment: RegExp,
  opts: { allowNonFinite?: boolean } = ANY,
): void {
  throws(
    () => decodeSafetensors(bytes, where, opts),
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
  for (const dtype of ["I8", "F64", "BOOL"]) {
    rejects(
      file({ h: { dtype, shape: [2], data_offsets: [0, 2] } }, 2),
      where,
      new RegExp(`tensor 'h' has dtype "${dtype}"; forgetbench reads F32, BF16, F16`),
    );
  }
  // F16 offsets must fit 2 bytes per element.
  rejects(
    file({ h: { dtype: "F16", shape: [2], data_offsets: [0, 8] } }, 8),
    where,
    /tensor 'h' offsets \[0, 8\] do not fit F16 shape \[2\]/,
  );
  // Offsets that disagree with the shape (3 floats need 12 bytes) …
  rejects(
    file({ t: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 12),
    where,
    /tensor 't' offsets \[0, 8\] do not fit F32 shape \[3\]/,
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

Deno.test("safetensors: NaN or infinite weights are an error naming the tensor and element", () => {
  for (const dtype of ["F32", "BF16", "F16"] as const) {
    for (const [bad, shown] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]]) {
      const w: NamedWeights = new Map([
        ["a", { shape: [2], data: new Float32Array([1, 2]) }],
        ["b", { shape: [3], data: new Float32Array([0.5, 0.25, bad as number]) }],
      ]);
      const bytes = encodeSafetensors(w, {}, { dtype });
      rejects(
        bytes,
        "m.safetensors",
        new RegExp(`tensor 'b' holds ${shown} at element 2 \\(of 3\\)`),
        {},
      );
      equal(
        decodeSafetensors(bytes, "m.safetensors", ANY).weights.get("b")!.data[2],
        bad,
        "read as stored when allowed",
      );
    }
  }
});

/** The float32 bits of a number (rounded to float32 first). */
function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

/** The number float32 bits encode. */
function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

Deno.test("BF16: the upper 16 bits of float32, rounded to nearest even", () => {
  // 1 + 2^-8 is exactly halfway between bf16 1 (0x3F80) and 1 + 2^-7 (0x3F81): ties to even.
  equal(f32BitsToBf16Bits(f32Bits(1 + 2 ** -8)), 0x3f80);
  // 1 + 3·2^-8 is halfway between 0x3F81 and 0x3F82: ties to even goes up.
  equal(f32BitsToBf16Bits(f32Bits(1 + 3 * 2 ** -8)), 0x3f82);
  // Just above the tie rounds up; just below rounds down.
  equal(f32BitsToBf16Bits(f32Bits(1 + 2 ** -8 + 2 ** -20)), 0x3f81);
  equal(f32BitsToBf16Bits(f32Bits(1 + 2 ** -8 - 2 ** -20)), 0x3f80);
  equal(f32BitsToBf16Bits(f32Bits(-2)), 0xc000);
  equal(f32BitsToBf16Bits(f32Bits(Infinity)), 0x7f80);
  // The largest float32 rounds to bf16 infinity (as torch does); NaN stays NaN.
  equal(f32BitsToBf16Bits(0x7f7fffff), 0x7f80);
  ok(Number.isNaN(fromBits(f32BitsToBf16Bits(f32Bits(NaN)) << 16)));
  ok(Number.isNaN(fromBits(f32BitsToBf16Bits(0x7f800001) << 16)), "a signalling NaN stays NaN");
});

Deno.test("F16: every half decodes exactly; encoding rounds as Math.f16round does", () => {
  const halves = new Uint16Array(65536).map((_, i) => i);
  const want = new Float16Array(halves.buffer);
  for (let h = 0; h < 65536; h++) {
    const got = fromBits(f16BitsToF32Bits(h));
    if (Number.isNaN(want[h])) ok(Number.isNaN(got), `half ${h}`);
    else {
      equal(Object.is(got, want[h]), true, `half 0x${h.toString(16)}: ${got} vs ${want[h]}`);
      // And back: every half round-trips bit for bit.
      equal(f32BitsToF16Bits(f16BitsToF32Bits(h)), h, `half 0x${h.toString(16)}`);
    }
  }
  // Random float32 across the half range (normals, subnormals, overflow) and exact ties.
  const r = rng(5, 16);
  const xs = [65504, 65519.99, 65520, 2 ** -24, 2 ** -25, 2 ** -25 + 2 ** -40, 3 * 2 ** -25, 1e-9];
  for (let i = 0; i < 20000; i++) {
    const mag = 2 ** (r.next() * 50 - 30);
    xs.push((r.next() < 0.5 ? -1 : 1) * mag);
  }
  for (let i = 0; i < 2000; i++) xs.push(fromBits(r.int(2 ** 31) * 2)); // any bit pattern
  for (const x of xs) {
    const f = fromBits(f32Bits(x));
    const got = fromBits(f16BitsToF32Bits(f32BitsToF16Bits(f32Bits(f))));
    const want = Math.f16round(f);
    if (Number.isNaN(want)) ok(Number.isNaN(got));
    else ok(Object.is(got, want), `${f}: ${got} vs ${want}`);
  }
});

Deno.test("safetensors: BF16 and F16 files decode to float32 and re-encode byte for byte", () => {
  const w = weights();
  for (const dtype of ["BF16", "F16"] as const) {
    const bytes = encodeSafetensors(w, { format: "pt" }, { dtype });
    const { json } = headerOf(bytes);
    deepEqual(json.w1, { dtype, shape: [2, 3], data_offsets: [10, 22] });
    const back = decodeSafetensors(bytes, "x.safetensors", ANY);
    deepEqual([...back.dtypes.values()], [dtype, dtype, dtype, dtype]);
    for (const [name, t] of w) {
      const want = Array.from(t.data, (v) => {
        const b = f32Bits(v);
        return dtype === "BF16"
          ? fromBits(f32BitsToBf16Bits(b) << 16)
          : fromBits(f16BitsToF32Bits(f32BitsToF16Bits(b)));
      });
      deepEqual(Array.from(back.weights.get(name)!.data), want, `${dtype} ${name}`);
    }
    // Written back in the dtypes it was read in: the same bytes.
    deepEqual(encodeSafetensors(back.weights, back.metadata, { dtype: back.dtypes }), bytes);
  }
  // BF16 of π: 0x4049 (3.140625); F16 of π: 0x4248 (3.140625).
  const pi = decodeSafetensors(
    encodeSafetensors(new Map([["p", { shape: [1], data: new Float32Array([Math.PI]) }]]), {}, {
      dtype: new Map([["p", "BF16"]]),
    }),
    "pi",
  );
  equal(pi.weights.get("p")!.data[0], 3.140625);
  equal(f32BitsToF16Bits(f32Bits(Math.PI)), 0x4248);
  // Mixed dtypes per tensor.
  const mixed = encodeSafetensors(w, {}, { dtype: new Map([["a", "F16"], ["w1", "BF16"]]) });
  deepEqual(
    [...decodeSafetensors(mixed, "m", ANY).dtypes].sort(),
    [["a", "F16"], ["b0", "F32"], ["w0", "F32"], ["w1", "BF16"]],
  );
});
