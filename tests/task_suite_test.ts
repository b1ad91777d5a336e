// One suite for every registered task (image, benchmark and generated alike): the registry is
// complete, each task loads deterministically into unique, disjoint splits, every test item
// becomes a request of the task's kind, the fixture's perfect output scores 1 and its wrong
// output 0 on every metric, and every SFT target, correct output and reward agrees with the
// scorer. Hub tasks load from their fixture records written in the published format, and a
// record missing a field is a one-line error naming the file, row and field.

import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { type AnyTask, getTask, TASK_LIST } from "../tasks/mod.ts";
import { loadTestFile } from "../tasks/hub_data.ts";
import {
  type Item,
  type ItemScore,
  type Loaded,
  type Output,
  PRETRAIN_SPLIT,
  type Request,
  rowId,
  type ScoreContext,
  type Target,
  TRAIN_SPLIT,
} from "../tasks/task.ts";
import type { ClassifyRequest } from "../models/policy.ts";
import { runPython } from "../evals/sandbox.ts";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { isHubTask, writeTaskFixture } from "../runs/fixtures.ts";
import { type ColumnType, writeFixture } from "../lib/published_files.ts";

const TASKS_DIR = new URL("../tasks/", import.meta.url);
const SEED = 7, OTHER_SEED = 8;

/** Loads `task` as the suite does: hub tasks from fixture records in `dir`, others with sizes. */
function loadForSuite(task: AnyTask, seed: number, dir: string): Promise<Loaded<Item>> {
  return isHubTask(task)
    ? task.load({
      seed,
      data: { dataPath: dir, offline: true, cacheDir: join(dir, "empty-cache") },
    })
    : task.load({ seed, sizes: task.fixture.sizes });
}

/** Runs `fn` with a temp folder holding `task`'s fixture files (none for non-hub tasks). */
async function withFixture<T>(task: AnyTask, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: `forgetbench-${task.id}-` });
  try {
    if (isHubTask(task)) ok((await writeTaskFixture(dir, task)).length >= 1, "fixture files");
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ids = (items: readonly Item[] | undefined) => (items ?? []).map((i) => i.id);

/** The few-shot pools of a load: every split but test. */
function poolsOf(loaded: Loaded<Item>): Record<string, readonly Item[]> {
  const { test: _, ...pools } = loaded.splits;
  return pools;
}

/** Code runs only for tasks that declare executesCode; any other task calling it is a bug. */
function scoreContext(task: AnyTask): ScoreContext {
  return task.executesCode ? { runPython: (p) => runPython(p) } : {
    runPython: () => {
      throw new Error(`${task.id} ran code without declaring executesCode`);
    },
  };
}

/** A training target given back as the output a model would produce. */
function targetOutput(task: AnyTask, target: Target): Output {
  if (task.requestKind === "classify") {
    ok(Number.isInteger(target), `${task.id}: a classify target is a class index, got ${target}`);
    return { kind: "classify", label: target as number };
  }
  ok(typeof target === "string", `${task.id}: a text target is a string, got ${target}`);
  if (task.requestKind === "generate") return { kind: "generate", outputs: [target] };
  throw new Error(`${task.id}: the suite cannot turn a target into a ${task.requestKind} output`);
}

/** The first metric of a score (the one the accuracy matrix uses), which must be present. */
function firstMetric(task: AnyTask, s: ItemScore): number {
  const v = s.metrics[task.metrics[0]];
  ok(v !== undefined, `${task.id}: the first metric '${task.metrics[0]}' is always reported`);
  return v;
}

/** Checks one request against the task's declared kind. */
function checkRequest(task: AnyTask, item: Item, req: Request, xLength: { n?: number }) {
  const where = `${task.id} item ${item.id}`;
  equal(req.kind, task.requestKind, `${where}: request kind`);
  if (req.kind === "classify") {
    ok(req.x instanceof Float32Array && req.x.length > 0, `${where}: an input vector`);
    xLength.n ??= req.x.length;
    equal(req.x.length, xLength.n, `${where}: every input has the same length`);
    ok(req.x.every(Number.isFinite), `${where}: finite inputs`);
    ok(Number.isInteger(req.classes) && req.classes >= 2, `${where}: at least 2 classes`);
  } else if (req.kind === "choices") {
    ok(req.context.length > 0, `${where}: a context`);
    ok(req.continuations.length >= 2, `${where}: at least 2 continuations`);
    if (req.contexts) {
      equal(req.contexts.length, req.continuations.length, `${where}: a context per continuation`);
    }
  } else {
    ok(req.prompt.length > 0, `${where}: a prompt`);
    ok(Number.isInteger(req.maxTokens) && req.maxTokens >= 1, `${where}: maxTokens ≥ 1`);
    ok(req.until.every((s) => typeof s === "string" && s.length > 0), `${where}: stop strings`);
    // A vision task may mix items with and without images (ScienceQA); others pass none.
    if (req.images?.length) ok(task.needsImages, `${where}: images only where needsImages`);
  }
}

// ---------------------------------------------------------------------------------------------
// The registry.

/** Every .ts file under tasks/ and tasks/lm/ that is not a test, relative to tasks/. */
async function taskFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["", "lm/"]) {
    for await (const e of Deno.readDir(new URL(sub, TASKS_DIR))) {
      if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        out.push(sub + e.name);
      }
    }
  }
  return out.sort();
}

