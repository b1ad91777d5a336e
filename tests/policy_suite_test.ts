// The shared Policy suite (STYLE.md habit 5): every model family (models/families.ts) runs the
// same checks through the one Policy interface: outputs of the right kind for every request,
// deterministic and independent of batch size; greedy generation honours stop strings and
// budgets; log-likelihoods are finite and ≤ 0, each after its own context where a choices request
// has one per continuation (Winogrande); KL to itself is 0 and to a trained copy positive;
// a clone trains without touching the original; save then the family's load gives the same
// answers; and a request of a kind the family cannot answer is refused. Where a family honestly
// cannot do something it is listed under `skip` with the reason (as Hono's shared router suite).
// A family may have several subjects: the jax-js Llama runs it from scratch with the character
// tokenizer and as a Qwen2.5-layout checkpoint with its own tokenizer (llama_qwen2).
//
// Then the family-specific promise of the one-pipeline issue: the jax-js Llama answers benchmark
// requests directly, and its log-likelihoods equal those of its ONNX export (transformers.js on
// onnxruntime-node) within 1e-4.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { rng } from "../lib/rng.ts";
import { charTokenizerFiles } from "../models/char_tokenizer.ts";
import { startEngine } from "../models/engine.ts";
import { FAMILIES } from "../models/families.ts";
import type { TrainInstance } from "../models/learner.ts";
import { exportOnnx } from "../models/llama_io.ts";
import { LlamaPolicy } from "../models/llama_policy.ts";
import { MlpPolicy } from "../models/mlp_policy.ts";
import { loadOnnxLm } from "../models/onnx_lm.ts";
import type { Output, Policy, Request } from "../models/policy.ts";
import { writeTinyQwen2 } from "../models/tiny_checkpoints.ts";
import { CHAR_TOKENIZER } from "../models/tokenizer.ts";
import { TRAINERS } from "../trainers/mod.ts";
import { TINY_LM_CONFIG } from "./tiny_lm.ts";

// jax-js's wasm worker pool and ONNX sessions outlive each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

type Check = "kl" | "learner" | "clone" | "save";

/** One family under test: a small policy, requests it answers, and one it must refuse. */
interface Subject {
  readonly family: string;
  /** The model section that loads what save() wrote (default: the family's minimal one). */
  readonly saved?: (dir: string) => Record<string, unknown>;
  /** Whether every token is one character (the character tokenizer), bounding output length. */
  readonly charTokens?: boolean;
  open(): Promise<Policy>;
  readonly requests: readonly Request[];
  readonly refused: Request;
  /** Training instances for the learner checks (trainable families). */
  readonly instances?: readonly TrainInstance[];
  readonly skip?: readonly { reason: string; checks: readonly Check[] }[];
}

const r = rng(11, 3);
const CLASSIFY: Request[] = Array.from({ length: 20 }, () => ({
  kind: "classify",
  x: Float32Array.from({ length: 6 }, () => r.next()),
  classes: 4,
}));
// A choices request scored pairwise (Winogrande's partial scoring): continuation i after
// contexts[i], one of them empty; `context` is only shown, never scored.
const PAIRWISE: Request = {
  kind: "choices",
  context: "Tom was tired so _ slept.",
  contexts: ["Tom was tired so Tom", "Tom was tired so Ann", ""],
  continuations: [" slept.", " slept.", "z"],
};
const TEXT: Request[] = [
  { kind: "choices", context: "The sky is", continuations: [" blue", " green", " made of cheese"] },
  { kind: "choices", context: "", continuations: ["a", "bc"] },
  { kind: "choices", context: "2+2= ", continuations: ["4", "5"] },
  PAIRWISE,
  { kind: "generate", prompt: "cpy:ab=", until: ["\n"], maxTokens: 6 },
  { kind: "generate", prompt: "Q: why?", until: ["e", "\n"], maxTokens: 12 },
  { kind: "generate", prompt: "x", until: [], maxTokens: 3 },
];
const GENERATE = TEXT.filter((q) => q.kind === "generate");

const tinyLlama = () => {
  const config = { ...TINY_LM_CONFIG, max_position_embeddings: 64 };
  return LlamaPolicy.init(config, { seed: 5, tokenizer: CHAR_TOKENIZER });
};

