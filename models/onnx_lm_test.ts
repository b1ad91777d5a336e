// Tests for models/onnx_lm.ts on the tiny Llama fixture: log-likelihoods (batched, padded,
// trailing-space and empty contexts, non-ASCII) and greedy generation through transformers.js's
// KV cache agree with the independent float64 reference; stop strings, budgets, chat, sampling
// seeds, and every folder/hub error path.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { AutoTokenizer, type PreTrainedTokenizer } from "@huggingface/transformers";
import { UsageError, ValidationError } from "../lib/errors.ts";
import type { LoglikRequest, OnnxLm } from "./onnx_lm.ts";
import { argmax, llamaGreedy, llamaLogits, llamaLoglik } from "./llama_ref.ts";
import { cutAtStop } from "./lm_encoding.ts";
import { loadOnnxLm, type OnnxLmOptions } from "./onnx_lm.ts";
import { type RandomLlama, writeTinyLlama } from "./tiny_llama.ts";

const BOS = 1, EOS = 2;

interface Fixture {
  dir: string;
  model: RandomLlama;
  tok: PreTrainedTokenizer;
  lm: OnnxLm;
}

/** Writes the fixture into a temp dir, loads it, runs `fn`, then frees the session and the dir. */
async function withLm(
  fn: (f: Fixture) => Promise<void>,
  opts: Partial<OnnxLmOptions> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "onnx-lm-" });
  try {
    const model = await writeTinyLlama(dir, { seed: 3 });
    const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const lm = await loadOnnxLm(dir, { device: "cpu", ...opts });
    try {
      await fn({ dir, model, tok, lm });
    } finally {
      await lm.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function enc(tok: PreTrainedTokenizer, text: string): number[] {
  return text === "" ? [] : tok.encode(text, { add_special_tokens: false });
}

/** The spec, written out independently: lm-eval's context/continuation token split. */
function expectedIds(tok: PreTrainedTokenizer, req: LoglikRequest) {
  if (req.context === "") return { context: [BOS], continuation: enc(tok, req.continuation) };
  const n = req.context.length - req.context.trimEnd().length;
  const context = req.context.slice(0, req.context.length - n);
  const continuation = req.context.slice(req.context.length - n) + req.continuation;
  const ctx = enc(tok, context);
  const whole = enc(tok, context + continuation);
  return { context: ctx.length > 0 ? ctx : [BOS], continuation: whole.slice(ctx.length) };
}

const REQUESTS: LoglikRequest[] = [
  { context: "The cat sat on", continuation: " the mat" },
  { context: "Question: what is 2+2? Answer: ", continuation: "4" },
  { context: "", continuation: "hello world" },
  { context: "Café crème:", continuation: " très bon, 日本語 🤗" },
  { context: "a", continuation: "b" },
  { context: "the ".repeat(15), continuation: "end of the line" },
  { context: "   ", continuation: "x" },
  { context: "Multi\nline\n\n", continuation: "text\n" },
  { context: "abc", continuation: "" },
  { context: "Tab, ideographic space:\t\u3000", continuation: "done" },
];

Deno.test("loglikelihood: matches the float64 reference at every batch size, in input order", async () => {
  await withLm(async ({ model, tok, lm }) => {
    const want = REQUESTS.map((r) => {
      const ids = expectedIds(tok, r);
      return { ...llamaLoglik(model.weights, model.config, ids), tokens: ids.continuation.length };
    });
    // The trailing space moved onto the continuation: " 4" is scored, not "4".
    deepEqual(expectedIds(tok, REQUESTS[1]).continuation, enc(tok, " 4"));
    for (const batchSize of [1, 3, 16]) {
      const got = await lm.loglikelihood(REQUESTS, { batchSize });
      equal(got.length, REQUESTS.length);
      got.forEach((g, i) => {
        ok(
          Math.abs(g.logprob - want[i].logprob) < 1e-4,
          `request ${i} batch ${batchSize}: ${g.logprob} vs ${want[i].logprob}`,
        );
        equal(g.greedy, want[i].greedy, `request ${i} greedy`);
        equal(g.tokens, want[i].tokens, `request ${i} tokens`);
        ok(want[i].tokens === 0 ? g.logprob === 0 : g.logprob < 0);
      });
    }
    // Deterministic, and progress is reported per batch.
    const progress: number[] = [];
    const again = await lm.loglikelihood(REQUESTS, {
      batchSize: 3,
      onProgress: (d) => progress.push(d),
    });
    deepEqual(again, await lm.loglikelihood(REQUESTS, { batchSize: 3 }));
    deepEqual(progress, [3, 6, 9, 10]);
  });
});

Deno.test("loglikelihood: a continuation of argmax tokens is greedy", async () => {
  await withLm(async ({ model, tok, lm }) => {
    // Find contexts whose argmax next token re-tokenizes as itself after the context.
    const requests: LoglikRequest[] = [];
    for (const context of ["The cat", "Once upon a time", "In the", "x = 1; y =", "hello"]) {
      const ids = enc(tok, context);
      const logits = llamaLogits(model.weights, model.config, ids);
      const next = argmax(logits[logits.length - 1]);
      const continuation = tok.decode([next]);
      if (next < 4 || continuation.trim() === "") continue;
      const split = expectedIds(tok, { context, continuation });
      if (split.continuation.length === 1 && split.continuation[0] === next) {
        requests.push({ context, continuation });
      }
    }
    ok(requests.length > 0, "no usable context found");
    for (const r of await lm.loglikelihood(requests)) {
      equal(r.greedy, true);
      equal(r.tokens, 1);
    }
  });
});

/** Reference greedy text for a prompt: float64 recomputation, cut at EOS and the budget. */
function refGreedy(f: Fixture, prompt: string | number[], maxTokens: number): string {
  const ids = typeof prompt === "string" ? enc(f.tok, prompt) : prompt;
  const out = llamaGreedy(f.model.weights, f.model.config, {
    prompt: ids.length ? ids : [BOS],
    maxTokens,
    eos: EOS,
  });
  const gen = out[out.length - 1] === EOS ? out.slice(0, -1) : out;
  return gen.length ? f.tok.decode(gen, { skip_special_tokens: true }) : "";
}

const PROMPTS = ["The cat", "Once upon a time, there was a", "日本", "a", ""];

Deno.test("generate: greedy KV-cache generation equals float64 recomputation, batched or not", async () => {
  await withLm(async (f) => {
    const want = PROMPTS.map((p) => refGreedy(f, p, 12));
    ok(want.some((w) => w.length > 0));
    const requests = PROMPTS.map((prompt) => ({ prompt, until: [], maxTokens: 12 }));
    deepEqual(await f.lm.generate(requests, { batchSize: 5 }), want);
    deepEqual(await f.lm.generate(requests, { batchSize: 1 }), want);
  });
});

Deno.test("generate: per-request token budgets and stop strings cut the output", async () => {
  await withLm(async (f) => {
    const prompt = "Once upon a time, there was a";
    const full = refGreedy(f, prompt, 16);
    ok(full.length >= 6, `reference output too short: ${JSON.stringify(full)}`);
    const stop = full.slice(3, 5);
    const [cut, twoStops, budget2, budget0, longer] = await f.lm.generate([
      { prompt, until: [stop], maxTokens: 16 },
      { prompt, until: ["\u0000never", full.slice(1, 3), stop], maxTokens: 16 },
      { prompt, until: [], maxTokens: 2 },
      { prompt, until: [], maxTokens: 0 },
      { prompt, until: [""], maxTokens: 16 },
    ], { batchSize: 8 });
    equal(cut, cutAtStop(full, [stop]));
    ok(!cut.includes(stop));
    equal(twoStops, full.slice(0, full.indexOf(full.slice(1, 3))));
    equal(budget2, refGreedy(f, prompt, 2));
    equal(budget0, "");
    equal(longer, full);
  });
});

Deno.test("generate: chat mode wraps the prompt in the chat template", async () => {
  await withLm(async (f) => {
    const ids = enc(f.tok, "<s>[INST] hi there [/INST]");
    equal(ids[0], BOS, "the template's <s> is the special token");
    const [out] = await f.lm.generate([{ prompt: "hi there", until: [], maxTokens: 8 }]);
    equal(out, refGreedy(f, ids, 8));
  }, { chat: true });
});

Deno.test("generate: sampling is reproducible from the seed", async () => {
  await withLm(async ({ lm }) => {
    const requests = PROMPTS.slice(0, 3).map((prompt) => ({ prompt, until: [], maxTokens: 10 }));
    const a = await lm.generate(requests, { temperature: 1.5, topP: 0.95, seed: 4 });
    const b = await lm.generate(requests, { temperature: 1.5, topP: 0.95, seed: 4 });
    deepEqual(a, b);
    const greedy = await lm.generate(requests);
    ok(a.some((s, i) => s !== greedy[i]), "temperature 1.5 should leave the greedy path somewhere");
  });
});

Deno.test("generate: images on a text-only model are a UsageError", async () => {
  await withLm(async ({ lm, dir }) => {
    equal(lm.vision, false);
    await rejects(
      lm.generate([{
        prompt: "describe",
        until: [],
        maxTokens: 4,
        images: [{ bytes: new Uint8Array(4) }],
      }]),
      (e: Error) =>
        e instanceof UsageError &&
        e.message === `model ${dir} is text-only; task needs a vision-language model`,
    );
  });
});

Deno.test("loadOnnxLm: a folder missing a required file is a one-line ValidationError naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onnx-lm-missing-" });
  try {
    await writeTinyLlama(dir, { seed: 0 });
    for (
      const file of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]
    ) {
      const bytes = await Deno.readFile(`${dir}/${file}`);
      await Deno.remove(`${dir}/${file}`);
      await rejects(
        loadOnnxLm(dir, { device: "cpu" }),
        (e: Error) =>
          e instanceof ValidationError && e.message.startsWith(`${dir}: missing ${file} `) &&
          !e.message.includes("\n"),
      );
      await Deno.writeFile(`${dir}/${file}`, bytes);
    }
    await rejects(
      loadOnnxLm(dir, { device: "cpu", dtype: "q8" }),
      /missing onnx\/model_quantized\.onnx/,
    );
    await rejects(loadOnnxLm(`${dir}/config.json`, { device: "cpu" }), ValidationError);
    await rejects(
      loadOnnxLm(`${dir}/no/such/folder`, { device: "cpu" }),
      (e: Error) => e instanceof UsageError && /no such folder/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOnnxLm: offline hub ids load from the cache dir or fail with a UsageError", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "onnx-lm-cache-" });
  try {
    await rejects(
      loadOnnxLm("forgetbench-test/absent", { device: "cpu", offline: true, cacheDir }),
      (e: Error) => e instanceof UsageError && /not in the cache .* offline mode/.test(e.message),
    );
    // transformers.js's file cache keeps hub files under <cacheDir>/<org>/<name>/<file>.
    await writeTinyLlama(`${cacheDir}/forgetbench-test/tiny`, { seed: 3 });
    const lm = await loadOnnxLm("forgetbench-test/tiny", {
      device: "cpu",
      offline: true,
      cacheDir,
    });
    try {
      equal(lm.id, "forgetbench-test/tiny");
      const [r] = await lm.loglikelihood([{ context: "The cat", continuation: " sat" }]);
      ok(Number.isFinite(r.logprob) && r.logprob < 0);
    } finally {
      await lm.dispose();
    }
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
