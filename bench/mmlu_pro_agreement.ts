// Agreement of evals/mmlu_pro.ts extractMmluProAnswer with the official TIGER-Lab extraction, run
// in python3 from the user's checkout of the MMLU-Pro repo, on real model outputs (the repo's
// eval_results/model_outputs_*.zip), and with the `pred` field stored in those records.
//
//   deno run --allow-read --allow-write --allow-run=python3,unzip bench/mmlu_pro_agreement.ts \
//     --official DIR [--official-file evaluate_from_local.py] [--python python3] [--show 5] \
//     [--min 0.999] [--jobs N] PATH...
//
// PATH: a .zip (extracted with the system `unzip` into a temporary folder), a .json file (a list
// of records with `model_outputs` or `generated_text`), or a folder searched for .json files.
// Exits 1 when agreement with the official extraction is below --min.
//
// Result on the 29 zips present in the repo (HEAD f418b11): 347,215 records, 100% agreement with
// the official extraction; 95.48% with the stored `pred`, which older runs filled from the first
// regex only (null otherwise) and some newer ones with a random letter when nothing matched.

import { parseArgs } from "node:util";
import { basename, extname, join, relative } from "node:path";
import { extractMmluProAnswer } from "../evals/mmlu_pro.ts";

// The official files import torch/vllm/openai at the top and run a CLI, so the driver execs only
// the extract_* function definitions, parsed from the user's checkout at run time (no official
// code lives in this repo). `print` is silenced: evaluate_*'s extract_answer prints every output
// whose first regex fails, which would corrupt the JSON on stdout. compute_accuracy.py's
// extract_answer takes a level; "l2" is its full cascade. The official regexes are quadratic on
// long single-line outputs (~30 ms per record on average, seconds on degenerate ones), hence
// --jobs worker processes.
const DRIVER = `
import ast, json, re, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), path)
defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("extract_")]
if "extract_answer" not in {n.name for n in defs}:
    sys.exit(path + ": no top-level extract_answer")
ns = {"re": re, "print": lambda *a, **k: None}
exec(compile(ast.Module(body=defs, type_ignores=[]), path, "exec"), ns)
extract = ns["extract_answer"]
levelled = extract.__code__.co_argcount == 2

def run(text):
    return extract(text, "l2") if levelled else extract(text)

texts = json.loads(sys.stdin.buffer.read().decode("utf-8"))
jobs = int(sys.argv[2])
if jobs > 1:
    import multiprocessing
    # fork: the workers inherit the exec'd functions instead of re-importing anything.
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        preds = pool.map(run, texts, chunksize=16)
else:
    preds = [run(t) for t in texts]
sys.stdout.write(json.dumps(preds))
`;

interface Tally {
  items: number;
  skipped: number;
  official: number;
  pred: number;
}

interface Disagreement {
  where: string;
  ours: string | null;
  other: string | null;
  text: string;
}

const args = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    official: { type: "string" },
    "official-file": { type: "string", default: "evaluate_from_local.py" },
    python: { type: "string", default: "python3" },
    show: { type: "string", default: "5" },
    min: { type: "string", default: "0.999" },
    jobs: { type: "string", default: String(navigator.hardwareConcurrency) },
  },
});
if (!args.values.official || args.positionals.length === 0) {
  console.error(
    "usage: bench/mmlu_pro_agreement.ts --official DIR [--official-file F] [--show N] PATH...",
  );
  Deno.exit(2);
}
const officialFile = join(args.values.official, args.values["official-file"]!);
const show = Number(args.values.show);
const minAgreement = Number(args.values.min);

/** JSON files under a .json path, a folder (recursively, sorted) or a .zip (extracted). */
async function jsonFiles(path: string, tmp: string): Promise<{ file: string; label: string }[]> {
  if (path.endsWith(".zip")) {
    const dir = await Deno.makeTempDir({ dir: tmp });
    const res = await new Deno.Command("unzip", { args: ["-q", "-o", path, "-d", dir] }).output();
    if (!res.success) throw new Error(`unzip ${path}: ${new TextDecoder().decode(res.stderr)}`);
    const inner = await jsonFiles(dir, tmp);
    // Name results by the zip, plus the member path when the zip holds several files.
    return inner.map(({ file }) => ({
      file,
      label: basename(path) + (inner.length > 1 ? ":" + relative(dir, file) : ""),
    }));
  }
  if ((await Deno.stat(path)).isDirectory) {
    const out: { file: string; label: string }[] = [];
    const names = [];
    for await (const e of Deno.readDir(path)) names.push(e);
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of names) {
      const p = join(path, e.name);
      if (e.isDirectory || extname(e.name) === ".json") out.push(...await jsonFiles(p, tmp));
    }
    return out;
  }
  return [{ file: path, label: basename(path) }];
}

