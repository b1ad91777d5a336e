// Tests for evals/mmlu.ts. The expected contexts were produced by lm-evaluation-harness's own
// ConfigurableTask (lm_eval/api/task.py `fewshot_context`, `construct_requests`,
// `process_results`) loading lm_eval/tasks/mmlu/default/mmlu_<subject>.yaml (with its
// _default_template_yaml) with num_fewshot 5, fed tasks/mmlu.ts's fixture records as the
// subject's test and dev splits, then pasted here.

import { deepEqual, equal, throws } from "node:assert/strict";
import { join } from "node:path";
import { mmlu } from "../tasks/mmlu.ts";
import { writeTaskFixture } from "../runs/fixtures.ts";
import { mcAcc } from "./multiple_choice.ts";
import {
  MMLU_SUBJECTS,
  mmluDescription,
  mmluDocToText,
  type MmluExample,
  mmluFewshot,
  mmluPrompt,
  mmluRequest,
} from "./mmlu.ts";

const shot = (subject: string, question: string, choices: string[], answer: number) => ({
  question,
  subject,
  choices,
  answer,
});

const ASTRONOMY_DEV: MmluExample[] = [
  shot("astronomy", "What is the main source of the Sun's energy?", [
    "Chemical burning",
    "Nuclear fusion",
    "Gravitational collapse",
    "Radioactive decay",
  ], 1),
  shot("astronomy", "Which of these planets has no solid surface?", [
    "Mercury",
    "Venus",
    "Mars",
    "Saturn",
  ], 3),
  shot("astronomy", "Why is Mars red?", [
    "Its atmosphere scatters red light.",
    "Its surface holds iron oxide.",
    "Its ice caps reflect red light.",
    "It is heated by the Sun.",
  ], 1),
  shot("astronomy", "How long does light from the Sun take to reach Earth?", [
    "About 8 seconds",
    "About 8 minutes",
    "About 8 hours",
    "About 8 days",
  ], 1),
  shot("astronomy", "Which of these is the closest star to the Sun?", [
    "Sirius",
    "Betelgeuse",
    "Proxima Centauri",
    "Vega",
  ], 2),
];

const GEOGRAPHY_DEV: MmluExample[] = [
  shot("high_school_geography", "Which of the following is an example of a renewable resource?", [
    "Coal",
    "Natural gas",
    "Solar energy",
    "Oil",
  ], 2),
  shot("high_school_geography", "The line of latitude at 0 degrees is called the", [
    "Prime Meridian.",
    "Equator.",
    "Tropic of Cancer.",
    "Arctic Circle.",
  ], 1),
  shot("high_school_geography", "Which city is the capital of Australia?", [
    "Sydney",
    "Melbourne",
    "Canberra",
    "Perth",
  ], 2),
  shot("high_school_geography", "A map that shows elevation with contour lines is a", [
    "political map.",
    "topographic map.",
    "road map.",
    "climate map.",
  ], 1),
  shot(
    "high_school_geography",
    "What is the most important factor in the location of a steel mill?",
    [
      "Access to markets",
      "Access to raw materials",
      "Cheap labour",
      "A warm climate",
    ],
    1,
  ),
];

const MOON = shot("astronomy", " What causes the phases of the Moon as seen from Earth?\n", [
  "Earth's shadow falling on the Moon",
  "The changing distance between Earth and the Moon",
  "The changing angle between the Sun, Earth and Moon",
  "Clouds in Earth's atmosphere",
], 2);
const RIVER = shot(
  "high_school_geography",
  "Which of the following is the longest river in South America?",
  ["Orinoco", "Paraná", "Amazon", "São Francisco"],
  2,
);

const ASTRONOMY_5SHOT = [
  "The following are multiple choice questions (with answers) about astronomy.",
  "",
  "What is the main source of the Sun's energy?",
  "A. Chemical burning",
  "B. Nuclear fusion",
  "C. Gravitational collapse",
  "D. Radioactive decay",
  "Answer: B",
  "",
  "Which of these planets has no solid surface?",
  "A. Mercury",
  "B. Venus",
  "C. Mars",
  "D. Saturn",
  "Answer: D",
  "",
  "Why is Mars red?",
  "A. Its atmosphere scatters red light.",
  "B. Its surface holds iron oxide.",
  "C. Its ice caps reflect red light.",
  "D. It is heated by the Sun.",
  "Answer: B",
  "",
  "How long does light from the Sun take to reach Earth?",
  "A. About 8 seconds",
  "B. About 8 minutes",
  "C. About 8 hours",
  "D. About 8 days",
  "Answer: B",
  "",
  "Which of these is the closest star to the Sun?",
  "A. Sirius",
  "B. Betelgeuse",
  "C. Proxima Centauri",
  "D. Vega",
  "Answer: C",
  "",
  "What causes the phases of the Moon as seen from Earth?",
  "A. Earth's shadow falling on the Moon",
  "B. The changing distance between Earth and the Moon",
  "C. The changing angle between the Sun, Earth and Moon",
  "D. Clouds in Earth's atmosphere",
  "Answer:",
].join("\n");
const GEOGRAPHY_5SHOT = [
  "The following are multiple choice questions (with answers) about high school geography.",
  "",
  "Which of the following is an example of a renewable resource?",
  "A. Coal",
  "B. Natural gas",
  "C. Solar energy",
  "D. Oil",
  "Answer: C",
  "",
  "The line of latitude at 0 degrees is called the",
  "A. Prime Meridian.",
  "B. Equator.",
  "C. Tropic of Cancer.",
  "D. Arctic Circle.",
  "Answer: B",
  "",
  "Which city is the capital of Australia?",
  "A. Sydney",
  "B. Melbourne",
  "C. Canberra",
  "D. Perth",
  "Answer: C",
  "",
  "A map that shows elevation with contour lines is a",
  "A. political map.",
  "B. topographic map.",
  "C. road map.",
  "D. climate map.",
  "Answer: B",
  "",
  "What is the most important factor in the location of a steel mill?",
  "A. Access to markets",
  "B. Access to raw materials",
  "C. Cheap labour",
  "D. A warm climate",
  "Answer: B",
  "",
  "Which of the following is the longest river in South America?",
  "A. Orinoco",
  "B. Paraná",
  "C. Amazon",
  "D. São Francisco",
  "Answer:",
].join("\n");
const GEOGRAPHY_0SHOT = [
  "The following are multiple choice questions (with answers) about high school geography.",
  "",
  "Which of the following is the longest river in South America?",
  "A. Orinoco",
  "B. Paraná",
  "C. Amazon",
  "D. São Francisco",
  "Answer:",
].join("\n");

