// The circuit analysis of a recipe's `circuits` field (issue 14, items 2 and 3): for a Llama
// policy and each listed skill, the first `items` test items that have a counterfactual
// (Task.counterfactual, same length, another answer) become clean/counterfactual token pairs;
// evals/circuits.ts finds the heads that carry the answer (discoverCircuit) and measures them
// (evaluateCircuit). The pipeline runs it on π0 (stage 0) and on every run's policy at the end of
// each stage, and appends one `circuit` record per skill; runs/report.ts turns them into
// circuits.csv, retention.csv and circuit_fit.csv.

import { ValidationError } from "../lib/errors.ts";
import { accuracy, type CircuitItem, discoverCircuit, evaluateCircuit } from "../evals/circuits.ts";
// A type only: the class's module loads onnxruntime, which `report` (no FFI) must not load.
import type { LlamaPolicy } from "../models/llama_policy.ts";
import type { Policy } from "../models/policy.ts";
import { promptIds } from "../models/tokenizer.ts";
import type { Item, Task } from "../tasks/task.ts";
import type { ResolvedCircuits } from "./recipe.ts";
import type { CircuitRecord, RunFields } from "./records.ts";

/** A skill the analysis runs on: its task and its test items. */
export interface CircuitTask {
  // deno-lint-ignore no-explicit-any
  readonly task: Task<any>;
  readonly test: readonly Item[];
}

/** The prompt and answer of a generated LM item. */
interface TextItem extends Item {
  readonly prompt: string;
  readonly answer: string;
}

/**
 * The test items of a skill that have a counterfactual, in split order, as many as `n`; each as
 * text (for checks at resolve time, before a tokenizer is at hand).
 */
export function counterfactualItems(
  t: CircuitTask,
  opts: { n: number; seed: number },
): { item: TextItem; cf: string }[] {
  const out: { item: TextItem; cf: string }[] = [];
  for (const item of t.test as TextItem[]) {
    if (out.length === opts.n) break;
    const cf = t.task.counterfactual!(item, opts.seed);
    if (cf !== null) out.push({ item, cf: cf.prompt });
  }
  return out;
}

/**
 * A skill's circuit items under a policy's tokenizer: prompt tokens as the policy's prompts are
 * encoded (models/tokenizer.ts promptIds), the answer's tokens after them, and the
 * counterfactual prompt's tokens; pairs whose prompts differ in token count are skipped.
 */
export function circuitItems(
  policy: LlamaPolicy,
  t: CircuitTask,
  opts: { n: number; seed: number },
): CircuitItem[] {
  const tok = policy.tokenizer;
  const out: CircuitItem[] = [];
  for (const { item, cf } of counterfactualItems(t, { n: t.test.length, seed: opts.seed })) {
    if (out.length === opts.n) break;
    const prompt = promptIds(tok, item.prompt);
    const counterfactual = promptIds(tok, cf);
    if (counterfactual.length !== prompt.length) continue;
    const answer = tok.encode(item.prompt + item.answer).slice(tok.encode(item.prompt).length);
    if (answer.length === 0) continue;
    out.push({ prompt, answer, counterfactual });
  }
  return out;
}

/** Whether a policy is the in-process jax-js Llama (its weights, config and tokenizer at hand). */
function isLlama(policy: Policy): policy is LlamaPolicy {
  const p = policy as Partial<LlamaPolicy>;
  return policy.family === "llama" && p.params !== undefined && p.config !== undefined &&
    p.tokenizer !== undefined;
}

/**
 * The discovery settings every checkpoint uses (only the model differs): Adam's learning rate on
 * θ and θ's start (m = sigmoid(1) ≈ 0.73 at τ = 1), sized for a few dozen steps (a head can cross
 * θ = 0 within ~7 steps), and τ annealed from 1 to 0.05.
 */
const LR = 0.15, INIT = 1, TAU: [number, number] = [1, 0.05];

/**
 * Finds and measures each skill's circuit in `policy` (borrowed): one `circuit` record per
 * skill, in the settings' order. Deterministic: the same weights and settings, the same bytes.
 */
export async function circuitRecords(
  policy: Policy,
  tasks: readonly CircuitTask[],
  s: ResolvedCircuits,
  at: { run: RunFields; stage: number; step: number },
): Promise<CircuitRecord[]> {
  if (!isLlama(policy)) {
    throw new ValidationError("circuits", `needs a llama model, got ${policy.family ?? "another"}`);
  }
  const config = policy.config, out: CircuitRecord[] = [];
  for (const skill of s.skills) {
    const t = tasks.find((x) => x.task.id === skill)!;
    const items = circuitItems(policy, t, { n: s.items, seed: s.seed });
    if (items.length === 0) {
      throw new ValidationError(`circuits.skills`, `'${skill}': no item has a counterfactual`);
    }
    const found = await discoverCircuit(policy.params, items, {
      config,
      seed: s.seed,
      steps: s.steps,
      lambda: s.lambda,
      lr: LR,
      init: INIT,
      tau: TAU,
    });
    const rep = await evaluateCircuit(policy.params, items, { config, mask: found.mask });
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    out.push({
      type: "circuit",
      ...at.run,
      stage: at.stage,
      step: at.step,
      skill,
      n: items.length,
      size: rep.size,
      faithfulness: rep.faithfulness,
      full_p: mean(rep.full.p),
      circuit_p: mean(rep.circuitOnly.p),
      acc_full: accuracy(rep.full),
      acc_circuit: accuracy(rep.circuitOnly),
      acc_ablated_cf: accuracy(rep.ablated.counterfactual),
      acc_ablated_mean: accuracy(rep.ablated.mean),
      loss: found.losses[found.losses.length - 1],
      mask: found.mask,
      theta: found.theta,
      necessity: rep.necessity,
    });
  }
  return out;
}
