// Byte-level BPE training, as Hugging Face tokenizers' BpeTrainer learns the merges of GPT-2 and
// Qwen2 style tokenizers: split the text with the pre-tokenizer's regex, map each piece's UTF-8
// bytes to GPT-2's printable alphabet, then repeatedly merge the most frequent adjacent pair of
// symbols (counted over pieces weighted by their frequency), ties broken by the pair's text so
// that the same corpus always gives the same merges. Used to give the tiny generated checkpoints
// (models/tiny_checkpoints.ts) a vocabulary that compresses text as real ones do.

import { bytesToUnicode } from "./tokenizer_files.ts";

/** A merge: two adjacent symbols, byte-level strings ("Ġ" is a space). */
export type Merge = readonly [string, string];

/**
 * Learns up to `count` merges from `texts`, pre-tokenized with `split` (a regex source with the
 * `u` flag's syntax; default Qwen2's). Stops early when no pair occurs twice.
 *
 * @example
 * const merges = trainBpe(["the cat sat on the mat"], { count: 10 });
 */
export function trainBpe(
  texts: readonly string[],
  opts: { count: number; split?: string },
): Merge[] {
  const re = new RegExp(opts.split ?? QWEN2_SPLIT_JS, "gu");
  const chars = bytesToUnicode(), enc = new TextEncoder();
  const freq = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(re)) freq.set(m[0], (freq.get(m[0]) ?? 0) + 1);
  }
  // Each distinct piece as its symbols, with its count.
  const words = [...freq.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
    [piece, n],
  ) => ({ symbols: [...enc.encode(piece)].map((b) => chars[b]), n }));
  const merges: Merge[] = [];
  while (merges.length < opts.count) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const k = `${w.symbols[i]}\u0000${w.symbols[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.n);
      }
    }
    let best: string | null = null, bestN = 1;
    for (const [k, n] of pairs) {
      if (n > bestN || (n === bestN && best !== null && k < best)) {
        best = k;
        bestN = n;
      }
    }
    if (best === null) break; // no pair occurs twice
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    for (const w of words) {
      const s = w.symbols, out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      w.symbols = out;
    }
  }
  return merges;
}

/** Qwen2's pre-tokenizer split regex in JavaScript syntax (its `(?i:…)` contractions spelled out). */
export const QWEN2_SPLIT_JS =
  "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