Deno.test("mmluRequest: lm-eval's 5-shot context (description, first five dev shots, stripped question) and ' A'..' D'", () => {
  const r = mmluRequest(MOON, ASTRONOMY_DEV);
  equal(r.context, ASTRONOMY_5SHOT);
  deepEqual(r.continuations, [" A", " B", " C", " D"]);
  deepEqual(r.choices, ["A", "B", "C", "D"]);
  equal(r.gold, 2);
  // Underscores become spaces in the description; options go in verbatim (non-ASCII too).
  equal(mmluRequest(RIVER, GEOGRAPHY_DEV).context, GEOGRAPHY_5SHOT);
  equal(mmluPrompt(RIVER, []), GEOGRAPHY_0SHOT);
});

Deno.test("mmluFewshot: first_n takes the subject's first five dev examples in dev order", () => {
  // The `all` dev split lists subjects one after another; interleaving changes nothing.
  const dev = [GEOGRAPHY_DEV[0], ...ASTRONOMY_DEV.slice(0, 2), ...GEOGRAPHY_DEV.slice(1)];
  const all = [
    ...dev,
    ...ASTRONOMY_DEV.slice(2),
    shot("astronomy", "A sixth?", ["a", "b", "c", "d"], 0),
  ];
  deepEqual(mmluFewshot(all, { subject: "astronomy" }), ASTRONOMY_DEV);
  deepEqual(mmluFewshot(all, { subject: "high_school_geography" }), GEOGRAPHY_DEV);
  deepEqual(mmluFewshot(all, { subject: "astronomy", k: 0 }), []);
  throws(
    () => mmluFewshot(ASTRONOMY_DEV.slice(0, 4), { subject: "astronomy" }),
    (e) => e instanceof RangeError && /5 shots .*'astronomy'.* has 4/.test(e.message),
  );
});

Deno.test("acc: lm-eval's argmax over the four letters, ties to the first (process_results)", () => {
  // lm-eval's process_results on lls [-3, -1, -2, -1]: acc 1 for gold B, 0 for gold C and A.
  const lls = [-3, -1, -2, -1];
  deepEqual([1, 2, 2, 0].map((gold) => mcAcc(lls, gold)), [1, 0, 0, 0]);
});

Deno.test("mmluDocToText: only the question is stripped, with Python's whitespace set", () => {
  const choices = [" a", "b ", "c", "d"];
  equal(
    mmluDocToText({ question: "\u0085Q?\u001f", choices }),
    "Q?\nA.  a\nB. b \nC. c\nD. d\nAnswer:",
  );
  equal(mmluDocToText({ question: "\ufeffQ?", choices }).split("\n")[0], "\ufeffQ?");
  throws(() => mmluDocToText({ question: "Q", choices: ["a", "b", "c"] }), RangeError);
  throws(() => mmluRequest({ ...RIVER, answer: 4 }, []), RangeError);
});

Deno.test("mmluDescription: the 57 subjects' descriptions, as _generate_configs.py writes them", () => {
  equal(MMLU_SUBJECTS.length, 57);
  equal(new Set(MMLU_SUBJECTS).size, 57);
  deepEqual([...MMLU_SUBJECTS].sort(), MMLU_SUBJECTS, "alphabetical, as the `all` config");
  equal(
    mmluDescription("high_school_government_and_politics"),
    "The following are multiple choice questions (with answers) about high school government and politics.\n\n",
  );
  equal(
    mmluDescription("us_foreign_policy"),
    "The following are multiple choice questions (with answers) about us foreign policy.\n\n",
  );
});

Deno.test("mmlu task: its fixture, read as published parquet, makes lm-eval's requests", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTaskFixture(dir, mmlu);
    const { splits } = await mmlu.load({
      seed: 0,
      data: { dataPath: dir, offline: true, cacheDir: join(dir, "cache") },
    });
    const pools = { dev: splits.dev };
    const request = (id: string) => {
      const doc = splits.test.find((d) => d.id === id)!;
      return mmlu.request(doc, { shots: mmlu.fewshot!(doc, pools) });
    };
    deepEqual(request("1"), {
      kind: "choices",
      context: ASTRONOMY_5SHOT,
      continuations: [" A", " B", " C", " D"],
    });
    equal((request("2") as { context: string }).context, GEOGRAPHY_5SHOT);
    equal(
      (mmlu.request(splits.test[2], { shots: [] }) as { context: string }).context,
      GEOGRAPHY_0SHOT,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
