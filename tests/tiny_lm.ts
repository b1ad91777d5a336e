// The tiny LM architecture the tests train in seconds: the lm recipe's layout
// (runs/recipes/lm.ts) cut to 1 layer, d 32, SwiGLU 64, 2 query heads over 1 KV head.

import type { LlamaModelConfig } from "../models/llama.ts";
import { recipe } from "../runs/recipes/lm.ts";

export const TINY_LM_CONFIG: LlamaModelConfig = {
  ...(recipe.model.config as LlamaModelConfig),
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 16,
};
