// The circuit runner (runs/circuits.ts) on a tiny Llama: a skill's test items become
// token-aligned clean/counterfactual pairs under the policy's tokenizer; one circuit record per
// skill, with masks of the model's shape and measures in range; the same weights and settings
// give the same bytes; a model of another family is refused.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { startEngine } from "../models/engine.ts";
import { LlamaPolicy } from "../models/llama_policy.ts";
import { CHAR_TOKENIZER } from "../models/tokenizer.ts";
import type { Policy } from "../models/policy.ts";
import { getTask } from "../tasks/mod.ts";
import { TINY_LM_CONFIG } from "../tests/tiny_lm.ts";
import { circuitItems, circuitRecords, type CircuitTask } from "./circuits.ts";
import { BASE_RUN, jsonLine } from "./records.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function skill(id: string, n: number): Promise<CircuitTask> {
  const task = getTask(id);
  const { splits } = await task.load({ seed: 0, sizes: { test: n } });
  return { task, test: splits.test };
}

Deno.test("circuit items: prompt, answer and counterfactual tokens of a skill", async () => {
  const policy = LlamaPolicy.init(TINY_LM_CONFIG, { seed: 1, tokenizer: CHAR_TOKENIZER });
  try {
    const t = await skill("lookup", 8);
    const items = circuitItems(policy, t, { n: 5, seed: 0 });
    equal(items.length, 5);
    const first = t.test[0] as unknown as { prompt: string; answer: string };
    const cf = t.task.counterfactual!(first, 0)!;
    // BOS, then one id per character; the answer's ids follow the prompt's.
    deepEqual(items[0].prompt, [CHAR_TOKENIZER.bosId, ...CHAR_TOKENIZER.encode(first.prompt)]);
    deepEqual(items[0].counterfactual, [CHAR_TOKENIZER.bosId, ...CHAR_TOKENIZER.encode(cf.prompt)]);
    deepEqual(items[0].answer, CHAR_TOKENIZER.encode(first.answer));
    for (const it of items) equal(it.counterfactual.length, it.prompt.length);
  } finally {
    await policy.dispose();
  }
});

Deno.test(
  "circuit records: one per skill, of the model's shape, byte-identical",
  opts,
  async () => {
    await startEngine("wasm");
    const policy = LlamaPolicy.init(TINY_LM_CONFIG, { seed: 1, tokenizer: CHAR_TOKENIZER });
    try {
      const tasks = [await skill("copy", 6), await skill("compare", 12)];
      const settings = { skills: ["copy", "compare"], items: 4, steps: 5, lambda: 0.01, seed: 0 };
      const at = { run: BASE_RUN, stage: 0, step: 0 };
      const recs = await circuitRecords(policy, tasks, settings, at);
      deepEqual(recs.map((r) => [r.type, r.skill, r.stage, r.n]), [
        ["circuit", "copy", 0, 4],
        ["circuit", "compare", 0, 4],
      ]);
      const L = TINY_LM_CONFIG.num_hidden_layers, NH = TINY_LM_CONFIG.num_attention_heads;
      for (const r of recs) {
        deepEqual([r.mask.length, r.mask[0].length, r.theta.length, r.necessity[0].length], [
          L,
          NH,
          L,
          NH,
        ]);
        ok(r.mask.flat().every((m) => m === 0 || m === 1));
        equal(r.size, r.mask.flat().reduce((a, b) => a + b, 0));
        ok(r.full_p > 0 && r.full_p <= 1, `${r.full_p}`);
        ok(Number.isFinite(r.faithfulness));
        for (const a of [r.acc_full, r.acc_circuit, r.acc_ablated_cf, r.acc_ablated_mean]) {
          ok(a >= 0 && a <= 1);
        }
      }
      const again = await circuitRecords(policy, tasks, settings, at);
      equal(again.map(jsonLine).join("\n"), recs.map(jsonLine).join("\n"));
      const other = { family: "onnx" } as unknown as Policy;
      await rejects(circuitRecords(other, tasks, settings, at), ValidationError);
    } finally {
      await policy.dispose();
    }
  },
);
