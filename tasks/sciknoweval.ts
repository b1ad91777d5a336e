// SciKnowEval (Feng et al. 2024): 28,392 science questions in biology, chemistry, materials and
// physics at five levels (L1 memory to L5 application). `sciknoweval_chem_l3`, its Chemistry L3
// questions (2,400: molar weights, molecular properties and structures, reaction prediction,
// retrosynthesis, balancing equations), is RL's Razor's (Shenfeld, Pari & Agrawal 2025) science
// Q&A task. A task to train on: SFT onto the reference answer (the option letter or the balanced
// equation), RL with the same 0/1 score as reward (evals/sciknoweval.ts; docs/metrics.md
// "Benchmark scoring").
//
// The data: the hub dataset hicai-zju/SciKnowEval (V2), one JSON Lines file per domain,
// data/<Domain>/sciknoweval_<domain>_test.jsonl (the same records as the GitHub repository's
// raw_data/<Domain>/<level>/<task>.jsonl). A record: `prompt` {default: the instruction},
// `question`, `choices` {text, label}, `answerKey` (the gold label; "" when not multiple choice),
// `answer` (the reference text; "" for multiple choice), `type` ("mcq-4-choices",
// "mcq-2-choices", "true_or_false", "filling", "open-ended-qa", "relation_extraction"; a
// one-element list in some releases, which SciKnowEval's scorer accepts too), `domain`
// ("Biology", "Chemistry", "Material", "Physics") and `details` {level "L1".."L5", task, subtask,
// source}.
//
// Items: the questions that can be scored verifiably, multiple choice (`mcq-*`) and balancing
// chemical equations (type "filling", details.task "balancing_chemical_equation"). Every other
// record (true/false, open-ended, relation extraction, the other fill-in tasks, scored by
// similarity or by GPT-4o in SciKnowEval) is validated, skipped and counted (Loaded.skipped), as
// is a question without a reference (an answerKey naming none of its options, an empty equation;
// none in V2);
// `sciknoweval_chem_l3` also skips every record outside domain "Chemistry", level "L3". Items are
// numbered by row from 0 within the file given (files of a split number on from each other).
// SciKnowEval publishes only test files, so load holds one in ten questions out for test
// (tasks/held_out.ts) and trains on the rest; `score --data FILE` scores every item of the file.

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import {
  sciknowevalEquationScore,
  sciknowevalEquationText,
  sciknowevalMcqPick,
  sciknowevalPrompt,
} from "../evals/sciknoweval.ts";
import { loadHeldOut } from "./held_out.ts";
import { defineTask, type Item, type RecordAt, rowId, type Task, TEST_SPLIT } from "./task.ts";

/** One SciKnowEval question that can be scored verifiably. */
export interface SciKnowEvalDoc extends Item {
  /** `mcq`: pick the option label; `balance`: write the balanced equation. */
  readonly kind: "mcq" | "balance";
  /** `prompt.default`. */
  readonly instruction: string;
  readonly question: string;
  /** Option texts and labels as published (empty for balancing). */
  readonly options: readonly string[];
  readonly labels: readonly string[];
  /** The gold label (mcq) or the balanced equation (balance). */
  readonly answer: string;
  readonly type: string;
  readonly domain: string;
  readonly level: string;
  readonly task: string;
}

/** The generation budget (ours; the instructions ask for the answer without explanation). */
export const SCIKNOWEVAL_MAX_NEW_TOKENS = 512;

const HUB = { repo: "hicai-zju/SciKnowEval", revision: "main" };
const DOMAINS = ["Biology", "Chemistry", "Material", "Physics"] as const;
const pathOf = (domain: string) => `data/${domain}/sciknoweval_${domain.toLowerCase()}_test.jsonl`;

/** Which records a variant keeps (besides being verifiably scorable). */
interface Subset {
  readonly domain?: string;
  readonly level?: string;
}

/** An option text: a string, or a number as Python's str() writes simple values. */
function optionText(v: unknown, where: string, field: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new ValidationError(where, `field '${field}' holds ${typeof v}, expected strings`);
}

