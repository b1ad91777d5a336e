// Tests for evals/hellaswag.ts. Expected strings were produced by running lm-eval's own
// lm_eval/tasks/hellaswag/utils.py (preprocess, process_docs) and Python 3.11 str.capitalize on
// the same inputs, then pasted here.

import { deepEqual, equal, throws } from "node:assert/strict";
import {
  hellaswagRequest,
  preprocess,
  processHellaswagDoc,
  pythonCapitalize,
} from "./hellaswag.ts";

Deno.test("preprocess: matches lm-eval's utils.preprocess", () => {
  const cases: [string, string][] = [
    [" Intro [title] Step one [step] done. ", "Intro. Step one done."],
    ["A [header] b [title] c", "A b. c"],
    // One left-to-right pass of "  " → " ": three spaces become two, four become two.
    ["Two  spaces   three    four", "Two spaces  three  four"],
    // Python's `.` stops at "\n" but not at "\r".
    ["[a] x [b\nc] y [d\re] z", " x [b\nc] y z"],
    [
      "\t[header] How to clean a grill [title] Heat the grill. [step] Turn it on.\n",
      " How to clean a grill. Heat the grill. Turn it on.",
    ],
    ["no brackets here", "no brackets here"],
  ];
  for (const [input, expected] of cases) equal(preprocess(input), expected, JSON.stringify(input));
});

Deno.test("preprocess: strips Python's whitespace set, not JS trim's", () => {
  // U+0085 and U+001F are whitespace to Python (JS trim keeps them); U+FEFF is not.
  equal(preprocess("\u0085a b\u001f"), "a b");
  equal(preprocess("\ufeffa"), "\ufeffa");
});

Deno.test("pythonCapitalize: first character titlecased, the rest lowercased", () => {
  const cases: [string, string][] = [
    ["hello WORLD", "Hello world"],
    ["then", "Then"],
    ["TURN the burners on HIGH", "Turn the burners on high"],
    ["", ""],
    ["  leading", "  leading"],
    // Final sigma is lowercased in context, as Python does.
    ["ΑΣ", "Ας"],
    ["ΣΣ ΣΑ", "Σς σα"],
    ["ΌΣΟΣ", "Όσος"],
    ["a.Σ b", "A.ς b"],
    // Titlecase is not uppercase for ß, digraphs, ligatures, Greek ypogegrammeni.
    ["ßtraße", "Sstraße"],
    ["ǆungla", "ǅungla"],
    ["ﬁre", "Fire"],
    ["ᾳΣ", "ᾼς"],
    ["İSTANBUL", "İstanbul"],
    ["𐐨𐐀", "𐐀𐐨"], // astral (Deseret) letters are one code point each
  ];
  for (const [input, expected] of cases) equal(pythonCapitalize(input), expected, input);
});

const ICE = {
  activity_label: "Removing ice from car",
  ctx_a:
    "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles.",
  ctx_b: "then",
  endings: [
    ", the man adds wax to the windshield and cuts it.",
    ", a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.",
    ", the man puts on a christmas coat, knitted with netting.",
    ", the man continues removing the snow on his car.",
  ],
  label: "3",
};

Deno.test("processHellaswagDoc: matches lm-eval's process_docs", () => {
  deepEqual(processHellaswagDoc(ICE), {
    query:
      "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. Then",
    choices: ICE.endings,
    gold: 3,
  });
  const grill = {
    activity_label: "Home and Garden",
    ctx_a: "[header] How to clean a grill [title] Heat the grill.",
    ctx_b: "TURN the burners on HIGH [step] for 15 MINUTES.",
    endings: [
      "[substeps] Close the lid.  Wait.",
      " Scrape the grates [title] Done ",
      "Use a brush.",
      "Spray water [step] wipe.",
    ],
    label: "0",
  };
  deepEqual(processHellaswagDoc(grill), {
    query:
      "Home and Garden: How to clean a grill. Heat the grill. Turn the burners on high for 15 minutes.",
    choices: [
      " Close the lid. Wait.",
      "Scrape the grates. Done",
      "Use a brush.",
      "Spray water wipe.",
    ],
    gold: 0,
  });
  // An empty ctx_b leaves a trailing space that strip() removes.
  const sports = {
    activity_label: "Sports",
    ctx_a: "A man stands.",
    ctx_b: "",
    endings: ["He runs.", "He sits."],
    label: "1",
  };
  deepEqual(processHellaswagDoc(sports), {
    query: "Sports: A man stands.",
    choices: ["He runs.", "He sits."],
    gold: 1,
  });
});

Deno.test("processHellaswagDoc: label must be an integer", () => {
  equal(processHellaswagDoc({ ...ICE, label: 2 }).gold, 2);
  throws(() => processHellaswagDoc({ ...ICE, label: "" }), RangeError); // test split
  throws(() => processHellaswagDoc({ ...ICE, label: "x" }), RangeError);
  throws(() => processHellaswagDoc({ ...ICE, label: 1.5 }), RangeError);
});

Deno.test("hellaswagRequest: context = query, continuations = ' ' + choice", () => {
  const req = hellaswagRequest(ICE);
  equal(req.context, processHellaswagDoc(ICE).query);
  deepEqual(req.choices, ICE.endings);
  // The endings start with ", " and lm-eval still prepends its space delimiter.
  equal(req.continuations[0], " , the man adds wax to the windshield and cuts it.");
  equal(req.continuations[3], " , the man continues removing the snow on his car.");
  equal(req.gold, 3);
});
