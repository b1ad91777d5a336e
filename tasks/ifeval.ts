// IFEval (Zhou et al. 2023): 541 prompts, each with one to three verifiable instructions ("no
// commas", "at least 300 words", "wrap the answer in JSON"). Scored as lm-evaluation-harness's
// `ifeval` task: the prompt as is, greedy generation with no stop string and 1,280 new tokens,
// every instruction checked strictly and loosely by the reference's checkers (evals/ifeval.ts;
// docs/metrics.md "Benchmark scoring"). An evaluation-only task: IFEval has no reference
// responses to train on.

import { requireFields } from "../lib/records.ts";
import { ValidationError } from "../lib/errors.ts";
import {
  IFEVAL_MAX_NEW_TOKENS,
  IFEVAL_METRICS,
  IFEVAL_STOP,
  type IfevalInstruction,
  ifevalMetrics,
  ifevalVerdicts,
  parseIfevalInstructions,
} from "../evals/ifeval.ts";
import { defineTask, type Item, type Task, TEST_SPLIT } from "./task.ts";

/** One IFEval prompt. */
export interface IfevalDoc extends Item {
  readonly key: number;
  readonly prompt: string;
  /** The instructions in `instruction_id_list` order, with their non-null kwargs. */
  readonly instructions: readonly IfevalInstruction[];
}

// The hub's own file (the parquet under refs/convert/parquet is a conversion of it): 541 rows,
// 207,111 bytes, sha256 6a85310ca8ce15eff755aa08a3a4ff931c7e273e7515ebb3c492ea85fd8288f2 at this
// revision, the same rows as google-research's instruction_following_eval/data/input_data.jsonl.
// Not pinned, as no hub task's file is (the shared suite loads fixtures by the same path);
// manifest.json records the hash read. lm-eval reads it as `train`; here it is the test split.
const FILE = {
  repo: "google/IFEval",
  revision: "966cd89545d6b6acfd7638bc708b98261ca58e84",
  path: "ifeval_input_data.jsonl",
};

/** The kwargs struct of the hub's parquet conversion: every key any instruction takes. */
const KWARGS_STRUCT = {
  num_highlights: "int64",
  relation: "string",
  num_words: "int64",
  num_placeholders: "int64",
  prompt_to_repeat: "string",
  num_bullets: "int64",
  section_spliter: "string",
  num_sections: "int64",
  capital_relation: "string",
  capital_frequency: "int64",
  keywords: "list<string>",
  num_paragraphs: "int64",
  language: "string",
  let_relation: "string",
  letter: "string",
  let_frequency: "int64",
  end_phrase: "string",
  forbidden_words: "list<string>",
  keyword: "string",
  frequency: "int64",
  num_sentences: "int64",
  postscript_marker: "string",
  first_word: "string",
  nth_paragraph: "int64",
} as const;

const REPEAT = "Describe a small garden in two sections, each starting with Section X.";

