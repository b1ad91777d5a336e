// The pure measures of attention-head circuits (evals/circuits.ts finds the circuits): circuit
// size, faithfulness, per-head necessity, mask shift, retention and vulnerable heads, read off
// masks and answer probabilities. No model code here, so the report (runs/report.ts) uses them
// without loading jax-js.

import { UsageError } from "../lib/errors.ts";

/** A mask per attention head, [layers][heads]: 1 = the head is in the circuit. */
export type HeadMask = number[][];

/** A head by layer and index within the layer. */
export interface Head {
  readonly layer: number;
  readonly head: number;
}

/** The heads with m ≥ 0.5, in layer-major order. */
export function circuitHeads(mask: HeadMask): Head[] {
  const out: Head[] = [];
  mask.forEach((row, layer) => row.forEach((m, head) => m >= 0.5 && out.push({ layer, head })));
  return out;
}

/** Circuit size: how many heads have m ≥ 0.5 (a hard mask's count of ones). */
export function circuitSize(mask: HeadMask): number {
  return circuitHeads(mask).length;
}

/** The mean of a non-empty list. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new UsageError("circuits: no items to average");
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Faithfulness = mean_i p(answer_i | only the circuit clean) / mean_i p(answer_i | full model):
 * a ratio of means over the same items (1 = the circuit alone keeps the answer's probability).
 */
export function faithfulness(pCircuit: readonly number[], pFull: readonly number[]): number {
  if (pCircuit.length !== pFull.length) {
    throw new UsageError(`faithfulness: ${pCircuit.length} vs ${pFull.length} items`);
  }
  return mean(pCircuit) / mean(pFull);
}

/**
 * Necessity of each head: mean_i p(answer_i | full) − mean_i p(answer_i | that head alone
 * ablated), from the per-head probabilities `pAblated[l][h][i]`; positive = the head is needed.
 */
export function necessity(
  pFull: readonly number[],
  pAblated: readonly (readonly (readonly number[])[])[],
): number[][] {
  const full = mean(pFull);
  return pAblated.map((row) => row.map((ps) => full - mean(ps)));
}

function sameShape(a: HeadMask, b: HeadMask, what: string): void {
  if (a.length !== b.length || a.some((r, l) => r.length !== b[l].length)) {
    throw new UsageError(`${what}: masks of different shapes`);
  }
}

/** Mask shift Δm[l][h] = m_tuned[l][h] − m_base[l][h]. */
export function maskShift(base: HeadMask, tuned: HeadMask): number[][] {
  sameShape(base, tuned, "maskShift");
  return base.map((row, l) => row.map((m, h) => tuned[l][h] - m));
}

/**
 * Retention = |base circuit ∩ tuned circuit| / |base circuit| (heads with m ≥ 0.5); NaN when
 * the base circuit is empty.
 */
export function retention(base: HeadMask, tuned: HeadMask): number {
  sameShape(base, tuned, "retention");
  const heads = circuitHeads(base);
  if (heads.length === 0) return NaN;
  return heads.filter(({ layer, head }) => tuned[layer][head] >= 0.5).length / heads.length;
}

/**
 * Vulnerable heads: heads of the base circuit (m_base ≥ 0.5) that RL keeps, Δm_RL = m_RL − m_base
 * ≥ −δ, but SFT loses by more than δ, Δm_SFT = m_SFT − m_base < −δ.
 */
export function vulnerableHeads(
  masks: { base: HeadMask; rl: HeadMask; sft: HeadMask },
  delta: number,
): Head[] {
  const { base, rl, sft } = masks;
  sameShape(base, rl, "vulnerableHeads");
  sameShape(base, sft, "vulnerableHeads");
  return circuitHeads(base).filter(({ layer: l, head: h }) =>
    rl[l][h] - base[l][h] >= -delta && sft[l][h] - base[l][h] < -delta
  );
}
