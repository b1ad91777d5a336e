// Per-head circuit discovery for the jax-js Llama (issue 14, item 2) by differentiable binary
// masking: a mask m[l, h] ∈ [0, 1] per attention head mixes the head's output on the clean input
// with its output on a token-aligned counterfactual input, (1 − m)·a_cf + m·a_clean (models/
// llama.ts's HeadPatch), trained to keep the answer's probability under an L1 penalty and
// annealed to binary. Plus the measures read off masks and answer probabilities: circuit size,
// faithfulness, per-head necessity, mask shift, retention and vulnerable heads, and ablation by
// counterfactual or by mean activation as a cross-check.

import { nn, numpy as np, tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { hashString, rng } from "../lib/rng.ts";
import {
  bucket,
  configKey,
  type ConfigOption,
  type HeadPatch,
  llamaForwardHeads,
  type LlamaParams,
  oneHot,
  padBatch,
  program,
  type TokenBatch,
} from "../models/llama.ts";
import { resolveLlamaConfig } from "../models/onnx/llama.ts";
import { disposeTrainState, initTrainState, makeTrainStep } from "../models/optim.ts";

/** One clean/counterfactual pair of a skill (a task module declares how to corrupt an item). */
export interface CircuitItem {
  /** The clean prompt's tokens. */
  readonly prompt: readonly number[];
  /** The answer's tokens, scored after the prompt (teacher-forced when several). */
  readonly answer: readonly number[];
  /** The corrupted prompt, token-aligned with `prompt` (same length). */
  readonly counterfactual: readonly number[];
}

export {
  circuitHeads,
  circuitSize,
  faithfulness,
  type Head,
  type HeadMask,
  maskShift,
  necessity,
  retention,
  vulnerableHeads,
} from "./circuit_measures.ts";
import { circuitSize, faithfulness, type HeadMask, mean, necessity } from "./circuit_measures.ts";

// ---- the model side ----

/** Batches of a set of items, all in one padded batch (T a multiple of 8). */
interface Prepared {
  clean: TokenBatch;
  cf: TokenBatch;
  /** 1 at the answer's positions [B, T] (entry t scores token t given tokens[<t]). */
  targets: np.Array;
}

function prepare(items: readonly CircuitItem[]): Prepared {
  if (items.length === 0) throw new UsageError("circuits: no items");
  items.forEach((it, i) => {
    if (it.counterfactual.length !== it.prompt.length || it.answer.length === 0) {
      throw new UsageError(
        `circuits: item ${i} needs a non-empty answer and a counterfactual as long as its prompt`,
      );
    }
  });
  const T = bucket(Math.max(...items.map((it) => it.prompt.length + it.answer.length)), 8);
  const B = items.length;
  const targets = new Float32Array(B * T);
  items.forEach((it, i) =>
    targets.fill(1, i * T + it.prompt.length, i * T + it.prompt.length + it.answer.length)
  );
  return {
    clean: padBatch(items.map((it) => [...it.prompt, ...it.answer]), { length: T }),
    cf: padBatch(items.map((it) => [...it.counterfactual, ...it.answer]), { length: T }),
    targets: np.array(targets).reshape([B, T]),
  };
}

/**
 * Per-token answer terms with the heads patched: log p(token t | tokens[<t]) times `targets`
 * [B, T]; with `hits`, stacked [2, B, T] with whether token t is the argmax (first maximum),
 * times `targets`. Consumes its arguments.
 */
function answerTerms(
  params: LlamaParams,
  batch: TokenBatch,
  o: ConfigOption & { targets: np.Array; patch: HeadPatch; hits?: boolean },
): np.Array {
  const tokens = batch.tokens.ref;
  const { logits, heads } = llamaForwardHeads(params, batch, { config: o.config, patch: o.patch });
  tree.dispose(heads);
  const [B, T, V] = logits.shape;
  const lp = nn.logSoftmax(logits.slice([], [0, T - 1]), -1);
  const next = tokens.slice([], [1, T]);
  const picked = lp.ref.mul(oneHot(next.ref, { n: V, dtype: lp.dtype })).sum(-1);
  const pad = (a: np.Array) => np.concatenate([np.zeros([B, 1], { dtype: a.dtype }), a], 1);
  if (!o.hits) {
    lp.dispose();
    next.dispose();
    return pad(picked).mul(o.targets);
  }
  const hit = np.argmax(lp, -1).astype(np.int32).equal(next).astype(picked.dtype);
  return np.stack([pad(picked).mul(o.targets.ref), pad(hit).mul(o.targets)]);
}

/** Each layer's head outputs [B·T, NH·D] on a batch (a compiled program per config). */
function capture(params: LlamaParams, batch: TokenBatch, o: ConfigOption): np.Array[] {
  const f = program(
    `circuits:capture:${configKey(o.config)}`,
    () => (p: LlamaParams, b: TokenBatch) => {
      const { logits, heads } = llamaForwardHeads(p, b, { config: o.config, capture: true });
      logits.dispose();
      return heads;
    },
  );
  return f(tree.ref(params), batch);
}

/** Per position mean over the batch's rows, broadcast back: [B·T, W] → [B·T, W]. */
function meanOverRows(a: np.Array, b: number): np.Array {
  const [n, w] = a.shape, t = n / b;
  return np.broadcastTo(a.reshape([b, t, w]).mean(0, { keepdims: true }), [b, t, w]).reshape([
    n,
    w,
  ]);
}

/** p(answer) and exact-match per item under a mask, from [2, B, T] terms. */
async function readTerms(terms: np.Array, items: readonly CircuitItem[]): Promise<AnswerStats> {
  const d = await terms.data();
  const [, B, T] = terms.shape;
  const p: number[] = [], correct: boolean[] = [];
  items.forEach((it, i) => {
    let lp = 0, hits = 0;
    for (let t = 0; t < T; t++) {
      lp += d[i * T + t];
      hits += d[B * T + i * T + t];
    }
    p.push(Math.exp(lp));
    correct.push(hits === it.answer.length);
  });
  return { p, correct };
}

/** Answer probabilities (product over the answer's tokens) and exact matches (greedy), per item. */
export interface AnswerStats {
  readonly p: number[];
  readonly correct: boolean[];
}

/**
 * The model's answers with the heads outside `mask` (m = 0) replaced by their counterfactual
 * activations (`source` "counterfactual", from a forward on each item's corrupted prompt) or by
 * their mean activation over the items at each position ("mean", the clean items' mean; the
 * items should share a template so that positions align). Soft masks mix. All items form one
 * batch. Borrows `params`.
 */
export async function answerStats(
  params: LlamaParams,
  items: readonly CircuitItem[],
  opts: ConfigOption & { mask: HeadMask; source?: "counterfactual" | "mean" },
): Promise<AnswerStats> {
  const c = resolveLlamaConfig(opts.config), NH = c.num_attention_heads;
  const L = c.num_hidden_layers;
  if (opts.mask.length !== L || opts.mask.some((r) => r.length !== NH)) {
    throw new UsageError(`answerStats: mask must be [${L}][${NH}]`);
  }
  const { clean, cf, targets } = prepare(items);
  const source = opts.source ?? "counterfactual";
  let acts: np.Array[];
  if (source === "mean") {
    tree.dispose(cf);
    acts = capture(params, tree.ref(clean), opts).map((a) => meanOverRows(a, items.length));
  } else acts = capture(params, cf, opts);
  const f = program(
    `circuits:terms:${configKey(opts.config)}`,
    () => (p: LlamaParams, b: TokenBatch, tg: np.Array, m: np.Array, cfs: np.Array[]) =>
      answerTerms(p, b, {
        config: opts.config,
        targets: tg,
        patch: { mask: m, cf: cfs },
        hits: true,
      }),
  );
  const mask = np.array(Float32Array.from(opts.mask.flat())).reshape([L, NH]);
  return await readTerms(f(tree.ref(params), clean, targets, mask, acts), items);
}

/** Options of {@link discoverCircuit} (defaults in brackets). */
export interface DiscoverOptions extends ConfigOption {
  /** Seeds the small jitter of θ's start (0). */
  readonly seed?: number;
  /** Adam steps (300). */
  readonly steps?: number;
  /** Adam learning rate on θ (0.05). */
  readonly lr?: number;
  /** L1 weight λ on Σ m (0.01). */
  readonly lambda?: number;
  /** Temperature at the first and the last step, annealed geometrically ([1, 0.05]). */
  readonly tau?: readonly [number, number];
  /** θ's start, the same for every head (3: m ≈ 0.95, the full model), plus ±0.01 jitter. */
  readonly init?: number;
}

/** What {@link discoverCircuit} found. */
export interface Discovery {
  /** The binary mask: 1 where θ > 0 (m = sigmoid(θ/τ) → 1 as τ → 0). */
  readonly mask: HeadMask;
  /** The trained mask logits θ [layers][heads]. */
  readonly theta: number[][];
  /** θ's float32 values, row-major (compare their bytes for determinism). */
  readonly thetaBits: Float32Array;
  /** The loss at each step (before its update). */
  readonly losses: number[];
}

/**
 * Finds a circuit: mask logits θ [layers, heads], m = sigmoid(θ/τ), trained with Adam on θ only
 * (the model's weights are fixed) to minimise mean_i −log p(answer_i | clean prompt, heads
 * patched by m against the counterfactual's) + λ·Σ m, with τ annealed geometrically from
 * tau[0] to tau[1]; the result is binarised at θ > 0. Deterministic: same inputs and seed, same
 * bytes. All items form one batch. Borrows `params`.
 */
export async function discoverCircuit(
  params: LlamaParams,
  items: readonly CircuitItem[],
  opts: DiscoverOptions,
): Promise<Discovery> {
  const c = resolveLlamaConfig(opts.config), NH = c.num_attention_heads;
  const L = c.num_hidden_layers, config = opts.config;
  const steps = opts.steps ?? 300, lr = opts.lr ?? 0.05, lambda = opts.lambda ?? 0.01;
  const [tau0, tau1] = opts.tau ?? [1, 0.05];
  const { clean, cf, targets } = prepare(items);
  const acts = capture(params, cf, opts);
  type Theta = { theta: np.Array };
  type Batch = {
    params: LlamaParams;
    batch: TokenBatch;
    targets: np.Array;
    cf: np.Array[];
    invTau: np.Array;
    lambda: np.Array;
  };
  const trainer = makeTrainStep<Theta, Batch, { nll: np.Array }>((p, b) => {
    const m = nn.sigmoid(p.theta.mul(b.invTau));
    const terms = answerTerms(b.params, b.batch, {
      config,
      targets: b.targets,
      patch: { mask: m.ref, cf: b.cf },
    });
    const nll = terms.sum().mul(-1 / items.length);
    return [nll.ref.add(m.sum().mul(b.lambda)), { nll }];
  });
  const r = rng(opts.seed ?? 0, hashString("circuits"));
  const init = Float32Array.from(
    { length: L * NH },
    () => (opts.init ?? 3) + 0.02 * (r.next() - 0.5),
  );
  let state = initTrainState<Theta>({ theta: np.array(init).reshape([L, NH]) });
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const tau = tau0 * (tau1 / tau0) ** (steps > 1 ? s / (steps - 1) : 1);
      const out = await trainer.step(state, {
        params: tree.ref(params),
        batch: tree.ref(clean),
        targets: targets.ref,
        cf: acts.map((a) => a.ref),
        invTau: np.array(1 / tau),
        lambda: np.array(lambda),
      }, { lr });
      state = out.state;
      tree.dispose(out.aux);
      losses.push(out.loss);
    }
    const bits = Float32Array.from(await state.params.theta.ref.data());
    const theta = Array.from(
      { length: L },
      (_, l) => Array.from(bits.subarray(l * NH, (l + 1) * NH)),
    );
    return {
      mask: theta.map((row) => row.map((x) => (x > 0 ? 1 : 0))),
      theta,
      thetaBits: bits,
      losses,
    };
  } finally {
    disposeTrainState(state);
    trainer.dispose();
    tree.dispose([clean, targets, acts]);
  }
}

