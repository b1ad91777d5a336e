/**
 * `deno task perf`: the four figures of README's Performance table, each beside the PyTorch
 * reference measured in the same invocation.
 *
 *   deno task perf [--quick] [--json FILE] [--python /usr/bin/python3]
 *
 * Each measurement runs in its own process, one after another (jax-js sizes its wasm worker pool
 * when it is first imported, and a fresh process is what the existing scripts time):
 *
 * | figure                      | jax-js side                          | PyTorch side                         |
 * | --------------------------- | ------------------------------------ | ------------------------------------ |
 * | ParityMNIST MLP SFT step    | bench/mlp_step.ts (production        | bench/mlp_torch_reference.py         |
 * |                             | learner session, models/mlp_learner, |                                      |
 * |                             | onnxruntime engine); and one step of |                                      |
 * |                             | 36 runs stacked, time per run        |                                      |
 * | 2-layer GPT-style step      | bench/train_step.ts                  | bench/torch_reference.py             |
 * | tiny Llama SFT step         | bench/llama_step.ts                  | bench/llama_torch_reference.py       |
 * | tiny Llama KV sampling      | bench/llama_step.ts                  | bench/llama_torch_reference.py       |
 *
 * What both sides compute (float32 everywhere; PyTorch on one thread, jax-js on wasm with its
 * default worker pool of navigator.hardwareConcurrency workers):
 *
 * - MLP: 785→256→256→10, ReLU, 269,578 params; batch 32 (x 32×785, one-hot targets, π0's
 *   log-probs computed once); loss = soft-target CE + β·KL(π0‖π) with β = 0; gradient, global
 *   gradient norm, AdamW lr 1e-4 (β 0.9/0.999, ε 1e-8, no weight decay); loss, norm and
 *   log-probs read back, mean KL on the host. Checked in every invocation with PyTorch: the
 *   PyTorch script loads the forgetbench session's initial weights and inputs (mlp_step.ts --dump)
 *   and must reproduce its 5 warm-up losses within 1e-4 (`mlp check` line).
 * - Transformer: 2 layers, d 128, 4 heads, MLP 512, vocab 64, learned positions, batch 32 × 32
 *   tokens, 417,280 params; next-token CE, Adam lr 1e-3. Losses were checked equal within 4e-6
 *   over 5 steps from shared weights (docs/benchmarks.md); not re-checked here.
 * - Tiny Llama: 4 layers, d 128, SwiGLU 512, 4 query / 2 KV heads, tied embeddings, vocab 256,
 *   1,016,960 params. SFT step: 32 × 64 tokens, CE on the last 48 of each row, AdamW lr 1e-3.
 *   Sampling: 32 prompts × 16 tokens, 48 new tokens at temperature 1 with a KV cache (prefill,
 *   then one token per step); tokens/s = 32·48 / median. SFT losses were checked equal within
 *   3e-6 over 5 steps from shared weights (README); not re-checked here. A fifth row times the
 *   same sampling on onnxruntime-node (models/ort_sampling.ts, 1 intra-op thread, weights baked
 *   into the session), against the same PyTorch figure; the weight refresh each optimiser update
 *   adds (copy out of jax-js, session rebuild, first run) is a note under the table.
 *
 * Protocol (the scripts' own, the same numbers passed to both sides): W untimed warm-up calls
 * (the first compiles), then R rounds of S timed calls, each from dispatch until the results are
 * read back; median, p10, p90 (numpy's interpolated percentiles) of the round with the best
 * median. Full: MLP W5 S30 R1, transformer W5 S30 R3, Llama W3 S10 R2; --quick: W2 S10 R1,
 * W2 S10 R1, W1 S3 R1. "jax-js speed" is PyTorch median / jax-js median (above 1 = jax-js faster).
 *
 * PyTorch is optional: when `PYTHON -c "import torch"` fails, the reference columns are left
 * empty and a note says why. Thread and OpenBLAS variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)
 * are removed from the Python environment; the reference scripts set OMP/OpenBLAS/MKL threads
 * to 1 themselves.
 */
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
}).values;
const quick = args.quick!;
const python = args.python!;
const bench = (f: string) => new URL(`./${f}`, import.meta.url).pathname;
const tmp = Deno.makeTempDirSync({ prefix: "forgetbench-perf-" });

