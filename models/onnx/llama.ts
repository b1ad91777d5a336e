// Exports a Llama-layout decoder (RMSNorm, RoPE with optional Llama-3 rescaling, grouped-query
// attention with optional Qwen2 q/k/v biases, SwiGLU) from weights in Hugging Face names to an
// ONNX graph with the inputs and outputs of an optimum export, so transformers.js runs it like any
// hub ONNX LLM (KV cache included), or, fed inputs_embeds, as the language half of a
// vision-language model. Standard ai.onnx ops only.

import { ValidationError } from "../../lib/errors.ts";
import {
  type AttributeProto,
  DataType,
  encodeModel,
  floatTensor,
  int64Tensor,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.ts";

/** The Hugging Face LlamaConfig fields the graph depends on (snake_case, as in config.json). */
export interface LlamaConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  /** Key/value heads (grouped-query attention); defaults to num_attention_heads. */
  readonly num_key_value_heads?: number;
  /** Defaults to hidden_size / num_attention_heads. */
  readonly head_dim?: number;
  readonly rms_norm_eps: number;
  readonly rope_theta: number;
  readonly max_position_embeddings: number;
  /** When true (or lm_head.weight is absent) the output projection reuses embed_tokens. */
  readonly tie_word_embeddings?: boolean;
  /** Llama-3's RoPE frequency rescaling; absent or null for plain RoPE. */
  readonly rope_scaling?: RopeScaling | null;
}

/**
 * config.json's `rope_scaling` of Llama 3.1+ (`rope_type` "llama3"): low frequencies divided by
 * `factor`, high ones kept, a smooth blend between (HF's _compute_llama3_parameters).
 */
export interface RopeScaling {
  readonly rope_type: "llama3";
  readonly factor: number;
  readonly low_freq_factor: number;
  readonly high_freq_factor: number;
  readonly original_max_position_embeddings: number;
}

/**
 * RoPE's inverse frequencies θ^(−2k/D), k < D/2, in float64, rescaled as HF's
 * _compute_llama3_parameters does when `rope_scaling` is Llama-3's: wavelengths 2π/f longer than
 * original_max_position_embeddings / low_freq_factor are divided by `factor`, those shorter than
 * original_max_position_embeddings / high_freq_factor kept, and those between blended with
 * smooth = (original / wavelength − low) / (high − low), f ← (1 − smooth)·f/factor + smooth·f.
 */
export function ropeInverseFrequencies(
  c: { head_dim: number; rope_theta: number; rope_scaling?: RopeScaling | null },
): Float64Array {
  const d = c.head_dim, out = new Float64Array(d / 2);
  for (let k = 0; k < d / 2; k++) out[k] = 1 / Math.pow(c.rope_theta, (2 * k) / d);
  const s = c.rope_scaling;
  if (!s) return out;
  const old = s.original_max_position_embeddings;
  const lowWavelen = old / s.low_freq_factor, highWavelen = old / s.high_freq_factor;
  for (let k = 0; k < out.length; k++) {
    const f = out[k], wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) continue;
    if (wavelen > lowWavelen) out[k] = f / s.factor;
    else {
      const smooth = (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      out[k] = (1 - smooth) * (f / s.factor) + smooth * f;
    }
  }
  return out;
}

/** Weights by Hugging Face name; Linear weights are [out, in], row-major. */
export type LlamaWeights =
  | ReadonlyMap<string, Float32Array>
  | Readonly<Record<string, Float32Array>>;

/** Config with defaults filled in. */
export interface ResolvedLlamaConfig extends LlamaConfig {
  readonly num_key_value_heads: number;
  readonly head_dim: number;
}

/** The architecture fields of a Hugging Face Llama config.json (every writer of one shares them). */
export function llamaArchitectureJson(c: ResolvedLlamaConfig): Record<string, unknown> {
  return {
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    intermediate_size: c.intermediate_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    num_key_value_heads: c.num_key_value_heads,
    head_dim: c.head_dim,
    hidden_act: "silu",
    max_position_embeddings: c.max_position_embeddings,
    rms_norm_eps: c.rms_norm_eps,
    rope_theta: c.rope_theta,
    rope_scaling: c.rope_scaling ?? null,
    tie_word_embeddings: c.tie_word_embeddings ?? false,
  };
}