let qwenDir: Promise<string> | undefined;
/** The tiny Qwen2.5-layout checkpoint (BF16, q/k/v biases, its own BPE tokenizer), written once. */
function qwenCheckpoint(): Promise<string> {
  qwenDir ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "policy_suite_qwen2_" });
    await writeTinyQwen2(dir, { seed: 5 });
    return dir;
  })();
  return qwenDir;
}

let onnxDir: Promise<string> | undefined;
/** The tiny Llama exported as an ONNX model folder with the character tokenizer's files. */
function exported(): Promise<string> {
  onnxDir ??= (async () => {
    await startEngine("wasm");
    const dir = await Deno.makeTempDir({ prefix: "policy_suite_onnx_" });
    const p = tinyLlama();
    await exportOnnx(dir, { config: p.config, params: p.params, tokenizer: charTokenizerFiles() });
    await p.dispose();
    return dir;
  })();
  return onnxDir;
}

const SUBJECTS: Record<string, Subject> = {
  mlp: {
    family: "mlp",
    open: async () => {
      await startEngine("wasm");
      return MlpPolicy.init({ inputDim: 6, hidden: [8], classes: 4 }, 3);
    },
    requests: CLASSIFY,
    refused: TEXT[0],
    instances: CLASSIFY.map((q, i) => ({
      request: q,
      targets: (l) => (l === "sft1" ? [i % 4] : undefined),
      reward: (y) => (y === i % 4 ? 1 : 0),
      correct: () => [i % 4],
    })),
  },
  llama: {
    family: "llama",
    charTokens: true,
    open: async () => {
      await startEngine("wasm");
      return tinyLlama();
    },
    requests: TEXT,
    refused: CLASSIFY[0],
    instances: GENERATE.map((q, i) => ({
      request: q,
      targets: (l) => (l === "sft1" ? [String(i)] : undefined),
      reward: (y) => (String(y).startsWith(String(i)) ? 1 : 0),
    })),
  },
  // The same family on a real checkpoint layout: a Qwen2.5-Instruct-style folder with its own
  // tokenizer through transformers.js, saved back as BF16 with its tokenizer files.
  llama_qwen2: {
    family: "llama",
    open: async () => {
      const family = FAMILIES.llama;
      const spec = family.parse({ family: "llama", source: await qwenCheckpoint() }, "model");
      return await family.open(spec, { seed: 0, device: "wasm" });
    },
    saved: (dir) => ({ family: "llama", source: dir }),
    requests: TEXT,
    refused: CLASSIFY[0],
    instances: GENERATE.map((q, i) => ({
      request: q,
      targets: (l) => (l === "sft1" ? [String(i)] : undefined),
      reward: (y) => (String(y).startsWith(String(i)) ? 1 : 0),
    })),
  },
  onnx: {
    family: "onnx",
    // lm-eval's add_bos_token, as the character model was trained: prompts start with <s>.
    open: async () => await loadOnnxLm(await exported(), { device: "cpu", addBos: true }),
    requests: TEXT,
    refused: CLASSIFY[0],
    skip: [{
      reason: "ONNX models are evaluation-only: no learner, clone, KL or save",
      checks: ["kl", "learner", "clone", "save"],
    }],
  },
};

const skipped = (s: Subject, c: Check) => s.skip?.some((k) => k.checks.includes(c)) ?? false;

Deno.test("the policy suite covers every registered model family", () => {
  deepEqual(
    [...new Set(Object.values(SUBJECTS).map((s) => s.family))].sort(),
    Object.keys(FAMILIES).sort(),
  );
});

function kindsMatch(requests: readonly Request[], outputs: readonly Output[]): void {
  equal(outputs.length, requests.length);
  requests.forEach((q, i) => equal(outputs[i].kind, q.kind, `output ${i}`));
}

