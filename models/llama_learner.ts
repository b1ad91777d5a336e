// The Learner of a Llama policy (models/learner.ts) on generate (or choices) instances, possibly
// from several tasks. Outputs are the generated texts, cut at the request's stop string.
//
//   sft:     teacher forcing on prompt → target + stop (the request's first stop string, else
//            EOS), prompt masked, with β · exact per-token KL(π0‖π) on the same tokens
//            (docs/metrics.md "Trainers" (SFT+KL));
//   rollout: G samples per prompt at temperature 1 with a KV cache, seeded per step, on the
//            policy's sampling engine (LlamaPolicy.samplingEngine: onnxruntime for models that
//            fit, else jax-js); π_old is always the jax-js model's log-probabilities;
//   pg:      the clipped GRPO loss on those samples (models/llama_losses.ts grpoLoss), π_old the
//            sampling log-probabilities, β·k3 to π0, filtered instances weighted 0, rows padded to
//            the step's longest rollout (a multiple of 16). On-policy rollouts (μ = 1) take π_old
//            from the step's own forward, gradient stopped (ratio 1); their KL(π0‖π) column is
//            onnxruntime's (π0 and π through the same graph) when the policy samples there, else
//            read from the step's forward with one micro-batch (π0's forward besides the step).
//
// π0 is the learner's `reference` (the pipeline passes the model at the start of the stage); it
// also anchors the KL column of the step logs.
//
// `accumulate: k` cuts each step's rows into k micro-batches (SFT: instances; pg: rollouts),
// weighted by their share of the loss's normaliser, for one AdamW update (models/optim.ts
// accumulate); k = 1 is the fused single step. Rollouts are sampled in chunks that fit the
// sampling budget (models/memory.ts samplingRows), each row on its own random stream. `lora` trains an adapter
// (models/lora.ts) attached to the policy, the base weights frozen and out of the optimiser.

import { defaultDevice, numpy as np, tree } from "@jax-js/jax";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { hashString, rng } from "../lib/rng.ts";
import type {
  Learner,
  LearnerOptions,
  Rollouts,
  Session,
  Target,
  TrainInstance,
} from "./learner.ts";
import {
  bucket,
  dtypeOf,
  type LlamaParams,
  scoreKl,
  scoreKlAndTokens,
  scoreTokens,
} from "./llama.ts";
import { samplingBudget, samplingRows } from "./memory.ts";
import {
  type Example,
  type GrpoBatch,
  grpoBatch,
  grpoLoss,
  type Metrics,
  referenceLogProbs,
  type Rollout,
  type SftBatch,
  sftBatch,
  sftLoss,
} from "./llama_losses.ts";
import { cutAtStop, generationDone } from "./lm_encoding.ts";
import type { LlamaPolicy } from "./llama_policy.ts";
import { OrtSampler } from "./ort_sampling.ts";
import {
  checkLoraOptions,
  loraModules,
  type LoraParams,
  loraScale,
  type LoraState,
  mergeLora,
} from "./lora.ts";
import { initTrainState, makeTrainStep, readScalars, type TrainStep } from "./optim.ts";
import { promptIds, type Tokenizer } from "./tokenizer.ts";

// deno-lint-ignore no-explicit-any -- one cache for the full and the LoRA steps' parameter trees
type Step<B> = TrainStep<any, B, Metrics>;

/** A LoRA step's batch: the frozen base weights travel with the data (not differentiated). */
type LoraBatch<B> = { frozen: LlamaParams; data: B };

// One compiled step per loss, architecture, clipping and adapter layout, shared by every session.
const steps = new Map<string, Step<never>>();

function stepFor<B>(
  kind: "sft" | "pg",
  policy: LlamaPolicy,
  opts: { clipNorm: number; lora: LoraState | null },
): Step<B> {
  const { config } = policy, { clipNorm, lora } = opts;
  const adapter = lora && {
    modules: lora.modules,
    scale: loraScale(lora.options),
  };
  const key = `${kind}:${clipNorm}:${JSON.stringify(config)}:${
    adapter ? `${adapter.scale}:${adapter.modules.map((m) => m.module).join(",")}` : "full"
  }`;
  let s = steps.get(key);
  if (!s) {
    const loss = (p: LlamaParams, b: never) =>
      kind === "sft"
        ? sftLoss(p, b as SftBatch, { config })
        : grpoLoss(p, b as GrpoBatch, { config });
    s = (adapter
      ? makeTrainStep(
        (a: LoraParams, b: LoraBatch<never>) => loss(mergeLora(b.frozen, a, adapter), b.data),
        { clipNorm },
      )
      : makeTrainStep(loss, { clipNorm })) as unknown as Step<never>;
    steps.set(key, s);
  }
  return s as unknown as Step<B>;
}

