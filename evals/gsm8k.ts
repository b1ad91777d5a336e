// GSM8K as lm-evaluation-harness's `gsm8k` task runs it (lm_eval/tasks/gsm8k/gsm8k.yaml, version
// 3.0): the 5-shot prompt with shots drawn from the train split by lm-eval's default sampler
// (Python's random.Random(1234).sample, rebuilt here bit for bit), the "strict-match" and
// "flexible-extract" regex filters, and exact_match with the YAML's normalisation
// (lm_eval/api/metrics.py exact_match_hf_evaluate), all with Python `re` semantics.

/** `num_fewshot` in gsm8k.yaml. */
export const GSM8K_SHOTS = 5;

/**
 * lm-eval's few-shot seed (`--seed`'s fourth value, DEFAULT_OTHER_SEED in lm_eval/defaults.py):
 * `set_fewshot_seed` gives each task's sampler a fresh random.Random(1234).
 */
export const GSM8K_FEWSHOT_SEED = 1234;

/** `generation_kwargs.until` in gsm8k.yaml (greedy: do_sample false, temperature 0). */
export const GSM8K_STOP: readonly string[] = ["Question:", "</s>", "<|im_end|>"];

/** lm-eval's default generation budget (`max_gen_toks` 256; gsm8k.yaml sets none). */
export const GSM8K_MAX_NEW_TOKENS = 256;

/** What the regex filter returns when its pattern does not match (RegexFilter's `fallback`). */
export const GSM8K_FALLBACK = "[invalid]";

/** The fields of a GSM8K record the prompt and scoring read. */
export interface Gsm8kExample {
  readonly question: string;
  /** The worked solution, ending in "#### <number>". */
  readonly answer: string;
}

/**
 * The prompt lm-eval builds for `doc` (api/task.py `fewshot_context`, plain text, no chat
 * template): each shot is `doc_to_text` + target_delimiter " " + `doc_to_target` (the FULL
 * answer, reasoning included) + fewshot_delimiter "\n\n"; then the item's `doc_to_text`,
 * "Question: {question}\nAnswer:", with nothing after the colon. Jinja inserts the fields
 * verbatim: nothing is stripped.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const shot = { question: "1+1?", answer: "1+1=2\n#### 2" };
 * equal(gsm8kPrompt({ question: "2+2?" }, [shot]),
 *   "Question: 1+1?\nAnswer: 1+1=2\n#### 2\n\nQuestion: 2+2?\nAnswer:");
 * ```
 */
export function gsm8kPrompt(
  doc: Pick<Gsm8kExample, "question">,
  shots: readonly Gsm8kExample[],
): string {
  let prompt = "";
  for (const s of shots) prompt += `Question: ${s.question}\nAnswer: ${s.answer}\n\n`;
  return prompt + `Question: ${doc.question}\nAnswer:`;
}

// ── Few-shot sampling ───────────────────────────────────────────────────────────────────────
//
// lm-eval's default ContextSampler (api/samplers.py) holds ONE random.Random(1234) per task and
// calls rnd.sample(train_docs, 5) once per test document, in test order (build_all_requests), so
// the shots of test row i are the (i+1)-th draw of that generator. Python's generator is MT19937
// seeded by init_by_array([1234]); sample() is random.py's (unchanged from 3.9 to 3.13).

const N = 624, M = 397;

/** Python's random.Random: MT19937 with CPython's int seeding, getrandbits and sample. */
class PyRandom {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`PyRandom: seed must be a non-negative safe integer, got ${seed}`);
    }
    // CPython random_seed: abs(seed) as little-endian 32-bit words (at least one).
    const hi = Math.floor(seed / 2 ** 32), lo = seed >>> 0;
    this.initByArray(hi > 0 ? [lo, hi] : [lo]);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const x = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, x) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1, j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const x = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(x, 1664525)) + key[j] + j) >>> 0;
      i++, j++;
      if (i >= N) mt[0] = mt[N - 1], i = 1;
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const x = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(x, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) mt[0] = mt[N - 1], i = 1;
    }
    mt[0] = 0x80000000;
  }

  private uint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** random.Random._randbelow_with_getrandbits for 0 < n < 2^32 (getrandbits of ≤ 32 bits). */
  private below(n: number): number {
    const bits = Math.floor(Math.log2(n)) + 1; // n.bit_length()
    for (;;) {
      const r = bits >= 32 ? this.uint32() : this.uint32() >>> (32 - bits);
      if (r < n) return r;
    }
  }

  /** random.Random.sample(range(n), k): k distinct indices, in Python's order. */
  sample(n: number, k: number): number[] {
    if (!(Number.isInteger(k) && k >= 0 && k <= n)) {
      throw new RangeError(`sample of ${k} from ${n}: sample larger than population`);
    }
    let setsize = 21;
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4));
    const out: number[] = [];
    if (n <= setsize) {
      const pool = Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = this.below(n - i);
        out.push(pool[j]);
        pool[j] = pool[n - i - 1];
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.below(n);
        while (selected.has(j)) j = this.below(n);
        selected.add(j);
        out.push(j);
      }
    }
    return out;
  }
}

// The draws so far per (pool size, k, seed): replaying from the seed for every row would make a
// full test split quadratic. The cache only memoises; results depend on the arguments alone.
const draws = new Map<string, { rng: PyRandom; rows: number[][] }>();

