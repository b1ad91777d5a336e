/**
 * Times one jitted Adam train step of the reference 2-layer transformer
 * (bench/transformer.ts) with jax-js, for comparison with the PyTorch CPU
 * reference (bench/torch_reference.py). Results go in docs/benchmarks.md.
 *
 *   deno task perf [--device wasm|cpu|webgpu] [--threads N] [--warmup 5]
 *                  [--steps 30] [--repeat 3] [--json FILE] [--profile]
 *                  [--qkv fused|separate] [--attention manual|sdpa]
 *
 * Protocol: --warmup steps (the first one includes jit compilation) are not
 * timed; then --repeat rounds of --steps steps, each step timed from dispatch
 * until the new parameters, optimizer state and loss are ready. Each round
 * reports median / p10 / p90 ms per step; the round with the best median is
 * shown (the machine may be shared, so the minimum is the least disturbed).
 *
 * --threads N (wasm only) sets the size of jax-js's wasm worker pool, which
 * jax-js takes from navigator.hardwareConcurrency when it is first imported;
 * --threads 0 hides SharedArrayBuffer so no pool is made and kernels run
 * synchronously on the main thread. Default: the machine's core count.
 *
 * --profile also times the pieces of the step separately: forward (loss) only,
 * forward + backward (valueAndGrad), and the Adam update alone.
 *
 * --kernels traces one more train step with jax.profiler and sums kernel time
 * by kind (matmul / other reduction / elementwise). Use it with --threads 0:
 * with a worker pool the trace records only the time to enqueue each kernel.
 */
import { parseArgs } from "node:util";
import { kernelSummary } from "./kernels.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    device: { type: "string", default: "wasm" },
    threads: { type: "string" },
    warmup: { type: "string", default: "5" },
    steps: { type: "string", default: "30" },
    repeat: { type: "string", default: "3" },
    batch: { type: "string", default: "32" },
    json: { type: "string" },
    profile: { type: "boolean", default: false },
    kernels: { type: "boolean", default: false },
    qkv: { type: "string", default: "fused" },
    attention: { type: "string", default: "manual" },
  },
}).values;

const device = args.device as "wasm" | "cpu" | "webgpu";
if (!["wasm", "cpu", "webgpu"].includes(device)) throw new Error(`unknown --device ${device}`);
const warmup = Number(args.warmup), steps = Number(args.steps), repeat = Number(args.repeat);
const batch = Number(args.batch);

// Must happen before jax-js is imported: its wasm backend sizes the worker pool at load time.
let threadsLabel = "1";
if (device === "wasm") {
  const n = args.threads === undefined ? navigator.hardwareConcurrency : Number(args.threads);
  if (n === 0) {
    (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
    threadsLabel = "1 (main thread, no pool)";
  } else {
    Object.defineProperty(navigator, "hardwareConcurrency", { value: n, configurable: true });
    threadsLabel = `${n} (worker pool)`;
  }
} else if (device === "webgpu") {
  threadsLabel = "gpu";
}

const { blockUntilReady, defaultDevice, init, jit, numpy: np, profiler, tree, valueAndGrad } =
  await import("@jax-js/jax");
const T = await import("./transformer.ts");
const { makeTrainStep } = await import("../models/optim.ts");
type Params = import("./transformer.ts").Params;
type Variant = import("./transformer.ts").Variant;

const available = await init(device);
if (!available.includes(device)) throw new Error(`device ${device} is not available here`);
defaultDevice(device);
let adapter = "";
if (device === "webgpu") {
  const info = (await navigator.gpu.requestAdapter({ powerPreference: "high-performance" }))?.info;
  adapter = info
    ? `${info.description || info.vendor}${info.isFallbackAdapter ? " (fallback)" : ""}`
    : "";
}

const variant: Variant = {
  qkv: args.qkv as Variant["qkv"],
  attention: args.attention as Variant["attention"],
};
const config = T.REFERENCE_CONFIG;

/** Linear interpolation between closest ranks (numpy's default); same as torch_reference.py. */
function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

type Stats = { median: number; p10: number; p90: number };
type Timing = Stats & { rounds: Stats[] };

/** Run `fn` warmup times untimed, then `repeat` rounds of `steps` timed calls. */
async function timeIt(fn: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const rounds: Stats[] = [];
  for (let r = 0; r < repeat; r++) {
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
    }
    rounds.push({
      median: percentile(times, 0.5),
      p10: percentile(times, 0.1),
      p90: percentile(times, 0.9),
    });
  }
  const best = rounds.reduce((a, b) => (b.median < a.median ? b : a));
  return { ...best, rounds };
}

