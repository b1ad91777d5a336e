// Shared pieces of every training loop: batch order and gathering rows.

import { permutation, rng } from "../lib/rng.ts";

/** Epoch-wise shuffled batches of indices from a seed: every item once per epoch. */
export function batchOrder(n: number, batch: number, seed: number): () => number[] {
  const r = rng(seed, 0xba7c);
  let order: number[] = [], at = n;
  return () => {
    const out: number[] = [];
    while (out.length < batch) {
      if (at >= n) {
        order = permutation(n, r);
        at = 0;
      }
      out.push(order[at++]);
    }
    return out;
  };
}

/** Rows `idx` of a row-major matrix with `cols` columns. */
export function gather(m: Float32Array, idx: readonly number[], cols: number): Float32Array {
  const out = new Float32Array(idx.length * cols);
  idx.forEach((i, k) => out.set(m.subarray(i * cols, (i + 1) * cols), k * cols));
  return out;
}
