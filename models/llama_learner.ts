// The Learner of a Llama policy (models/learner.ts) on generate (or choices) instances, possibly
// from several tasks. Outputs are the generated texts, cut at the request's stop string.
//
//   sft:     teacher forcing on prompt → target + stop (the request's first stop string, else
//            EOS), prompt masked, with β · exact per-token KL(π0‖π) on the same tokens
//            (docs/metrics.md "Trainers" (SFT+KL));
//   rollout: G samples per prompt at temperature 1 with a KV cache, seeded per step;
//   pg:      the clipped GRPO loss on those samples (models/llama_losses.ts grpoLoss), π_old the
//            sampling log-probabilities, β·k3 to π0, filtered instances weighted 0.
//
// π0 is the learner's `reference` (the pipeline passes the model at the start of the stage); it
// also anchors the KL column of the step logs.

import { numpy as np, tree } from "@jax-js/jax";
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
import { type LlamaParams, scoreKl, scoreTokens } from "./llama.ts";
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
import { initTrainState, makeTrainStep, readScalars, type TrainStep } from "./optim.ts";
import { sample } from "./sampling.ts";
import { promptIds, type Tokenizer } from "./tokenizer.ts";

/** Rounds up to a multiple of 8 (fewer compiled shapes). */
function bucket(n: number): number {
  return Math.ceil(n / 8) * 8;
}

type Step<B> = TrainStep<LlamaParams, B, Metrics>;

// One compiled step per loss and architecture, shared by every session of the process.
const steps = new Map<string, Step<never>>();

function stepFor<B>(kind: "sft" | "pg", policy: LlamaPolicy, clipNorm: number): Step<B> {
  const config = policy.config;
  const key = `${kind}:${clipNorm}:${JSON.stringify(config)}`;
  let s = steps.get(key);
  if (!s) {
    s = (kind === "sft"
      ? makeTrainStep((p: LlamaParams, b: SftBatch) =>
        sftLoss(p, b, { config }), { clipNorm })
      : makeTrainStep((p: LlamaParams, b: GrpoBatch) => grpoLoss(p, b, { config }), {
        clipNorm,
      })) as unknown as Step<never>;
    steps.set(key, s);
  }
  return s as unknown as Step<B>;
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
  const rollLen = bucket(Math.max(...encoded.map((e) => e.prompt.length)) + genTokens);
  const ref = opts.reference === undefined
    ? undefined
    : (opts.reference as LlamaPolicy).params ?? undefined;
  if (opts.reference !== undefined && !ref) {
    throw new ValidationError("reference", "must be a Llama policy");
  }
  const clipNorm = opts.clipNorm ?? 1;
  // SFT completions per labelling and item (the labelling's targets, one drawn per item), and
  // one padded length per labelling so that every SFT step runs one compiled program.
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
      const length = bucket(Math.max(...ids.map((c, i) => encoded[i].prompt.length + c.length)));
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
      let state = initTrainState(policy.params);
      let calls = 0;
      const sft = stepFor<SftBatch>("sft", policy, clipNorm);
      const pg = stepFor<GrpoBatch>("pg", policy, clipNorm);
      const take = (s: typeof state) => {
        state = s;
        policy.params = s.params;
      };
      return {
        async sft(idx, { labelling, beta, lr }) {
          if (beta > 0 && !ref) throw new ValidationError("sft", "β > 0 needs a reference policy");
          const targets = completionsOf(labelling, seed);
          const examples: Example[] = idx.map((i) => ({
            prompt: encoded[i].prompt,
            completion: targets.ids[i],
          }));
          const batch = sftBatch(examples, { length: targets.length, padId: tok.padId });
          if (ref) {
            batch.refLogProbs = referenceLogProbs(ref, batch, { config });
            batch.beta = np.array(beta);
          }
          const tokens = examples.reduce((a, e) => a + e.completion.length, 0);
          const r = await sft.step(state, batch, { lr });
          take(r.state);
          const m = await readScalars(r.aux);
          // metrics.kl is the mean over target tokens; report the mean per-sequence sum.
          return { loss: r.loss, kl: ref ? m.kl * tokens / idx.length : NaN };
        },
        async rollout(idx, g): Promise<Rollouts<string>> {
          const rowsOf = idx.flatMap((i) => Array<number>(g).fill(i));
          const prompts = rowsOf.map((i) => encoded[i].prompt);
          const s = await sample(policy.params, prompts, {
            config,
            maxTokens: genTokens,
            temperature: 1,
            seed: (seed * 1_000_003 + hashString(`rollout:${calls++}`)) >>> 0,
            stopWhen: (row, ids) => generationDone(encoded[rowsOf[row]], ids, tok),
          });
          const rows = prompts.map((prompt, r) => ({
            prompt,
            completion: s.tokens[r],
            logProbs: s.logProbs[r],
          }));
          let kl = NaN;
          if (ref) {
            const seqs = rows.map((r) => [...r.prompt, ...r.completion]);
            const perToken = await scoreKl([ref, policy.params], seqs, {
              config,
              batchSize: seqs.length,
            });
            let sum = 0;
            rows.forEach((r, k) => {
              for (let t = r.prompt.length; t < seqs[k].length; t++) sum += perToken[k][t];
            });
            kl = sum / rows.length;
          }
          const outputs = idx.map((i, k) =>
            s.tokens.slice(k * g, (k + 1) * g).map((t) =>
              cutAtStop(tok.decode(t), encoded[i].until)
            )
          );
          const internal: LlamaRolloutState = { rows };
          return { idx, outputs, kl, internal };
        },
        async pg(ro, u) {
          const st = ro.internal as LlamaRolloutState;
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
          const batch = grpoBatch(rollouts, {
            clip: u.clip,
            beta: u.beta,
            normalization: u.normalization,
            constant: genTokens,
            length: rollLen,
            padId: tok.padId,
            keep: Array.from(u.mask, (m) => m > 0),
          });
          const r = await pg.step(state, batch, { lr: u.lr });
          take(r.state);
          tree.dispose(r.aux);
          return { loss: r.loss };
        },
        dispose() {
          tree.dispose([state.m, state.v]);
        },
      };
    },
  };
}
