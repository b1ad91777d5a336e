// Times the tiny Llama of models/llama.ts (~1.0M parameters) on jax-js: one jitted AdamW step of
// SFT (32 × 64 tokens), SFT+KL, GRPO (32 sequences × 64 tokens, k3 KL), and KV-cached sampling
// throughput, for comparison with bench/llama_torch_reference.py (same model and steps); and
// the same sampling on onnxruntime (models/ort_sampling.ts), 1 and 2 threads, each weight mode,
// with the weight refresh an optimiser update costs timed on its own.
//
//   deno run --allow-read --allow-env --allow-ffi --allow-sys bench/llama_step.ts [--device wasm|webgpu|cpu]
//     [--threads N] [--warmup 3] [--steps 10] [--repeat 2] [--profile] [--kernels] [--json FILE]
//     [--only REGEX]   (time only the pieces whose name matches)
//
// Protocol (as bench/train_step.ts): --warmup untimed calls (the first compiles), then --repeat
// rounds of --steps timed calls, each from dispatch until the loss and new state are read back;
// the round with the best median is shown. --profile also times the forward (loss) alone, forward
// + backward, and the AdamW update alone; --kernels traces one call of each piece with
// jax.profiler and sums kernel time by kind (use --threads 0: with a worker pool the trace
// records only the time to enqueue each kernel). --threads N sizes jax-js's wasm worker pool
// (read from navigator.hardwareConcurrency at import); 0 = no pool, kernels on the main thread.

import { parseArgs } from "node:util";
import { kernelSummary } from "./kernels.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    device: { type: "string", default: "wasm" },
    threads: { type: "string" },
    warmup: { type: "string", default: "3" },
    steps: { type: "string", default: "10" },
    repeat: { type: "string", default: "2" },
    profile: { type: "boolean", default: false },
    kernels: { type: "boolean", default: false },
    json: { type: "string" },
    only: { type: "string" },
  },
}).values;
const warmup = Number(args.warmup), steps = Number(args.steps), repeat = Number(args.repeat);

// Must happen before jax-js is imported: its wasm backend sizes the worker pool at load time.
let threads = "gpu";
if (args.device === "wasm") {
  const n = args.threads === undefined ? navigator.hardwareConcurrency : Number(args.threads);
  if (n === 0) {
    (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
    threads = "main thread, no pool";
  } else {
    Object.defineProperty(navigator, "hardwareConcurrency", { value: n, configurable: true });
    threads = `${n}-worker pool`;
  }
}

const { blockUntilReady, jit, numpy: np, profiler, tree, valueAndGrad } = await import(
  "@jax-js/jax"
);
const { parseDevice, startEngine } = await import("../models/engine.ts");
const L = await import("../models/llama.ts");
const { sample } = await import("../models/sampling.ts");
const { OrtSampler } = await import("../models/ort_sampling.ts");
const Loss = await import("../models/llama_losses.ts");
const Optim = await import("../models/optim.ts");
const { rng } = await import("../lib/rng.ts");
type Params = import("../models/llama.ts").LlamaParams;
type SftBatch = import("../models/llama_losses.ts").SftBatch;
type GrpoBatch = import("../models/llama_losses.ts").GrpoBatch;
type Arr = import("@jax-js/jax").Array;

const device = parseDevice(args.device!);
await startEngine(device);

/** ~1.0M parameters: 4 layers, d 128, SwiGLU 512, 4 query heads over 2 kv heads, tied head. */
const CONFIG = {
  model_type: "llama" as const,
  vocab_size: 256,
  hidden_size: 128,
  intermediate_size: 512,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 32,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 256,
  tie_word_embeddings: true,
};
const B = 32, T = 64, PROMPT = 16, NEW = T - PROMPT;
const config = CONFIG;

/** Linear interpolation between closest ranks (numpy's default); same as the PyTorch script. */
function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

type Stats = { median: number; p10: number; p90: number; rounds: number[] };

async function timeIt(fn: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn();
  let best: Stats | undefined;
  const rounds: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
    }
    const s = { median: percentile(ms, 0.5), p10: percentile(ms, 0.1), p90: percentile(ms, 0.9) };
    rounds.push(s.median);
    if (!best || s.median < best.median) best = { ...s, rounds };
  }
  return { ...best!, rounds };
}

// Random token data from fixed seeds: prompts of 16 tokens and 48-token continuations.
const r = rng(1);
const examples = Array.from({ length: B }, () => ({
  prompt: Array.from({ length: PROMPT }, () => r.int(256)),
  completion: Array.from({ length: NEW }, () => r.int(256)),
}));
const params = L.initLlama(config, { seed: 0 });
const base = L.initLlama(config, { seed: 0 });

