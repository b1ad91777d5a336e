// A tiny random LLaVA as a complete model folder in the layout transformers.js's
// LlavaForConditionalGeneration loads: the offline fixture for vision-language evaluation (MMMU).
// Same seed → byte-identical files.
//
//
// transformers.js 4.3.1 runs model_type "llava" as an image-text-to-text model with three
// sessions, each onnx/<name>.onnx: `embed_tokens` (input_ids → inputs_embeds), `vision_encoder`
// (pixel_values → image_features [images, tokens, hidden]) and `decoder_model_merged`
// (inputs_embeds, attention_mask, position_ids, past_key_values.* → logits, present.*). Its
// LlavaProcessor expands the first `image_token` of each text to (image side / patch_size)² +
// num_additional_image_tokens copies (processor_config.json), and the model scatters the image
// features over the `image_token_index` positions.

import { writeBytesAtomic, writeTextAtomic } from "../lib/atomic.ts";
import { hashString, rng } from "../lib/rng.ts";
import { llamaTextConfig } from "./onnx/folder.ts";
import { embedTokensOnnx, type LlamaConfig, llamaOnnx, resolveLlamaConfig } from "./onnx/llama.ts";
import {
  imageTokens,
  type LlavaVisionConfig,
  llavaVisionOnnx,
  llavaVisionWeightShapes,
} from "./onnx/llava.ts";
import { randomLlamaWeights, tinyLlamaConfig } from "./tiny_llama.ts";
import {
  type ByteLevelTokenizer,
  byteLevelTokenizer,
  writeTokenizerFiles,
} from "./tokenizer_files.ts";

/** The image placeholder token, as in llava-hf models. */
export const IMAGE_TOKEN = "<image>";

/**
 * LLaVA-1.5's vicuna_v1 conversation (the one MMMU's run_llava.py uses) as a chat template:
 * "<s>SYSTEM USER: {content} ASSISTANT:".
 */
export const VICUNA_CHAT_TEMPLATE = "{{ bos_token }}A chat between a curious human and an " +
  "artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers " +
  "to the human's questions.{% for message in messages %}" +
  "{% if message['role'] == 'user' %}{{ ' USER: ' + message['content'] }}" +
  "{% elif message['role'] == 'assistant' %}{{ ' ASSISTANT: ' + message['content'] + eos_token }}" +
  "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ ' ASSISTANT:' }}{% endif %}";

/** CLIP's normalisation constants (llava-1.5's image processor). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** The fixture's vision side: 16×16 RGB images in 8×8 patches, so 4 image tokens. */
export function tinyLlavaVisionConfig(): LlavaVisionConfig {
  return { image_size: 16, patch_size: 8, num_channels: 3, hidden_size: 32 };
}

/** A random LLaVA: text and vision configs, weights in HF names, tokenizer, image token id. */
export interface RandomLlava {
  readonly text: LlamaConfig;
  readonly vision: LlavaVisionConfig;
  /** The language model's weights (HF LlamaForCausalLM names). */
  readonly weights: Map<string, Float32Array>;
  /** Vision tower and projector weights (HF LlavaForConditionalGeneration names). */
  readonly visionWeights: Map<string, Float32Array>;
  readonly tokenizer: ByteLevelTokenizer;
  readonly imageTokenId: number;
}

/**
 * Vision weights from `seed`, uniform so that projected image features have roughly the spread
 * of the token embeddings (std ≈ 1) and so visibly change what the decoder does.
 */
export function randomLlavaVisionWeights(
  vision: LlavaVisionConfig,
  opts: { textHidden: number; seed: number },
): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of llavaVisionWeightShapes(vision, { textHidden: opts.textHidden })) {
    const r = rng(opts.seed, hashString(name));
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 1 ? 1 : n / shape[0];
    const std = name.endsWith(".bias")
      ? 0.1
      : name.endsWith("position_embedding.weight")
      ? 0.5
      : name.startsWith("multi_modal_projector.linear_2")
      ? 1.5 / Math.sqrt(fanIn)
      : 1 / Math.sqrt(fanIn);
    const halfWidth = std * Math.sqrt(3);
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = halfWidth * (2 * r.next() - 1);
    weights.set(name, w);
  }
  return weights;
}

