// Tests for lib/png.ts: the bytes are a valid PNG that an independent decoder (sharp, through
// transformers.js's RawImage) reads back pixel for pixel, including images over one deflate block.

import { deepEqual, equal, throws } from "node:assert/strict";
import { RawImage } from "@huggingface/transformers";
import { encodePng } from "./png.ts";

async function decode(bytes: Uint8Array): Promise<RawImage> {
  return await RawImage.fromBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]));
}

Deno.test("encodePng: decodes back to the same pixels, deterministically", async () => {
  for (const [width, height] of [[1, 1], [16, 16], [7, 3], [160, 150]]) {
    // 160×150×3 + rows is over 65535 bytes: several stored blocks.
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 131 + 7) % 256);
    const png = encodePng(rgb, { width, height });
    deepEqual(png, encodePng(rgb, { width, height }));
    const img = await decode(png);
    equal(img.width, width);
    equal(img.height, height);
    deepEqual(Uint8Array.from(img.rgb().data), rgb, `${width}x${height}`);
  }
});

Deno.test("encodePng: bad sizes are RangeErrors", () => {
  throws(() => encodePng(new Uint8Array(5), { width: 1, height: 1 }), RangeError);
  throws(() => encodePng(new Uint8Array(0), { width: 0, height: 1 }), RangeError);
});
