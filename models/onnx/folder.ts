// Writes a Llama-layout model (Llama, Llama-3, Qwen2) as a Hugging Face model folder that
// transformers.js loads and runs: config.json, generation_config.json, the tokenizer files, and
// onnx/model.onnx (./llama.ts).
// Used by models/llama_io.ts's exportOnnx and by the tiny test fixture models/tiny_llama.ts.

import { writeBytesAtomic, writeTextAtomic } from "../../lib/atomic.ts";
import { type TokenizerFiles, writeTokenizerFiles } from "../tokenizer_files.ts";
import {
  llamaArchitectureJson,
  type LlamaConfig,
  llamaOnnx,
  type LlamaWeights,
  type ResolvedLlamaConfig,
  resolveLlamaConfig,
} from "./llama.ts";

/**
 * What {@link writeOnnxFolder} writes: the architecture (Llama, or Qwen2 with q/k/v biases in the
 * weights), its weights by HF name, a tokenizer.
 */
export interface OnnxFolderModel {
  readonly config: LlamaConfig & { model_type?: "llama" | "qwen2"; attention_bias?: boolean };
  readonly weights: LlamaWeights;
  readonly tokenizer: TokenizerFiles;
}

/** A Llama decoder's config.json fields, with the tokenizer's special ids (LLaVA's text_config). */
export function llamaTextConfig(
  c: ResolvedLlamaConfig,
  tok: Pick<TokenizerFiles, "bosId" | "eosId" | "padId">,
): Record<string, unknown> {
  return {
    model_type: "llama",
    ...llamaArchitectureJson(c),
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: tok.bosId,
    eos_token_id: tok.eosId,
    pad_token_id: tok.padId,
    torch_dtype: "float32",
  };
}

/**
 * Writes `model` into `dir` (created if missing) as a transformers.js model folder; the
 * tokenizer's bos/eos/pad ids go into config.json and generation_config.json. Same inputs →
 * byte-identical files.
 *
 * @example
 * await writeOnnxFolder("out/tiny", { config, weights, tokenizer: byteLevelTokenizer() });
 * const lm = await loadOnnxLm("out/tiny", { device: "cpu" });
 */
export async function writeOnnxFolder(dir: string, model: OnnxFolderModel): Promise<void> {
  const c = resolveLlamaConfig(model.config);
  const tok = model.tokenizer;
  await Deno.mkdir(`${dir}/onnx`, { recursive: true });
  const text = llamaTextConfig(c, tok);
  const config = model.config.model_type === "qwen2"
    ? {
      architectures: ["Qwen2ForCausalLM"],
      ...text,
      model_type: "qwen2",
      attention_bias: undefined,
      mlp_bias: undefined,
      use_sliding_window: false,
      use_cache: true,
    }
    : {
      architectures: ["LlamaForCausalLM"],
      ...text,
      attention_bias: model.config.attention_bias ?? false,
      use_cache: true,
    };
  const generation = {
    bos_token_id: tok.bosId,
    eos_token_id: tok.eosId,
    pad_token_id: tok.padId,
  };
  await writeTextAtomic(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  await writeTextAtomic(
    `${dir}/generation_config.json`,
    JSON.stringify(generation, null, 2) + "\n",
  );
  await writeTokenizerFiles(dir, tok);
  await writeBytesAtomic(`${dir}/onnx/model.onnx`, llamaOnnx(model.weights, c));
}
