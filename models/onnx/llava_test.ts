// Tests for models/onnx/llava.ts on onnxruntime-node directly: the vision encoder's image features
// match the float64 reference (patch order, GELU, projector), differ between images, and bad
// configs or weights are ValidationErrors.

import { deepEqual, notDeepEqual, ok, throws } from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { ValidationError } from "../../lib/errors.ts";
import { rng } from "../../lib/rng.ts";
import { erf, llavaImageFeatures } from "../llava_ref.ts";
import { randomLlavaVisionWeights } from "../tiny_llava.ts";
import { imageTokens, type LlavaVisionConfig, llavaVisionOnnx } from "./llava.ts";

const VISION: LlavaVisionConfig = {
  image_size: 12,
  patch_size: 4,
  num_channels: 3,
  hidden_size: 10,
};
const TEXT_HIDDEN = 8;

Deno.test("llavaVisionOnnx: image features match the float64 reference for a batch of images", async () => {
  const weights = randomLlavaVisionWeights(VISION, { textHidden: TEXT_HIDDEN, seed: 2 });
  const s = await ort.InferenceSession.create(
    llavaVisionOnnx(weights, { vision: VISION, textHidden: TEXT_HIDDEN }),
  );
  try {
    const T = imageTokens(VISION), per = 3 * 12 * 12;
    const r = rng(7);
    const images = [0, 1, 2].map(() => Float32Array.from({ length: per }, () => 4 * r.next() - 2));
    const { image_features: out } = await s.run({
      pixel_values: new ort.Tensor("float32", Float32Array.from(images.flatMap((x) => [...x])), [
        3,
        3,
        12,
        12,
      ]),
    });
    deepEqual(out.dims, [3, T, TEXT_HIDDEN]);
    const data = out.data as Float32Array;
    images.forEach((px, b) => {
      const ref = llavaImageFeatures(weights, { vision: VISION, textHidden: TEXT_HIDDEN }, px);
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < TEXT_HIDDEN; h++) {
          const got = data[(b * T + t) * TEXT_HIDDEN + h];
          ok(
            Math.abs(got - ref[t][h]) < 1e-4,
            `image ${b} token ${t} dim ${h}: ${got} vs ${ref[t][h]}`,
          );
        }
      }
    });
    notDeepEqual(data.slice(0, T * TEXT_HIDDEN), data.slice(T * TEXT_HIDDEN, 2 * T * TEXT_HIDDEN));
  } finally {
    await s.release();
  }
});

Deno.test("erf: matches known values", () => {
  for (
    const [x, want] of [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [
        -2,
        -0.9953222650189527,
      ],
      [3.5, 0.9999992569016276],
      [7, 1],
    ]
  ) {
    ok(Math.abs(erf(x) - want) < 1e-15, `erf(${x}) = ${erf(x)}`);
  }
});

Deno.test("llavaVisionOnnx: bad configs and weights are ValidationErrors", () => {
  const weights = randomLlavaVisionWeights(VISION, { textHidden: TEXT_HIDDEN, seed: 2 });
  throws(
    () =>
      llavaVisionOnnx(weights, { vision: { ...VISION, patch_size: 5 }, textHidden: TEXT_HIDDEN }),
    (e: Error) => e instanceof ValidationError && /not a multiple of patch_size 5/.test(e.message),
  );
  const missing = new Map(weights);
  missing.delete("multi_modal_projector.linear_2.bias");
  throws(
    () => llavaVisionOnnx(missing, { vision: VISION, textHidden: TEXT_HIDDEN }),
    /missing multi_modal_projector\.linear_2\.bias/,
  );
  throws(() => llavaVisionOnnx(weights, { vision: VISION, textHidden: 9 }), ValidationError);
});
