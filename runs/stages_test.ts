// Tests for runs/stages.ts: task orders, the replay batch composition, and the stages each data
// plan gives a run (sequence, replay, joint), composed outside the pipeline's loop.

import { deepEqual, equal, ok } from "node:assert/strict";
import type { TrainInstance } from "../models/learner.ts";
import { mixedBatches, planStages, taskOrders } from "./stages.ts";

Deno.test("taskOrders: as listed, reversed, then seeded shuffles of the same tasks", () => {
  const o = taskOrders(["a", "b", "c", "d"], 3);
  deepEqual(o[0], ["a", "b", "c", "d"]);
  deepEqual(o[1], ["d", "c", "b", "a"]);
  deepEqual([...o[2]].sort(), ["a", "b", "c", "d"]);
  deepEqual(taskOrders(["a", "b", "c", "d"], 3), o, "deterministic");
  deepEqual(taskOrders(["a", "b"], 1), [["a", "b"]]);
});

Deno.test('taskOrders "each": every task alone, one run per task (RL\'s Razor)', () => {
  deepEqual(taskOrders(["math", "science", "tool"], "each"), [["math"], ["science"], ["tool"]]);
});

Deno.test("mixedBatches: the stated fraction from earlier tasks, every batch", () => {
  const cur = [0, 1, 2, 3, 4], old = [5, 6, 7, 8, 9, 10, 11];
  const next = mixedBatches(cur, old, 0.25)(8, 3);
  for (let s = 0; s < 20; s++) {
    const b = next();
    equal(b.length, 8);
    equal(b.filter((i) => i >= 5).length, 2);
  }
  // No earlier tasks yet (stage 1): the whole batch is the current task.
  ok(mixedBatches(cur, [], 0.5)(4, 1)().every((i) => i < 5));
  deepEqual(mixedBatches(cur, old, 0.5)(4, 7)(), mixedBatches(cur, old, 0.5)(4, 7)());
});

/** n instances tagged with their task in the request's prompt. */
function instances(task: string, n: number): TrainInstance[] {
  return Array.from({ length: n }, (_, i) => ({
    request: { kind: "generate", prompt: `${task}${i}`, until: ["\n"], maxTokens: 2 },
    targets: () => ["x"],
  }));
}
const train = new Map([["a", instances("a", 3)], ["b", instances("b", 4)], [
  "c",
  instances("c", 5),
]]);
const prompts = (xs: readonly TrainInstance[]) =>
  xs.map((x) => (x.request.kind === "generate" ? x.request.prompt : ""));

Deno.test("planStages: a sequence trains stage j on task j alone", () => {
  const s = planStages(["c", "a", "b"], { kind: "stage" }, {
    train,
    steps: 7,
    checkpoints: [3, 7],
  });
  deepEqual(s.map((x) => [x.stage, x.tasks, x.steps, x.checkpoints]), [
    [1, ["c"], 7, [3, 7]],
    [2, ["a"], 7, [3, 7]],
    [3, ["b"], 7, [3, 7]],
  ]);
  deepEqual(prompts(s[1].instances), ["a0", "a1", "a2"]);
  ok(s.every((x) => x.batches === undefined), "epoch-wise shuffling");
});

Deno.test("planStages: replay adds earlier tasks' instances and mixes every batch", () => {
  const s = planStages(["a", "b", "c"], { kind: "replay", fraction: 0.5 }, {
    train,
    steps: 5,
    checkpoints: [5],
  });
  deepEqual(s.map((x) => x.instances.length), [3, 4 + 3, 5 + 3 + 4]);
  deepEqual(prompts(s[2].instances).slice(0, 5), ["c0", "c1", "c2", "c3", "c4"], "current first");
  const batch = s[2].batches!(4, 1)();
  equal(batch.filter((i) => i >= 5).length, 2, "half of each batch from earlier tasks");
});

Deno.test("planStages: the joint plan is one stage over every task, numbered T, T × steps", () => {
  const s = planStages(["a", "b", "c"], { kind: "joint" }, {
    train,
    steps: 4,
    checkpoints: [2, 4],
  });
  equal(s.length, 1);
  deepEqual([s[0].stage, s[0].tasks, s[0].steps, s[0].checkpoints], [3, ["a", "b", "c"], 12, [
    6,
    12,
  ]]);
  equal(s[0].instances.length, 12);
});