type Protocol = { warmup: number; steps: number; repeat: number };
const P: Record<"mlp" | "gpt" | "llama", Protocol> = quick
  ? {
    mlp: { warmup: 2, steps: 10, repeat: 1 },
    gpt: { warmup: 2, steps: 10, repeat: 1 },
    llama: { warmup: 1, steps: 3, repeat: 1 },
  }
  : {
    mlp: { warmup: 5, steps: 30, repeat: 1 },
    gpt: { warmup: 5, steps: 30, repeat: 3 },
    llama: { warmup: 3, steps: 10, repeat: 2 },
  };
const protoArgs = (p: Protocol) => [
  "--warmup",
  String(p.warmup),
  "--steps",
  String(p.steps),
  "--repeat",
  String(p.repeat),
];

type Stats = { median: number; p10: number; p90: number; tokensPerSec?: number };
type Row = {
  step: string;
  script: string;
  protocol: Protocol;
  jax?: Stats;
  torch?: Stats;
  ratio?: number;
  error?: string;
};

const pyEnv = (() => {
  const env = Deno.env.toObject();
  for (const k of ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]) delete env[k];
  return { ...env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
})();

/** Runs a command to completion; its stdout, or an Error with the tail of its output. */
async function run(cmd: string, argv: string[], opts: { python?: boolean } = {}) {
  const out = await new Deno.Command(cmd, {
    args: argv,
    stdout: "piped",
    stderr: "piped",
    env: opts.python ? pyEnv : undefined,
    clearEnv: opts.python,
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = (text + new TextDecoder().decode(out.stderr)).trim().split("\n").slice(-6);
    throw new Error(`${cmd} ${argv.join(" ")} exited ${out.code}:\n  ${err.join("\n  ")}`);
  }
  return text;
}

const denoRun = (script: string, rest: string[], perms: string[] = []) =>
  run(Deno.execPath(), [
    "run",
    "-q",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    ...perms,
    bench(script),
    ...rest,
  ]);
const readJson = (f: string) => JSON.parse(Deno.readTextFileSync(f));
const pick = (s: Stats, tokens?: number): Stats => ({
  median: s.median,
  p10: s.p10,
  p90: s.p90,
  ...(tokens ? { tokensPerSec: tokens / (s.median / 1000) } : {}),
});
const log = (s: string) => console.error(`perf: ${s}`);

// Is PyTorch there?
let torchVersion: string | undefined, skipped: string | undefined;
try {
  torchVersion = (await run(python, ["-c", "import torch; print(torch.__version__)"], {
    python: true,
  })).trim();
} catch (e) {
  skipped = e instanceof Deno.errors.NotFound
    ? `${python} not found`
    : `\`${python} -c "import torch"\` failed (${
      String((e as Error).message).trim().split("\n").pop()?.trim()
    })`;
  skipped += "; install with `apt-get install -y python3-torch libopenblas0-pthread`";
}

const loadBefore = Deno.loadavg();
const started = new Date();
const rows: Row[] = [];
const notes: string[] = [];
let blas = "";

/** One figure: the jax-js side, then (if PyTorch is there) the reference, each in a process. */
async function figure(
  row: Row,
  jax: () => Promise<Stats>,
  torch: () => Promise<Stats>,
): Promise<void> {
  rows.push(row);
  try {
    log(`jax-js: ${row.step}`);
    row.jax = await jax();
  } catch (e) {
    row.error = `jax-js: ${(e as Error).message}`;
  }
  if (torchVersion) {
    try {
      log(`PyTorch: ${row.step}`);
      row.torch = await torch();
    } catch (e) {
      row.error = `${row.error ? row.error + "; " : ""}PyTorch: ${(e as Error).message}`;
    }
  }
  if (row.jax && row.torch) row.ratio = row.torch.median / row.jax.median;
}

/** Runs stacked in the MLP group figure. */
const GROUP = 36;
let mlpGroup: Stats | undefined, mlpTorch: Stats | undefined;
// 1. ParityMNIST MLP SFT step, batch 32.
const dump = `${tmp}/mlp_dump.json`;
await figure(
  { step: "ParityMNIST MLP SFT step, batch 32", script: "bench/mlp_step.ts", protocol: P.mlp },
  async () => {
    const f = `${tmp}/mlp.json`;
    // onnxruntime-node (the MLP's engine) is a native addon.
    await denoRun("mlp_step.ts", [
      "--batches",
      "32",
      "--groups",
      String(GROUP),
      "--only",
      "^SFT (group )?step",
      "--warmup",
      String(P.mlp.warmup),
      "--steps",
      String(P.mlp.steps),
      "--json",
      f,
      ...(torchVersion ? ["--dump", dump] : []),
    ], ["--allow-ffi", "--allow-sys"]);
    const res = readJson(f).results;
    mlpGroup = res.find((x: { members?: number }) => x.members === GROUP);
    return pick(res[0]);
  },
  async () => {
    const f = `${tmp}/mlp_torch.json`;
    await run(python, [
      bench("mlp_torch_reference.py"),
      "--threads",
      "1",
      ...protoArgs(P.mlp),
      "--json",
      f,
    ], { python: true });
    const r = readJson(f)[0];
    blas = r.blas;
    // Same computation: PyTorch from the forgetbench session's initial weights and inputs.
    try {
      const out = await run(python, [bench("mlp_torch_reference.py"), "--check", dump], {
        python: true,
      });
      const c = JSON.parse(out.trim().split("\n").pop()!);
      notes.push(
        `mlp check: PyTorch from the forgetbench session's weights reproduces its ${c.jax.length} warm-up ` +
          `losses within ${c.max_abs_diff.toExponential(1)} (limit 1e-4)`,
      );
    } catch (e) {
      notes.push(`mlp check FAILED: ${(e as Error).message}`);
    }
    mlpTorch = pick(r);
    return mlpTorch;
  },
);
// 1b. The same SFT step for 36 runs stacked as one program (models/mlp_engine.ts): time per run
// (group step / 36) against one PyTorch run; the speed column is then the ratio of examples/s.
await figure(
  {
    step: `ParityMNIST MLP SFT step in a stacked group of ${GROUP} runs (per run)`,
    script: "bench/mlp_step.ts",
    protocol: P.mlp,
  },
  () => {
    if (!mlpGroup) throw new Error("no group figure from mlp_step.ts");
    const g = mlpGroup;
    notes.push(
      `MLP group: one step of ${GROUP} runs takes ${g.median.toFixed(1)} ms (p10 ${
        g.p10.toFixed(1)
      }, p90 ${g.p90.toFixed(1)}) = ${
        Math.round((GROUP * 32 * 1000) / g.median)
      } examples/s summed`,
    );
    return Promise.resolve({ median: g.median / GROUP, p10: g.p10 / GROUP, p90: g.p90 / GROUP });
  },
  () => mlpTorch ? Promise.resolve(mlpTorch) : Promise.reject(new Error("no PyTorch MLP figure")),
);

// 2. The 2-layer GPT-style transformer step.
await figure(
  {
    step: "2-layer GPT-style transformer step, 32 × 32",
    script: "bench/train_step.ts",
    protocol: P.gpt,
  },
  async () => {
    const f = `${tmp}/gpt.json`;
    await denoRun("train_step.ts", [...protoArgs(P.gpt), "--json", f]);
    const j = readJson(f);
    return pick(j.results.find((r: { name: string }) => r.name === "full train step"));
  },
  async () => {
    const f = `${tmp}/gpt_torch.json`;
    await run(python, [
      bench("torch_reference.py"),
      "--threads",
      "1",
      ...protoArgs(P.gpt),
      "--json",
      f,
    ], { python: true });
    return pick(readJson(f)[0]);
  },
);

// 3 and 4. The tiny Llama: SFT step and KV-cached sampling, one process per side.
const LLAMA_ONLY = "^SFT step$|^sample, KV cache|^ORT (sample|refresh) \\(1t, baked\\)";
type LlamaPiece = { name: string; tokens: number; median: number; p10: number; p90: number };
let llamaJax: Promise<LlamaPiece[]> | undefined, llamaTorch: Promise<LlamaPiece[]> | undefined;
const jaxLlama = () =>
  llamaJax ??= (async () => {
    const f = `${tmp}/llama.json`;
    // onnxruntime-node (the ORT sampling row) is a native addon.
    await denoRun("llama_step.ts", [...protoArgs(P.llama), "--only", LLAMA_ONLY, "--json", f], [
      "--allow-ffi",
      "--allow-sys",
    ]);
    return readJson(f).results.map((r: { name: string; tokens: number; t: Stats }) => ({
      name: r.name,
      tokens: r.tokens,
      ...r.t,
    }));
  })();
const torchLlama = () =>
  llamaTorch ??= (async () => {
    const f = `${tmp}/llama_torch.json`;
    await run(python, [
      bench("llama_torch_reference.py"),
      "--threads",
      "1",
      ...protoArgs(P.llama),
      "--only",
      LLAMA_ONLY,
      "--json",
      f,
    ], { python: true });
    return readJson(f)[0].results;
  })();
const piece = (all: LlamaPiece[], re: RegExp, tokens: boolean) => {
  const p = all.find((x) => re.test(x.name));
  if (!p) throw new Error(`no piece matching ${re}`);
  return pick(p, tokens ? p.tokens : undefined);
};
await figure(
  {
    step: "tiny Llama SFT step, 32 × 64 tokens",
    script: "bench/llama_step.ts",
    protocol: P.llama,
  },
  async () => piece(await jaxLlama(), /^SFT step$/, false),
  async () => piece(await torchLlama(), /^SFT step$/, false),
);
await figure(
  {
    step: "tiny Llama KV-cached sampling, 32 prompts × 48 new tokens",
    script: "bench/llama_step.ts",
    protocol: P.llama,
  },
  async () => piece(await jaxLlama(), /^sample, KV cache/, true),
  async () => piece(await torchLlama(), /^sample, KV cache/, true),
);
// The same sampling on onnxruntime (models/ort_sampling.ts, 1 thread, weights baked into the
// session) against the same PyTorch figure; the refresh after each optimiser update in a note.
await figure(
  {
    step: "the same sampling on onnxruntime (1 thread)",
    script: "bench/llama_step.ts",
    protocol: P.llama,
  },
  async () => {
    const all = await jaxLlama(), r = piece(all, /^ORT refresh \(1t, baked\)/, false);
    notes.push(
      `onnxruntime weight refresh (per optimiser update, not in its row): ${
        r.median.toFixed(1)
      } ms median (p10 ${r.p10.toFixed(1)}, p90 ${r.p90.toFixed(1)})`,
    );
    return piece(all, /^ORT sample \(1t, baked\)/, true);
  },
  async () => piece(await torchLlama(), /^sample, KV cache/, true),
);
const loadAfter = Deno.loadavg();

// The table.
const jaxVersion = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)))
  .imports["@jax-js/jax"].split("@").pop();