/** Fills the optional LlamaConfig fields and checks the head arithmetic. */
export function resolveLlamaConfig(config: LlamaConfig): ResolvedLlamaConfig {
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? heads;
  const headDim = config.head_dim ?? config.hidden_size / heads;
  const where = "llama config";
  for (
    const k of [
      "vocab_size",
      "hidden_size",
      "intermediate_size",
      "num_hidden_layers",
      "num_attention_heads",
    ] as const
  ) {
    if (!Number.isInteger(config[k]) || config[k] <= 0) {
      throw new ValidationError(where, `${k} must be a positive integer, got ${config[k]}`);
    }
  }
  if (!Number.isInteger(kvHeads) || kvHeads <= 0 || heads % kvHeads !== 0) {
    throw new ValidationError(
      where,
      `num_key_value_heads ${kvHeads} must divide num_attention_heads ${heads}`,
    );
  }
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ValidationError(where, `head_dim must be an even integer, got ${headDim}`);
  }
  return { ...config, num_key_value_heads: kvHeads, head_dim: headDim };
}

/** The Hugging Face name → shape of every weight a Llama of this config has. */
export function llamaWeightShapes(config: LlamaConfig): Map<string, number[]> {
  const c = resolveLlamaConfig(config);
  const h = c.hidden_size, q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim, ff = c.intermediate_size;
  const shapes = new Map<string, number[]>([["model.embed_tokens.weight", [c.vocab_size, h]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, [h]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [h]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [ff, h]);
    shapes.set(`${p}.mlp.up_proj.weight`, [ff, h]);
    shapes.set(`${p}.mlp.down_proj.weight`, [h, ff]);
  }
  shapes.set("model.norm.weight", [h]);
  if (!c.tie_word_embeddings) shapes.set("lm_head.weight", [c.vocab_size, h]);
  return shapes;
}

/** Reads a weight by name from either map form, checking its length against `shape`. */
export function weightOf(
  weights: LlamaWeights,
  name: string,
  shape: readonly number[],
): Float32Array {
  const w = weights instanceof Map
    ? weights.get(name)
    : (weights as Record<string, Float32Array>)[name];
  if (!w) throw new ValidationError("llama weights", `missing ${name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (w.length !== n) {
    throw new ValidationError("llama weights", `${name} has ${w.length} values, want [${shape}]`);
  }
  return w;
}

/** [rows, cols] row-major → [cols, rows]: HF Linear [out, in] to the [in, out] MatMul wants. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  }
  return out;
}

/** Collects nodes and initializers, naming intermediate values uniquely and deterministically. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** Every {@link weight} by name (dims and data), whether an initializer or a graph input. */
  readonly weights = new Map<string, { dims: readonly number[]; data: Float32Array }>();
  private count = 0;
  private consts = new Map<string, string>();

  /** With `weightsAsInputs`, {@link weight} declares graph inputs instead of initializers. */
  constructor(readonly weightsAsInputs = false) {}

  /** Adds one node; returns its output names (`outputs` given, or `n` fresh ones). */
  opN(
    opType: string,
    inputs: readonly string[],
    opts: { attrs?: AttributeProto[]; outputs?: string[]; n?: number; scope?: string },
  ): string[] {
    const id = this.count++;
    const base = `${opts.scope ?? ""}/${opType}_${id}`;
    const outputs = opts.outputs ??
      Array.from({ length: opts.n ?? 1 }, (_, k) => `${base}_output_${k}`);
    this.nodes.push({ opType, inputs, outputs, name: base, attributes: opts.attrs });
    return outputs;
  }

  /** Adds a single-output node and returns the output name. */
  op(
    opType: string,
    inputs: readonly string[],
    opts: { attrs?: AttributeProto[]; output?: string; scope?: string } = {},
  ): string {
    return this.opN(opType, inputs, {
      attrs: opts.attrs,
      outputs: opts.output ? [opts.output] : undefined,
      scope: opts.scope,
    })[0];
  }

  /** An int64 constant (shared between uses); `scalar` gives a 0-d tensor. */
  ints(values: readonly number[], scalar = false): string {
    const key = `${scalar ? "s" : "v"}:${values.join(",")}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `const_int64_${scalar ? "scalar_" : ""}${values.join("_").replaceAll("-", "m")}`;
      this.initializers.push(int64Tensor(name, scalar ? [] : [values.length], values));
      this.consts.set(key, name);
    }
    return name;
  }

  /** A float32 constant (shared between uses). */
  floats(values: readonly number[], scalar = false): string {
    const key = `f${scalar ? "s" : "v"}:${values.join(",")}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `const_float_${this.consts.size}`;
      this.initializers.push(
        floatTensor(name, scalar ? [] : [values.length], new Float32Array(values)),
      );
      this.consts.set(key, name);
    }
    return name;
  }

  /** A named float32 initializer (or graph input, see the constructor); returns its name. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    if (!this.weightsAsInputs) this.initializers.push(floatTensor(name, dims, data));
    this.weights.set(name, { dims, data });
    return name;
  }
}

/** float32's most negative finite value: HF's additive mask value, finite so fully masked rows stay finite. */
const MASK_MIN = -3.4028234663852886e38;

/**
 * Builds the ONNX bytes of a Llama decoder with KV cache.
 *
 * Inputs: `input_ids` int64 [batch_size, sequence_length], `attention_mask` int64
 * [batch_size, past_sequence_length + sequence_length], `position_ids` int64
 * [batch_size, sequence_length], `past_key_values.{i}.key|value` float32
 * [batch_size, kv_heads, past_sequence_length, head_dim]. Outputs: `logits` float32
 * [batch_size, sequence_length, vocab] and `present.{i}.key|value` (past plus the new positions).
 * Padding on either side works through attention_mask; query i sees key j iff j ≤ past + i and
 * attention_mask[j] = 1.
 *
 * Initializers: norms, q/k/v biases and embed_tokens under their HF names; Linear weights
 * transposed to [in, out] under `<hf name>.T`. q/k/v biases (Qwen2) are added after their
 * projections when the weights have them (or `attentionBias` says so).
 *
 * With `inputsEmbeds`, the graph takes `inputs_embeds` float32 [batch_size, sequence_length,
 * hidden] in place of `input_ids` (the `decoder_model_merged` of a transformers.js
 * vision-language model, whose token embeddings come from embedTokensOnnx and image features are
 * scattered in between); everything after the embedding lookup is the same graph.
 *
 * @example
 * const bytes = llamaOnnx(weights, config);
 * await writeBytesAtomic(`${dir}/onnx/model.onnx`, bytes);
 */
export function llamaOnnx(
  weights: LlamaWeights,
  config: LlamaConfig,
  opts: LlamaOnnxOptions = {},
): Uint8Array {
  return llamaGraph(weights, config, opts).bytes();
}

/** Options of {@link llamaOnnx}. */
export interface LlamaOnnxOptions {
  /** Take `inputs_embeds` in place of `input_ids`. */
  readonly inputsEmbeds?: boolean;
  /** Add q/k/v biases (default: when the weights have them). */
  readonly attentionBias?: boolean;
  /**
   * Declare the weights as float32 graph inputs (named as the initializers would be, after the
   * input and past_key_values inputs) instead of initializers: the bytes hold only the graph and
   * its small constants, and the caller feeds {@link llamaOnnxWeights} on every run, so new
   * weights need no new session (and no 2 GB protobuf limit applies to them).
   */
  readonly weightsAsInputs?: boolean;
}

/**
 * The weight tensors of the graph {@link llamaOnnx} builds, by graph name (norms and embeddings
 * under their HF names, Linear weights transposed to [in, out] under `<hf name>.T`): what a
 * graph exported with `weightsAsInputs` is fed.
 */
export function llamaOnnxWeights(
  weights: LlamaWeights,
  config: LlamaConfig,
  opts: Omit<LlamaOnnxOptions, "weightsAsInputs"> = {},
): Map<string, { dims: readonly number[]; data: Float32Array }> {
  return llamaGraph(weights, config, { ...opts, weightsAsInputs: true }).weights;
}

function llamaGraph(
  weights: LlamaWeights,
  config: LlamaConfig,
  opts: LlamaOnnxOptions,
): { bytes: () => Uint8Array; weights: GraphBuilder["weights"] } {
  const embedsIn = opts.inputsEmbeds ?? false;
  const c = resolveLlamaConfig(config);
  const shapes = llamaWeightShapes(c);
  const H = c.hidden_size, D = c.head_dim, NH = c.num_attention_heads;
  const KV = c.num_key_value_heads, V = c.vocab_size;
  const g = new GraphBuilder(opts.weightsAsInputs ?? false);

  // q/k/v biases (Qwen2, or Llama with attention_bias) come with the weights.
  const biased = opts.attentionBias ?? hasWeight(weights, "model.layers.0.self_attn.q_proj.bias");
  if (biased) {
    const q = NH * D, kv = KV * D;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const p = `model.layers.${i}.self_attn`;
      shapes.set(`${p}.q_proj.bias`, [q]);
      shapes.set(`${p}.k_proj.bias`, [kv]);
      shapes.set(`${p}.v_proj.bias`, [kv]);
    }
  }
  const param = (name: string) =>
    g.weight(name, shapes.get(name)!, weightOf(weights, name, shapes.get(name)!));
  const linear = (name: string) => {
    const [out, inp] = shapes.get(name)!;
    return g.weight(
      `${name}.T`,
      [inp, out],
      transpose(weightOf(weights, name, [out, inp]), out, inp),
    );
  };

  // Shared pieces computed once per forward: sizes, RoPE tables, the additive attention mask.
  const seqLen = g.op("Gather", [
    g.op("Shape", [embedsIn ? "inputs_embeds" : "input_ids"]),
    g.ints([1], true),
  ], {
    attrs: [{ name: "axis", i: 0 }],
  });
  const totalLen = g.op("Gather", [g.op("Shape", ["attention_mask"]), g.ints([1], true)], {
    attrs: [{ name: "axis", i: 0 }],
  });
  const pastLen = g.op("Sub", [totalLen, seqLen]);

  // RoPE with HF's rotate_half layout: angles θ_k = pos · f_k (Llama-3-rescaled when the config
  // says so), duplicated to width D.
  const invFreq = Array.from(ropeInverseFrequencies(c));
  const pos = g.op("Unsqueeze", [
    g.op("Cast", ["position_ids"], { attrs: [{ name: "to", i: DataType.FLOAT }] }),
    g.ints([2]),
  ]);
  const freqs = g.op("Mul", [pos, g.floats(invFreq)]); // [B, S, D/2]
  const angles = g.op("Concat", [freqs, freqs], { attrs: [{ name: "axis", i: -1 }] });
  const cos = g.op("Unsqueeze", [g.op("Cos", [angles]), g.ints([1])]); // [B, 1, S, D]
  const sin = g.op("Unsqueeze", [g.op("Sin", [angles]), g.ints([1])]);

  // Mask [B, 1, S, T]: causal by index offset by the past length, and the padding mask.
  const qIdx = g.op("Range", [pastLen, totalLen, g.ints([1], true)]);
  const kIdx = g.op("Range", [g.ints([0], true), totalLen, g.ints([1], true)]);
  const causal = g.op("LessOrEqual", [
    g.op("Unsqueeze", [kIdx, g.ints([0])]),
    g.op("Unsqueeze", [qIdx, g.ints([1])]),
  ]); // [S, T]
  const padOk = g.op("Unsqueeze", [
    g.op("Cast", ["attention_mask"], { attrs: [{ name: "to", i: DataType.BOOL }] }),
    g.ints([1, 2]),
  ]); // [B, 1, 1, T]
  const allowed = g.op("And", [causal, padOk]);
  const mask = g.op("Where", [allowed, g.floats([0], true), g.floats([MASK_MIN], true)]);

  const half = g.ints([D / 2, D / 2]);
  const rope = (x: string, scope: string) => {
    // x·cos + rotate_half(x)·sin with rotate_half(x) = [-x2, x1].
    const [x1, x2] = g.opN("Split", [x, half], { attrs: [{ name: "axis", i: -1 }], n: 2, scope });
    const rotated = g.op("Concat", [g.op("Neg", [x2], { scope }), x1], {
      attrs: [{ name: "axis", i: -1 }],
      scope,
    });
    return g.op("Add", [g.op("Mul", [x, cos], { scope }), g.op("Mul", [rotated, sin], { scope })], {
      scope,
    });
  };
  const rmsNorm = (x: string, weightName: string, scope: string) => {
    const meanSq = g.op("ReduceMean", [g.op("Mul", [x, x], { scope })], {
      attrs: [{ name: "axes", ints: [-1] }, { name: "keepdims", i: 1 }],
      scope,
    });
    const rms = g.op("Sqrt", [g.op("Add", [meanSq, g.floats([c.rms_norm_eps], true)], { scope })], {
      scope,
    });
    return g.op("Mul", [g.op("Div", [x, rms], { scope }), param(weightName)], { scope });
  };
  const toHeads = (x: string, heads: number, scope: string) =>
    g.op("Transpose", [g.op("Reshape", [x, g.ints([0, 0, heads, D])], { scope })], {
      attrs: [{ name: "perm", ints: [0, 2, 1, 3] }],
      scope,
    }); // [B, heads, S, D]

  const scale = g.floats([1 / Math.sqrt(D)], true);
  let x = embedsIn
    ? "inputs_embeds"
    : g.op("Gather", [param("model.embed_tokens.weight"), "input_ids"], {
      attrs: [{ name: "axis", i: 0 }],
    });
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    const scope = `/model/layers.${i}`;
    const xn = rmsNorm(x, `${p}.input_layernorm.weight`, `${scope}/input_layernorm`);
    const at = `${scope}/self_attn`;
    // x·Wᵀ (+ b where Qwen2 / attention_bias checkpoints have q/k/v biases).
    const proj = (n: string) => {
      const y = g.op("MatMul", [xn, linear(`${p}.self_attn.${n}.weight`)], { scope: at });
      return biased ? g.op("Add", [y, param(`${p}.self_attn.${n}.bias`)], { scope: at }) : y;
    };
    const q0 = g.op("Mul", [proj("q_proj"), scale], { scope: at });
    const q = rope(toHeads(q0, NH, at), at);
    const k = rope(toHeads(proj("k_proj"), KV, at), at);
    const v = toHeads(proj("v_proj"), KV, at);
    const keys = g.op("Concat", [`past_key_values.${i}.key`, k], {
      attrs: [{ name: "axis", i: 2 }],
      output: `present.${i}.key`,
      scope: at,
    });
    const values = g.op("Concat", [`past_key_values.${i}.value`, v], {
      attrs: [{ name: "axis", i: 2 }],
      output: `present.${i}.value`,
      scope: at,
    });
    // Grouped-query attention without copying K/V: head h uses kv head h / G, so [B, NH, S, D]
    // reshapes to [B, KV, G·S, D] and one batched MatMul per kv head covers its G query heads.
    const qg = g.op("Reshape", [q, g.ints([0, KV, -1, D])], { scope: at });
    const kT = g.op("Transpose", [keys], {
      attrs: [{ name: "perm", ints: [0, 1, 3, 2] }],
      scope: at,
    });
    const scores = g.op("Reshape", [
      g.op("MatMul", [qg, kT], { scope: at }),
      g.ints([0, NH, -1, 0]),
    ], {
      scope: at,
    }); // [B, NH, S, T]
    const probs = g.op("Softmax", [g.op("Add", [scores, mask], { scope: at })], {
      attrs: [{ name: "axis", i: -1 }],
      scope: at,
    });
    const ctx = g.op("MatMul", [
      g.op("Reshape", [probs, g.ints([0, KV, -1, 0])], { scope: at }),
      values,
    ], {
      scope: at,
    }); // [B, KV, G·S, D]
    const merged = g.op("Reshape", [
      g.op("Transpose", [g.op("Reshape", [ctx, g.ints([0, NH, -1, 0])], { scope: at })], {
        attrs: [{ name: "perm", ints: [0, 2, 1, 3] }],
        scope: at,
      }),
      g.ints([0, 0, NH * D]),
    ], { scope: at });
    x = g.op("Add", [
      x,
      g.op("MatMul", [merged, linear(`${p}.self_attn.o_proj.weight`)], { scope: at }),
    ], {
      scope,
    });

    const mlp = `${scope}/mlp`;
    const hn = rmsNorm(
      x,
      `${p}.post_attention_layernorm.weight`,
      `${scope}/post_attention_layernorm`,
    );
    const gate = g.op("MatMul", [hn, linear(`${p}.mlp.gate_proj.weight`)], { scope: mlp });
    const up = g.op("MatMul", [hn, linear(`${p}.mlp.up_proj.weight`)], { scope: mlp });
    const act = g.op("Mul", [
      g.op("Mul", [gate, g.op("Sigmoid", [gate], { scope: mlp })], { scope: mlp }),
      up,
    ], {
      scope: mlp,
    });
    x = g.op(
      "Add",
      [x, g.op("MatMul", [act, linear(`${p}.mlp.down_proj.weight`)], { scope: mlp })],
      {
        scope,
      },
    );
  }
  const xf = rmsNorm(x, "model.norm.weight", "/model/norm");
  const tied = c.tie_word_embeddings || !hasWeight(weights, "lm_head.weight");
  const head = tied
    ? g.weight(
      "model.embed_tokens.weight.T",
      [H, V],
      transpose(weightOf(weights, "model.embed_tokens.weight", [V, H]), V, H),
    )
    : linear("lm_head.weight");
  g.op("MatMul", [xf, head], { output: "logits", scope: "/lm_head" });

  const kvShape = ["batch_size", KV, "past_sequence_length", D];
  const inputs: ValueInfoProto[] = [
    embedsIn
      ? {
        name: "inputs_embeds",
        elemType: DataType.FLOAT,
        shape: ["batch_size", "sequence_length", H],
      }
      : { name: "input_ids", elemType: DataType.INT64, shape: ["batch_size", "sequence_length"] },
    {
      name: "attention_mask",
      elemType: DataType.INT64,
      shape: ["batch_size", "past_sequence_length + sequence_length"],
    },
    { name: "position_ids", elemType: DataType.INT64, shape: ["batch_size", "sequence_length"] },
  ];
  const outputs: ValueInfoProto[] = [
    { name: "logits", elemType: DataType.FLOAT, shape: ["batch_size", "sequence_length", V] },
  ];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    for (const kind of ["key", "value"]) {
      inputs.push({
        name: `past_key_values.${i}.${kind}`,
        elemType: DataType.FLOAT,
        shape: kvShape,
      });
      outputs.push({
        name: `present.${i}.${kind}`,
        elemType: DataType.FLOAT,
        shape: ["batch_size", KV, "past_sequence_length + sequence_length", D],
      });
    }
  }
  if (g.weightsAsInputs) {
    for (const [name, w] of g.weights) {
      inputs.push({ name, elemType: DataType.FLOAT, shape: [...w.dims] });
    }
  }
  const bytes = () =>
    encodeModel({
      graph: { name: "llama", nodes: g.nodes, initializers: g.initializers, inputs, outputs },
      irVersion: 8,
      opset: 17,
      producerName: "forgetbench",
      metadata: { architecture: "LlamaForCausalLM" },
    });
  return { bytes, weights: g.weights };
}

/**
 * The `embed_tokens` session of a transformers.js vision-language model: `input_ids` int64
 * [batch_size, sequence_length] → `inputs_embeds` float32 [batch_size, sequence_length, hidden],
 * a lookup in `model.embed_tokens.weight`.
 *
 * @example
 * await writeBytesAtomic(`${dir}/onnx/embed_tokens.onnx`, embedTokensOnnx(weights, config));
 */
export function embedTokensOnnx(weights: LlamaWeights, config: LlamaConfig): Uint8Array {
  const c = resolveLlamaConfig(config);
  const shape = [c.vocab_size, c.hidden_size];
  const g = new GraphBuilder();
  const table = g.weight(
    "model.embed_tokens.weight",
    shape,
    weightOf(weights, "model.embed_tokens.weight", shape),
  );
  g.op("Gather", [table, "input_ids"], {
    attrs: [{ name: "axis", i: 0 }],
    output: "inputs_embeds",
    scope: "/model/embed_tokens",
  });
  return encodeModel({
    graph: {
      name: "embed_tokens",
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: "input_ids", elemType: DataType.INT64, shape: ["batch_size", "sequence_length"] },
      ],
      outputs: [{
        name: "inputs_embeds",
        elemType: DataType.FLOAT,
        shape: ["batch_size", "sequence_length", c.hidden_size],
      }],
    },
    irVersion: 8,
    opset: 17,
    producerName: "forgetbench",
  });
}

function hasWeight(weights: LlamaWeights, name: string): boolean {
  return weights instanceof Map ? weights.has(name) : name in weights;
}
