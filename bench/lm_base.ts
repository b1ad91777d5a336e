// The tiny LM's base model π0 as issue 14 measures it: opens (or pretrains into the cache) the
// base of a recipe (default `lm`), then prints, per general skill, its greedy panel accuracy and,
// per downstream task, greedy accuracy, π0's success rate when sampling at temperature 1 (8
// samples per test prompt), its mean reward, how often it answers in the task's format, and the
// share of prompts with at least one right sample among the 8 (≈ the share of GRPO groups with
// a learning signal). One JSON line on stdout; progress on stderr.
//
//   deno run -A bench/lm_base.ts [RECIPE] [--cache DIR]

import { loadRecipe } from "../runs/recipes/mod.ts";
import { resolvePlan } from "../runs/resolve.ts";
import { basePolicy } from "../runs/base.ts";
import { ENGINE } from "../runs/pipeline.ts";
import type { Output } from "../models/policy.ts";

const args = [...Deno.args];
const at = args.indexOf("--cache");
const cacheDir = at >= 0 ? args.splice(at, 2)[1] : `${Deno.env.get("HOME")}/.cache/forgetbench`;
const loaded = await loadRecipe(args[0] ?? "lm");
const plan = await resolvePlan(loaded.recipe, { file: loaded.file, cacheDir });
const probe = plan.panelTasks[0];
const t0 = performance.now();
const base = await basePolicy(plan, {
  cacheDir,
  device: "wasm",
  seed: 0,
  engine: ENGINE,
  probe: probe.task.request(probe.loaded.splits.test[0], { shots: [] }),
  onStep: (log, total) => {
    if (log.step % 250 === 0 || log.step === total) {
      const s = ((performance.now() - t0) / 1000).toFixed(0);
      console.error(`pretraining step ${log.step}/${total} loss ${log.loss.toFixed(3)} ${s}s`);
    }
  },
});
const policy = base.policy;
/** Whether an output is in the task's format (a number, an option digit, a JSON object). */
const FORMAT: Record<string, (s: string) => boolean> = {
  many_answers: (s) => /^\d+$/.test(s.trim()),
  word_math: (s) => /^-?\d+$/.test(s.trim()),
  science_mc: (s) => /^[1-4]$/.test(s.trim()),
  tool_call: (s) => {
    try {
      const v = JSON.parse(s.trim());
      return typeof v === "object" && v !== null;
    } catch {
      return false;
    }
  },
};
const gen = (o: Output) => (o.kind === "generate" ? o.outputs : []);
const acc = async (t: typeof probe, item: unknown, o: Output) =>
  (await t.task.score(item as never, o, {})).metrics.acc ?? 0;
const panel: Record<string, number> = {};
for (const t of plan.panelTasks) {
  const items = t.loaded.splits.test;
  const outs = await policy.run(items.map((x) => t.task.request(x, { shots: [] })), {
    batchSize: 64,
  });
  let s = 0;
  for (const [i, x] of items.entries()) s += await acc(t, x, outs[i]);
  panel[t.task.id] = s / items.length;
}
const SAMPLES = 8;
const downstream: Record<string, Record<string, number>> = {};
for (const t of plan.stageTasks) {
  const items = t.loaded.splits.test;
  const reqs = items.map((x) => t.task.request(x, { shots: [] }));
  const greedy = await policy.run(reqs, { batchSize: 64 });
  const sampled = await policy.run(reqs, {
    batchSize: 64,
    samples: SAMPLES,
    temperature: 1,
    seed: 7,
  });
  let right = 0, format = 0, reward = 0, any = 0, g = 0;
  for (const [i, x] of items.entries()) {
    g += await acc(t, x, greedy[i]);
    let hit = 0;
    for (const y of gen(sampled[i])) {
      const s = await acc(t, x, { kind: "generate", outputs: [y] });
      right += s;
      hit = Math.max(hit, s);
      format += FORMAT[t.task.id]?.(y) ? 1 : 0;
      reward += t.task.train?.reward?.(x as never, y) ?? 0;
    }
    any += hit;
  }
  const n = items.length * SAMPLES, r3 = (v: number) => Math.round(v * 1000) / 1000;
  downstream[t.task.id] = {
    greedy: r3(g / items.length),
    success_t1: r3(right / n),
    reward_t1: r3(reward / n),
    format_t1: r3(format / n),
    prompts_with_a_success: r3(any / items.length),
  };
}
const values = Object.values(panel);
console.log(JSON.stringify({
  recipe: plan.recipe.id,
  base: base.dir,
  cached: base.cached,
  pretrain_seconds: base.cached ? null : Math.round((performance.now() - t0) / 100) / 10,
  panel,
  panel_mean: Math.round(values.reduce((a, b) => a + b, 0) / values.length * 1000) / 1000,
  downstream,
}));
await policy.dispose();
Deno.exit(0); // onnxruntime sessions keep the event loop alive
