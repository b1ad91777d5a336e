// Tests for what recipes that run offline generate: the tiny Qwen2.5 checkpoint a recipe names
// with `generate` (written once under the cache, byte-identical for a seed, read like any folder,
// its BPE merges learned from the fixtures as models/tiny_merges.json records them), the fixture
// data folder of `data: { fixtures: true }` (content-addressed, never half-written), and the
// llama family's checks of the new fields.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { FAMILIES, generatedCheckpoint, TINY_MERGES } from "../models/families.ts";
import type { LlamaPolicy } from "../models/llama_policy.ts";
import { fixtureDataFolder, fixtureTexts, tinyMergesJson } from "../runs/fixtures.ts";
import { getTask } from "../tasks/mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fb-generated-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out[e.name] = await sha256Hex(await Deno.readFile(join(dir, e.name)));
  }
  return out;
}

Deno.test("models/tiny_merges.json is what training BPE on the fixtures gives", async () => {
  const file = await Deno.readTextFile(new URL("../models/tiny_merges.json", import.meta.url));
  deepEqual(
    JSON.parse(file),
    JSON.parse(tinyMergesJson()),
    "a fixture changed: run `deno run -A tests/task_fixtures.ts --merges` to relearn the merges",
  );
  equal(TINY_MERGES.length, 1024);
  ok(fixtureTexts().length > 100);
});

Deno.test(
  "generate: a tiny Qwen2.5 written once under the cache, byte-identical per seed, opened as a folder",
  opts,
  () =>
    withDir(async (dir) => {
      const a = await generatedCheckpoint("tiny-qwen2.5", 0, join(dir, "c1"));
      const b = await generatedCheckpoint("tiny-qwen2.5", 0, join(dir, "c2"));
      equal(a, join(dir, "c1", "models", "generated", "tiny-qwen2.5-seed0"));
      const ha = await hashes(a);
      deepEqual(ha, await hashes(b), "same seed, same bytes");
      for (const f of ["config.json", "model.safetensors", "tokenizer.json", "merges.txt"]) {
        ok(ha[f], f);
      }
      // A second call reuses the folder; no half-written folder is left beside it.
      const mtime = (await Deno.stat(join(a, "model.safetensors"))).mtime;
      equal(await generatedCheckpoint("tiny-qwen2.5", 0, join(dir, "c1")), a);
      deepEqual((await Deno.stat(join(a, "model.safetensors"))).mtime, mtime);
      const names = [...Deno.readDirSync(join(dir, "c1", "models", "generated"))].map((e) =>
        e.name
      );
      deepEqual(names, ["tiny-qwen2.5-seed0"]);
      notSame(ha, await hashes(await generatedCheckpoint("tiny-qwen2.5", 1, join(dir, "c1"))));
      // The recipe's spec opens it with its tokenizer and chat template, merges as learned.
      const spec = FAMILIES.llama.parse(
        { family: "llama", generate: "tiny-qwen2.5", chat: true },
        "model",
      );
      deepEqual(spec, { family: "llama", generate: "tiny-qwen2.5", seed: 0, chat: true });
      const p = await FAMILIES.llama.open(spec, {
        seed: 0,
        device: "wasm",
        cacheDir: join(dir, "c1"),
      }) as LlamaPolicy;
      try {
        equal(p.config.model_type, "qwen2");
        equal(p.dtype, "BF16");
        const text = "Balance the equation: Na + H2O -> NaOH + H2";
        ok(p.countTokens!(text) * 2 < text.length, "learned merges compress");
        ok(p.files.some((f) => f.name === "model.safetensors" && f.sha256.length === 64));
      } finally {
        await p.dispose();
      }
    }),
);

function notSame(a: Record<string, string>, b: Record<string, string>): void {
  ok(a["model.safetensors"] !== b["model.safetensors"], "another seed, other weights");
}

Deno.test("the llama family's generate and seed fields: every misuse names the field", () => {
  const parse = (raw: Record<string, unknown>) =>
    FAMILIES.llama.parse({ family: "llama", ...raw }, "r.ts: model");
  const fails = (raw: Record<string, unknown>, re: RegExp) =>
    throws(() => parse(raw), (e: unknown) => e instanceof ValidationError && re.test(e.message));
  fails(
    { generate: "tiny-gpt" },
    /^r\.ts: model\.generate: unknown generated checkpoint 'tiny-gpt' \(known: tiny-qwen2\.5, tiny-llama3\)/,
  );
  fails({ generate: "tiny-qwen2.5", source: "x" }, /^r\.ts: model: give exactly one of config/);
  fails({}, /^r\.ts: model: give exactly one of config/);
  fails({ source: "x", seed: 1 }, /^r\.ts: model\.seed: only a generated checkpoint takes a seed/);
  fails({ generate: "tiny-qwen2.5", seed: -1 }, /^r\.ts: model\.seed: must be an integer ≥ 0/);
  fails(
    { generate: "tiny-qwen2.5", tokenizer: "char", chat: true },
    /^r\.ts: model\.chat: chat formatting needs a checkpoint's own tokenizer/,
  );
  deepEqual(parse({ generate: "tiny-llama3", seed: 2, dtype: "F32" }), {
    family: "llama",
    generate: "tiny-llama3",
    seed: 2,
    dtype: "F32",
  });
});

Deno.test(
  "data.fixtures: the tasks' fixture files in one content-addressed folder under the cache",
  opts,
  () =>
    withDir(async (dir) => {
      const tasks = ["toolalpaca", "orz_math", "hellaswag", "copy"].map((t) => getTask(t, "t"));
      const a = await fixtureDataFolder(tasks, dir);
      ok(a.startsWith(join(dir, "fixtures") + "/"));
      // The same tasks in another order: the same folder; only finished folders are left.
      equal(await fixtureDataFolder([...tasks].reverse(), dir), a);
      deepEqual([...Deno.readDirSync(join(dir, "fixtures"))].map((e) => e.name), [
        a.split("/").at(-1),
      ]);
      // One folder per task, its files at their hub paths; `copy` (generated) has none.
      deepEqual(
        [...Deno.readDirSync(a)].map((e) => e.name).sort(),
        ["hellaswag", "orz_math", "toolalpaca"],
      );
      // Loading through it reads the published formats offline.
      const loaded = await getTask("toolalpaca", "t").load({
        seed: 0,
        data: { dataPath: a, offline: true },
      });
      ok(loaded.splits.test.length > 0 && loaded.splits.train.length > 0);
      // Fewer tasks are other contents, so another folder.
      ok((await fixtureDataFolder(tasks.slice(0, 1), dir)) !== a);
    }),
);