const pieces: { name: string; tokens: number; run: () => Promise<void> }[] = [];
const sft = Optim.makeTrainStep((p: Params, b: SftBatch) => Loss.sftLoss(p, b, { config }));
let sftState = Optim.initTrainState(tree.ref(params));
const sftB = () => Loss.sftBatch(examples, { length: T });
let firstLoss = NaN;
pieces.push({
  name: "SFT step",
  tokens: B * T,
  run: async () => {
    const res = await sft.step(sftState, sftB(), { lr: 1e-3 });
    tree.dispose(res.aux);
    sftState = res.state;
    if (Number.isNaN(firstLoss)) firstLoss = res.loss;
  },
});
pieces.push({
  name: "SFT+KL step (β 0.1, π0 forward incl.)",
  tokens: B * T,
  run: async () => {
    const b = sftB();
    const ref = Loss.referenceLogProbs(base, b, { config });
    const res = await sft.step(sftState, { ...b, refLogProbs: ref, beta: np.array(0.1) }, {
      lr: 1e-3,
    });
    tree.dispose(res.aux);
    sftState = res.state;
  },
});
const grpo = Optim.makeTrainStep((p: Params, b: GrpoBatch) => Loss.grpoLoss(p, b, { config }), {
  clipNorm: 1,
});
let grpoState = Optim.initTrainState(tree.ref(params));
// π_old and π_ref log-probs of the continuations, computed once (the step itself is timed).
const seqs = examples.map((e) => [...e.prompt, ...e.completion]);
const lpOld = await L.scoreTokens(params, seqs, { config });
const rollouts = examples.map((e, i) => ({
  ...e,
  logProbs: lpOld[i].slice(PROMPT),
  refLogProbs: lpOld[i].slice(PROMPT).map((v) => v - 0.05),
  advantage: (i % 4) - 1.5,
}));
pieces.push({
  name: "GRPO step (k3 KL, β 0.04)",
  tokens: B * T,
  run: async () => {
    const b = Loss.grpoBatch(rollouts, {
      clip: 0.2,
      beta: 0.04,
      normalization: "sequence-mean",
      length: T,
    });
    const res = await grpo.step(grpoState, b, { lr: 1e-5 });
    tree.dispose(res.aux);
    grpoState = res.state;
  },
});
const prompts = examples.map((e) => e.prompt);
let seed = 0;
pieces.push({
  name: `sample, KV cache (${B} × ${PROMPT} → +${NEW})`,
  tokens: B * NEW,
  run: async () => {
    const s = await sample(params, prompts, {
      config,
      maxTokens: NEW,
      temperature: 1,
      seed: seed++,
    });
    if (s.tokens.some((t) => t.length !== NEW)) throw new Error("short sample");
  },
});
// The same sampling on onnxruntime: with the weights loaded (as in evaluation), and the weight
// refresh alone (what each optimiser update adds before the next rollout: copy out of jax-js,
// and a session rebuild or the transposes, incl. the first run's set-up on one token).
for (const threads of [1, 2]) {
  for (const weights of ["initializers", "inputs"] as const) {
    const ort = new OrtSampler(config, { threads, weights });
    const tag = `${threads}t, ${weights === "initializers" ? "baked" : "fed"}`;
    pieces.push({
      name: `ORT sample (${tag})`,
      tokens: B * NEW,
      run: async () => {
        const s = await ort.sample(params, prompts, {
          config,
          maxTokens: NEW,
          temperature: 1,
          seed: seed++,
        });
        if (s.tokens.some((t) => t.length !== NEW)) throw new Error("short sample");
      },
    });
    pieces.push({
      name: `ORT refresh (${tag})`,
      tokens: 0,
      run: async () => {
        await ort.refresh(params);
        await ort.sample(params, prompts.slice(0, 1), { config, maxTokens: 1 });
      },
    });
  }
}
// Greedy decoding by recomputing a padded [32, 64] forward for every new token (no cache). Each
// token costs the same forward, so 8 new tokens per call give the rate at a sixth of the time.
const fwdJit = jit((p: Params, b: { tokens: Arr }) => L.llamaForward(p, b, { config }));
const NO_CACHE = 8;
pieces.push({
  name: `sample, no cache (recompute [${B}, ${T}])`,
  tokens: B * NO_CACHE,
  run: async () => {
    const toks = new Int32Array(B * T);
    prompts.forEach((p, i) => toks.set(p, i * T));
    for (let s = 0; s < NO_CACHE; s++) {
      const logits = await fwdJit(tree.ref(params), {
        tokens: np.array(toks, { dtype: np.int32 }).reshape([B, T]),
      }).data();
      for (let i = 0; i < B; i++) {
        const at = PROMPT + s - 1,
          row = logits.subarray((i * T + at) * 256, (i * T + at + 1) * 256);
        let best = 0;
        for (let j = 1; j < 256; j++) if (row[j] > row[best]) best = j;
        toks[i * T + at + 1] = best;
      }
    }
  },
});

