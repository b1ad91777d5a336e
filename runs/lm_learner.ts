// The Learner of the language-model tasks (trainers/types.ts): a Llama-layout policy on jax-js
// (models/llama.ts) learning a list of prompt → answer instances, possibly from several tasks.
// Outputs are the generated strings (up to and including the "\n" that ends an answer).
//
//   sft:     teacher forcing on bos + prompt → target + "\n" (prompt masked), with
//            β · exact per-token KL(π0‖π) on the same tokens (METRICS.md "SFT+KL");
//   rollout: G samples per prompt at temperature 1 with a KV cache, seeded per step;
//   pg:      the clipped GRPO loss on those samples (models/llama_losses.ts grpoLoss), π_old the
//            sampling log-probabilities, β·k3 to π0, filtered instances weighted 0.
//
// π0 here is the learner's `reference`: the model at the start of the stage (the runner's
// choice), which also anchors the KL column of train_log.jsonl.

import { numpy as np, tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { hashString } from "../lib/rng.ts";
import { decode, encode, NEWLINE_ID, PAD_ID } from "../models/char_tokenizer.ts";
import {
  type LlamaModelConfig,
  type LlamaParams,
  sample,
  scoreKl,
  scoreTokens,
} from "../models/llama.ts";
import {
  type Example,
  type GrpoBatch,
  grpoBatch,
  grpoLoss,
  initTrainState,
  makeTrainStep,
  referenceLogProbs,
  type Rollout,
  type SftBatch,
  sftBatch,
  sftLoss,
  type TrainStep,
} from "../models/llama_losses.ts";
import type { Learner, Rollouts, Session } from "../trainers/types.ts";

/** One training instance: an encoded prompt, its SFT target and its reward. */
export interface LmInstance {
  /** Token ids the model is conditioned on (bos + prompt). */
  readonly prompt: readonly number[];
  /** Canonical answer without the terminating "\n" (labelling "sft1"). */
  readonly target: string;
  /** Generation budget in tokens, the "\n" included. */
  readonly maxTokens: number;
  /** RL reward of a generated output in [0, 1]. */
  reward(output: string): number;
}

/** A mutable holder of the policy's weights: sessions replace `params` after every step. */
export interface LmPolicy {
  readonly config: LlamaModelConfig;
  params: LlamaParams;
}

/** Options of {@link lmLearner}. */
export interface LmLearnerOptions {
  /** π0 of the KL terms and the β penalties (borrowed; the caller frees it). */
  readonly reference: LlamaParams;
  /** A custom batch order (replay mixtures); default epoch-wise shuffling. */
  readonly batches?: (batch: number, seed: number) => () => number[];
  /** AdamW gradient clipping (global norm, default 1). */
  readonly clipNorm?: number;
}

/** Rounds up to a multiple of 8 (fewer compiled shapes). */
function bucket(n: number): number {
  return Math.ceil(n / 8) * 8;
}

// One compiled step per loss and architecture, shared by every session of the process.
const steps = new Map<string, TrainStep<never>>();

function stepFor<B>(kind: "sft" | "pg", config: LlamaModelConfig, clipNorm: number): TrainStep<B> {
  const key = `${kind}:${clipNorm}:${JSON.stringify(config)}`;
  let s = steps.get(key);
  if (!s) {
    s = (kind === "sft"
      ? makeTrainStep((p, b: SftBatch) =>
        sftLoss(p, b, { config }), { lr: 1e-3, clipNorm })
      : makeTrainStep((p, b: GrpoBatch) => grpoLoss(p, b, { config }), {
        lr: 1e-3,
        clipNorm,
      })) as unknown as TrainStep<never>;
    steps.set(key, s);
  }
  return s as unknown as TrainStep<B>;
}

/** What an LM rollout keeps for its clipped steps. */
interface LmRolloutState {
  rows: { prompt: readonly number[]; completion: number[]; logProbs: number[] }[];
  refLogProbs?: number[][];
}

/**
 * The LM `policy` learning `instances`. Sessions take the weights over (policy.params is
 * replaced after every step) and hand them back on dispose.
 */
export function lmLearner(
  policy: LmPolicy,
  instances: readonly LmInstance[],
  opts: LmLearnerOptions,
): Learner<string> {
  if (instances.length === 0) throw new UsageError("lmLearner: no training instances");
  const config = policy.config;
  const sftLen = bucket(Math.max(...instances.map((x) => x.prompt.length + x.target.length + 1)));
  const genTokens = Math.max(...instances.map((x) => x.maxTokens));
  const rollLen = bucket(Math.max(...instances.map((x) => x.prompt.length)) + genTokens);
  if (Math.max(sftLen, rollLen) > config.max_position_embeddings) {
    throw new UsageError(
      `lmLearner: sequences of ${Math.max(sftLen, rollLen)} tokens exceed the model's ` +
        `max_position_embeddings ${config.max_position_embeddings}`,
    );
  }
  const clipNorm = opts.clipNorm ?? 1;
  const ref = opts.reference;
  return {
    n: instances.length,
    // One labelling: the task's canonical answer.
    hasLabelling: (name) => name === "sft1",
    reward: (i, y) => instances[i].reward(y),
    batches: opts.batches,
    begin({ lr, seed }): Session<string> {
      let state = initTrainState(policy.params);
      let calls = 0;
      const sft = stepFor<SftBatch>("sft", config, clipNorm);
      const pg = stepFor<GrpoBatch>("pg", config, clipNorm);
      const take = (s: typeof state) => {
        state = s;
        policy.params = s.params;
      };
      return {
        async sft(idx, { beta }) {
          const examples: Example[] = idx.map((i) => ({
            prompt: instances[i].prompt,
            completion: [...encode(instances[i].target), NEWLINE_ID],
          }));
          const batch = sftBatch(examples, { length: sftLen, padId: PAD_ID });
          batch.refLogProbs = referenceLogProbs(ref, batch, { config });
          batch.beta = np.array(beta);
          const tokens = examples.reduce((a, e) => a + e.completion.length, 0);
          const r = await sft.step(state, batch, { lr });
          take(r.state);
          // metrics.kl is the mean over target tokens; report the mean per-sequence sum.
          return { loss: r.loss, kl: r.metrics.kl * tokens / idx.length };
        },
        async rollout(idx, g): Promise<Rollouts<string>> {
          const prompts = idx.flatMap((i) => Array(g).fill(instances[i].prompt));
          const s = await sample(policy.params, prompts, {
            config,
            maxTokens: genTokens,
            temperature: 1,
            seed: (seed * 1_000_003 + hashString(`rollout:${calls++}`)) >>> 0,
            stopToken: NEWLINE_ID,
          });
          const rows = prompts.map((prompt, r) => ({
            prompt,
            completion: s.tokens[r],
            logProbs: s.logProbs[r],
          }));
          const seqs = rows.map((r) => [...r.prompt, ...r.completion]);
          const kl = await scoreKl([ref, policy.params], seqs, {
            config,
            batchSize: seqs.length,
          });
          let klSum = 0;
          rows.forEach((r, k) => {
            for (let t = r.prompt.length; t < seqs[k].length; t++) klSum += kl[k][t];
          });
          const outputs = idx.map((_, k) => s.tokens.slice(k * g, (k + 1) * g).map(decode));
          const internal: LmRolloutState = { rows };
          return { idx, outputs, kl: klSum / rows.length, internal };
        },
        async pg(ro, u) {
          const st = ro.internal as LmRolloutState;
          if (u.beta > 0 && !st.refLogProbs) {
            const seqs = st.rows.map((r) => [...r.prompt, ...r.completion]);
            const lp = await scoreTokens(ref, seqs, { config, batchSize: seqs.length });
            st.refLogProbs = lp.map((l, k) => l.slice(st.rows[k].prompt.length));
          }
          const rollouts: Rollout[] = st.rows.map((r, k) => ({
            ...r,
            advantage: u.adv[k],
            ...(u.beta > 0 ? { refLogProbs: st.refLogProbs![k] } : {}),
          }));
          const batch = grpoBatch(rollouts, {
            clip: u.clip,
            beta: u.beta,
            normalization: u.normalization,
            constant: genTokens,
            length: rollLen,
            padId: PAD_ID,
            keep: Array.from(u.mask, (m) => m > 0),
          });
          const r = await pg.step(state, batch, { lr });
          take(r.state);
          return { loss: r.loss };
        },
        dispose() {
          tree.dispose([state.m, state.v]);
        },
      };
    },
  };
}
