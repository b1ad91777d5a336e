// ToolAlpaca (Tang et al. 2023): an instruction to a simulated REST API, answered with the API
// calls it needs; RL's Razor's tool-use task. One item per (API, instruction) of the published
// files (github.com/tangqiaoyu/ToolAlpaca, data/): eval_simulated.json (10 APIs, 100
// instructions) is the test split, train_data.json (400+ APIs) the train split; eval_real.json
// (11 real APIs, 114) is scored with `score --data eval_real.json`. The prompt is ToolAlpaca's
// inference prompt, the answer its Action / Action Input lines, scored 1 when the calls are the
// golden steps (evals/toolalpaca.ts). The files are on GitHub, not the Hugging Face hub: the user
// downloads them and passes --data (a clone, a folder holding them, or one file).
//
// Golden steps: `Golden_Answers[k]` in the eval files; in train_data.json, which has none, the
// calls of `Instances[k].intermediate_steps`, kept only where ToolAlpaca's own build_dataset.py
// keeps an instance for training (steps present, at most 5, not only getDetails). An instruction
// is no item, counted in the load's `skipped`, when its golden steps cannot be checked: missing
// or empty; an input that is not a JSON object (the eval files write values from earlier calls
// as `{"animeId": ${animeId from searchAnime}}`) or holds a `${...}` placeholder; a call of a
// tool the prompt does not list. That leaves 68 of eval_simulated's 100 instructions (30
// unparseable, 1 placeholder, 1 unlisted) and 104 of eval_real's 114 (4 unparseable, 6
// unlisted).

import { requireFields } from "../lib/records.ts";
import { UsageError, ValidationError } from "../lib/errors.ts";
import {
  EXTERNAL_TOOLS,
  GET_DETAILS_TOOL,
  type Json,
  type JsonObject,
  parseActionInput,
  renderToolCalls,
  scoreToolCalls,
  toolalpacaPrompt,
  type ToolCall,
  type ToolSpec,
} from "../evals/toolalpaca.ts";
import { loadHubSplits } from "./hub_data.ts";
import {
  defineTask,
  type Item,
  type Loaded,
  type LoadOptions,
  type RecordAt,
  type RecordItems,
  type Task,
  TEST_SPLIT,
  TRAIN_SPLIT,
} from "./task.ts";
import { fixtureEval, fixtureTrain } from "./_toolalpaca_fixture.ts";

/** One instruction to one API, with the calls that answer it. */
export interface ToolAlpacaItem extends Item {
  /** The API's `Name`. */
  readonly api: string;
  /** The instruction as the user turn shows it (with the API's authentication line, if any). */
  readonly instruction: string;
  /** The tools the prompt lists: getDetails, the record's external tools, the API's functions. */
  readonly tools: readonly ToolSpec[];
  /** The golden steps, in order. */
  readonly golden: readonly ToolCall[];
}

/** The commit of tangqiaoyu/ToolAlpaca whose data/ files the task reads. */
const COMMIT = "189069998d64a7baf1b4a1c3c4b2e75eb9d05532";
const REPO = { repo: "tangqiaoyu/ToolAlpaca", revision: COMMIT };
const RAW = `https://raw.githubusercontent.com/tangqiaoyu/ToolAlpaca/${COMMIT}`;

/** What the generation budget allows: every call of a ≤5-step answer with room to think. */
const MAX_NEW_TOKENS = 512;

/** ToolAlpaca's training-set filter (build_dataset.py): longer trajectories are dropped. */
const MAX_TRAIN_STEPS = 5;

/** An API's functions in Function_Projection order, the last with the `components` appended. */
function functionsOf(
  f: { desc: Record<string, unknown>; projection: Record<string, unknown> | undefined },
): ToolSpec[] {
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  // Parquet writes a struct with every key any row has; keys another API owns hold null.
  const names = Object.keys(f.projection ?? f.desc).filter((k) =>
    (f.projection ? f.projection[k] : f.desc[k]) != null && (f.projection || k !== "components")
  );
  return names.map((name, i) => ({
    name,
    description: text(f.desc[name]) + (i === names.length - 1 ? text(f.desc.components) : ""),
  }));
}

