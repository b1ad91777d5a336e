// The image loader's bad-input paths: each names the file and what is wrong.

import { equal, rejects, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { loadImageClasses, splitPerClass } from "./image_data.ts";

async function file(dir: string, name: string, text: string) {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return { path, sha256: await sha256Hex(new TextEncoder().encode(text)) };
}

const pixels = (v: number) => Array(784).fill(v);
const opts = { encoding: "nested-byte" as const, idPrefix: "t", where: "tasks/t.ts" };

Deno.test("loads rows, skips empty ones, and keeps the original index in the id", async () => {
  const dir = await Deno.makeTempDir();
  const f = await file(dir, "0.json", JSON.stringify({ data: [pixels(1), [], pixels(2)] }));
  const d = await loadImageClasses([f], opts);
  equal(d.items.length, 2);
  equal(d.skipped, 1);
  equal(d.items[1].id, "t-0-2");
  equal(d.items[1].pixels[0], 2);
  equal(d.checksums[f.path], f.sha256);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a missing, altered, non-JSON or malformed data file is an error naming it", async () => {
  const dir = await Deno.makeTempDir();
  const good = await file(dir, "ok.json", JSON.stringify({ data: [pixels(0)] }));
  const cases: [{ path: string; sha256: string }, RegExp][] = [
    [{ path: `${dir}/missing.json`, sha256: good.sha256 }, /missing\.json: cannot read data file/],
    [
      { ...good, sha256: "0".repeat(64) },
      /ok\.json: sha256 [0-9a-f]{64} does not match the pinned 0{64}/,
    ],
    [await file(dir, "bad.json", "{not json"), /bad\.json: not valid JSON/],
    [
      await file(dir, "short.json", JSON.stringify({ data: [[1, 2, 3]] })),
      /short\.json: data\[0\] must be an array of 784 pixels/,
    ],
    [
      await file(dir, "nodata.json", JSON.stringify({ rows: [] })),
      /nodata\.json: expected an object with a 'data' array/,
    ],
  ];
  for (const [f, message] of cases) {
    await rejects(
      loadImageClasses([f], opts),
      (e) =>
        e instanceof ValidationError && e.message.startsWith("tasks/t.ts: ") &&
        message.test(e.message),
    );
  }
  const flat = await file(dir, "flat.json", JSON.stringify({ data: [0.5, 0.5] }));
  await rejects(
    loadImageClasses([flat], { ...opts, encoding: "flat-unit" }),
    /flat\.json: 'data' length 2 is not a multiple of 784/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("splits that ask for more items than a class has are an error naming the class", () => {
  const items = Array.from(
    { length: 6 },
    (_, i) => ({ id: `x${i}`, pixels: new Uint8Array(784), label: i % 2 }),
  );
  throws(
    () =>
      splitPerClass({ items, checksums: {} }, {
        seed: 0,
        sizes: { heldout: 2, train: 2 },
        where: "tasks/t.ts",
      }),
    /tasks\/t\.ts: class 0 has 3 items but the splits ask for 4 per class/,
  );
});