/** The official predictions for `texts`, from one python3 run. */
async function officialPredictions(texts: string[]): Promise<(string | null)[]> {
  const child = new Deno.Command(args.values.python!, {
    args: ["-c", DRIVER, officialFile, args.values.jobs!],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Python reads all of stdin before writing anything, so writing first cannot deadlock.
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(texts)));
  await writer.close();
  const res = await child.output();
  if (!res.success) throw new Error(`${args.values.python} driver failed (exit ${res.code})`);
  const preds = JSON.parse(new TextDecoder().decode(res.stdout));
  if (!Array.isArray(preds) || preds.length !== texts.length) {
    throw new Error(`driver returned ${preds?.length} predictions for ${texts.length} texts`);
  }
  return preds;
}

function pct(n: number, d: number): string {
  return d === 0 ? "   n/a" : (100 * n / d).toFixed(3).padStart(7) + "%";
}

function snippet(text: string): string {
  // Enough of both ends to see why the cascade picked what it did.
  return JSON.stringify(text.length <= 600 ? text : text.slice(0, 200) + " … " + text.slice(-400));
}

function report(title: string, list: Disagreement[]): void {
  if (list.length === 0) return;
  console.log(`\nFirst ${Math.min(show, list.length)} of ${list.length} ${title}:`);
  for (const d of list.slice(0, show)) {
    console.log(`  ${d.where}: ours ${d.ours} vs ${d.other}\n    ${snippet(d.text)}`);
  }
}

const tmp = await Deno.makeTempDir({ prefix: "mmlu_pro_agreement_" });
const total: Tally = { items: 0, skipped: 0, official: 0, pred: 0 };
const offDiffs: Disagreement[] = [];
const predDiffs: Disagreement[] = [];
// How the stored `pred` differs, by kind, to tell extraction bugs from pipeline differences.
const predKinds = new Map<string, number>();
try {
  console.log(
    `official: ${officialFile}\n${"file".padEnd(52)} ${"items".padStart(6)} ${
      "skip".padStart(4)
    }  vs official   vs pred`,
  );
  for (const path of args.positionals) {
    for (const { file, label } of await jsonFiles(path, tmp)) {
      const data = JSON.parse(await Deno.readTextFile(file));
      const records = Array.isArray(data) ? data : [];
      // Some official files interleave bare category-name strings with the records; those, and
      // records without a string output, are skipped and counted.
      const kept: { rec: Record<string, unknown>; i: number; text: string }[] = [];
      records.forEach((rec, i) => {
        const text = rec?.model_outputs ?? rec?.generated_text;
        if (typeof text === "string") kept.push({ rec, i, text });
      });
      const official = await officialPredictions(kept.map((k) => k.text));
      const t: Tally = {
        items: kept.length,
        skipped: records.length - kept.length,
        official: 0,
        pred: 0,
      };
      kept.forEach(({ rec, i, text }, j) => {
        const ours = extractMmluProAnswer(text);
        const where = `${label}[${i}] question_id=${rec.question_id}`;
        if (ours === official[j]) t.official++;
        else offDiffs.push({ where, ours, other: `official ${official[j]}`, text });
        const stored = (rec.pred ?? null) as string | null;
        if (ours === stored) t.pred++;
        else {
          predDiffs.push({ where, ours, other: `stored pred ${stored}`, text });
          const kind = stored === null
            ? "stored null, ours a letter"
            : ours === null
            ? "stored a letter, ours null"
            : "different letters";
          predKinds.set(kind, (predKinds.get(kind) ?? 0) + 1);
        }
      });
      console.log(
        `${label.padEnd(52)} ${String(t.items).padStart(6)} ${String(t.skipped).padStart(4)}  ${
          pct(t.official, t.items)
        }  ${pct(t.pred, t.items)}`,
      );
      total.items += t.items;
      total.skipped += t.skipped;
      total.official += t.official;
      total.pred += t.pred;
    }
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}

console.log(
  `${"TOTAL".padEnd(52)} ${String(total.items).padStart(6)} ${String(total.skipped).padStart(4)}  ${
    pct(total.official, total.items)
  }  ${pct(total.pred, total.items)}`,
);
console.log(
  `agreement with the official extraction: ${total.official}/${total.items}; ` +
    `with stored pred: ${total.pred}/${total.items}`,
);
for (const [kind, n] of predKinds) console.log(`  stored pred differs (${kind}): ${n}`);
report("disagreements with the official extraction", offDiffs);
report("disagreements with the stored pred", predDiffs);
if (total.items === 0 || total.official / total.items < minAgreement) Deno.exit(1);
