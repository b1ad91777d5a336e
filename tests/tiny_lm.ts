// The tiny LM architecture the tests train in seconds: the default base's layout (runs/lm_base.ts)
// cut to 1 layer, d 32, SwiGLU 64, 2 query heads over 1 KV head.

import type { LlamaModelConfig } from "../models/llama.ts";
import { DEFAULT_LM_CONFIG } from "../runs/lm_base.ts";

export const TINY_LM_CONFIG: LlamaModelConfig = {
  ...DEFAULT_LM_CONFIG,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 16,
};