/**
 * The pool indices lm-eval's default sampler gives test row `row` (0-based, test-split order):
 * the (row+1)-th call of random.Random(seed).sample(pool, k) with seed 1234 and k 5 by default,
 * in the order sample() returns them (which is the order the shots appear in the prompt). Equal
 * to lm-eval's shots for a single-process run over the test split from its first row (`--limit`
 * keeps the first rows, so it agrees too; data-parallel ranks each draw from their own start).
 *
 * Throws RangeError when the pool holds fewer than k items (lm-eval's sample raises too).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(lmEvalFewshotIndices(0, { poolSize: 7473 }), [6374, 3610, 957, 61, 742]);
 * ```
 */
export function lmEvalFewshotIndices(
  row: number,
  opts: { poolSize: number; k?: number; seed?: number },
): number[] {
  const k = opts.k ?? GSM8K_SHOTS, seed = opts.seed ?? GSM8K_FEWSHOT_SEED, n = opts.poolSize;
  if (!Number.isSafeInteger(row) || row < 0) {
    throw new RangeError(`lmEvalFewshotIndices: row must be a non-negative integer, got ${row}`);
  }
  if (!Number.isInteger(n) || n < k || n >= 2 ** 32) {
    throw new RangeError(`lmEvalFewshotIndices: cannot draw ${k} shots from a pool of ${n}`);
  }
  const key = `${n}:${k}:${seed}`;
  let d = draws.get(key);
  if (!d) draws.set(key, d = { rng: new PyRandom(seed), rows: [] });
  while (d.rows.length <= row) d.rows.push(d.rng.sample(n, k));
  return [...d.rows[row]];
}

// ── Filters and exact match ─────────────────────────────────────────────────────────────────
//
// Every pattern here is ASCII classes and literals, which Python and JS read alike, except `$`:
// Python's (no MULTILINE) also matches just before a final "\n", JS's only at the very end.
// The YAML's `\-` and `\,` escapes are dropped (a JS `u`-mode regex would reject them).

const STRICT = /#### (-?[0-9.,]+)/g;
const FLEXIBLE = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;

/**
 * lm-eval's RegexFilter followed by take_first: `findall` over the text, the match at
 * `groupSelect` (−1 = last), the first non-empty group where the pattern has several, stripped;
 * GSM8K_FALLBACK when nothing matches.
 */
function regexFilter(text: string, pattern: RegExp, groupSelect: number): string {
  const matches = [...text.matchAll(pattern)];
  if (matches.length === 0) return GSM8K_FALLBACK;
  const m = matches.at(groupSelect)!;
  // findall gives the whole match without groups, the group with one, a tuple with several.
  // These groups can only hold [-$0-9.,], so Python's str.strip() would remove nothing.
  if (m.length <= 2) return m[m.length - 1] ?? "";
  return m.slice(1).find((g) => g !== undefined && g !== "") ?? GSM8K_FALLBACK;
}

/**
 * The "strict-match" filter: the number after the FIRST "#### " (`#### (\-?[0-9\.\,]+)`),
 * GSM8K_FALLBACK ("[invalid]") if there is none.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(gsm8kStrictMatch("3 + 4 = 7\n#### 7"), "7");
 * equal(gsm8kStrictMatch("The answer is 7."), "[invalid]");
 * ```
 */
export function gsm8kStrictMatch(text: string): string {
  return regexFilter(text, STRICT, 0);
}

/**
 * The "flexible-extract" filter: the LAST match of `(-?[$0-9.,]{2,})|(-?[0-9]+)` (group_select
 * −1): a run of two or more of `$0-9.,` (so "$5", "1,000." and even "..." count) or a single
 * digit, with an optional minus; GSM8K_FALLBACK ("[invalid]") if there is none.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(gsm8kFlexibleExtract("She pays $1,200 in 3 months, so $400."), "$400.");
 * ```
 */
export function gsm8kFlexibleExtract(text: string): string {
  return regexFilter(text, FLEXIBLE, -1);
}

// regexes_to_ignore in gsm8k.yaml's order, as JS regexes with Python's meaning.
const IGNORE: readonly RegExp[] = [
  /,/g,
  /\$/g,
  /^[\s\S]*#### /, // (?s).*#### : from the start through the LAST "#### " (one match at most)
  /\.(?=\n?$)/, // \.$ : Python's $ also matches before a final "\n" (one match at most)
];

/**
 * gsm8k.yaml's exact_match normalisation (exact_match_hf_evaluate), applied alike to prediction
 * and reference: re.sub of each of ",", "\$", "(?s).*#### " (everything up to the LAST "#### ")
 * and "\.$" (a "." at the end or before a final "\n") in turn, then ignore_case's lower();
 * ignore_punctuation is false. Each re.sub result goes into a numpy string array, which drops
 * trailing NULs, so they are dropped after every step here too.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(gsm8kNormalize("So $1,000 in all.\n#### 1,000"), "1000");
 * ```
 */
export function gsm8kNormalize(text: string): string {
  let s = text;
  for (const re of IGNORE) s = s.replace(re, "").replace(/\0+$/, "");
  return s.toLowerCase();
}

/**
 * lm-eval's exact_match for gsm8k: 1 when the normalised prediction equals the normalised
 * reference (the dataset's full `answer`, as `doc_to_target` gives it; "(?s).*#### " cuts it to
 * the final number).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(gsm8kExactMatch("$1,000.", "Half of 2000 is 1000.\n#### 1000"), 1);
 * ```
 */
export function gsm8kExactMatch(prediction: string, reference: string): 0 | 1 {
  return gsm8kNormalize(prediction) === gsm8kNormalize(reference) ? 1 : 0;
}
