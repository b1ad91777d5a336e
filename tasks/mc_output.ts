// Checks shared by the log-likelihood multiple-choice tasks: the output must carry exactly one
// log-likelihood per choice (predictions from other tools can get this wrong).

import { ValidationError } from "../lib/errors.ts";
import type { Output } from "./task.ts";

/** The per-choice log-likelihoods of `output`, or a one-line error naming the item. */
export function choiceLogliks(
  output: Output,
  opts: { id: string; choices: number },
): readonly number[] {
  if (output.kind !== "choices") {
    throw new ValidationError(
      `item '${opts.id}'`,
      `needs per-choice log-likelihoods, got ${output.kind === "generate" ? "text" : "a label"}`,
    );
  }
  if (output.logliks.length !== opts.choices) {
    throw new ValidationError(
      `item '${opts.id}'`,
      `has ${opts.choices} choices but ${output.logliks.length} log-likelihoods`,
    );
  }
  return output.logliks;
}

/** Log-likelihoods that put the labelled choices first by a wide margin: `good` 0, others −1000. */
export function logliksFavouring(n: number, good: (i: number) => boolean): Output {
  return {
    kind: "choices",
    logliks: Array.from({ length: n }, (_, i) => (good(i) ? 0 : -1000)),
  };
}
