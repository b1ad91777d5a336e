// Tests for models/sampling.ts on wasm: KV-cached sampling against full recomputation (greedy
// tokens on ragged prompts, every sampled log-prob), seeds, top-p, the stop token, and stopWhen.

import { deepEqual, equal, notDeepEqual, ok, rejects } from "node:assert/strict";
import { tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { startEngine } from "./engine.ts";
import {
  answerLogProbs,
  llamaForward,
  type LlamaModelConfig,
  padBatch,
  paramsFromWeights,
  scoreTokens,
} from "./llama.ts";
import { llamaGreedy, logSoftmax } from "./llama_ref.ts";
import { sample } from "./sampling.ts";
import { loadLlama } from "./llama_io.ts";
import { writeTinyLlama3 } from "./tiny_checkpoints.ts";
import {
  GQA_CONFIG as GQA,
  maxAbsDiff as maxDiff,
  randomLlamaWeights,
  randomTokens as tokens,
  TIED_CONFIG as TIED,
} from "./tiny_llama.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

// Measured max |Δ| 2e-6 on logits; wasm's log (≤ 1.3e-5) dominates log-probabilities.
const TOL = 1e-4;

function model(config: LlamaModelConfig, seed: number) {
  const weights = randomLlamaWeights(config, seed);
  return { weights, params: paramsFromWeights(weights, { config }) };
}

// ---- KV-cached sampling ----

Deno.test(
  "sample: KV-cached greedy decoding equals full recomputation (ragged prompts)",
  opts,
  async () => {
    await startEngine("wasm");
    for (const config of [GQA, TIED]) {
      const { weights, params } = model(config, 11);
      // Lengths 1, 6 and 17: the prompt width rounds up to 32, and rows start decoding at
      // different cache slots.
      const prompts = [tokens(1, 21), tokens(6, 22), tokens(17, 23)];
      const out = await sample(params, prompts, { config, maxTokens: 20 });
      prompts.forEach((p, i) => {
        deepEqual(out.tokens[i], llamaGreedy(weights, config, { prompt: p, maxTokens: 20 }));
        equal(out.logProbs[i].length, 20);
        ok(out.logProbs[i].every((v) => v <= 0 && v > -50));
      });
      deepEqual(out.stopped, [false, false, false]);
      // A stop token ends its row (and is kept) but not the others.
      const stop = out.tokens[1][4];
      const cut = await sample(params, prompts, { config, maxTokens: 20, stopToken: stop });
      prompts.forEach((_, i) => {
        const at = out.tokens[i].indexOf(stop);
        deepEqual(cut.tokens[i], at < 0 ? out.tokens[i] : out.tokens[i].slice(0, at + 1));
        equal(cut.stopped[i], at >= 0);
      });
      tree.dispose(params);
    }
  },
);

Deno.test(
  "sample: every sampled log-prob equals the recomputed one; seeds; top-p",
  opts,
  async () => {
    await startEngine("wasm");
    const { params } = model(GQA, 12);
    const prompts = [tokens(3, 31), tokens(9, 32), tokens(1, 33), tokens(4, 34)];
    const o = { config: GQA, maxTokens: 24, temperature: 1.5, seed: 5 };
    const a = await sample(params, prompts, o);
    deepEqual(await sample(params, prompts, o), a, "same seed, same samples");
    notDeepEqual((await sample(params, prompts, { ...o, seed: 6 })).tokens, a.tokens);
    // Recompute each full sequence without a cache at the same temperature.
    const full = prompts.map((p, i) => [...p, ...a.tokens[i]]);
    const re = await scoreTokens(params, full, { config: GQA, temperature: 1.5 });
    prompts.forEach((p, i) => {
      const d = maxDiff(a.logProbs[i], re[i].slice(p.length));
      ok(d < TOL, `row ${i}: cached vs recomputed log-probs differ by ${d}`);
    });
    // A nucleus smaller than any single token's mass is the argmax: greedy tokens.
    const greedy = await sample(params, prompts, { config: GQA, maxTokens: 10 });
    const nucleus = await sample(params, prompts, {
      ...o,
      maxTokens: 10,
      temperature: 1,
      topP: 1e-6,
    });
    deepEqual(nucleus.tokens, greedy.tokens);
    // topP 0.5 only picks tokens whose more probable rivals hold < 0.5 of the mass (the nucleus),
    // judged on logits recomputed without a cache.
    const half = await sample(params, prompts, { ...o, temperature: 1, topP: 0.5, seed: 9 });
    const seqs = prompts.map((p, i) => [...p, ...half.tokens[i]]);
    const T = 40, V = GQA.vocab_size;
    const logits = await llamaForward(tree.ref(params), padBatch(seqs, { length: T }), {
      config: GQA,
    }).data();
    let outsideTop1 = 0;
    prompts.forEach((p, i) =>
      half.tokens[i].forEach((tok, k) => {
        const row = logSoftmax(
          Float64Array.from(logits.subarray((i * T + p.length + k - 1) * V).subarray(0, V)),
        );
        let above = 0;
        for (let v = 0; v < V; v++) if (row[v] > row[tok]) above += Math.exp(row[v]);
        ok(above < 0.5 + 1e-4, `row ${i} step ${k}: token outside the nucleus (${above} above)`);
        if (above > 0) outsideTop1++;
      })
    );
    ok(outsideTop1 > 0, "the nucleus sometimes holds more than the argmax");
    await rejects(sample(params, [[]], { config: GQA, maxTokens: 1 }), UsageError);
    tree.dispose(params);
  },
);

Deno.test(
  "sample: stopWhen stops a row after the token it accepts (kept), on the host, per row",
  opts,
  async () => {
    await startEngine("wasm");
    const { params } = model(GQA, 11);
    const prompts = [tokens(1, 21), tokens(6, 22), tokens(17, 23)];
    const o = { config: GQA, maxTokens: 20 };
    const out = await sample(params, prompts, o);
    // A two-token stop sequence (what one stopToken cannot express), taken from row 1.
    const [a, b] = out.tokens[1].slice(3, 5);
    const calls: { row: number; tokens: number[] }[] = [];
    const cut = await sample(params, prompts, {
      ...o,
      stopWhen: (row, t) => {
        calls.push({ row, tokens: [...t] });
        return t.length >= 2 && t.at(-2) === a && t.at(-1) === b;
      },
    });
    prompts.forEach((_, i) => {
      const t = out.tokens[i];
      const at = t.findIndex((x, j) => j >= 1 && t[j - 1] === a && x === b);
      deepEqual(cut.tokens[i], at < 0 ? t : t.slice(0, at + 1), `row ${i}`);
      deepEqual(cut.logProbs[i], out.logProbs[i].slice(0, cut.tokens[i].length));
      equal(cut.stopped[i], at >= 0);
      // Called once per new token of the row, with the row's tokens so far.
      const mine = calls.filter((c) => c.row === i).map((c) => c.tokens);
      deepEqual(mine, cut.tokens[i].map((_, n) => cut.tokens[i].slice(0, n + 1)));
    });
    ok(cut.stopped[1] && cut.tokens[1].length <= 5, "row 1 stops by its 5th token");

    // Stopping one sampled row leaves the others' draws untouched (one stream per row); a row
    // stopped on its last allowed token still counts as stopped.
    const s = { ...o, temperature: 1, seed: 3 };
    const free = await sample(params, prompts, s);
    const one = await sample(params, prompts, {
      ...s,
      stopWhen: (row, t) => (row === 0 && t.length === 2) || (row === 2 && t.length === 20),
    });
    deepEqual(one.tokens, [free.tokens[0].slice(0, 2), free.tokens[1], free.tokens[2]]);
    deepEqual(one.stopped, [true, false, true]);
    // With stopToken too, whichever comes first stops the row.
    const stop = free.tokens[1][2];
    const both = await sample(params, prompts, {
      ...s,
      stopToken: stop,
      stopWhen: (_row, t) => t.length === 4,
    });
    prompts.forEach((_, i) => {
      const at = free.tokens[i].indexOf(stop);
      const n = at >= 0 && at < 4 ? at + 1 : 4;
      deepEqual(both.tokens[i], free.tokens[i].slice(0, n));
      equal(both.stopped[i], true);
    });
    ok(both.tokens[1].length <= 3 && both.tokens.some((t) => t.length === 4), "both rules acted");
    // An exception in the callback rejects the call.
    await rejects(
      sample(params, prompts, {
        ...o,
        stopWhen: () => {
          throw new RangeError("boom");
        },
      }),
      /boom/,
    );
    tree.dispose(params);
  },
);

Deno.test(
  "sample: Llama-3's rope scaling in the KV-cached decode equals greedy decoding by full forward passes",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    await startEngine("wasm");
    const dir = await Deno.makeTempDir();
    try {
      await writeTinyLlama3(dir, { seed: 2 });
      const { config, params } = await loadLlama(dir);
      ok(config.rope_scaling, "the checkpoint has llama3 rope scaling");
      // Long enough that the rescaled low frequencies matter (positions past 100).
      const prompt = Array.from({ length: 120 }, (_, i) => 5 + (i * 7) % 50);
      const cached = await sample(params, [prompt], { config, maxTokens: 6, temperature: 0 });
      const seq = [...prompt], lps: number[] = [];
      for (let k = 0; k < 6; k++) {
        const lp = await answerLogProbs(params, [seq], { config, batchSize: 1 });
        let best = 0;
        for (let v = 1; v < config.vocab_size; v++) if (lp[v] > lp[best]) best = v;
        seq.push(best);
        lps.push(lp[best]);
      }
      deepEqual(cached.tokens[0], seq.slice(prompt.length));
      // The cached decode's log-probabilities equal the full forward's at every step.
      cached.logProbs[0].forEach((v, k) =>
        ok(Math.abs(v - lps[k]) < 1e-4, `step ${k}: ${v} vs ${lps[k]}`)
      );
      tree.dispose(params);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