for (const [name, s] of Object.entries(SUBJECTS)) {
  Deno.test(
    `${name}: answers every request with its kind, deterministically, any batch size`,
    opts,
    async () => {
      const p = await s.open();
      try {
        const a = await p.run(s.requests, { batchSize: 64 });
        kindsMatch(s.requests, a);
        deepEqual(await p.run(s.requests, { batchSize: 64 }), a, "same requests, same outputs");
        const one = await p.run(s.requests, { batchSize: 1 });
        a.forEach((x, i) => {
          const y = one[i];
          if (x.kind === "choices" && y.kind === "choices") {
            x.logliks.forEach((v, k) => ok(Math.abs(v - y.logliks[k]) < 1e-4, `request ${i}`));
          } else deepEqual(y, x, `request ${i}: batch size changed the answer`);
        });
        for (const [i, o] of a.entries()) {
          if (o.kind === "choices") {
            const q = s.requests[i] as Extract<Request, { kind: "choices" }>;
            equal(o.logliks.length, q.continuations.length);
            ok(
              o.logliks.every((v) => Number.isFinite(v) && v <= 1e-6),
              `request ${i}: ${o.logliks}`,
            );
          }
          if (o.kind === "classify") ok(Number.isInteger(o.label) && o.label >= 0 && o.label < 4);
        }
      } finally {
        await p.dispose();
      }
    },
  );

  if (s.requests.some((q) => q.kind === "generate")) {
    Deno.test(
      `${name}: greedy generation stops at stop strings and within budget`,
      opts,
      async () => {
        const p = await s.open();
        try {
          const out = await p.run(GENERATE);
          GENERATE.forEach((q, i) => {
            const o = out[i] as Extract<Output, { kind: "generate" }>;
            equal(o.outputs.length, 1);
            for (const stop of (q as Extract<Request, { kind: "generate" }>).until) {
              ok(
                !o.outputs[0].includes(stop),
                `output ${JSON.stringify(o.outputs[0])} has ${stop}`,
              );
            }
            // The character tokenizer: one token per character (the stop string cut off).
            if (s.charTokens) {
              ok(o.outputs[0].length <= (q as Extract<Request, { kind: "generate" }>).maxTokens);
            }
          });
          const three = await p.run(GENERATE, { samples: 3, temperature: 1, seed: 7 });
          for (const o of three) {
            equal((o as Extract<Output, { kind: "generate" }>).outputs.length, 3);
          }
          deepEqual(
            await p.run(GENERATE, { samples: 3, temperature: 1, seed: 7 }),
            three,
            "seeded",
          );
        } finally {
          await p.dispose();
        }
      },
    );
  }

  if (s.requests.includes(PAIRWISE)) {
    Deno.test(
      `${name}: a choices request with contexts scores each continuation after its own context`,
      opts,
      async () => {
        const p = await s.open();
        try {
          const q = PAIRWISE as Extract<Request, { kind: "choices" }>;
          const alone: Request[] = q.continuations.map((c, i) => ({
            kind: "choices",
            context: q.contexts![i],
            continuations: [c],
          }));
          const shared: Request = {
            kind: "choices",
            context: q.context,
            continuations: q.continuations,
          };
          const [pairwise, ...rest] = await p.run([PAIRWISE, ...alone, shared]);
          const lls = (o: Output | undefined) =>
            (o as Extract<Output, { kind: "choices" }>).logliks;
          const each = rest.slice(0, alone.length).map((o) => lls(o)[0]);
          equal(lls(pairwise).length, 3);
          lls(pairwise).forEach((v, i) => ok(Math.abs(v - each[i]) < 1e-4, `continuation ${i}`));
          ok(
            lls(pairwise).some((v, i) => Math.abs(v - lls(rest.at(-1))[i]) > 1e-3),
            "the shared context is not what is scored",
          );
          await rejects(
            () => p.run([{ ...q, contexts: q.contexts!.slice(1) }]),
            (e: Error) => e instanceof RangeError && !e.message.includes("\n"),
          );
          if (!skipped(s, "learner")) {
            // A learner trains on one prompt per instance: it refuses rather than pick one.
            throws(
              () =>
                p.learner!([{ request: PAIRWISE, targets: () => [" slept."] }], { reference: p }),
              (e: Error) => e.message.endsWith("has one context per choice"),
            );
          }
        } finally {
          await p.dispose();
        }
      },
    );
  }

  Deno.test(`${name}: refuses a request of a kind it cannot answer`, opts, async () => {
    const p = await s.open();
    try {
      ok(!p.kinds.includes(s.refused.kind));
      await rejects(() => p.run([s.refused]), (e: Error) => !e.message.includes("\n"));
    } finally {
      await p.dispose();
    }
  });

  if (!skipped(s, "kl")) {
    Deno.test(`${name}: KL to itself is 0, to a trained copy positive, seeded`, opts, async () => {
      const p = await s.open();
      const q = p.clone!();
      try {
        const kinds = s.requests.filter((x) => x.kind !== "choices");
        const self = await p.kl!(p, kinds, { seed: 1 });
        ok(Math.abs(self.forward) < 1e-5, `KL(p‖p) = ${self.forward}`);
        const learner = q.learner!(s.instances!, { reference: p });
        await TRAINERS.sft.train(learner, {
          lr: 0.05,
          checkpoints: [5],
          batch: 4,
          seed: 1,
          options: { labelling: "sft1", beta: 0 },
        });
        const k = await q.kl!(p, kinds, { seed: 1 });
        ok(k.forward > 1e-3, `KL(p‖trained) = ${k.forward}`);
        if (k.reverse !== null) ok(k.reverse > 1e-3, `reverse ${k.reverse}`);
        deepEqual(await q.kl!(p, kinds, { seed: 1 }), k, "same seed, same estimate");
      } finally {
        await q.dispose();
        await p.dispose();
      }
    });
  }

  if (!skipped(s, "clone") && !skipped(s, "learner")) {
    Deno.test(
      `${name}: training a clone leaves the original's answers unchanged`,
      opts,
      async () => {
        const p = await s.open();
        const q = p.clone!();
        try {
          const before = await p.run(s.requests);
          const learner = q.learner!(s.instances!, { reference: p });
          ok(learner.n === s.instances!.length && learner.hasLabelling("sft1"));
          ok(!learner.hasLabelling("no_such_labelling"));
          await TRAINERS.sft.train(learner, {
            lr: 0.05,
            checkpoints: [5],
            batch: 4,
            seed: 1,
            options: { labelling: "sft1", beta: 0 },
          });
          deepEqual(await p.run(s.requests), before);
        } finally {
          await q.dispose();
          await p.dispose();
        }
      },
    );
  }

  if (!skipped(s, "save")) {
    Deno.test(`${name}: save, then the family's load, answers the same`, opts, async () => {
      const p = await s.open();
      const dir = await Deno.makeTempDir();
      try {
        await p.save!(dir);
        const family = FAMILIES[s.family];
        const spec = family.parse(
          s.saved?.(dir) ??
            (s.family === "mlp"
              ? { family: "mlp", hidden: [8] }
              : { family: "llama", tokenizer: "char", source: dir }),
          "model",
        );
        const back = await family.load(dir, spec, { seed: 0, device: "wasm" });
        try {
          deepEqual(await back.run(s.requests), await p.run(s.requests));
        } finally {
          await back.dispose();
        }
      } finally {
        await p.dispose();
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

Deno.test(
  "llama: in-process log-likelihoods equal its ONNX export's within 1e-4",
  opts,
  async () => {
    await startEngine("wasm");
    const jax = tinyLlama();
    const onnx = await loadOnnxLm(await exported(), { device: "cpu", addBos: true });
    try {
      // Contexts with trailing spaces, an empty context, and one longer than the 64-token window
      // (cut from the left as lm-eval does).
      const requests: Request[] = [
        ...TEXT.filter((q) => q.kind === "choices"),
        { kind: "choices", context: "x".repeat(90) + " then", continuations: [" y", " zz z"] },
      ];
      const [a, b] = [await jax.run(requests), await onnx.run(requests)];
      let worst = 0;
      a.forEach((o, i) => {
        const x = o as Extract<Output, { kind: "choices" }>;
        const y = b[i] as Extract<Output, { kind: "choices" }>;
        x.logliks.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - y.logliks[k]))));
      });
      ok(worst < 1e-4, `largest difference ${worst}`);
      // The same greedy generations too.
      deepEqual(await jax.run(GENERATE), await onnx.run(GENERATE));
    } finally {
      await jax.dispose();
      await onnx.dispose();
    }
  },
);
