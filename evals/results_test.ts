// Aggregation to results.csv rows and samples.jsonl lines, on hand-worked items.

import { deepEqual, equal, ok } from "node:assert/strict";
import { aggregate, resultsCsv, sampleLine, type ScoredItem } from "./results.ts";

const mc = (id: string, acc: number, norm: number): ScoredItem => ({
  id,
  request: { type: "loglikelihood", context: "Q", continuations: [" a", " b"] },
  target: " a",
  output: { type: "loglikelihood", logliks: [-1, -2] },
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
    request: { type: "generation", prompt: "P", until: ["Q:"], maxTokens: 5 },
    target: "B",
    output: { type: "generation", outputs: ["the answer is (B)"] },
    score: { metrics: { exact_match: 1 }, extracted: "B" },
  };
  equal(
    sampleLine("mp", gen),
    '{"task":"mp","id":"q1","prompt":"P","target":"B","output":"the answer is (B)",' +
      '"extracted":"B","score":1}',
  );
});
