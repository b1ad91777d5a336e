// A held-out test split for data published as one file: Open-Reasoner-Zero's maths (a training
// set, no test file) and SciKnowEval (test files only) are RL's Razor's downstream tasks, so a
// stage needs a train split and evaluation a test split that never share a question. Every
// item's question as published (its key) is hashed (32-bit FNV-1a over its UTF-16 code units,
// then MurmurHash3's fmix32 finalizer: FNV's low bits barely mix, so on their own "What is 3 + 3?"
// and "What is 7 + 7?" would always agree modulo 10); one in HELD_OUT_EVERY goes to test, the
// rest to train. The split depends on the text alone (not on the seed, the
// file order or the other items), so identical questions always land in the same split and
// every run and paper using the same file holds out the same items. Ids stay the published rows.
//
// `score --data FILE` reads a file through loadTestFile instead and scores every item of it.

import { loadHubSplits } from "./hub_data.ts";
import {
  type Item,
  type Loaded,
  type LoadOptions,
  type Task,
  TEST_SPLIT,
  TRAIN_SPLIT,
} from "./task.ts";

/** One item in this many is held out for test. */
export const HELD_OUT_EVERY = 10;

/**
 * 32-bit FNV-1a of a text's UTF-16 code units (the standard offset basis and prime).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(fnv1a("a"), 0xe40c292c);
 * ```
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer: every input bit reaches every output bit.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(fmix32(1), 0x514e28b7);
 * ```
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether the item with this key (its question as published) is held out for test. */
export function isHeldOut(key: string): boolean {
  return fmix32(fnv1a(key)) % HELD_OUT_EVERY === 0;
}

/**
 * Loads a hub task whose `source.splits` holds only a test file and splits its items into
 * `test` (held out, isHeldOut of `keyOf(item)`) and `train` (the rest), in file order.
 * `opts.splits` picks which of the two come back.
 */
export async function loadHeldOut<I extends Item>(
  task: Task<I>,
  opts: LoadOptions,
  keyOf: (item: I) => string,
): Promise<Loaded<I>> {
  const all = await loadHubSplits(task, { ...opts, splits: [TEST_SPLIT] });
  const test: I[] = [], train: I[] = [];
  for (const item of all.splits[TEST_SPLIT] ?? []) {
    (isHeldOut(keyOf(item)) ? test : train).push(item);
  }
  const wanted = (s: string) => !opts.splits || opts.splits.includes(s);
  const splits: Record<string, readonly I[]> = {};
  if (wanted(TEST_SPLIT)) splits[TEST_SPLIT] = test;
  if (wanted(TRAIN_SPLIT)) splits[TRAIN_SPLIT] = train;
  return { splits, files: all.files, skipped: all.skipped };
}
