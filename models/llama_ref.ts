// An independent float64 Llama forward pass in plain TypeScript (RMSNorm, RoPE with HF's
// rotate_half convention and Llama-3's frequency rescaling, grouped-query causal attention with
// Qwen2's optional q/k/v biases, SwiGLU, lm_head): the reference the jax-js model, the ONNX export,
// the transformers.js backend and loaded checkpoints are tested against. It shares no code with
// them but the config type, and is written for clarity, not speed.

import { type LlamaConfig, type LlamaWeights, resolveLlamaConfig } from "./onnx/llama.ts";

function find(weights: LlamaWeights, name: string): Float32Array | undefined {
  return weights instanceof Map
    ? weights.get(name)
    : (weights as Record<string, Float32Array>)[name];
}

function get(weights: LlamaWeights, name: string): Float32Array {
  const w = find(weights, name);
  if (!w) throw new Error(`llama_ref: missing weight ${name}`);
  return w;
}

/** y = W x (+ b) for HF Linear W [out, in] and optional bias b [out]. */
function linear(w: Float32Array, x: Float64Array, out: number, b?: Float32Array): Float64Array {
  const inp = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inp; i++) s += w[o * inp + i] * x[i];
    y[o] = s;
  }
  return y;
}

/**
 * RoPE's per-pair angle rates for head width d: theta^(−2k/d), and with Llama-3's rope_scaling
 * the piecewise rescaling of Meta's reference (apply_scaling in llama/model.py, HF's
 * _compute_llama3_parameters): wavelength λ = 2π/f; λ < L/high kept, λ > L/low divided by
 * factor, otherwise (1 − s)·f/factor + s·f with s = (L/λ − low)/(high − low), L the original
 * context length.
 */
function angleRates(c: LlamaConfig, d: number): number[] {
  const rates: number[] = [];
  for (let k = 0; k < d / 2; k++) {
    const f = 1 / Math.pow(c.rope_theta, (2 * k) / d);
    const s = c.rope_scaling;
    if (!s) {
      rates.push(f);
      continue;
    }
    const L = s.original_max_position_embeddings, wavelen = (2 * Math.PI) / f;
    if (wavelen < L / s.high_freq_factor) rates.push(f);
    else if (wavelen > L / s.low_freq_factor) rates.push(f / s.factor);
    else {
      const smooth = (L / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      rates.push((1 - smooth) * (f / s.factor) + smooth * f);
    }
  }
  return rates;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]);
}

/** Rotates each head's [x1, x2] halves: x·cos + [-x2, x1]·sin, angle pos·rates[k]. */
function rope(x: Float64Array, heads: number, pos: number, rates: readonly number[]): void {
  const half = rates.length, d = 2 * half;
  for (let h = 0; h < heads; h++) {
    for (let k = 0; k < half; k++) {
      const angle = pos * rates[k];
      const c = Math.cos(angle), s = Math.sin(angle);
      const a = x[h * d + k], b = x[h * d + k + half];
      x[h * d + k] = a * c - b * s;
      x[h * d + k + half] = b * c + a * s;
    }
  }
}

/**
 * Logits [tokens.length][vocab] of an unpadded sequence at positions 0..n-1 (float64 throughout,
 * weights widened from float32).
 */
export function llamaLogits(
  weights: LlamaWeights,
  config: LlamaConfig,
  tokens: readonly number[],
): Float64Array[] {
  return llamaLogitsFromEmbeds(weights, config, llamaEmbed(weights, config, tokens));
}

/** The rows of `model.embed_tokens.weight` for `tokens`, widened to float64. */
export function llamaEmbed(
  weights: LlamaWeights,
  config: LlamaConfig,
  tokens: readonly number[],
): Float64Array[] {
  const H = resolveLlamaConfig(config).hidden_size;
  const embed = get(weights, "model.embed_tokens.weight");
  return tokens.map((t) => Float64Array.from(embed.subarray(t * H, (t + 1) * H)));
}

/**
 * Logits [embeds.length][vocab] for a sequence given as input embeddings (one hidden_size row per
 * position, positions 0..n-1): how a vision-language model's decoder sees text and image tokens.
 */