/** Fixture rows in the published JSON Lines format: kwargs hold only the keys used. */
const RECORDS = [
  {
    key: 9001,
    prompt:
      "Write a short note about green tea without using any commas. Highlight at least 2 sections with markdown, i.e. *highlighted section*. Answer with less than 60 words.",
    instruction_id_list: [
      "punctuation:no_comma",
      "detectable_format:number_highlighted_sections",
      "length_constraints:number_words",
      "keywords:existence",
    ],
    kwargs: [{}, { num_highlights: 2 }, { relation: "less than", num_words: 60 }, {
      keywords: ["tea", "green"],
    }],
  },
  {
    key: 9002,
    prompt:
      'Write a poem about the sea in English and in all lowercase letters. Add a postscript starting with P.S. and finish your response with the exact phrase "Any other questions?". The letter z should appear less than 2 times.',
    instruction_id_list: [
      "change_case:english_lowercase",
      "detectable_content:postscript",
      "startend:end_checker",
      "keywords:letter_frequency",
    ],
    kwargs: [{}, { postscript_marker: "P.S." }, { end_phrase: "Any other questions?" }, {
      let_relation: "less than",
      letter: "z",
      let_frequency: 2,
    }],
  },
  {
    key: 9003,
    prompt:
      'Describe an apple in JSON format. Use the word "apple" at least twice, do not use the words "red" or "blue", and write less than 3 words in all capital letters.',
    instruction_id_list: [
      "detectable_format:json_format",
      "keywords:frequency",
      "keywords:forbidden_words",
      "change_case:capital_word_frequency",
    ],
    kwargs: [
      {},
      { relation: "at least", keyword: "apple", frequency: 2 },
      { forbidden_words: ["red", "blue"] },
      { capital_relation: "less than", capital_frequency: 3 },
    ],
  },
  {
    key: 9004,
    prompt:
      "Plan a weekend trip. Give it a title in double angular brackets, such as <<title>>, use exactly 2 markdown bullet points and at least 2 placeholders such as [name], wrap your entire response in double quotation marks, and end with one of: My answer is yes., My answer is no., My answer is maybe.",
    instruction_id_list: [
      "detectable_format:title",
      "detectable_format:number_bullet_lists",
      "detectable_content:number_placeholders",
      "startend:quotation",
      "detectable_format:constrained_response",
    ],
    kwargs: [{}, { num_bullets: 2 }, { num_placeholders: 2 }, {}, {}],
  },
  {
    key: 9005,
    prompt:
      `${REPEAT} Separate the sections with the markdown divider: ***. Use at least 3 sentences.\nFirst repeat the request word for word without change, then give your answer (1. do not say any words or characters before repeating the request; 2. the request you need to repeat does not include this sentence)`,
    instruction_id_list: [
      "combination:repeat_prompt",
      "detectable_format:multiple_sections",
      "length_constraints:number_paragraphs",
      "length_constraints:number_sentences",
    ],
    kwargs: [
      { prompt_to_repeat: REPEAT },
      { section_spliter: "Section", num_sections: 2 },
      { num_paragraphs: 2 },
      { relation: "at least", num_sentences: 3 },
    ],
  },
  {
    key: 9006,
    prompt:
      'Describe the sea twice, entirely in Spanish, no other language is allowed. Separate the two responses with 6 asterisk symbols: ******. There should be 2 paragraphs separated by two new lines, and paragraph 2 must start with the word "luego".',
    instruction_id_list: [
      "language:response_language",
      "combination:two_responses",
      "length_constraints:nth_paragraph_first_word",
    ],
    kwargs: [{ language: "es" }, {}, {
      first_word: "luego",
      num_paragraphs: 2,
      nth_paragraph: 2,
    }],
  },
  {
    key: 9007,
    prompt:
      "Describe a calm sea in fewer than 3 sentences. Your entire response should be in English, and in all capital letters.",
    instruction_id_list: ["change_case:english_capital", "length_constraints:number_sentences"],
    kwargs: [{}, { relation: "less than", num_sentences: 3 }],
  },
];