const params = T.initTransformer(config, 0, variant);
const nParams = T.countParams(params);
if (nParams !== T.paramCountFormula(config)) throw new Error("parameter count mismatch");
const { tokens, targets } = T.randomBatch(config, batch, 1);
const { step, lossFn } = T.makeTrainStep(config, { variant });

let firstLoss = NaN;
const pieces: { name: string; run: () => Promise<void> }[] = [];

if (args.profile) {
  const fwd = jit(lossFn);
  const fwdBwd = jit((p: Params, x: typeof tokens, y: typeof tokens) =>
    valueAndGrad(lossFn)(p, x, y)
  );
  pieces.push({
    name: "forward (loss)",
    run: async () => {
      await fwd(tree.ref(params), tokens.ref, targets.ref).data();
    },
  });
  pieces.push({
    name: "forward + backward",
    run: async () => {
      const [loss, g] = fwdBwd(tree.ref(params), tokens.ref, targets.ref);
      await blockUntilReady(g);
      await loss.data();
      tree.dispose(g);
    },
  });
  // The optimiser alone: a step whose loss is linear in one matrix, so its gradient costs nothing.
  const adamOnly = makeTrainStep((p: Params, b: { x: typeof tokens }) => {
    const w = tree.leaves(p)[0].ref;
    tree.dispose(p);
    return [w.mul(b.x).sum(), {}] as [typeof tokens, Record<string, typeof tokens>];
  });
  let s = T.initTrainState(tree.ref(params));
  const ones = np.ones(tree.leaves(params)[0].shape);
  pieces.push({
    name: "Adam update only",
    run: async () => {
      const r = await adamOnly.step(s, { x: ones.ref }, { lr: 1e-3 });
      s = r.state;
    },
  });
}

{
  let s = T.initTrainState(tree.ref(params)); // keep params alive for --kernels tracing
  pieces.push({
    name: "full train step",
    run: async () => {
      const r = await step(s, tokens.ref, targets.ref, { lr: 1e-3 });
      s = r.state;
      await blockUntilReady([s.params, s.m, s.v]);
      if (Number.isNaN(firstLoss)) firstLoss = r.loss;
    },
  });
}

const results: { name: string; timing: Timing }[] = [];
for (const { name, run } of pieces) results.push({ name, timing: await timeIt(run) });

const kernelReports: string[] = [];
if (args.kernels) {
  for (const { name, run } of pieces) {
    performance.clearMeasures();
    profiler.startTrace();
    const t0 = performance.now();
    await run();
    const wall = performance.now() - t0;
    profiler.stopTrace();
    kernelReports.push(
      kernelSummary(name, { entries: performance.getEntriesByType("measure"), wall }),
    );
  }
}

const impl = `jax-js ${
  JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)))
    .imports["@jax-js/jax"].split("@").pop()
}`;
const variantLabel = `qkv=${variant.qkv} attention=${variant.attention}`;
console.log(
  `config: batch ${batch} x seq ${config.seqLen}, ${JSON.stringify(config)}, Adam lr 1e-3, float32`,
);
console.log(
  `variant: ${variantLabel}; Deno ${Deno.version.deno}${adapter ? `; adapter: ${adapter}` : ""}`,
);
console.log(
  `timing: ${warmup} warm-up steps, then ${repeat} round(s) of ${steps} steps; best median shown`,
);
const hdr = ["what", "implementation", "device", "threads", "median ms", "p10", "p90", "params"];
const rows = results.map(({ name, timing: t }) => [
  name,
  impl,
  device,
  threadsLabel,
  t.median.toFixed(1),
  t.p10.toFixed(1),
  t.p90.toFixed(1),
  String(nParams),
]);
hdr.push("round medians");
rows.forEach((row, i) =>
  row.push(results[i].timing.rounds.map((r) => r.median.toFixed(1)).join(" "))
);
const widths = hdr.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [hdr, widths.map((w) => "-".repeat(w)), ...rows]) {
  console.log(row.map((c, i) => c.padEnd(widths[i])).join(" | "));
}
console.log(
  `loss at the first (warm-up) step ${firstLoss.toFixed(4)} (ln 64 = ${Math.log(64).toFixed(4)})`,
);

if (kernelReports.length) console.log(kernelReports.join("\n"));

if (args.json) {
  const out = {
    implementation: impl,
    device,
    threads: threadsLabel,
    adapter,
    variant,
    config,
    batch,
    params: nParams,
    warmup,
    steps,
    repeat,
    deno: Deno.version.deno,
    results: results.map(({ name, timing }) => ({ name, ...timing })),
    kernels: kernelReports.length ? kernelReports : undefined,
  };
  Deno.writeTextFileSync(args.json, JSON.stringify(out, null, 2) + "\n");
}
Deno.exit(0);