/** Validates one published record; null for a record the subset or the scoring skips. */
function parseRecord(
  rec: Readonly<Record<string, unknown>>,
  at: RecordAt,
  subset: Subset,
): SciKnowEvalDoc | null {
  const f = requireFields(rec, {
    prompt: "object",
    question: "string",
    type: "any",
    domain: "string",
    details: "object",
    choices: "object?",
    answerKey: "string?",
    answer: "string?",
  }, at.where);
  const instruction =
    requireFields(f.prompt, { default: "string" }, `${at.where}: field 'prompt'`).default;
  const details = requireFields(
    f.details,
    { level: "string", task: "string" },
    `${at.where}: field 'details'`,
  );
  const type: unknown = Array.isArray(f.type) ? f.type[0] : f.type;
  if (typeof type !== "string") {
    throw new ValidationError(at.where, "field 'type' must be a string (or a list of one)");
  }
  const base = {
    id: rowId(at),
    instruction,
    question: f.question,
    type,
    domain: f.domain,
    level: details.level,
    task: details.task,
  };
  if (subset.domain !== undefined && f.domain !== subset.domain) return null;
  if (subset.level !== undefined && details.level !== subset.level) return null;
  if (type.includes("mcq")) {
    if (!f.choices) throw new ValidationError(at.where, `field 'choices' missing for ${type}`);
    const c = requireFields(
      f.choices,
      { text: "array", label: "string[]" },
      `${at.where}: field 'choices'`,
    );
    const options = c.text.map((t, i) => optionText(t, at.where, `choices.text[${i}]`));
    const answerKey = (f.answerKey ?? "").trim();
    const gold = c.label.indexOf(answerKey);
    // No gold option (SciKnowEval's scorer would raise): nothing to score against.
    if (gold < 0 || gold >= options.length) return null;
    return { ...base, kind: "mcq", options, labels: c.label, answer: answerKey };
  }
  if (type === "filling" && details.task === "balancing_chemical_equation") {
    if (!f.answer?.trim()) return null; // no reference equation: nothing to score against
    return { ...base, kind: "balance", options: [], labels: [], answer: f.answer };
  }
  return null; // not verifiably scorable: skipped and counted
}

/** The 0/1 score of a generation, and what it was read as. */
function scoreText(doc: SciKnowEvalDoc, text: string): { score: 0 | 1; extracted: string | null } {
  if (doc.kind === "balance") {
    return {
      score: sciknowevalEquationScore(text, doc.answer),
      extracted: sciknowevalEquationText(text),
    };
  }
  const pick = sciknowevalMcqPick(text, { ...doc, answerKey: doc.answer });
  return { score: pick === doc.answer ? 1 : 0, extracted: pick };
}

/** A published record, field for field. */
function record(
  r: {
    instruction: string;
    question: string;
    type: string;
    domain: string;
    level: string;
    task: string;
    subtask: string;
    source: string;
    options?: string[];
    answerKey?: string;
    answer?: string;
  },
): Record<string, unknown> {
  const options = r.options ?? [];
  return {
    prompt: { default: r.instruction },
    question: r.question,
    ...(options.length > 0
      ? {
        choices: { text: options, label: ["A", "B", "C", "D"].slice(0, options.length) },
        answerKey: r.answerKey,
        type: r.type,
        domain: r.domain,
        details: { level: r.level, task: r.task, subtask: r.subtask, source: r.source },
        answer: "",
      }
      : {
        answer: r.answer,
        type: r.type,
        domain: r.domain,
        details: { level: r.level, task: r.task, subtask: r.subtask, source: r.source },
        answerKey: "",
        choices: { text: [], label: [] },
      }),
  };
}

const MCQ4 =
  'Given a question and four options, please select the right answer. Your answer should be "A", "B", "C" or "D". Please directly give the answer without any explanation.';
const MCQ2 =
  'Given a question and two options, please select the right answer. Your answer should be "A" or "B". Please directly give the answer without any explanation.';
const BALANCE =
  "You are an expert chemist. Given a chemical equation, please balance the equation without any explanation and maintain the order of reactants and products as given.";
const TF =
  'Given a true or false question, your task is to answer whether the question is true or not. Your answer should be "Yes" or "No". Please directly give the answer, DO NOT output any other characters.';
const balancing = (unbalanced: string, answer: string) =>
  record({
    instruction: BALANCE,
    question:
      `Here is a unbalanced chemical equation:\n${unbalanced}\nThe balanced chemical equation is:`,
    type: "filling",
    domain: "Chemistry",
    level: "L3",
    task: "balancing_chemical_equation",
    subtask: "balancing_chemical_equation",
    source: "web",
    answer,
  });