const ms = (s?: Stats) =>
  s ? `${s.median.toFixed(1)} / ${s.p10.toFixed(1)} / ${s.p90.toFixed(1)}` : "–";
const tps = (s?: Stats) => (s?.tokensPerSec ? ` (${Math.round(s.tokensPerSec)} tok/s)` : "");
const hdr = [
  "step",
  "forgetbench (median / p10 / p90 ms)",
  "PyTorch (median / p10 / p90 ms)",
  "forgetbench speed",
];
const body = rows.map((r) => [
  r.step,
  ms(r.jax) + tps(r.jax),
  ms(r.torch) + tps(r.torch),
  r.ratio === undefined ? "–" : `${r.ratio.toFixed(2)}×`,
]);
const widths = hdr.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(
  `forgetbench perf, ${started.toISOString()}${
    quick ? " (--quick)" : ""
  }: Deno ${Deno.version.deno}, ` +
    `jax-js ${jaxVersion} wasm (${navigator.hardwareConcurrency}-worker pool), ` +
    (torchVersion ? `PyTorch ${torchVersion} on 1 thread` : "no PyTorch"),
);
if (blas) console.log(`PyTorch BLAS: ${blas}`);
console.log(
  `${navigator.hardwareConcurrency} cores; load average ${
    loadBefore.map((x) => x.toFixed(2)).join(" ")
  } before, ${loadAfter.map((x) => x.toFixed(2)).join(" ")} after`,
);
console.log(line(hdr));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const b of body) console.log(line(b));
console.log(
  `protocol (warm-up / timed / rounds, best-median round): MLP ${P.mlp.warmup}/${P.mlp.steps}/${P.mlp.repeat}, ` +
    `transformer ${P.gpt.warmup}/${P.gpt.steps}/${P.gpt.repeat}, ` +
    `Llama ${P.llama.warmup}/${P.llama.steps}/${P.llama.repeat}; ` +
    `forgetbench speed = PyTorch median / forgetbench median (MLP rows on onnxruntime, ` +
    `models/mlp_engine.ts; transformer, Llama SFT and the first sampling row on jax-js)`,
);
for (const n of notes) console.log(n);
if (skipped) {
  console.log(`note: PyTorch reference runs skipped: ${skipped}`);
}
for (const r of rows) if (r.error) console.log(`error (${r.step}): ${r.error}`);

if (args.json) {
  const out = {
    date: started.toISOString(),
    quick,
    deno: Deno.version.deno,
    jaxjs: jaxVersion,
    torch: torchVersion ?? null,
    blas: blas || null,
    cores: navigator.hardwareConcurrency,
    loadavg: { before: loadBefore, after: loadAfter },
    skipped: skipped ?? null,
    notes,
    rows,
  };
  Deno.writeTextFileSync(args.json, JSON.stringify(out, null, 2) + "\n");
}
Deno.removeSync(tmp, { recursive: true });
Deno.exit(rows.some((r) => r.error) ? 1 : 0);