/** The tools of an API as get_agent/build_dataset.py list them, or undefined without functions. */
function toolsOf(rec: Readonly<Record<string, unknown>>, where: string): ToolSpec[] | undefined {
  const f = requireFields(rec, {
    Function_Description: "object?",
    Function_Projection: "object?",
    external_tools: "string[]?",
  }, where);
  // build_dataset.py skips an API without Function_Description: there are no tools to list.
  if (!f.Function_Description) return undefined;
  const external = (f.external_tools ?? []).map((name) => {
    const tool = EXTERNAL_TOOLS[name];
    if (!tool) {
      throw new ValidationError(
        where,
        `field 'external_tools' names '${name}'; ToolAlpaca has ${Object.keys(EXTERNAL_TOOLS)}`,
      );
    }
    return tool;
  });
  const tools = [
    GET_DETAILS_TOOL,
    ...external,
    ...functionsOf({
      desc: f.Function_Description,
      projection: f.Function_Projection,
    }),
  ];
  return tools.filter((t, i) => tools.findIndex((u) => u.name === t.name) === i);
}

/** One golden step: its action name and input, the input read as ToolAlpaca's tools read it. */
function goldenStep(action: unknown, input: unknown, where: string): ToolCall | undefined {
  if (typeof action !== "string") {
    throw new ValidationError(where, `action is ${typeof action}, expected string`);
  }
  let value: JsonObject | undefined;
  if (typeof input === "string") value = parseActionInput(input);
  else if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    value = input as JsonObject;
  } else {
    throw new ValidationError(where, `action input is ${typeof input}, expected string or object`);
  }
  if (value === undefined || hasPlaceholder(value)) return undefined;
  return { name: action.trim(), input: value };
}

/** Whether a string in `value` holds a `${...}` placeholder ("${string}", "${userId from x}"). */
function hasPlaceholder(value: Json): boolean {
  if (typeof value === "string") return /\$\{[^}]*\}/.test(value);
  if (typeof value !== "object" || value === null) return false;
  return (Array.isArray(value) ? value : Object.values(value)).some(hasPlaceholder);
}

/** The golden steps of Golden_Answers[k] (eval files); undefined when not usable. */
function goldenAnswer(steps: unknown, where: string): ToolCall[] | undefined {
  if (!Array.isArray(steps)) {
    throw new ValidationError(where, `is ${typeof steps}, expected a list of steps`);
  }
  if (steps.length === 0) return undefined;
  const calls = steps.map((s, j) => {
    const at = `${where} step ${j}`;
    if (typeof s !== "object" || s === null) throw new ValidationError(at, "expected an object");
    const o = s as Record<string, unknown>;
    return goldenStep(o.Action, o.Action_Input, at);
  });
  return calls.every((c) => c !== undefined) ? calls as ToolCall[] : undefined;
}

/**
 * The calls of Instances[k] (train_data.json), where build_dataset.py would train on it: an
 * object with 1 to 5 intermediate steps `[[action, action input, log], observation]`, not all
 * getDetails. Undefined otherwise (generation errors are stored as `{"error": ...}` or a string).
 */
function instanceCalls(instance: unknown, where: string): ToolCall[] | undefined {
  if (typeof instance !== "object" || instance === null || Array.isArray(instance)) {
    return undefined;
  }
  const steps = (instance as Record<string, unknown>).intermediate_steps;
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_TRAIN_STEPS) {
    return undefined;
  }
  const calls = steps.map((s, j) => {
    const at = `${where} intermediate_steps[${j}]`;
    const action = Array.isArray(s) ? s[0] : undefined;
    if (!Array.isArray(action) || action.length < 2) {
      throw new ValidationError(at, "expected [[action, action input, log], observation]");
    }
    return goldenStep(action[0], action[1], at);
  });
  if (calls.some((c) => c === undefined)) return undefined;
  const used = new Set((calls as ToolCall[]).map((c) => c.name));
  return used.size === 1 && used.has(GET_DETAILS_TOOL.name) ? undefined : calls as ToolCall[];
}

