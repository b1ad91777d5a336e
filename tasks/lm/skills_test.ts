// Tests for the general skills: determinism, disjoint splits, answers recomputed independently
// from the prompt, strict exact-match scoring, and the length and character bounds.

import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import { isPrintableAscii, MAX_ANSWER, MAX_PROMPT, splitOf } from "./items.ts";
import {
  generateSkill,
  isBalanced,
  sampleSkill,
  scoreSkill,
  SKILL_NAMES,
  type SkillItem,
} from "./skills.ts";

const N = 100; // arith has only ~140 distinct heldout prompts
const sets = new Map(
  SKILL_NAMES.map((s) => [s, {
    train: generateSkill(s, { seed: 7, n: N, split: "train" }),
    heldout: generateSkill(s, { seed: 7, n: N, split: "heldout" }),
  }]),
);
const all = [...sets.values()].flatMap((x) => [...x.train, ...x.heldout]);

Deno.test("skills: same seed same items, another seed other items", () => {
  for (const s of SKILL_NAMES) {
    deepEqual(generateSkill(s, { seed: 7, n: N, split: "train" }), sets.get(s)!.train);
    notDeepEqual(generateSkill(s, { seed: 8, n: N, split: "train" }), sets.get(s)!.train);
  }
});

Deno.test("skills: distinct prompts, unique ids, train and heldout disjoint", () => {
  for (const s of SKILL_NAMES) {
    const { train, heldout } = sets.get(s)!;
    const tp = new Set(train.map((i) => i.prompt)), hp = new Set(heldout.map((i) => i.prompt));
    equal(tp.size, N, s);
    equal(hp.size, N, s);
    ok([...hp].every((p) => !tp.has(p)), `${s}: a heldout prompt is in train`);
    // Another seed's train set never reaches this seed's heldout prompts either.
    const other = generateSkill(s, { seed: 99, n: N, split: "train" });
    ok(other.every((i) => !hp.has(i.prompt)), `${s}: seed 99 train hits heldout`);
    equal(new Set(train.map((i) => i.id)).size, N);
    ok(train.every((i) => i.skill === s));
  }
});

/** The answer recomputed from the prompt alone, independently of skills.ts. */
function oracle(item: SkillItem): string {
  const p = item.prompt;
  const body = p.slice(p.indexOf(":") + 1, -1);
  switch (item.skill) {
    case "copy":
      return body;
    case "reverse":
      return body.split("").reverse().join("");
    case "sort":
      return body.split("").sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0)).join("");
    case "arith": {
      const [, a, op, b] = p.match(/^(\d+)([+-])(\d+)=$/)!;
      return String(op === "+" ? +a + +b : +a - +b);
    }
    case "compare": {
      const [a, b] = body.split(",").map(Number);
      return a === b ? "=" : a < b ? "<" : ">";
    }
    case "brackets": {
      // Repeatedly delete innermost pairs: balanced iff nothing is left.
      let s = body, prev = "";
      while (s !== prev) [prev, s] = [s, s.replace(/\(\)|\[\]/g, "")];
      return s === "" ? "yes" : "no";
    }
    case "lookup": {
      const [table, key] = body.split(";");
      const pairs = new Map(table.split(" ").map((kv) => kv.split("=") as [string, string]));
      equal(pairs.size, table.split(" ").length, "keys are distinct");
      return pairs.get(key.replace("=", ""))!;
    }
  }
}

Deno.test("skills: every answer matches an independent oracle and scores 1", () => {
  for (const item of all) {
    equal(item.answer, oracle(item), item.prompt);
    equal(scoreSkill(item, item.answer), 1);
    equal(scoreSkill(item, item.answer + "\n"), 1);
    equal(scoreSkill(item, item.answer + " \n"), 1);
  }
});

Deno.test("skills: wrong outputs score 0", () => {
  for (const item of all.slice(0, 2000)) {
    for (const bad of ["", "\n", ` ${item.answer}`, `${item.answer}x`, `${item.answer}\nx`]) {
      equal(scoreSkill(item, bad), 0, `${item.prompt} ${JSON.stringify(bad)}`);
    }
  }
  const rev = sets.get("reverse")!.train.find((i) =>
    i.answer !== i.answer.split("").reverse().join("")
  )!;
  equal(scoreSkill(rev, rev.answer.split("").reverse().join("")), 0, "copy is not reverse");
  const add = { id: "x", skill: "arith" as const, prompt: "12+34=", answer: "46" };
  equal(scoreSkill(add, "46"), 1);
  for (const bad of ["47", "046", "46.0", "forty-six", "4 6"]) equal(scoreSkill(add, bad), 0);
});

Deno.test("skills: lengths within bounds, printable ASCII, every answer class present", () => {
  for (const item of all) {
    ok(item.prompt.length <= MAX_PROMPT && item.answer.length <= MAX_ANSWER, item.prompt);
    ok(item.answer.length > 0);
    ok(isPrintableAscii(item.prompt) && isPrintableAscii(item.answer), item.prompt);
  }
  const answers = (s: "compare" | "brackets") => new Set(sets.get(s)!.train.map((i) => i.answer));
  deepEqual([...answers("compare")].sort(), ["<", "=", ">"]);
  deepEqual([...answers("brackets")].sort(), ["no", "yes"]);
  const yes = sets.get("brackets")!.train.filter((i) => i.answer === "yes").length;
  ok(yes > N * 0.25 && yes < N * 0.6, `${yes} balanced of ${N}`);
  const arith = sets.get("arith")!.train.map((i) => Number(i.answer));
  ok(arith.every((x) => x >= 0 && x <= 99));
  ok(sets.get("arith")!.train.some((i) => i.prompt.includes("-")));
  ok(sets.get("sort")!.train.some((i) => /^srt:\d+=$/.test(i.prompt)), "digit sorts");
  ok(sets.get("sort")!.train.some((i) => /^srt:[a-z]+=$/.test(i.prompt)), "letter sorts");
});

Deno.test("isBalanced: nesting and kinds must match", () => {
  for (const s of ["", "()", "[]", "([])", "()[]", "[([]())]"]) ok(isBalanced(s), s);
  for (const s of ["(", ")", "(]", "([)]", "())(", "[[]"]) ok(!isBalanced(s), s);
});

Deno.test("sampleSkill: a corpus with repeats, only of its split, the same for the same seed", () => {
  // arith has ~540 train prompts: 2,000 draws must repeat some, which generateSkill cannot.
  const corpus = sampleSkill("arith", { seed: 3, n: 2000, split: "train" });
  equal(corpus.length, 2000);
  ok(new Set(corpus.map((i) => i.prompt)).size < 2000, "no repeats");
  ok(corpus.every((i) => splitOf("arith", i.prompt) === "train" && i.skill === "arith"));
  const heldout = new Set(
    generateSkill("arith", { seed: 0, n: 100, split: "heldout" }).map((i) => i.prompt),
  );
  ok(corpus.every((i) => !heldout.has(i.prompt)), "a heldout prompt in the corpus");
  deepEqual(sampleSkill("arith", { seed: 3, n: 2000, split: "train" }), corpus);
  notDeepEqual(sampleSkill("arith", { seed: 4, n: 2000, split: "train" }), corpus);
});