if (args.profile || args.kernels) {
  // Pieces of the SFT step, each jitted on its own: loss only, loss + gradient, AdamW only.
  const lossOnly = (p: Params, b: SftBatch) => {
    const [loss, m] = Loss.sftLoss(p, b, { config });
    tree.dispose(m);
    return loss;
  };
  const fwd = jit(lossOnly);
  const fwdBwd = jit((p: Params, b: SftBatch) => valueAndGrad(lossOnly)(p, b));
  pieces.push({
    name: "profile: SFT forward (loss)",
    tokens: B * T,
    run: async () => void (await fwd(tree.ref(params), sftB()).data()),
  });
  pieces.push({
    name: "profile: SFT forward + backward",
    tokens: B * T,
    run: async () => {
      const [loss, g] = fwdBwd(tree.ref(params), sftB());
      await blockUntilReady(g);
      await loss.data();
      tree.dispose(g);
    },
  });
  // AdamW alone: a step whose loss is linear in the parameters, so the gradient costs nothing.
  const adamOnly = Optim.makeTrainStep((p: Params, b: { x: Arr }): [Arr, Record<string, Arr>] => {
    const e = p["model.embed_tokens.weight"].ref;
    tree.dispose(p);
    return [e.mul(b.x).sum(), {}];
  });
  let s = Optim.initTrainState(tree.ref(params));
  pieces.push({
    name: "profile: AdamW update only",
    tokens: 0,
    run: async () => {
      const res = await adamOnly.step(s, { x: np.ones([256, 128]) }, { lr: 1e-3 });
      s = res.state;
    },
  });
}

const chosen = args.only ? pieces.filter((p) => new RegExp(args.only!).test(p.name)) : pieces;
const results: { name: string; tokens: number; t: Stats }[] = [];
for (const p of chosen) {
  results.push({ name: p.name, tokens: p.tokens, t: await timeIt(p.run) });
  console.error(`done: ${p.name}`);
}

const kernelReports: string[] = [];
if (args.kernels) {
  for (const p of chosen) {
    performance.clearMeasures();
    profiler.startTrace();
    const t0 = performance.now();
    await p.run();
    const wall = performance.now() - t0;
    profiler.stopTrace();
    kernelReports.push(
      kernelSummary(p.name, { entries: performance.getEntriesByType("measure"), wall }),
    );
  }
}

console.log(
  `tiny Llama, ${L.countParams(config).toLocaleString("en")} params: ${JSON.stringify(config)}`,
);
console.log(
  `device ${device} (${threads}); AdamW float32; SFT/GRPO batch ${B} × ${T} tokens ` +
    `(targets = last ${NEW}); sampling ${B} prompts × ${PROMPT} tokens + ${NEW} new, T = 1`,
);
console.log(`${warmup} warm-up calls, ${repeat} round(s) of ${steps} timed calls; best median`);
const f = (v: number) => v.toFixed(1).padStart(8);
console.log(`${"what".padEnd(44)}   median      p10      p90   tokens/s  round medians (ms)`);
for (const { name, tokens, t } of results) {
  const tps = tokens ? (tokens / (t.median / 1000)).toFixed(0).padStart(9) : "        –";
  console.log(
    `${name.padEnd(44)} ${f(t.median)} ${f(t.p10)} ${f(t.p90)} ${tps}  ${
      t.rounds.map((x) => x.toFixed(1)).join(" ")
    }`,
  );
}
console.log(`first SFT loss ${firstLoss.toFixed(4)} (ln 256 = ${Math.log(256).toFixed(4)})`);
if (kernelReports.length) console.log(kernelReports.join("\n"));
if (args.json) {
  const out = { device, threads, config, batch: B, seq: T, params: L.countParams(config), results };
  Deno.writeTextFileSync(args.json, JSON.stringify(out, null, 2) + "\n");
}
Deno.exit(0);
