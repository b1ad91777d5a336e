// The default batch order of every training loop: epoch-wise shuffling from a seed.

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
