// Aggregation to results.csv rows and samples.jsonl lines, on hand-worked items.

import { deepEqual, equal, ok } from "node:assert/strict";
import { aggregate, resultsCsv, sampleLine, type ScoredItem } from "./results.ts";

const mc = (id: string, acc: number, norm: number): ScoredItem => ({
  id,
  request: { kind: "choices", context: "Q", continuations: [" a", " b"] },
  target: " a",
  output: { kind: "choices", logliks: [-1, -2] },
  score: { metrics: { acc, acc_norm: norm } },
});

Deno.test("aggregate: mean and lm-eval's mean_stderr (sample std / √n)", () => {
  const rows = aggregate("t", ["acc", "acc_norm"], [mc("1", 1, 1), mc("2", 0, 1), mc("3", 1, 1)]);
  equal(rows[0].value, 2 / 3);
  // sample std of (1, 0, 1) = √(1/3); / √3 = 1/3
  ok(Math.abs(rows[0].stderr - 1 / 3) < 1e-12);
  deepEqual(rows[1], { task: "t", metric: "acc_norm", value: 1, stderr: 0, n: 3 });
  equal(
    resultsCsv(rows),
    "task,metric,value,stderr,n\nt,acc,0.666667,0.333333,3\nt,acc_norm,1,0,3\n",
  );
  equal(Number.isNaN(aggregate("t", ["acc"], [mc("1", 1, 1)])[0].stderr), true);
});

Deno.test("sampleLine: per-choice log-likelihoods, or the output and the extracted answer", () => {
  equal(
    sampleLine("hs", mc("7", 1, 0)),
    '{"task":"hs","id":"7","prompt":"Q","choices":[" a"," b"],"target":" a",' +
      '"loglikelihoods":[-1,-2],"score":1,"metrics":{"acc":1,"acc_norm":0}}',
  );
  const gen: ScoredItem = {
    id: "q1",
    request: { kind: "generate", prompt: "P", until: ["Q:"], maxTokens: 5 },
    target: "B",
    output: { kind: "generate", outputs: ["the answer is (B)"] },
    score: { metrics: { exact_match: 1 }, extracted: "B" },
  };
  equal(
    sampleLine("mp", gen),
    '{"task":"mp","id":"q1","prompt":"P","target":"B","output":"the answer is (B)",' +
      '"extracted":"B","score":1}',
  );
});

Deno.test("sampleLine: several generations are a list; a classify item shows its label, no prompt", () => {
  const pass: ScoredItem = {
    id: "HumanEval/0",
    request: { kind: "generate", prompt: "def f():\n", until: ["\ndef"], maxTokens: 9 },
    target: "  return 1\n",
    output: { kind: "generate", outputs: ["  return 1", "  return 2"] },
    score: { metrics: { "pass@1": 0.5 } },
  };
  equal(
    sampleLine("he", pass),
    '{"task":"he","id":"HumanEval/0","prompt":"def f():\\n","target":"  return 1\\n",' +
      '"output":["  return 1","  return 2"],"score":0.5}',
  );
  const digit: ScoredItem = {
    id: "mnist-7-3",
    request: { kind: "classify", x: new Float32Array(785), classes: 10 },
    target: "odd (digit 7)",
    output: { kind: "classify", label: 3 },
    score: { metrics: { acc: 1 } },
  };
  equal(
    sampleLine("parity_mnist", digit),
    '{"task":"parity_mnist","id":"mnist-7-3","target":"odd (digit 7)","output":3,"score":1}',
  );
});