Deno.test("registry: every task a file under tasks/ exports is in TASK_LIST, once, and every registered task comes from one", async () => {
  const exported = new Set<unknown>();
  for (const file of await taskFiles()) {
    let mod: Record<string, unknown>;
    try {
      mod = await import(new URL(file, TASKS_DIR).href);
    } catch (e) {
      throw new Error(`tasks/${file} fails to load: ${(e as Error).message}`);
    }
    for (const [name, v] of Object.entries(mod)) {
      if (typeof v !== "object" || v === null || !("id" in v) || !("requestKind" in v)) continue;
      exported.add(v);
      ok(
        TASK_LIST.includes(v as AnyTask),
        `tasks/${file}: export ${name} (task '${
          (v as { id: string }).id
        }') is not in tasks/mod.ts TASK_LIST`,
      );
    }
  }
  for (const t of TASK_LIST) ok(exported.has(t), `task '${t.id}' is not exported by a task file`);
  const seen = new Set<string>();
  for (const t of TASK_LIST) {
    ok(!seen.has(t.id), `task id '${t.id}' is registered twice`);
    seen.add(t.id);
  }
});

Deno.test("registry: getTask finds a task by id; an unknown id is a UsageError listing every known task", () => {
  for (const t of TASK_LIST) equal(getTask(t.id), t);
  const known = TASK_LIST.map((t) => t.id).join(", ");
  throws(
    () => getTask("nope"),
    (e) =>
      e instanceof UsageError &&
      e.message === `unknown task 'nope'; known tasks: ${known}`,
  );
  throws(
    () => getTask("nope", "recipe.ts: stages[0].task"),
    (e) => e instanceof UsageError && e.message.startsWith("recipe.ts: stages[0].task: unknown"),
  );
});

