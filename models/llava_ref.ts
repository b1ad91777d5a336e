// An independent float64 reference for the image side of the tiny LLaVA (patch embedding,
// position embeddings, GELU projector) and for the decoder's input sequence, written for clarity:
// what models/onnx/llava.ts and transformers.js's image-token merge are tested against.

import type { LlamaConfig, LlamaWeights } from "./onnx/llama.ts";
import { llamaEmbed } from "./llama_ref.ts";
import { imageTokens, type LlavaVisionConfig, type VisionWeights } from "./onnx/llava.ts";

function get(weights: VisionWeights, name: string): Float32Array {
  const w = weights.get(name);
  if (!w) throw new Error(`llava_ref: missing weight ${name}`);
  return w;
}

/**
 * erf by its everywhere-convergent series of positive terms,
 * erf(x) = 2/√π · e^(−x²) · Σ_n 2^n x^(2n+1) / (1·3·…·(2n+1)), so no cancellation; beyond
 * |x| = 6 erf is ±1 to within 1e-17.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let term = ax, sum = ax;
  for (let n = 1; term > 1e-17 * sum; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

/**
 * Image features [image_tokens][textHidden] of one preprocessed image, `pixels` the processor's
 * pixel_values for it: [channels, image_size, image_size] row-major.
 */
export function llavaImageFeatures(
  weights: VisionWeights,
  opts: { vision: LlavaVisionConfig; textHidden: number },
  pixels: ArrayLike<number>,
): Float64Array[] {
  const v = opts.vision, C = v.num_channels, P = v.patch_size, R = v.image_size;
  const G = R / P, HV = v.hidden_size, H = opts.textHidden, K = C * P * P;
  if (pixels.length !== C * R * R) {
    throw new Error(`llava_ref: ${pixels.length} pixel values, want ${C}x${R}x${R}`);
  }
  const e = "vision_tower.vision_model.embeddings";
  const patchW = get(weights, `${e}.patch_embedding.weight`); // [HV, C, P, P]
  const posW = get(weights, `${e}.position_embedding.weight`);
  const l1 = get(weights, "multi_modal_projector.linear_1.weight");
  const b1 = get(weights, "multi_modal_projector.linear_1.bias");
  const l2 = get(weights, "multi_modal_projector.linear_2.weight");
  const b2 = get(weights, "multi_modal_projector.linear_2.bias");
  const out: Float64Array[] = [];
  for (let t = 0; t < imageTokens(v); t++) {
    const py = Math.floor(t / G), px = t % G;
    // Conv2d with stride = kernel = P: one dot product per output channel over the patch.
    const x = new Float64Array(HV);
    for (let o = 0; o < HV; o++) {
      let s = posW[t * HV + o];
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < P; i++) {
          for (let j = 0; j < P; j++) {
            const pixel = pixels[c * R * R + (py * P + i) * R + (px * P + j)];
            s += patchW[o * K + c * P * P + i * P + j] * pixel;
          }
        }
      }
      x[o] = s;
    }
    const h = new Float64Array(H);
    for (let o = 0; o < H; o++) {
      let s = b1[o];
      for (let i = 0; i < HV; i++) s += l1[o * HV + i] * x[i];
      h[o] = 0.5 * s * (1 + erf(s / Math.SQRT2));
    }
    const y = new Float64Array(H);
    for (let o = 0; o < H; o++) {
      let s = b2[o];
      for (let i = 0; i < H; i++) s += l2[o * H + i] * h[i];
      y[o] = s;
    }
    out.push(y);
  }
  return out;
}

/**
 * The decoder's input rows for `tokens` where every `imageTokenId` takes the next image feature
 * row in order (HF's masked_scatter), as transformers.js's LLaVA merge does.
 */
export function llavaInputsEmbeds(
  weights: LlamaWeights,
  config: LlamaConfig,
  opts: { tokens: readonly number[]; imageTokenId: number; features: readonly Float64Array[] },
): Float64Array[] {
  const rows = llamaEmbed(weights, config, opts.tokens);
  let next = 0;
  opts.tokens.forEach((t, i) => {
    if (t !== opts.imageTokenId) return;
    if (next >= opts.features.length) throw new Error("llava_ref: more image tokens than features");
    rows[i] = Float64Array.from(opts.features[next++]);
  });
  if (next !== opts.features.length) {
    throw new Error(`llava_ref: ${next} image tokens for ${opts.features.length} features`);
  }
  return rows;
}
