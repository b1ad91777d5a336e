// Tests for science_mc: exactly one true option per question (checked against the fact tables),
// shown where the answer says, spread evenly over the option numbers; strict score and the
// the 0/1 reward.

import { deepEqual, equal, ok } from "node:assert/strict";
import { type ScienceItem, scienceMc } from "./science_mc.ts";
import { ANIMAL_CLASSES, PLANETS, SI_UNITS, STATES } from "./science_facts.ts";
import { accOf, rewardOf, splitsOf } from "./_testing.ts";

/** Whether `option` answers a science question, from the fact tables. */
function scienceTruth(question: string, option: string): boolean {
  const inClass = (t: Readonly<Record<string, readonly string[]>>, c: string, x: string) =>
    t[c]?.includes(x) ?? false;
  let m: RegExpMatchArray | null;
  if ((m = question.match(/^(\w+) is a kind of\?$/))) return inClass(ANIMAL_CLASSES, option, m[1]);
  if ((m = question.match(/^which is an? (\w+) at room temp\?$/))) {
    return inClass(STATES, m[1], option);
  }
  if ((m = question.match(/^which is an? (\w+)\?$/))) return inClass(ANIMAL_CLASSES, m[1], option);
  if ((m = question.match(/^(\w+) at room temp is\?$/))) return inClass(STATES, option, m[1]);
  if ((m = question.match(/^(\d)\w\w planet from the sun\?$/))) {
    return PLANETS[+m[1] - 1] === option;
  }
  if ((m = question.match(/^SI unit of (\w+)\?$/))) return SI_UNITS[m[1]] === option;
  if ((m = question.match(/^the (\w+) measures\?$/))) return SI_UNITS[option] === m[1];
  throw new Error(`unknown question '${question}'`);
}

Deno.test("science_mc: exactly one true option, at the answer's number", async () => {
  const { all } = await splitsOf(scienceMc, { seed: 11, n: 300 });
  const counts = new Map<string, number>(), expected = new Map<string, number>();
  for (const item of all) {
    const m = item.prompt.match(/^Q:(.+\?) ((?:[1-4]\)\w+ ?)+) =$/)!;
    ok(m, item.prompt);
    const shown = m[2].split(" ").map((o) => o.slice(2));
    deepEqual(shown, item.options);
    ok(item.options.length === 3 || item.options.length === 4);
    equal(new Set(item.options).size, item.options.length, "distinct options");
    const truths = item.options.map((o) => scienceTruth(m[1], o));
    deepEqual(
      truths.map((t, i) => (t ? i : -1)).filter((i) => i >= 0),
      [item.correct],
      item.prompt,
    );
    equal(item.answer, "1234"[item.correct]);
    counts.set(item.answer, (counts.get(item.answer) ?? 0) + 1);
    for (const l of "1234".slice(0, item.options.length)) {
      expected.set(l, (expected.get(l) ?? 0) + 1 / item.options.length);
    }
    for (const bad of [..."1234"].filter((l) => l !== item.answer)) {
      equal(await accOf(scienceMc, item, bad), 0);
    }
    for (const bad of [`0${item.answer}`, `${item.answer})`, item.options[item.correct]]) {
      equal(await accOf(scienceMc, item, bad), 0, `${item.prompt} ${bad}`);
    }
  }
  // The shuffle spreads the right answer evenly over the numbers shown.
  for (const l of "1234") {
    const got = counts.get(l) ?? 0, want = expected.get(l)!;
    ok(Math.abs(got - want) < 0.25 * want, `${l}: ${got} correct, ~${want.toFixed(0)} expected`);
  }
});

Deno.test("science_mc: the reward is the score, 1 for the right option number, else 0", async () => {
  const mc: ScienceItem = {
    id: "s",
    prompt: "Q:shark is a kind of? 1)bird 2)fish 3)insect =",
    answer: "2",
    options: ["bird", "fish", "insect"],
    correct: 1,
  };
  deepEqual(
    ["2", "2\n", "1", "3", "4", "22", "fish", ""].map((o) => rewardOf(scienceMc, mc, o)),
    [1, 1, 0, 0, 0, 0, 0, 0],
  );
  deepEqual(await Promise.all(["2", "1", "3"].map((o) => accOf(scienceMc, mc, o))), [1, 0, 0]);
});
