// Validation helpers for trainers' recipe options: each error names the recipe field.

import { ValidationError } from "../lib/errors.ts";

type Raw = Readonly<Record<string, unknown>>;

/** Rejects option names the trainer does not know (a typo must not silently do nothing). */
export function onlyKeys(raw: Raw, known: readonly string[], where: string): void {
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) {
      throw new ValidationError(where, `unknown option '${k}' (known: ${known.join(", ")})`);
    }
  }
}

/** A number option in [min, max] (integer if asked), with a default. */
export function num(
  raw: Raw,
  key: string,
  opts: { where: string; fallback: number; min?: number; max?: number; integer?: boolean },
): number {
  const v = raw[key] ?? opts.fallback;
  const at = `${opts.where}.${key}`;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ValidationError(at, `must be a number, got ${JSON.stringify(v)}`);
  }
  if (opts.integer && !Number.isInteger(v)) {
    throw new ValidationError(at, `must be an integer, got ${v}`);
  }
  if (opts.min !== undefined && v < opts.min) {
    throw new ValidationError(at, `must be ≥ ${opts.min}, got ${v}`);
  }
  if (opts.max !== undefined && v > opts.max) {
    throw new ValidationError(at, `must be ≤ ${opts.max}, got ${v}`);
  }
  return v;
}

/** A string option from a fixed set, with a default. */
export function oneOf<T extends string>(
  raw: Raw,
  key: string,
  opts: { where: string; values: readonly T[]; fallback: T },
): T {
  const v = raw[key] ?? opts.fallback;
  if (typeof v !== "string" || !(opts.values as readonly string[]).includes(v)) {
    throw new ValidationError(
      `${opts.where}.${key}`,
      `must be one of ${opts.values.join(", ")}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}

/** A boolean option with a default. */
export function bool(raw: Raw, key: string, opts: { where: string; fallback: boolean }): boolean {
  const v = raw[key] ?? opts.fallback;
  if (typeof v !== "boolean") {
    throw new ValidationError(
      `${opts.where}.${key}`,
      `must be true or false, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}
