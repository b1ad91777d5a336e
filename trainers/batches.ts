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

/**
 * Length-grouped batches (like Hugging Face's `group_by_length`): each epoch is shuffled, cut
 * into mega-batches of `chunk` batches, each mega-batch sorted by length (longest first, ties in
 * shuffled order) and cut into batches, and the epoch's batches are shuffled again. Every item
 * once per epoch; a batch holds items of similar length, so padding each batch to its own
 * longest row wastes little when a few items are much longer than the rest.
 */
export function lengthGroupedOrder(
  lengths: readonly number[],
  opts: { chunk?: number } = {},
): (batch: number, seed: number) => () => number[] {
  const n = lengths.length, chunk = opts.chunk ?? 50;
  return (batch, seed) => {
    const r = rng(seed, 0x1e9b);
    let epoch: number[][] = [], at = 0;
    const refill = () => {
      const order = permutation(n, r), rank = new Map(order.map((i, k) => [i, k]));
      const batches: number[][] = [];
      for (let s = 0; s < n; s += batch * chunk) {
        const mega = order.slice(s, s + batch * chunk)
          .sort((a, b) => lengths[b] - lengths[a] || rank.get(a)! - rank.get(b)!);
        for (let k = 0; k + batch <= mega.length; k += batch) {
          batches.push(mega.slice(k, k + batch));
        }
      }
      if (batches.length === 0) {
        batches.push(Array.from({ length: batch }, (_, k) => order[k % n]));
      }
      epoch = permutation(batches.length, r).map((k) => batches[k]);
      at = 0;
    };
    return () => {
      if (at >= epoch.length) refill();
      return epoch[at++].slice();
    };
  };
}