/** Chemistry file records: L3 multiple choice and balancing (RL's Razor's), and others. */
const CHEMISTRY = [
  record({
    instruction: MCQ4,
    question: "What is the molar weight (g/mol) of the molecule with the SMILES 'CCO'?",
    options: ["46.069", "44.053", "60.052", "32.042"],
    answerKey: "A",
    type: "mcq-4-choices",
    domain: "Chemistry",
    level: "L3",
    task: "molar_weight_calculation",
    subtask: "s2w",
    source: "PubChem",
  }),
  balancing("CH4 + O2 = CO2 + H2O", "CH4 + 2O2 = CO2 + 2H2O"),
  balancing("Al + H{+} = Al{3+} + H2", "2Al + 6H{+} = 2Al{3+} + 3H2"),
  record({
    instruction: MCQ4,
    question:
      "Given the reactants (in SMILES format) CC(=O)O.OCC, which of the following candidate SMILES represents the main product of this esterification?",
    options: ["CCOC(C)=O", "CC(=O)OC(C)=O", "CCOCC", "OCCO"],
    answerKey: "A",
    type: "mcq-4-choices",
    domain: "Chemistry",
    level: "L3",
    task: "reaction_prediction",
    subtask: "reaction_pred_mcq",
    source: "uspto_mixed",
  }),
  balancing(
    "KMnO4 + HCl = KCl + MnCl2 + Cl2 + H2O",
    "2KMnO4 + 16HCl = 2KCl + 2MnCl2 + 5Cl2 + 8H2O",
  ),
  record({
    instruction: MCQ4,
    question: "Which gas is produced when zinc reacts with dilute hydrochloric acid?",
    options: ["Oxygen", "Chlorine", "Hydrogen", "Carbon dioxide"],
    answerKey: "C",
    type: "mcq-4-choices",
    domain: "Chemistry",
    level: "L1",
    task: "literature_multi_choice_question",
    subtask: "ChemRxiv_QA",
    source: "ChemRxiv",
  }),
  record({
    instruction: TF,
    question: "Is sodium chloride soluble in water?",
    answer: "Yes",
    type: "true_or_false",
    domain: "Chemistry",
    level: "L2",
    task: "hypothesis_verification",
    subtask: "chemical_hypothesis_verification",
    source: "ChemRxiv",
  }),
  record({
    instruction: MCQ4,
    question: "How many hydrogen bond donors does the molecule with the SMILES 'CCCO' have?",
    options: ["0", "1", "2", "3"],
    answerKey: "B",
    type: "mcq-4-choices",
    domain: "Chemistry",
    level: "L3",
    task: "molecule_structure_prediction",
    subtask: "s2hbonddonor",
    source: "PubChem",
  }),
];

/** Records of the other domains' files, for the all-domain task (Biology, then Material, then
 * Physics: files are numbered on in their declared order). */
const OTHERS = [
  record({
    instruction: MCQ4,
    question: "Which organelle carries out oxidative phosphorylation in eukaryotic cells?",
    options: ["Ribosome", "Mitochondrion", "Golgi apparatus", "Lysosome"],
    answerKey: "B",
    type: "mcq-4-choices",
    domain: "Biology",
    level: "L1",
    task: "literature_multi_choice_question",
    subtask: "BioRxiv_QA",
    source: "BioRxiv",
  }),
  record({
    instruction: MCQ2,
    question:
      "Beta-lactamase activity prediction compares first-order mutants of the TEM-1 beta-lactamase protein. Please determine which of the following protein mutants has higher beta-lactamase activity?",
    options: ["MSIQHFRVALIPFFAAFCLPVFA", "MSIQHFRVALIPFFAAFCLPVYA"],
    answerKey: "B",
    type: "mcq-2-choices",
    domain: "Biology",
    level: "L3",
    task: "protein_function_prediction",
    subtask: "beta_lactamase_activity_prediction",
    source: "beta_lactamase",
  }),
  record({
    instruction: MCQ4,
    question: "Which crystal structure does iron adopt at room temperature?",
    options: [
      "Face-centred cubic",
      "Hexagonal close-packed",
      "Body-centred cubic",
      "Diamond cubic",
    ],
    answerKey: "C",
    type: "mcq-4-choices",
    domain: "Material",
    level: "L1",
    task: "material_literature_QA",
    subtask: "material_literature_QA",
    source: "arXiv",
  }),
  record({
    instruction: "You are an expert physicist. Please answer the following question.",
    question: "Explain why the sky appears blue during the day.",
    answer: "Rayleigh scattering of sunlight scatters short wavelengths most strongly.",
    type: "open-ended-qa",
    domain: "Physics",
    level: "L2",
    task: "text_summary",
    subtask: "physics_text_summary",
    source: "arXiv",
  }),
  record({
    instruction: MCQ4,
    question: "What is the SI unit of magnetic flux density?",
    options: ["Weber", "Tesla", "Henry", "Gauss"],
    answerKey: "B",
    type: "mcq-4-choices",
    domain: "Physics",
    level: "L1",
    task: "physics_literature_QA",
    subtask: "physics_literature_QA",
    source: "arXiv",
  }),
];