export function llamaLogitsFromEmbeds(
  weights: LlamaWeights,
  config: LlamaConfig,
  embeds: readonly Float64Array[],
): Float64Array[] {
  const c = resolveLlamaConfig(config);
  const H = c.hidden_size, D = c.head_dim, NH = c.num_attention_heads;
  const KV = c.num_key_value_heads, G = NH / KV, V = c.vocab_size, n = embeds.length;
  const embed = get(weights, "model.embed_tokens.weight");
  const rates = angleRates(c, D);
  let xs: Float64Array[] = embeds.map((e) => {
    if (e.length !== H) throw new Error(`llama_ref: embedding of width ${e.length}, want ${H}`);
    return Float64Array.from(e);
  });
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const qs: Float64Array[] = [], ks: Float64Array[] = [], vs: Float64Array[] = [];
    for (let t = 0; t < n; t++) {
      const xn = rmsNorm(xs[t], get(weights, `${p}.input_layernorm.weight`), c.rms_norm_eps);
      // Biases where the checkpoint has them (Qwen2; Llama with attention_bias).
      const proj = (n: string, out: number) =>
        linear(
          get(weights, `${p}.self_attn.${n}.weight`),
          xn,
          out,
          find(weights, `${p}.self_attn.${n}.bias`),
        );
      const q = proj("q_proj", NH * D), k = proj("k_proj", KV * D);
      rope(q, NH, t, rates);
      rope(k, KV, t, rates);
      qs.push(q);
      ks.push(k);
      vs.push(proj("v_proj", KV * D));
    }
    const next: Float64Array[] = [];
    for (let t = 0; t < n; t++) {
      const attn = new Float64Array(NH * D);
      for (let h = 0; h < NH; h++) {
        const kvh = Math.floor(h / G);
        const scores = new Float64Array(t + 1);
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          let s = 0;
          for (let e = 0; e < D; e++) s += qs[t][h * D + e] * ks[j][kvh * D + e];
          scores[j] = s / Math.sqrt(D);
          max = Math.max(max, scores[j]);
        }
        let z = 0;
        for (let j = 0; j <= t; j++) z += scores[j] = Math.exp(scores[j] - max);
        for (let j = 0; j <= t; j++) {
          for (let e = 0; e < D; e++) attn[h * D + e] += (scores[j] / z) * vs[j][kvh * D + e];
        }
      }
      const o = linear(get(weights, `${p}.self_attn.o_proj.weight`), attn, H);
      const x1 = xs[t].map((v, i) => v + o[i]);
      const hn = rmsNorm(x1, get(weights, `${p}.post_attention_layernorm.weight`), c.rms_norm_eps);
      const gate = linear(get(weights, `${p}.mlp.gate_proj.weight`), hn, c.intermediate_size);
      const up = linear(get(weights, `${p}.mlp.up_proj.weight`), hn, c.intermediate_size);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = linear(get(weights, `${p}.mlp.down_proj.weight`), act, H);
      next.push(x1.map((v, i) => v + down[i]));
    }
    xs = next;
  }
  const head = c.tie_word_embeddings ||
      !(weights instanceof Map ? weights.has("lm_head.weight") : "lm_head.weight" in weights)
    ? embed
    : get(weights, "lm_head.weight");
  return xs.map((x) =>
    linear(head, rmsNorm(x, get(weights, "model.norm.weight"), c.rms_norm_eps), V)
  );
}

/** log-softmax of one row. */
export function logSoftmax(row: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let z = 0;
  for (const v of row) z += Math.exp(v - max);
  const lse = max + Math.log(z);
  return row.map((v) => v - lse);
}

/** First index of the maximum (torch.argmax's tie rule). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * Σ log p(continuation | context) and whether each continuation token is the argmax, for token
 * ids (context must be non-empty).
 */
export function llamaLoglik(
  weights: LlamaWeights,
  config: LlamaConfig,
  ids: { context: readonly number[]; continuation: readonly number[] },
): { logprob: number; greedy: boolean } {
  const all = [...ids.context, ...ids.continuation];
  const logits = llamaLogits(weights, config, all.slice(0, -1));
  let logprob = 0, greedy = true;
  for (let k = 0; k < ids.continuation.length; k++) {
    const row = logits[ids.context.length - 1 + k];
    const tok = ids.continuation[k];
    logprob += logSoftmax(row)[tok];
    if (argmax(row) !== tok) greedy = false;
  }
  return { logprob, greedy };
}

/** Greedy decoding by full recomputation (no cache): up to `maxTokens` new ids, stopping after `eos`. */
export function llamaGreedy(
  weights: LlamaWeights,
  config: LlamaConfig,
  opts: { prompt: readonly number[]; maxTokens: number; eos?: number },
): number[] {
  const seq = [...opts.prompt], out: number[] = [];
  while (out.length < opts.maxTokens) {
    const logits = llamaLogits(weights, config, seq);
    const next = argmax(logits[logits.length - 1]);
    out.push(next);
    seq.push(next);
    if (next === opts.eos) break;
  }
  return out;
}
