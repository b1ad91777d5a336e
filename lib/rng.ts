// Seeded pseudo-random numbers for everything the project draws in JavaScript (data splits,
// batches, sampled labels). Same seed, same stream, on every machine: no Math.random anywhere.

/** A deterministic generator of uniform floats in [0, 1) and integers. */
export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of entropy. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** splitmix32 seed scrambler: turns nearby seeds into unrelated states. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/**
 * A mulberry32 generator seeded from one or more integers (e.g. `rng(seed, stream)`), so that
 * independent streams (data split, batch order, sampling) never share draws.
 *
 * @example
 * const r = rng(1, 2);
 * const u = r.next(); // same value on every run
 */
export function rng(...seeds: number[]): Rng {
  let state = 0x6d2b79f5;
  for (const s of seeds) state = mix32(state ^ mix32(s | 0));
  function next(): number {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return { next, int: (n) => Math.floor(next() * n) };
}

/** Fisher–Yates shuffle of `0..n-1` drawn from `r`. */
export function permutation(n: number, r: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Draws an index from unnormalised non-negative weights (e.g. probabilities). */
export function sampleIndex(
  weights: ArrayLike<number>,
  r: Rng,
  opts?: { offset?: number; length?: number },
): number {
  const off = opts?.offset ?? 0, len = opts?.length ?? weights.length - off;
  let total = 0;
  for (let k = 0; k < len; k++) total += weights[off + k];
  let u = r.next() * total;
  for (let k = 0; k < len; k++) {
    u -= weights[off + k];
    if (u < 0) return k;
  }
  // Rounding left u a hair above zero: return the last class with non-zero weight.
  for (let k = len - 1; k >= 0; k--) if (weights[off + k] > 0) return k;
  return len - 1;
}

/** 32-bit FNV-1a hash of a string: turns a name into a seed stream id. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
