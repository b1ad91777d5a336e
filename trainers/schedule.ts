// Learning-rate schedules (trainers/types.ts Schedule): linear warmup, then constant or cosine.

import type { Schedule } from "./types.ts";

/**
 * The learning rate of step `step` (1-based) of `steps`, peak `lr`: with warmup w = max(1,
 * round(warmup·steps)) (none when warmup is 0), step s ≤ w gets lr·s/w; after it, constant lr or
 * cosine lr·(floor + (1 − floor)·(1 + cos(π·f))/2) with f = (s − 1 − w)/max(1, steps − w).
 *
 * @example
 * lrAt(1, { lr: 1e-3, steps: 100 }); // 1e-3: no schedule
 */
export function lrAt(
  step: number,
  opts: { lr: number; steps: number; schedule?: Schedule },
): number {
  const s = opts.schedule;
  if (!s) return opts.lr;
  const warm = s.warmup > 0 ? Math.max(1, Math.round(opts.steps * s.warmup)) : 0;
  if (step <= warm) return (opts.lr * step) / warm;
  if (s.decay === "constant") return opts.lr;
  const floor = s.floor ?? 0.1;
  const f = (step - 1 - warm) / Math.max(1, opts.steps - warm);
  return opts.lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * f)));
}
