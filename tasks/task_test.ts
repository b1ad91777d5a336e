// defineTask rejects a broken declaration at load time with a ValidationError naming the task and
// the field, and gives a hub task (source.splits) its load from tasks/hub_data.ts.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { ValidationError } from "../lib/errors.ts";
import { writeFixture } from "../lib/published_files.ts";
import { hellaswag } from "./hellaswag.ts";
import { parityMnist } from "./parity_mnist.ts";
import { defineTask, type Item, type TaskSpec } from "./task.ts";

// deno-lint-ignore no-explicit-any
type AnySpec = TaskSpec<any>;

const broken = (base: AnySpec, patch: Partial<AnySpec>, re: RegExp) =>
  throws(
    () => defineTask({ ...base, ...patch }),
    (e) => e instanceof ValidationError && re.test(e.message),
    `expected ${re}`,
  );

Deno.test("defineTask: each broken field is a ValidationError naming the task and field", () => {
  const hub = hellaswag as AnySpec;
  broken(hub, { id: "Bad-Id" }, /^task 'Bad-Id': id must match/);
  broken(hub, { version: "v1" }, /^task 'hellaswag': version 'v1' must look like 1 or 1\.2$/);
  broken(
    hub,
    { kind: "core" as never },
    /^task 'hellaswag': kind must be 'downstream' or 'general', got 'core'$/,
  );
  broken(
    hub,
    { requestKind: "loglikelihood" as never },
    /^task 'hellaswag': requestKind must be one of classify, choices, generate, got 'loglikelihood'$/,
  );
  broken(hub, { metrics: [] }, /^task 'hellaswag': metrics must not be empty$/);
});

Deno.test("defineTask: hub files need a test split, repo 'org/name', a well-formed sha256, parse, idField and fixture records", () => {
  const hub = hellaswag as AnySpec;
  const src = hellaswag.source, test = src.splits!.test[0];
  broken(
    hub,
    { source: { ...src, splits: {} } },
    /^task 'hellaswag': source\.splits\.test must list at least one file$/,
  );
  broken(
    hub,
    { source: { ...src, splits: { test: [{ repo: "no-org", revision: "main", path: "x" }] } } },
    /^task 'hellaswag': hub file .* needs repo 'org\/name', revision and path$/,
  );
  broken(
    hub,
    { source: { ...src, splits: { test: [{ ...test, sha256: "abc" }] } } },
    /^task 'hellaswag': hub file data\/validation-00000-of-00001\.parquet has a malformed sha256$/,
  );
  broken(hub, { parse: undefined }, /^task 'hellaswag': a task with hub files .* needs parse/);
  broken(hub, { idField: undefined }, /^task 'hellaswag': a task with hub files needs idField/);
  broken(
    hub,
    { fixture: { ...hellaswag.fixture, records: { test: [] } } },
    /^task 'hellaswag': fixture\.records\.test must hold at least one published record$/,
  );
});

Deno.test("defineTask: package files need a sha256; a task without hub files needs load; train needs a labelling or a reward", () => {
  const image = parityMnist as AnySpec;
  const src = parityMnist.source;
  broken(
    image,
    { source: { ...src, files: [{ path: "mnist/src/digits/0.json", sha256: "abc" }] } },
    /^task 'parity_mnist': source file mnist\/src\/digits\/0\.json needs a 64-hex-digit sha256$/,
  );
  broken(image, { load: undefined }, /^task 'parity_mnist': needs load\(opts\), or hub files/);
  broken(
    image,
    { train: { labellings: {} } },
    /^task 'parity_mnist': train must declare at least one labelling or a reward$/,
  );
  broken(
    image,
    { train: { labellings: { oracle: () => [0] } } },
    /^task 'parity_mnist': train\.labellings: 'oracle' is reserved/,
  );
  // A reward alone is enough to train on (RL only).
  equal(defineTask({ ...image, train: { labellings: {}, reward: () => 1 } }).id, "parity_mnist");
});

Deno.test("defineTask: the declaration comes back frozen, and a hub task loads through its parse", async () => {
  ok(Object.isFrozen(hellaswag) && Object.isFrozen(parityMnist));
  interface Row extends Item {
    readonly q: string;
  }
  const tiny = defineTask<Row>({
    id: "tiny_hub",
    version: "1",
    kind: "general",
    description: "a two-record hub task",
    source: {
      description: "fixture",
      url: "https://example.org",
      license: "MIT",
      splits: { test: [{ repo: "org/tiny", revision: "main", path: "data/test.jsonl" }] },
    },
    requestKind: "generate",
    metrics: ["exact_match"],
    idField: "qid",
    parse: (rec, at) => {
      if (typeof rec.q !== "string") throw new ValidationError(at.where, "field 'q' missing");
      return { id: String(rec.qid), q: rec.q };
    },
    request: (item) => ({ kind: "generate", prompt: item.q, until: [], maxTokens: 1 }),
    target: () => "x",
    score: (_item, out) => ({
      metrics: { exact_match: out.kind === "generate" && out.outputs[0] === "x" ? 1 : 0 },
    }),
    fixture: {
      records: { test: [{ qid: 5, q: "a" }, { qid: 9, q: "b" }] },
      perfect: () => ({ kind: "generate", outputs: ["x"] }),
      wrong: () => ({ kind: "generate", outputs: ["y"] }),
    },
  });
  const dir = await Deno.makeTempDir();
  try {
    await writeFixture(join(dir, "tiny_hub"), "data/test", tiny.fixture.records!.test, "jsonl");
    const loaded = await tiny.load({
      seed: 0,
      data: { dataPath: dir, offline: true, cacheDir: join(dir, "cache") },
    });
    deepEqual(loaded.splits.test, [{ id: "5", q: "a" }, { id: "9", q: "b" }]);
    deepEqual(loaded.files.map((f) => [f.task, f.split, f.source]), [[
      "tiny_hub",
      "test",
      "local",
    ]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
