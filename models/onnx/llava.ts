// Exports the image half of a LLaVA-layout vision-language model as transformers.js's
// `vision_encoder` session: non-overlapping patches → linear patch embedding + position
// embeddings → the two-layer GELU multi-modal projector into the language model's hidden size.

import { ValidationError } from "../../lib/errors.ts";
import { DataType, encodeModel } from "./proto.ts";
import { GraphBuilder, transpose } from "./llama.ts";

/** The vision_config fields the graph depends on (snake_case, as in config.json). */
export interface LlavaVisionConfig {
  /** Square input side in pixels (the image processor's crop size). */
  readonly image_size: number;
  /** Square patch side; image_size must be a multiple. */
  readonly patch_size: number;
  readonly num_channels: number;
  /** Width of the patch embeddings (the vision tower's hidden size). */
  readonly hidden_size: number;
}

/** Image tokens per image: one per patch (no CLS token, so nothing to drop). */
export function imageTokens(vision: LlavaVisionConfig): number {
  return (vision.image_size / vision.patch_size) ** 2;
}

function checkVision(vision: LlavaVisionConfig): void {
  for (const k of ["image_size", "patch_size", "num_channels", "hidden_size"] as const) {
    if (!Number.isInteger(vision[k]) || vision[k] <= 0) {
      throw new ValidationError("llava vision config", `${k} must be a positive integer`);
    }
  }
  if (vision.image_size % vision.patch_size !== 0) {
    throw new ValidationError(
      "llava vision config",
      `image_size ${vision.image_size} is not a multiple of patch_size ${vision.patch_size}`,
    );
  }
}

/**
 * The Hugging Face name → shape of every vision-side weight: the patch embedding is a Conv2d
 * weight [hidden, channels, patch, patch] (stride = patch), so it is a Linear over each patch
 * flattened channel-major; the projector maps to the text model's `textHidden`.
 */
export function llavaVisionWeightShapes(
  vision: LlavaVisionConfig,
  opts: { textHidden: number },
): Map<string, number[]> {
  checkVision(vision);
  const hv = vision.hidden_size, h = opts.textHidden, p = vision.patch_size;
  const e = "vision_tower.vision_model.embeddings";
  return new Map([
    [`${e}.patch_embedding.weight`, [hv, vision.num_channels, p, p]],
    [`${e}.position_embedding.weight`, [imageTokens(vision), hv]],
    ["multi_modal_projector.linear_1.weight", [h, hv]],
    ["multi_modal_projector.linear_1.bias", [h]],
    ["multi_modal_projector.linear_2.weight", [h, h]],
    ["multi_modal_projector.linear_2.bias", [h]],
  ]);
}

/** Weights by Hugging Face name. */
export type VisionWeights = ReadonlyMap<string, Float32Array>;

function weight(weights: VisionWeights, name: string, shape: readonly number[]): Float32Array {
  const w = weights.get(name);
  if (!w) throw new ValidationError("llava weights", `missing ${name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (w.length !== n) {
    throw new ValidationError("llava weights", `${name} has ${w.length} values, want [${shape}]`);
  }
  return w;
}

/**
 * Builds the ONNX bytes of the vision encoder. Input `pixel_values` float32 [num_images,
 * channels, image_size, image_size] (what the image processor emits); output `image_features`
 * float32 [num_images, image_tokens, textHidden], patches in row-major order. GELU is the exact
 * erf form (HF's "gelu"), so the float64 reference can follow it closely.
 *
 * @example
 * const bytes = llavaVisionOnnx(weights, { vision, textHidden: 64 });
 */
export function llavaVisionOnnx(
  weights: VisionWeights,
  opts: { vision: LlavaVisionConfig; textHidden: number },
): Uint8Array {
  const v = opts.vision;
  const shapes = llavaVisionWeightShapes(v, { textHidden: opts.textHidden });
  const C = v.num_channels, P = v.patch_size, G = v.image_size / P, T = G * G;
  const HV = v.hidden_size, H = opts.textHidden, K = C * P * P;
  const g = new GraphBuilder();
  const w = (name: string) => weight(weights, name, shapes.get(name)!);
  const e = "vision_tower.vision_model.embeddings";
  const scope = "/vision_tower/embeddings";

  // [N, C, G·P, G·P] → [N, G, G, C, P, P] → [N, T, C·P·P]: each row one patch, channel-major.
  const patches = g.op("Reshape", [
    g.op("Transpose", [g.op("Reshape", ["pixel_values", g.ints([0, C, G, P, G, P])], { scope })], {
      attrs: [{ name: "perm", ints: [0, 2, 4, 1, 3, 5] }],
      scope,
    }),
    g.ints([0, T, K]),
  ], { scope });
  const patchW = g.weight(
    `${e}.patch_embedding.weight.T`,
    [K, HV],
    transpose(w(`${e}.patch_embedding.weight`), HV, K),
  );
  const pos = g.weight(
    `${e}.position_embedding.weight`,
    [T, HV],
    w(`${e}.position_embedding.weight`),
  );
  const x = g.op("Add", [g.op("MatMul", [patches, patchW], { scope }), pos], { scope });

  const proj = "/multi_modal_projector";
  const linear = (input: string, name: string, out: number, inp: number) =>
    g.op("Add", [
      g.op("MatMul", [
        input,
        g.weight(`${name}.weight.T`, [inp, out], transpose(w(`${name}.weight`), out, inp)),
      ], { scope: proj }),
      g.weight(`${name}.bias`, [out], w(`${name}.bias`)),
    ], { scope: proj });
  const h1 = linear(x, "multi_modal_projector.linear_1", H, HV);
  // GELU(x) = x · (1 + erf(x / √2)) / 2.
  const erf = g.op("Erf", [g.op("Mul", [h1, g.floats([Math.SQRT1_2], true)], { scope: proj })], {
    scope: proj,
  });
  const gelu = g.op("Mul", [
    g.op("Mul", [h1, g.op("Add", [erf, g.floats([1], true)], { scope: proj })], { scope: proj }),
    g.floats([0.5], true),
  ], { scope: proj });
  const out = linear(gelu, "multi_modal_projector.linear_2", H, H);
  g.op("Identity", [out], { output: "image_features", scope: proj });

  return encodeModel({
    graph: {
      name: "vision_encoder",
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{
        name: "pixel_values",
        elemType: DataType.FLOAT,
        shape: ["num_images", C, v.image_size, v.image_size],
      }],
      outputs: [{ name: "image_features", elemType: DataType.FLOAT, shape: ["num_images", T, H] }],
    },
    irVersion: 8,
    opset: 17,
    producerName: "forgetbench",
  });
}