/**
 * `n` indices in `k` contiguous micro-batches as even as possible (sizes differ by at most one;
 * no empty ones).
 */
export function microBatches<T>(items: readonly T[], k: number): T[][] {
  const out: T[][] = [], n = items.length, parts = Math.min(k, n);
  for (let j = 0, at = 0; j < parts; j++) {
    const size = Math.floor(n / parts) + (j < n % parts ? 1 : 0);
    out.push(items.slice(at, at += size));
  }
  return out;
}

/** One instance as token ids: its prompt, the stop handling and the generation budget. */
interface Encoded {
  readonly text: string;
  readonly prompt: number[];
  readonly until: readonly string[];
  readonly maxTokens: number;
  /** The request's continuations (choices instances), for SFT targets. */
  readonly choices?: readonly string[];
}

function encodeInstance(inst: TrainInstance, tok: Tokenizer, i: number): Encoded {
  const r = inst.request;
  if (r.kind === "generate") {
    if (r.images?.length) {
      throw new ValidationError(`training instance ${i}`, "has images; this model is text-only");
    }
    return {
      text: r.prompt,
      prompt: promptIds(tok, r.prompt),
      until: r.until,
      maxTokens: r.maxTokens,
    };
  }
  if (r.kind === "choices") {
    if (r.contexts) {
      // One prompt per instance: a request scored pairwise (Winogrande) has no single prompt.
      throw new ValidationError(`training instance ${i}`, "has one context per choice");
    }
    const budget = Math.max(1, ...r.continuations.map((c) => tok.encode(c).length));
    return {
      text: r.context,
      prompt: promptIds(tok, r.context),
      until: [],
      maxTokens: budget,
      choices: r.continuations,
    };
  }
  throw new ValidationError(`training instance ${i}`, "a language model learns text requests");
}

/**
 * The completion tokens of an SFT target: the tokens of target + stop string (the request's
 * first) as they come after the prompt's text, tokens(prompt + completion) past tokens(prompt);
 * a generate request without stop strings ends with EOS instead.
 */
function completionIds(enc: Encoded, target: string, tok: Tokenizer): number[] {
  const text = target + (enc.until[0] ?? "");
  const cont = tok.encode(enc.text + text).slice(tok.encode(enc.text).length);
  return enc.until.length === 0 && tok.eosId !== null && enc.choices === undefined
    ? [...cont, tok.eosId]
    : cont;
}

/** What a Llama rollout keeps for its clipped steps. */
interface LlamaRolloutState {
  rows: { prompt: readonly number[]; completion: number[]; logProbs: number[] }[];
  refLogProbs?: number[][];
  /** μ = 1: one step, π_old from its own forward; `klPending`: the KL read from it too. */
  onPolicy?: { klPending: boolean; stepped: boolean };
}

/**
 * Σ over each sequence's positions from `from[i]` of the exact KL(P‖Q) of the next-token
 * distributions, averaged over the sequences, from logits [length × V] per sequence (P's, Q's),
 * log-softmax and sums in float64; aligned as {@link scoreKl} (position t: the distribution
 * token t was drawn from).
 */
