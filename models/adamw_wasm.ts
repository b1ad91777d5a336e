// AdamW's update as one WebAssembly SIMD loop (4 floats per instruction): the MLP engine's
// optimiser state (parameters, first and second moments, gradient) lives in one
// WebAssembly.Memory and is updated in place in a single pass, where onnxruntime needed 13
// elementwise passes over it plus copies in and out (models/mlp_engine.ts; docs in README
// "Performance"). Each member of a stacked group is one call with its own step size and bias
// correction. Float32 operations in the order of models/optim.ts's adamwUpdate (no weight decay):
//   m ← β1·m + (1−β1)·g;  v ← β2·v + ((g·g)·(1−β2));  p ← p − (m·s) / (√v / c2 + ε)
// with s = lr/(1−β1ᵗ) and c2 = √(1−β2ᵗ); the last n mod 4 elements of a call in JavaScript with
// Math.fround after every operation (float64 then rounded: exact float32 results for these ops).
// The module is hand-assembled below (no toolchain at run time); WebAssembly.validate checks it.

/** The module: imports env.memory, exports adam(p, m, v, g, bytes, β1, 1−β1, β2, 1−β2, s, c2, ε). */
function moduleBytes(): Uint8Array {
  const simd = (op: number) => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
  const get = (i: number) => [0x20, i],
    set = (i: number) => [0x21, i],
    tee = (i: number) => [0x22, i];
  const LOAD = [...simd(0x00), 0x00, 0x00], STORE = [...simd(0x0b), 0x00, 0x00];
  const SPLAT = simd(0x13), SQRT = simd(0xe3), ADD = simd(0xe4), SUB = simd(0xe5);
  const MUL = simd(0xe6), DIV = simd(0xe7), I32_ADD = [0x6a];
  // Locals: params 0 p, 1 m, 2 v, 3 g, 4 bytes, 5 β1, 6 1−β1, 7 β2, 8 1−β2, 9 s, 10 c2, 11 ε;
  // 12 i (byte offset); 13..19 the seven scalars splatted; 20 g, 21 m', 22 v'.
  const at = (base: number) => [...get(base), ...get(12), ...I32_ADD];
  const body = [
    ...[5, 6, 7, 8, 9, 10, 11].flatMap((k) => [...get(k), ...SPLAT, ...set(13 + k - 5)]),
    0x02,
    0x40, // block
    0x03,
    0x40, // loop
    ...get(12),
    ...get(4),
    0x4f,
    0x0d,
    0x01, // i >= bytes → break
    ...at(3),
    ...LOAD,
    ...set(20),
    ...at(1),
    ...at(1),
    ...LOAD,
    ...get(13),
    ...MUL,
    ...get(20),
    ...get(14),
    ...MUL,
    ...ADD,
    ...tee(21),
    ...STORE,
    ...at(2),
    ...at(2),
    ...LOAD,
    ...get(15),
    ...MUL,
    ...get(20),
    ...get(20),
    ...MUL,
    ...get(16),
    ...MUL,
    ...ADD,
    ...tee(22),
    ...STORE,
    ...at(0),
    ...at(0),
    ...LOAD,
    ...get(21),
    ...get(17),
    ...MUL,
    ...get(22),
    ...SQRT,
    ...get(18),
    ...DIV,
    ...get(19),
    ...ADD,
    ...DIV,
    ...SUB,
    ...STORE,
    ...get(12),
    0x41,
    0x10,
    ...I32_ADD,
    ...set(12), // i += 16
    0x0c,
    0x00, // br loop
    0x0b,
    0x0b,
    0x0b, // end loop, block, function
  ];
  const locals = [0x02, 0x01, 0x7f, 0x0a, 0x7b]; // 1 × i32, 10 × v128
  const fn = [...locals, ...body];
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const str = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [
      0x01,
      0x60,
      12,
      0x7f,
      0x7f,
      0x7f,
      0x7f,
      0x7f,
      0x7d,
      0x7d,
      0x7d,
      0x7d,
      0x7d,
      0x7d,
      0x7d,
      0x00,
    ]),
    ...section(2, [0x01, ...str("env"), ...str("memory"), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...str("adam"), 0x00, 0x00]),
    ...section(10, [0x01, ...leb(fn.length), ...fn]),
  ]);
}

let compiled: WebAssembly.Module | undefined;

/** AdamW's hyperparameters (PyTorch's defaults, as models/optim.ts). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/**
 * Parameters, moments and gradient of R models of P floats each, in one WebAssembly memory
 * (member-major [R, P] each), updated in place by {@link AdamArena.step}.
 */
export class AdamArena {
  readonly params: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Where the next step's gradient goes ([R, P]). */
  readonly grad: Float32Array;
  readonly #adam: (...a: number[]) => void;

  constructor(readonly members: number, readonly size: number) {
    const n = members * size, bytes = 4 * n;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * bytes) / 65536) + 1 });
    compiled ??= new WebAssembly.Module(moduleBytes() as Uint8Array<ArrayBuffer>);
    const inst = new WebAssembly.Instance(compiled, { env: { memory } });
    this.#adam = inst.exports.adam as (...a: number[]) => void;
    const view = (k: number) => new Float32Array(memory.buffer, k * bytes, n);
    [this.params, this.m, this.v, this.grad] = [view(0), view(1), view(2), view(3)];
  }

  /**
   * One AdamW step of every member from the gradient in {@link grad}; member r at step size
   * stepSize[r] = lr_r/(1−β1ᵗ) and bias correction bc2Sqrt[r] = √(1−β2ᵗ).
   */
  step(stepSize: ArrayLike<number>, bc2Sqrt: ArrayLike<number>): void {
    const P = this.size, f = Math.fround, { beta1, beta2, eps } = ADAM;
    const simd = P - (P % 4);
    const b1 = f(beta1), omb1 = f(1 - beta1), b2 = f(beta2), omb2 = f(1 - beta2), e = f(eps);
    for (let r = 0; r < this.members; r++) {
      const s = f(stepSize[r]), c2 = f(bc2Sqrt[r]), base = r * P;
      const off = (k: number) => k * this.params.length * 4 + base * 4;
      this.#adam(off(0), off(1), off(2), off(3), simd * 4, b1, omb1, b2, omb2, s, c2, e);
      for (let i = base + simd; i < base + P; i++) {
        const g = this.grad[i];
        const m = f(f(this.m[i] * b1) + f(g * omb1));
        const v = f(f(this.v[i] * b2) + f(f(g * g) * omb2));
        this.m[i] = m;
        this.v[i] = v;
        this.params[i] = f(this.params[i] - f(f(m * s) / f(f(f(Math.sqrt(v)) / c2) + e)));
      }
    }
  }
}