/** generation.py: the instruction, with `\nAuthentication information: k=v ...` when given. */
function withAuthentication(instruction: string, auth: Record<string, unknown> | undefined) {
  const pairs = Object.entries(auth ?? {}).filter(([, v]) => v != null);
  return pairs.length === 0
    ? instruction
    : `${instruction}\nAuthentication information: ${
      pairs.map(([k, v]) => `${k}=${String(v)}`).join(" ")
    }`;
}

/**
 * How many instructions of the same API name the file lists before this record: an API name
 * repeated in a file (public-apis lists 13 names twice) numbers its instructions on.
 */
function earlierInstructions(name: string, at: RecordAt): number {
  let n = 0;
  for (let r = 0; r < (at.file?.row ?? 0); r++) {
    const o = at.file!.records[r];
    if (o.Name === name && Array.isArray(o.Instructions)) n += o.Instructions.length;
  }
  return n;
}

/** One published API record → its items (one per usable instruction). */
function parseApi(
  rec: Readonly<Record<string, unknown>>,
  at: RecordAt,
): RecordItems<ToolAlpacaItem> {
  const f = requireFields(rec, {
    Name: "string",
    // generation.py passes over an API without instructions; such a record holds no items.
    Instructions: "string[]?",
    Golden_Answers: "array?",
    Instances: "array?",
    Authentication: "object?",
  }, at.where);
  const tools = toolsOf(rec, at.where);
  const first = earlierInstructions(f.Name, at);
  const prefix = at.split === TEST_SPLIT ? "" : `${at.split}-`;
  const items: ToolAlpacaItem[] = [];
  const instructions = f.Instructions ?? [];
  instructions.forEach((text, k) => {
    let golden: ToolCall[] | undefined, instruction = text;
    if (f.Golden_Answers) {
      const steps = f.Golden_Answers[k];
      golden = steps == null ? undefined : goldenAnswer(steps, `${at.where}: Golden_Answers[${k}]`);
    } else if (f.Instances) {
      const inst = f.Instances[k];
      golden = instanceCalls(inst, `${at.where}: Instances[${k}]`);
      // build_dataset.py: the question is the instance's input up to its last "\nHint: ".
      const input = (inst as Record<string, unknown> | null)?.input;
      if (typeof input === "string") {
        const hint = input.lastIndexOf("\nHint: ");
        instruction = hint === -1 ? input : input.slice(0, hint);
      }
    }
    // A golden call of a tool the prompt does not list cannot be asked for (AviationAPI's
    // undocumented routes, Auth0's "[Optional]updateUserProfile").
    if (!golden || !tools || !golden.every((c) => tools.some((t) => t.name === c.name))) return;
    items.push({
      id: `${prefix}${f.Name}/${first + k}`,
      api: f.Name,
      instruction: f.Golden_Answers ? withAuthentication(text, f.Authentication) : instruction,
      tools,
      golden,
    });
  });
  return { items, skipped: instructions.length - items.length };
}

/** The user's hint when the files are not where the task looked. */
const DOWNLOAD_HINT = "ToolAlpaca is published on GitHub, not on the Hugging Face hub: download " +
  `${RAW}/data/eval_simulated.json and ${RAW}/data/train_data.json into a folder (or clone ` +
  "github.com/tangqiaoyu/ToolAlpaca) and give it with --data";

/**
 * Loads from the user's files or the cache only: there is no hub copy to download. Given one
 * file (the test split), the train split is read from the cache when it is there and left out
 * otherwise: evaluation needs none, and a stage that trains on toolalpaca then says its train
 * split is empty. A file not found gets the download hint.
 */