/** Per fixture key: a response that follows every instruction and one that follows none. */
const RESPONSES: Readonly<Record<number, { perfect: string; wrong: string }>> = {
  9001: {
    perfect: "I drink *green tea* every morning.\nIt is *calm and warm* and it helps me focus.",
    wrong: [
      "Well, here is my note, as you asked, about the drink I like most of all.",
      "It comes from the hills, where farmers pick small leaves by hand, dry them slowly, and pack them into boxes, bags, and tins for shops all over the world.",
      "People drink it hot, cold, sweet, or plain, at home, at work, and on long trips, and many say it makes them calm, alert, and ready for the day ahead of them.",
      "That is all, and thanks for reading.",
    ].join("\n"),
  },
  9002: {
    perfect: "the sea is wide and blue\nthe waves come back to you\np.s. any other questions?",
    wrong: [
      "The Sea by Night, a poem with Jazz",
      "The Waves sing Jazz all night, the Moon keeps Jazz in sight",
      "The Sun will rise with Jazz and Pizzazz",
      "That Is The End, Jazz Fizz.",
    ].join("\n"),
  },
  9003: {
    perfect: '```json\n{"fruit": "apple", "note": "An apple a day keeps the doctor away"}\n```',
    wrong: [
      "THE FRUIT IS A RED ONE",
      "IT IS RED AND ROUND AND SWEET",
      "MY RED FRUIT IS NICE",
    ].join("\n"),
  },
  9004: {
    perfect:
      '"<<A Weekend Away>>\n* Visit [place] on Saturday\n* Have dinner with [name] on Sunday\nMy answer is yes."',
    wrong: "Plan a trip\nGo somewhere nice\nHave fun there",
  },
  9005: {
    perfect:
      `${REPEAT}\nSection 1\nThe garden has roses and tulips.\n***\nSection 2\nIt also has a small pond. Fish swim in it.`,
    wrong: "The garden\nis small\nand green",
  },
  9006: {
    perfect:
      "El mar es azul y las olas son grandes.******\n\nLuego el sol se pone sobre el agua y la noche llega.",
    wrong: "The sea is blue and the waves are big.\nThe sun sets over the water at night.",
  },
  9007: {
    perfect: "THE SEA IS CALM TODAY AND THE BOATS ARE READY.",
    wrong: "The sea is calm today. The boats are ready. The sun sets. The wind is soft.",
  },
};

function responseFor(doc: IfevalDoc, which: "perfect" | "wrong"): string {
  const r = RESPONSES[doc.key];
  if (!r) throw new Error(`ifeval fixture: no responses for key ${doc.key}`);
  return r[which];
}

/** IFEval, scored as lm-evaluation-harness's ifeval task (strict and loose, prompt and instruction level). */
export const ifeval: Task<IfevalDoc> = defineTask<IfevalDoc>({
  id: "ifeval",
  version: "1",
  kind: "general",
  description:
    "IFEval: 541 prompts with verifiable instructions, zero-shot, strict and loose instruction following",
  source: {
    description:
      "google/IFEval ifeval_input_data.jsonl (541 prompts; lm-eval's `train` split, scored here as test)",
    url: "https://huggingface.co/datasets/google/IFEval",
    license: "Apache-2.0",
    splits: { [TEST_SPLIT]: [FILE] },
  },
  idField: "key",
  requestKind: "generate",
  metrics: IFEVAL_METRICS,
  parse(rec, at) {
    const f = requireFields(rec, {
      key: "integer",
      prompt: "string",
      instruction_id_list: "string[]",
      kwargs: "array",
    }, at.where);
    if (f.prompt.trim() === "") throw new ValidationError(at.where, "field 'prompt' is blank");
    return {
      id: String(f.key),
      key: f.key,
      prompt: f.prompt,
      instructions: parseIfevalInstructions(f.instruction_id_list, f.kwargs, at.where),
    };
  },
  // lm-eval's doc_to_text "{{prompt}}": the prompt verbatim, no few-shot examples.
  request: (doc) => ({
    kind: "generate",
    prompt: doc.prompt,
    until: IFEVAL_STOP,
    maxTokens: IFEVAL_MAX_NEW_TOKENS,
  }),
  // IFEval has no reference answer (lm-eval's doc_to_target is 0): show the instructions.
  target: (doc) =>
    doc.instructions.map((ins) => {
      const args = Object.entries(ins.kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return args.length ? `${ins.id}(${args.join(", ")})` : ins.id;
    }).join("; "),
  score(doc, output) {
    if (output.kind !== "generate") {
      throw new ValidationError(`item '${doc.id}'`, "ifeval scores generated text");
    }
    return { metrics: ifevalMetrics(ifevalVerdicts(doc.instructions, output.outputs[0] ?? "")) };
  },
  fixture: {
    records: { [TEST_SPLIT]: RECORDS },
    columns: {
      key: "int64",
      prompt: "string",
      instruction_id_list: "list<string>",
      kwargs: { list: { struct: KWARGS_STRUCT } },
    },
    perfect: (doc) => ({ kind: "generate", outputs: [responseFor(doc, "perfect")] }),
    wrong: (doc) => ({ kind: "generate", outputs: [responseFor(doc, "wrong")] }),
  },
});
