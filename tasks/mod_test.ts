// The registry is complete and every registered task honours the task interface on its real data.

import { deepEqual, equal, notDeepEqual, ok, throws } from "node:assert/strict";
import { getClassifierTask, getTask, isTextTask, TASK_LIST } from "./mod.ts";
import { UsageError } from "../lib/errors.ts";

const NOT_TASKS = new Set(["mod.ts", "types.ts", "image_data.ts", "mc_output.ts"]);

Deno.test("every task file is registered and ids are unique", async () => {
  const files = [...Deno.readDirSync(new URL(".", import.meta.url))]
    .map((e) => e.name)
    .filter((n) => n.endsWith(".ts") && !n.endsWith("_test.ts") && !NOT_TASKS.has(n));
  ok(files.length >= 2);
  for (const f of files) {
    const mod = await import(`./${f}`);
    const specs = Object.values(mod).filter((v) =>
      typeof v === "object" && v !== null && "id" in v && ("load" in v || "request" in v)
    );
    ok(specs.length > 0, `${f} exports a task`);
    for (const s of specs) {
      ok(
        TASK_LIST.includes(s as never),
        `${f}: task '${(s as { id: string }).id}' is in tasks/mod.ts`,
      );
    }
  }
  equal(new Set(TASK_LIST.map((t) => t.id)).size, TASK_LIST.length);
  throws(
    () => getTask("nope"),
    (e) => e instanceof UsageError && /known tasks: parity_mnist, fashion_mnist/.test(e.message),
  );
});

for (const task of TASK_LIST.filter((t) => !isTextTask(t)).map((t) => getClassifierTask(t.id))) {
  Deno.test(`${task.id}: loads with verified checksums, splits deterministically, renders and scores`, async () => {
    const data = await task.load();
    equal(Object.keys(data.checksums).length, task.source.files.length);
    const sizes = { heldout: 5, pretrain: 3 };
    const a = task.split(data, { seed: 7, sizes }),
      b = task.split(data, { seed: 7, sizes }),
      c = task.split(data, { seed: 8, sizes });
    deepEqual(a.heldout.map((i) => i.id), b.heldout.map((i) => i.id), "same seed, same split");
    notDeepEqual(a.heldout.map((i) => i.id), c.heldout.map((i) => i.id), "other seed, other split");
    equal(a.heldout.length, 50, "stratified: 5 per class × 10 classes");
    const ids = new Set(a.heldout.map((i) => i.id));
    ok(a.pretrain.every((i) => !ids.has(i.id)), "splits are disjoint");
    for (const item of a.heldout) {
      const x = task.render(item);
      equal(x.length, 785);
      ok(x.every((v: number) => v >= 0 && v <= 1));
      const right = task.correct!(item),
        wrong = [...Array(10).keys()].filter((y) => !right.includes(y));
      for (const y of right) equal(task.score(item, y), 1);
      for (const y of wrong) equal(task.score(item, y), 0);
      for (const labels of Object.values(task.labellings ?? {})) {
        ok(labels(item).every((y) => right.includes(y)), "labellings are correct answers");
      }
      equal(
        task.score(item, task.pretrainTarget!(item)),
        1,
        "the pretraining label is a correct answer",
      );
    }
  });
}

Deno.test("parity_mnist: any label of the digit's parity is correct; fashion_mnist: exact label", () => {
  const parity = getClassifierTask("parity_mnist"), fashion = getClassifierTask("fashion_mnist");
  const seven = { id: "t", pixels: new Uint8Array(784), label: 7 };
  deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((y) => parity.score(seven, y)), [
    0,
    1,
    0,
    1,
    0,
    1,
    0,
    1,
    0,
    1,
  ]);
  deepEqual(parity.labellings!.sft1(seven), [1]);
  deepEqual(parity.labellings!.sft2(seven), [1, 5]);
  deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((y) => fashion.score(seven, y)), [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
  ]);
  equal(parity.render(seven)[784], 0, "task bit 0 for digits");
  equal(fashion.render(seven)[784], 1, "task bit 1 for clothes");
});