/** A SciKnowEval task over the domains' files, keeping the records `subset` names. */
function sciknowevalTask(spec: {
  id: string;
  description: string;
  domains: readonly (typeof DOMAINS)[number][];
  subset: Subset;
  records: readonly Record<string, unknown>[];
  /** The rows of `records` held out for test (the other items are the train split). */
  heldOut: readonly string[];
}): Task<SciKnowEvalDoc> {
  const task: Task<SciKnowEvalDoc> = defineTask<SciKnowEvalDoc>({
    id: spec.id,
    version: "1",
    kind: "downstream",
    description: spec.description,
    source: {
      description: `hicai-zju/SciKnowEval (V2), ${
        spec.domains.map((d) => pathOf(d)).join(", ")
      }: multiple-choice and equation-balancing questions`,
      url: "https://huggingface.co/datasets/hicai-zju/SciKnowEval",
      license: "MIT",
      splits: { test: spec.domains.map((d) => ({ ...HUB, path: pathOf(d) })) },
    },
    idField: null,
    requestKind: "generate",
    metrics: ["acc"],
    parse: (rec, at) => parseRecord(rec, at, spec.subset),
    // Held out by question and options, so a question never sits on both sides.
    load: (opts) => loadHeldOut(task, opts, (d) => [d.question, ...d.options].join("\n")),
    request: (doc) => ({
      kind: "generate",
      prompt: sciknowevalPrompt(doc),
      until: [],
      maxTokens: SCIKNOWEVAL_MAX_NEW_TOKENS,
    }),
    target: (doc) => doc.answer,
    score(doc, output) {
      if (output.kind !== "generate") {
        throw new ValidationError(`item '${doc.id}'`, `${spec.id} scores generated text`);
      }
      const { score, extracted } = scoreText(doc, output.outputs[0] ?? "");
      return { metrics: { acc: score }, extracted };
    },
    train: {
      labellings: { sft1: (doc) => [doc.answer] },
      reward: (doc, output) => scoreText(doc, String(output)).score,
    },
    fixture: {
      records: { [TEST_SPLIT]: spec.records },
      ids: { [TEST_SPLIT]: spec.heldOut },
      fileOf: (r) => pathOf(String(r.domain)),
      // The reference answer: the gold label, or the balanced equation.
      perfect: (doc) => ({ kind: "generate", outputs: [doc.answer] }),
      // Another option's label; an equation whose first coefficient is off.
      wrong: (doc) => ({
        kind: "generate",
        outputs: [
          doc.kind === "mcq" ? doc.labels.find((l) => l !== doc.answer)! : `7${doc.answer}`,
        ],
      }),
    },
  });
  return task;
}

/** SciKnowEval's multiple-choice and balancing questions in all four domains. */
export const sciknoweval: Task<SciKnowEvalDoc> = sciknowevalTask({
  id: "sciknoweval",
  description:
    "SciKnowEval (V2), all domains and levels: multiple choice (SciKnowEval's scorer) and " +
    "balancing chemical equations (same species, same coefficients); one in ten held out for test",
  domains: DOMAINS,
  subset: {},
  records: [...OTHERS.slice(0, 2), ...CHEMISTRY, ...OTHERS.slice(2)], // the files' order
  heldOut: ["3", "9"], // a balancing and a multiple-choice question; rows 8 and 11 are skipped
});

/** RL's Razor's science task: SciKnowEval Chemistry, level L3. */
export const sciknowevalChemL3: Task<SciKnowEvalDoc> = sciknowevalTask({
  id: "sciknoweval_chem_l3",
  description:
    "SciKnowEval (V2) Chemistry L3 (RL's Razor's science Q&A): multiple choice and balancing " +
    "chemical equations; one in ten held out for test",
  domains: ["Chemistry"],
  subset: { domain: "Chemistry", level: "L3" },
  records: CHEMISTRY,
  heldOut: ["1", "7"], // a balancing and a multiple-choice question; rows 5 and 6 are skipped
});