Deno.test("registry: the hub tasks are the published benchmarks", () => {
  deepEqual(TASK_LIST.filter(isHubTask).map((t) => t.id).sort(), [
    "arc_easy",
    "gsm8k",
    "hellaswag",
    "humaneval",
    "ifeval",
    "mmlu",
    "mmlu_pro",
    "mmmu",
    "orz_math",
    "scienceqa",
    "scienceqa_text",
    "sciknoweval",
    "sciknoweval_chem_l3",
    "toolalpaca",
    "truthfulqa_mc1",
    "truthfulqa_mc2",
    "winogrande",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Every task.

for (const task of TASK_LIST) {
  const takesSizes = !isHubTask(task);

  Deno.test(`${task.id}: the same seed loads the same items${takesSizes ? ", another seed others" : ""}; ids unique, splits disjoint`, async () => {
    await withFixture(task, async (dir) => {
      const a = await loadForSuite(task, SEED, dir), b = await loadForSuite(task, SEED, dir);
      ok((a.splits.test?.length ?? 0) > 0, "a non-empty test split");
      deepEqual(Object.keys(a.splits).sort(), Object.keys(b.splits).sort());
      for (const split of Object.keys(a.splits)) {
        deepEqual(ids(a.splits[split]), ids(b.splits[split]), `same seed, same ${split} ids`);
        deepEqual(a.splits[split], b.splits[split], `same seed, same ${split} items`);
      }
      if (takesSizes) {
        // Items, not ids: generated tasks number their items by position.
        const c = await loadForSuite(task, OTHER_SEED, dir);
        notDeepEqual(a.splits.test, c.splits.test, "another seed, other test items");
        for (const [split, n] of Object.entries(task.fixture.sizes ?? {})) {
          if (n > 0) ok((a.splits[split]?.length ?? 0) > 0, `split ${split} was asked for`);
        }
      }
      const owner = new Map<string, string>();
      for (const [split, items] of Object.entries(a.splits)) {
        equal(new Set(ids(items)).size, items.length, `${split}: unique item ids`);
        for (const id of ids(items)) {
          const prev = owner.get(id);
          ok(prev === undefined, `item '${id}' is in both ${prev} and ${split}`);
          owner.set(id, split);
        }
      }
      // Held out: no test prompt is also a prompt trained on (pretrain corpora repeat train ones).
      const prompt = (it: Item) => {
        const r = task.request(it, { shots: [] });
        return r.kind === "classify" ? null : r.kind === "choices" ? r.context : r.prompt;
      };
      const trained = new Set(
        [TRAIN_SPLIT, PRETRAIN_SPLIT].flatMap((s) => (a.splits[s] ?? []).map(prompt)),
      );
      for (const it of a.splits.test) {
        const p = prompt(it);
        ok(p === null || !trained.has(p), `test item ${it.id}'s prompt is also trained on`);
      }
      for (const f of task.source.files ?? []) {
        ok(
          a.files.some((u) => u.path === f.path && u.sha256 === f.sha256),
          `${f.path} was read with its pinned sha256`,
        );
      }
      if (isHubTask(task)) {
        ok(a.files.every((f) => f.source === "local" && /^[0-9a-f]{64}$/.test(f.sha256)));
        for (const [split, records] of Object.entries(task.fixture.records ?? {})) {
          const want = task.fixture.ids?.[split] ??
            records.map((r, i) =>
              task.idField ? String(r[task.idField]) : rowId({ where: "", index: i, split })
            );
          deepEqual(ids(a.splits[split]).sort(), [...want].sort(), `${split}: one item per record`);
        }
      }
    });
  });

  Deno.test(`${task.id}: every test item makes a ${task.requestKind} request, the same twice, with a target to show`, async () => {
    await withFixture(task, async (dir) => {
      const loaded = await loadForSuite(task, SEED, dir);
      const pools = poolsOf(loaded);
      const poolIds = new Set(Object.values(pools).flatMap(ids));
      const xLength: { n?: number } = {};
      let withImages = 0;
      for (const item of loaded.splits.test) {
        const shots = task.fewshot?.(item, pools) ?? [];
        ok(shots.every((s: Item) => poolIds.has(s.id)), `${item.id}: shots come from the pools`);
        const req = task.request(item, { shots });
        checkRequest(task, item, req, xLength);
        if (req.kind === "generate" && req.images?.length) withImages++;
        deepEqual(task.request(item, { shots }), req, `${item.id}: requests are deterministic`);
        const target = task.target(item);
        ok(typeof target === "string" && target.length > 0, `${item.id}: a target to show`);
      }
      if (task.needsImages) ok(withImages > 0, "a task that needs images passes some");
    });
  });

  Deno.test(`${task.id}: fixture.perfect scores 1 and fixture.wrong 0 on every metric of every test item`, async () => {
    await withFixture(task, async (dir) => {
      const loaded = await loadForSuite(task, SEED, dir);
      const ctx = scoreContext(task);
      for (const item of loaded.splits.test) {
        const perfect = task.fixture.perfect(item), wrong = task.fixture.wrong(item);
        equal(perfect.kind, task.requestKind, `${item.id}: perfect output kind`);
        equal(wrong.kind, task.requestKind, `${item.id}: wrong output kind`);
        const good = await task.score(item, perfect, ctx);
        const bad = await task.score(item, wrong, ctx);
        equal(firstMetric(task, good), 1, `${item.id}: perfect ${task.metrics[0]}`);
        equal(firstMetric(task, bad), 0, `${item.id}: wrong ${task.metrics[0]}`);
        for (const s of [good, bad]) {
          for (const m of Object.keys(s.metrics)) {
            ok(task.metrics.includes(m), `${item.id}: metric '${m}' is declared in metrics`);
          }
        }
        for (const m of Object.keys(good.metrics)) equal(good.metrics[m], 1, `${item.id}: ${m}`);
        for (const m of Object.keys(bad.metrics)) equal(bad.metrics[m], 0, `${item.id}: ${m}`);
      }
    });
  });

  const train = task.train;
  if (train) {
    Deno.test(`${task.id}: every SFT target and correct output scores 1 and earns reward 1`, async () => {
      await withFixture(task, async (dir) => {
        const loaded = await loadForSuite(task, SEED, dir);
        const ctx = scoreContext(task);
        const items = Object.values(loaded.splits).flat();
        ok(items.length > 0);
        const scoreOf = async (item: Item, t: Target) =>
          firstMetric(task, await task.score(item, targetOutput(task, t), ctx));
        for (const item of items) {
          const correct: readonly Target[] | undefined = train.correct?.(item);
          for (const [name, labelling] of Object.entries(train.labellings)) {
            const targets = labelling(item);
            ok(targets.length > 0, `${item.id}: labelling ${name} gives a target`);
            for (const t of targets) {
              equal(await scoreOf(item, t), 1, `${item.id}: ${name} target ${t} scores 1`);
              if (train.reward) equal(train.reward(item, t), 1, `${item.id}: ${name} reward`);
              if (correct) ok(correct.includes(t), `${item.id}: ${name} target is correct`);
            }
          }
          for (const t of correct ?? []) {
            equal(await scoreOf(item, t), 1, `${item.id}: correct output ${t} scores 1`);
            if (train.reward) equal(train.reward(item, t), 1, `${item.id}: reward of ${t}`);
          }
          const req = task.request(item, { shots: [] });
          if (correct && req.kind === "classify") {
            // A finite output space: every label outside `correct` is wrong.
            for (let y = 0; y < req.classes; y++) {
              if (correct.includes(y)) continue;
              equal(await scoreOf(item, y), 0, `${item.id}: label ${y} scores 0`);
              if (train.reward) equal(train.reward(item, y), 0, `${item.id}: reward of ${y}`);
            }
          }
        }
      });
    });
  }

  if (isHubTask(task)) {
    Deno.test(`${task.id}: a record missing a field is one ValidationError naming the file, row and field`, async () => {
      const dir = await Deno.makeTempDir();
      try {
        const [first, ...rest] = task.fixture.records!.test;
        const field = task.idField ?? Object.keys(first)[0];
        const broken = Object.fromEntries(Object.entries(first).filter(([k]) => k !== field));
        const columns = task.fixture.columns as Record<string, ColumnType> | undefined;
        const parquet = await writeFixture(dir, "broken", [...rest, broken], "parquet", {
          columns,
        });
        await rejects(
          loadTestFile(task, parquet),
          (e) =>
            e instanceof ValidationError && !e.message.includes("\n") &&
            // parquet has a column for every field: a record without one holds null there
            e.message.startsWith(`${parquet} row ${rest.length}: field '${field}' is null`),
        );
        if (task.needsImages) return; // image bytes have no JSON form
        const jsonl = await writeFixture(dir, "broken", [...rest, broken], "jsonl.gz");
        await rejects(
          loadTestFile(task, jsonl),
          (e) =>
            e instanceof ValidationError &&
            e.message === `${jsonl}:${rest.length + 1}: field '${field}' missing`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// What only some tasks promise.

Deno.test("parity_mnist: any label of the digit's parity is correct; fashion_mnist: exact label; a task bit tells them apart", () => {
  const parity = getTask("parity_mnist"), fashion = getTask("fashion_mnist");
  const seven = { id: "t", pixels: new Uint8Array(784), label: 7 };
  const acc = (t: AnyTask, label: number) =>
    (t.score(seven, { kind: "classify", label }, {}) as ItemScore).metrics.acc;
  const labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  deepEqual(labels.map((y) => acc(parity, y)), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  deepEqual(labels.map((y) => acc(fashion, y)), [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  deepEqual(parity.train!.labellings.sft1(seven), [1]);
  deepEqual(parity.train!.labellings.sft2(seven), [1, 5]);
  deepEqual(parity.train!.labellings.digit(seven), [7]);
  const x = (t: AnyTask) => (t.request(seven, { shots: [] }) as ClassifyRequest).x;
  equal(x(parity).length, 785);
  equal(x(parity)[784], 0, "task bit 0 for digits");
  equal(x(fashion)[784], 1, "task bit 1 for clothes");
});

Deno.test("image tasks: splits are stratified per class (sizes are per class) and inputs lie in [0, 1]", async () => {
  for (const id of ["parity_mnist", "fashion_mnist"]) {
    const task = getTask(id);
    const { splits, files } = await task.load({ seed: SEED, sizes: { test: 5, pretrain: 3 } });
    equal(files.length, task.source.files!.length, `${id}: every class file read`);
    equal(splits.test.length, 50, `${id}: 5 per class × 10 classes`);
    equal(splits.pretrain.length, 30);
    const perClass = new Map<number, number>();
    for (const it of splits.test as { label: number }[]) {
      perClass.set(it.label, (perClass.get(it.label) ?? 0) + 1);
    }
    deepEqual([...perClass.values()], Array(10).fill(5));
    for (const item of splits.test) {
      const { x } = task.request(item, { shots: [] }) as ClassifyRequest;
      ok(x.every((v) => v >= 0 && v <= 1), `${id} ${item.id}: pixels in [0, 1]`);
    }
  }
});