function klFromLogits(
  zP: readonly Float32Array[],
  zQ: readonly Float32Array[],
  seqs: readonly (readonly number[])[],
  from: readonly number[],
  V: number,
): number {
  const lp = new Float64Array(V), lq = new Float64Array(V);
  const logSoftmax = (z: Float32Array, out: Float64Array) => {
    let max = -Infinity, sum = 0;
    for (const v of z) max = Math.max(max, v);
    for (const v of z) sum += Math.exp(v - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[v] = z[v] - lse;
  };
  let total = 0;
  seqs.forEach((s, i) => {
    for (let t = from[i]; t < s.length; t++) {
      logSoftmax(zP[i].subarray((t - 1) * V, t * V), lp);
      logSoftmax(zQ[i].subarray((t - 1) * V, t * V), lq);
      for (let v = 0; v < V; v++) total += Math.exp(lp[v]) * (lp[v] - lq[v]);
    }
  });
  return total / seqs.length;
}

/**
 * `policy` learning `instances`. Sessions take the weights over (policy.params is replaced after
 * every step) and hand them back on dispose.
 */
export function llamaLearner(
  policy: LlamaPolicy,
  instances: readonly TrainInstance[],
  opts: LearnerOptions,
): Learner<string> {
  if (instances.length === 0) throw new UsageError("llama learner: no training instances");
  const { config, tokenizer: tok } = policy;
  const encoded = instances.map((inst, i) => encodeInstance(inst, tok, i));
  const genTokens = Math.max(...encoded.map((e) => e.maxTokens));
  const rollLen = bucket(Math.max(...encoded.map((e) => e.prompt.length)) + genTokens, 8);
  const ref = opts.reference === undefined
    ? undefined
    : (opts.reference as LlamaPolicy).params ?? undefined;
  if (opts.reference !== undefined && !ref) {
    throw new ValidationError("reference", "must be a Llama policy");
  }
  const clipNorm = opts.clipNorm ?? 1;
  const accumulate = opts.accumulate ?? 1;
  if (!Number.isInteger(accumulate) || accumulate < 1) {
    throw new ValidationError("accumulate", `must be a positive integer, got ${accumulate}`);
  }
  if (opts.lora) {
    checkLoraOptions(opts.lora, "lora");
    loraModules(config, { targets: opts.lora.targets, where: "lora" });
  }
  // SFT completions per labelling and item (the labelling's targets, one drawn per item), and
  // the labelling's longest row (checked against the context; each step pads to its own).
  const completions = new Map<string, { ids: number[][]; length: number }>();
  const completionsOf = (labelling: string, seed: number) => {
    let c = completions.get(labelling);
    if (!c) {
      const r = rng(seed, hashString(`labels:${labelling}`));
      const ids = instances.map((inst, i) => {
        const ys = inst.targets(labelling);
        if (!ys?.length) {
          throw new ValidationError(
            "trainer options.labelling",
            `the task has no labelling '${labelling}'`,
          );
        }
        const y = ys[ys.length === 1 ? 0 : r.int(ys.length)];
        return completionIds(encoded[i], String(y), tok);
      });
      const length = bucket(
        Math.max(...ids.map((c, i) => encoded[i].prompt.length + c.length)),
        8,
      );
      if (length > config.max_position_embeddings) {
        throw new UsageError(
          `llama learner: SFT sequences of ${length} tokens exceed max_position_embeddings ${config.max_position_embeddings}`,
        );
      }
      c = { ids, length };
      completions.set(labelling, c);
    }
    return c;
  };
  return {
    n: instances.length,
    rewarded: instances.every((inst) => inst.reward !== undefined),
    hasLabelling: (name) => instances.every((inst) => (inst.targets(name)?.length ?? 0) > 0),
    reward: (i, y) => instances[i].reward!(y as Target),
    batches: opts.batches,
    begin({ seed }): Session<string> {
      // LoRA: the adapter (fresh from the session's seed, or the one the policy already carries)
      // is what the optimiser sees; full fine-tuning first merges any adapter into the weights.
      const lora = opts.lora ? policy.attachLora(opts.lora, { seed, where: "lora" }) : null;
      if (!lora) policy.mergeAndUnload();
      // deno-lint-ignore no-explicit-any -- the full weights or the adapter's
      let state = initTrainState<any>(lora ? lora.weights : policy.params);
      let calls = 0;
      // π0's next-token log-probabilities for the on-policy KL column (a metric: no gradient, no
      // loss term) on onnxruntime when the policy samples there; π0 is loaded once per session.
      const refOrt = ref && policy.samplingEngine() === "onnxruntime" &&
          dtypeOf(ref) === np.float32
        ? new OrtSampler(config)
        : null;
      const sft = stepFor<SftBatch>("sft", policy, { clipNorm, lora });
      const pg = stepFor<GrpoBatch>("pg", policy, { clipNorm, lora });
      /**
       * One optimiser update on micro-batches weighted by their share of the loss's mean (one
       * micro-batch of weight 1 is the plain fused step); the policy takes the new weights.
       */
      const update = async <B>(
        step: Step<B>,
        micro: readonly (() => B)[],
        o: { lr: number; weights: readonly number[] },
      ) => {
        // Each micro-batch is made just before its gradient (one alive at a time).
        const batches = lora
          ? micro.map((data) => () => ({ frozen: tree.ref(lora.base), data: data() }))
          : micro;
        if (lora) {
          // The step's forward builds its own merged weights: free the live copy meanwhile (the
          // base stands in for it until setLoraWeights merges the new adapter).
          tree.dispose(policy.params);
          policy.params = tree.ref(lora.base);
        }
        const r = await step.accumulate(state, batches as (() => B)[], o);
        state = r.state;
        if (lora) policy.setLoraWeights(r.state.params);
        else policy.params = r.state.params;
        return r;
      };
      return {
        async sft(idx, { labelling, beta, lr }) {
          if (beta > 0 && !ref) throw new ValidationError("sft", "β > 0 needs a reference policy");
          const targets = completionsOf(labelling, seed);
          const micro = microBatches(idx, accumulate).map((part) => {
            const examples: Example[] = part.map((i) => ({
              prompt: encoded[i].prompt,
              completion: targets.ids[i],
            }));
            const batch = () => {
              // Padded to this micro-batch's longest row (a multiple of 16, at most the
              // labelling's longest): a few long items no longer pad every step.
              const length = Math.min(
                targets.length,
                bucket(Math.max(...examples.map((e) => e.prompt.length + e.completion.length)), 16),
              );
              const b = sftBatch(examples, { length, padId: tok.padId });
              if (ref) {
                b.refLogProbs = referenceLogProbs(ref, b, { config });
                b.beta = np.array(beta);
              }
              return b;
            };
            return { batch, tokens: examples.reduce((a, e) => a + e.completion.length, 0) };
          });
          // The loss is a mean over target tokens: each micro-batch weighs its share of them.
          const tokens = micro.reduce((a, m) => a + m.tokens, 0);
          const weights = micro.map((m) => m.tokens / tokens);
          const r = await update(sft, micro.map((m) => m.batch), { lr, weights });
          let kl = 0;
          for (const [k, aux] of r.aux.entries()) kl += weights[k] * (await readScalars(aux)).kl;
          // metrics.kl is the mean over target tokens; report the mean per-sequence sum.
          return { loss: r.loss, kl: ref ? kl * tokens / idx.length : NaN };
        },
        async rollout(idx, g, ropts): Promise<Rollouts<string>> {
          // On-policy (μ = 1): π_old is the step's own forward (no pass for it here). The
          // KL(π0‖π) column (a metric) is then onnxruntime's when the policy samples there (π0
          // and π through the same graph, π0 loaded once per session), else it comes from the
          // step's forward too (one micro-batch), only π0's forward running besides the step.
          const onPolicy = ropts?.onPolicy === true;
          const rowsOf = idx.flatMap((i) => Array<number>(g).fill(i)), stops = policy.stops;
          const prompts = rowsOf.map((i) => encoded[i].prompt);
          // Sampled in chunks of as many rows as fit the sampling budget (all of them for small
          // models), each row on its own random stream: the samples are the whole batch's.
          const seedNow = (seed * 1_000_003 + hashString(`rollout:${calls++}`)) >>> 0;
          const s: { tokens: number[][]; logProbs: number[][] } = { tokens: [], logProbs: [] };
          const P = Math.max(...prompts.map((p) => p.length));
          const chunk = samplingRows(config, {
            rows: prompts.length,
            length: bucket(P + genTokens, 16),
            prompt: bucket(P, 16),
          }, samplingBudget(defaultDevice()));
          let engine: "jax" | "onnxruntime" = "jax";
          for (let from = 0; from < prompts.length; from += chunk) {
            const got = await policy.sample(prompts.slice(from, from + chunk), {
              maxTokens: genTokens,
              temperature: 1,
              seed: seedNow,
              rowOffset: from,
              stopWhen: (row, ids) => generationDone(encoded[rowsOf[from + row]], ids, stops),
            });
            engine = got.engine;
            s.tokens.push(...got.tokens);
            s.logProbs.push(...got.logProbs);
          }
          // π_old of the clipped ratio is the trained jax-js model's own: onnxruntime's float32
          // logits differ from jax-js's by rounding (~1e-6), so its log-probabilities are
          // replaced by a teacher-forced jax-js pass over prompt + completion (with a reference,
          // the policy's forward of the KL pass, at no extra cost).
          const seqs = prompts.map((p, r) => [...p, ...s.tokens[r]]);
          const fromJax = (lp: number[][]) => {
            if (engine === "onnxruntime") {
              s.logProbs = lp.map((l, r) => l.slice(prompts[r].length));
            }
          };
          const ortKl = onPolicy && refOrt !== null && engine === "onnxruntime";
          const klPending = onPolicy && !ortKl && ref !== undefined && accumulate === 1;
          let kl = NaN;
          if (ortKl) {
            const zP = await refOrt.logits(ref!, seqs), zQ = await policy.ortLogits(seqs);
            kl = klFromLogits(zP, zQ, seqs, prompts.map((p) => p.length), config.vocab_size);
          } else if (ref && !klPending) {
            const both = await scoreKlAndTokens([ref, policy.params], seqs, {
              config,
              batchSize: seqs.length,
            });
            fromJax(both.logProbs);
            let sum = 0;
            prompts.forEach((p, k) => {
              for (let t = p.length; t < seqs[k].length; t++) sum += both.kl[k][t];
            });
            kl = sum / prompts.length;
          } else if (!onPolicy && engine === "onnxruntime") {
            fromJax(await scoreTokens(policy.params, seqs, { config, batchSize: seqs.length }));
          }
          const rows = prompts.map((prompt, r) => ({
            prompt,
            completion: s.tokens[r],
            logProbs: s.logProbs[r],
          }));
          const outputs = idx.map((i, k) =>
            s.tokens.slice(k * g, (k + 1) * g).map((t) =>
              cutAtStop(tok.decode(t), encoded[i].until)
            )
          );
          const internal: LlamaRolloutState = {
            rows,
            ...(onPolicy ? { onPolicy: { klPending, stepped: false } } : {}),
          };
          return { idx, outputs, kl, internal, ...(klPending ? { klPending } : {}) };
        },
        async rolloutKl(ro) {
          const st = ro.internal as LlamaRolloutState;
          if (!ref || !st.onPolicy?.klPending || st.onPolicy.stepped) {
            throw new UsageError("rolloutKl: only for a pending KL before its step");
          }
          const seqs = st.rows.map((r) => [...r.prompt, ...r.completion]);
          const kl = await scoreKl([ref, policy.params], seqs, { config, batchSize: seqs.length });
          let sum = 0;
          st.rows.forEach((r, k) => {
            for (let t = r.prompt.length; t < seqs[k].length; t++) sum += kl[k][t];
          });
          return sum / st.rows.length;
        },
        async pg(ro, u) {
          const st = ro.internal as LlamaRolloutState;
          const on = st.onPolicy;
          if (on) {
            if (on.stepped) throw new UsageError("pg: on-policy rollouts take one step (μ = 1)");
            on.stepped = true;
          }
          if (u.beta > 0 && !ref) throw new ValidationError("pg", "β > 0 needs a reference policy");
          if (u.beta > 0 && !st.refLogProbs) {
            const seqs = st.rows.map((r) => [...r.prompt, ...r.completion]);
            const lp = await scoreTokens(ref!, seqs, { config, batchSize: seqs.length });
            st.refLogProbs = lp.map((l, k) => l.slice(st.rows[k].prompt.length));
          }
          const rollouts: Rollout[] = st.rows.map((r, k) => ({
            ...r,
            advantage: u.adv[k],
            ...(u.beta > 0 ? { refLogProbs: st.refLogProbs![k] } : {}),
          }));
          // Micro-batches of rollouts (rows), cut as the rollouts were sampled. The loss is a sum
          // with weights normalised over the kept rollouts, so each micro-batch weighs its share
          // of them; micro-batches with none kept carry no gradient and are skipped.
          const parts = microBatches(rollouts.map((_, r) => r), accumulate).map((rows) => ({
            rows,
            kept: rows.filter((r) => u.mask[r] > 0).length,
          }));
          const kept = parts.reduce((a, p) => a + p.kept, 0);
          const used = kept > 0 && parts.length > 1 ? parts.filter((p) => p.kept > 0) : parts;
          // Padded to the step's longest rollout (a multiple of 16, at most the stage's rollLen):
          // most rollouts stop well before the generation budget.
          const length = Math.min(
            rollLen,
            bucket(Math.max(...st.rows.map((r) => r.prompt.length + r.completion.length)), 16),
          );
          const micro = used.map((p) => () => {
            const b = grpoBatch(p.rows.map((r) => rollouts[r]), {
              clip: u.clip,
              beta: u.beta,
              normalization: u.normalization,
              constant: genTokens,
              length,
              padId: tok.padId,
              keep: p.rows.map((r) => u.mask[r] > 0),
              onPolicy: on !== undefined,
            });
            if (on?.klPending) {
              b.refNext = referenceLogProbs(ref!, { tokens: b.tokens, attnMask: b.attnMask }, {
                config,
              });
            }
            return b;
          });
          const weights = used.map((p) => kept > 0 ? p.kept / kept : 1 / used.length);
          const r = await update(pg, micro, { lr: u.lr, weights });
          if (on?.klPending) {
            const [aux] = r.aux as Metrics[];
            const { refKl, ...rest } = aux;
            tree.dispose(rest);
            return { loss: r.loss, kl: (await refKl.data())[0] };
          }
          tree.dispose(r.aux as Metrics[]);
          return { loss: r.loss };
        },
        dispose() {
          tree.dispose([state.m, state.v]);
          void refOrt?.release();
        },
      };
    },
  };
}