async function loadToolAlpaca(opts: LoadOptions): Promise<Loaded<ToolAlpacaItem>> {
  const data = { ...opts.data, offline: true };
  const given = opts.data?.dataPath;
  const oneFile = given !== undefined && (await Deno.stat(given).catch(() => null))?.isFile;
  try {
    if (!oneFile) return await loadHubSplits(toolalpaca, { ...opts, data });
    const test = await loadHubSplits(toolalpaca, { ...opts, data, splits: [TEST_SPLIT] });
    const others = Object.keys(toolalpaca.source.splits!).filter((s) =>
      s !== TEST_SPLIT && (!opts.splits || opts.splits.includes(s))
    );
    if (others.length === 0) return test;
    const rest = await loadHubSplits(toolalpaca, {
      ...opts,
      data: { ...data, dataPath: undefined },
      splits: others,
    }).catch((e) => {
      if (e instanceof UsageError) return undefined;
      throw e;
    });
    if (!rest) return test;
    return {
      splits: { ...rest.splits, ...test.splits },
      files: [...test.files, ...rest.files],
      skipped: (test.skipped ?? 0) + (rest.skipped ?? 0),
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    // The cache's message would point at a hub URL that does not exist; name the file instead.
    const file = /\/(data\/[^/:]+):/.exec(e.message)?.[1] ?? "a data file";
    throw new UsageError(`toolalpaca: ${file} not found; ${DOWNLOAD_HINT}`);
  }
}

const generated = (text: string) => ({ kind: "generate" as const, outputs: [text] });

/** ToolAlpaca, one turn: the calls an instruction needs, checked against the golden steps. */
export const toolalpaca: Task<ToolAlpacaItem> = defineTask<ToolAlpacaItem>({
  id: "toolalpaca",
  version: "1",
  kind: "downstream",
  description:
    "ToolAlpaca: an instruction to a REST API -> its calls (Action / Action Input), exact match with the golden steps",
  source: {
    description:
      "tangqiaoyu/ToolAlpaca on GitHub (not the hub; pass --data): data/eval_simulated.json scored, data/train_data.json trained on",
    url: "https://github.com/tangqiaoyu/ToolAlpaca",
    license: "Apache-2.0",
    splits: {
      // Not pinned (the suite reads fixtures through this path); at COMMIT the file's sha256 is
      // 17085ffefae0a0e15c1d2d564263063932d692011edf27ce8ae3d3803432ba08, as manifests record.
      test: [{ ...REPO, path: "data/eval_simulated.json" }],
      train: [{ ...REPO, path: "data/train_data.json" }],
    },
  },
  // Items are `<Name>/<k>`, the k-th instruction of the API (0-based; `train-` before it in the
  // train split).
  idField: "Name",
  requestKind: "generate",
  metrics: ["acc"],
  parse: parseApi,
  load: (opts) => loadToolAlpaca(opts),
  request: (doc) => ({
    kind: "generate",
    prompt: toolalpacaPrompt(doc.tools, doc.instruction),
    until: ["\nASSISTANT Response:"],
    maxTokens: MAX_NEW_TOKENS,
  }),
  target: (doc) => renderToolCalls(doc.golden),
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "toolalpaca scores generated text");
    }
    return { metrics: { acc: scoreToolCalls(doc.golden, output.outputs[0] ?? "") } };
  },
  train: {
    labellings: { sft1: (doc) => [renderToolCalls(doc.golden)] },
    reward: (doc, output) => scoreToolCalls(doc.golden, String(output)),
  },
  fixture: {
    records: { [TEST_SPLIT]: fixtureEval(), [TRAIN_SPLIT]: fixtureTrain() },
    ids: {
      [TEST_SPLIT]: ["Axolotl/0", "Axolotl/1", "AniAPI/0", "AniAPI/2"],
      [TRAIN_SPLIT]: ["train-Dog Facts/0", "train-Dog Facts/2", "train-Covid-19/0"],
    },
    perfect: (doc) => generated(renderToolCalls(doc.golden)),
    // The right functions, each with one argument too many.
    wrong: (doc) =>
      generated(
        renderToolCalls(doc.golden.map((c) => ({ ...c, input: { ...c.input, extra: 1 } }))),
      ),
  },
});