/** Everything item 2 reads off one model, skill and (binary) circuit. */
export interface CircuitReport {
  readonly size: number;
  /** p(answer | only the circuit clean, the rest counterfactual) / p(answer | full model). */
  readonly faithfulness: number;
  readonly full: AnswerStats;
  readonly circuitOnly: AnswerStats;
  /** The circuit's heads replaced by counterfactual, and by mean, activations (the rest clean). */
  readonly ablated: { readonly counterfactual: AnswerStats; readonly mean: AnswerStats };
  /** Per head: the drop in mean p(answer) when that head alone is replaced by counterfactual. */
  readonly necessity: number[][];
}

/** Measures a circuit (see {@link CircuitReport}); L·NH + 4 forwards. Borrows `params`. */
export async function evaluateCircuit(
  params: LlamaParams,
  items: readonly CircuitItem[],
  opts: ConfigOption & { mask: HeadMask },
): Promise<CircuitReport> {
  const { config, mask } = opts;
  const ones = mask.map((r) => r.map(() => 1));
  const complement = mask.map((r) => r.map((m) => (m >= 0.5 ? 0 : 1)));
  const full = await answerStats(params, items, { config, mask: ones });
  const circuitOnly = await answerStats(params, items, { config, mask });
  const counterfactual = await answerStats(params, items, { config, mask: complement });
  const meanAbl = await answerStats(params, items, { config, mask: complement, source: "mean" });
  const pAblated: number[][][] = [];
  for (let l = 0; l < mask.length; l++) {
    pAblated.push([]);
    for (let h = 0; h < mask[l].length; h++) {
      const one = ones.map((r, i) => r.map((m, j) => (i === l && j === h ? 0 : m)));
      pAblated[l].push((await answerStats(params, items, { config, mask: one })).p);
    }
  }
  return {
    size: circuitSize(mask),
    faithfulness: faithfulness(circuitOnly.p, full.p),
    full,
    circuitOnly,
    ablated: { counterfactual, mean: meanAbl },
    necessity: necessity(full.p, pAblated),
  };
}

/** Share of items answered exactly. */
export function accuracy(stats: AnswerStats): number {
  return mean(stats.correct.map((c) => (c ? 1 : 0)));
}