/** The tiny fixture VLM for `seed`: the tiny Llama's text config plus an `<image>` token. */
export function tinyLlava(opts: { seed: number }): RandomLlava {
  const tokenizer = byteLevelTokenizer({
    modelMaxLength: 2048,
    extraSpecialTokens: [IMAGE_TOKEN],
    chatTemplate: VICUNA_CHAT_TEMPLATE,
  });
  const text = tinyLlamaConfig(tokenizer.vocabSize);
  const vision = tinyLlavaVisionConfig();
  return {
    text,
    vision,
    weights: randomLlamaWeights(text, opts.seed),
    visionWeights: randomLlavaVisionWeights(vision, {
      textHidden: text.hidden_size,
      seed: opts.seed,
    }),
    tokenizer,
    imageTokenId: tokenizer.vocabSize - 1,
  };
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

/** Writes a random LLaVA as a model folder transformers.js loads; creates `dir`. */
export async function writeLlavaFolder(dir: string, model: RandomLlava): Promise<void> {
  const c = resolveLlamaConfig(model.text);
  const v = model.vision;
  const tok = model.tokenizer;
  await Deno.mkdir(`${dir}/onnx`, { recursive: true });
  const textConfig = llamaTextConfig(c, tok);
  const config = {
    architectures: ["LlavaForConditionalGeneration"],
    model_type: "llava",
    image_token_index: model.imageTokenId,
    image_seq_length: imageTokens(v),
    projector_hidden_act: "gelu",
    // The vision tower here is only its embeddings (no CLS token), so every output is kept.
    vision_feature_layer: -1,
    vision_feature_select_strategy: "full",
    vision_config: {
      model_type: "clip_vision_model",
      image_size: v.image_size,
      patch_size: v.patch_size,
      num_channels: v.num_channels,
      hidden_size: v.hidden_size,
      num_hidden_layers: 0,
    },
    text_config: textConfig,
    tie_word_embeddings: c.tie_word_embeddings ?? false,
    torch_dtype: "float32",
    use_cache: true,
  };
  const generation = { bos_token_id: tok.bosId, eos_token_id: tok.eosId, pad_token_id: tok.padId };
  const preprocessor = {
    image_processor_type: "CLIPImageProcessor",
    processor_class: "LlavaProcessor",
    do_resize: true,
    size: { shortest_edge: v.image_size },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: v.image_size, width: v.image_size },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: CLIP_MEAN,
    image_std: CLIP_STD,
    do_convert_rgb: true,
  };
  const processor = {
    processor_class: "LlavaProcessor",
    image_token: IMAGE_TOKEN,
    patch_size: v.patch_size,
    num_additional_image_tokens: 0,
    vision_feature_select_strategy: "full",
  };
  await writeTextAtomic(`${dir}/config.json`, json(config));
  await writeTextAtomic(`${dir}/generation_config.json`, json(generation));
  await writeTextAtomic(`${dir}/preprocessor_config.json`, json(preprocessor));
  await writeTextAtomic(`${dir}/processor_config.json`, json(processor));
  await writeTokenizerFiles(dir, tok);
  await writeBytesAtomic(`${dir}/onnx/embed_tokens.onnx`, embedTokensOnnx(model.weights, c));
  await writeBytesAtomic(
    `${dir}/onnx/vision_encoder.onnx`,
    llavaVisionOnnx(model.visionWeights, { vision: v, textHidden: c.hidden_size }),
  );
  await writeBytesAtomic(
    `${dir}/onnx/decoder_model_merged.onnx`,
    llamaOnnx(model.weights, c, { inputsEmbeds: true }),
  );
}

/**
 * Writes the tiny fixture VLM for `seed` into `dir` and returns the model (for reference
 * computations in tests).
 */
export async function writeTinyLlava(dir: string, opts: { seed: number }): Promise<RandomLlava> {
  const model = tinyLlava(opts);
  await writeLlavaFolder(dir, model);
  return model;
}
