// Tests for the facts skill: every answer is the tables' fact, and every fact reaches the
// pretraining corpus in some phrasing.

import { equal, ok } from "node:assert/strict";
import { factsTask } from "./facts.ts";
import { ANIMAL_CLASSES, PLANETS, SI_UNITS, STATES } from "./science_facts.ts";
import { accOf } from "./_testing.ts";

Deno.test("facts: answers are the tables' facts; every fact is in the pretraining corpus", async () => {
  const loaded = await factsTask.load({ seed: 3, sizes: { pretrain: 4000, test: 32 } });
  const corpus = loaded.splits.pretrain, test = loaded.splits.test;
  const classOf = new Map(
    Object.entries(ANIMAL_CLASSES).flatMap(([c, xs]) => xs.map((x) => [x, c])),
  );
  const stateOf = new Map(Object.entries(STATES).flatMap(([s, xs]) => xs.map((x) => [x, s])));
  const units = new Map(Object.entries(SI_UNITS).map(([q, u]) => [u, q]));
  const told = new Set<string>();
  for (const item of [...corpus, ...test]) {
    const p = item.prompt, a = item.answer;
    const subject = p.replace(
      /^(kind of |class of |state of |unit of |SI unit of |the |planet (no |number )?)/,
      "",
    )
      .replace(/( is a| at room temp| is planet| no| measures| is| unit)?[=:]$/, "");
    if (classOf.has(subject)) equal(a, classOf.get(subject), p);
    else if (stateOf.has(subject)) equal(a, stateOf.get(subject), p);
    else if (/^\d$/.test(subject)) equal(a, PLANETS[Number(subject) - 1], p);
    else if (PLANETS.includes(subject)) equal(a, String(PLANETS.indexOf(subject) + 1), p);
    else if (subject in SI_UNITS) equal(a, SI_UNITS[subject], p);
    else if (units.has(subject)) equal(a, units.get(subject), p);
    else ok(false, `unparsed prompt ${p}`);
    if (corpus.includes(item)) told.add(`${subject}=${a}`);
  }
  for (const [x] of classOf) ok([...told].some((t) => t.startsWith(`${x}=`)), `${x} never told`);
  for (const [x] of stateOf) ok([...told].some((t) => t.startsWith(`${x}=`)), `${x} never told`);
  for (const q of Object.keys(SI_UNITS)) ok(told.has(`${q}=${SI_UNITS[q]}`), `${q} never told`);
  for (const [i, p] of PLANETS.entries()) {
    ok(told.has(`${i + 1}=${p}`), `planet ${i + 1} never told`);
  }
  equal(await accOf(factsTask, test[0], test[0].answer), 1);
  equal(await accOf(factsTask, test[0], test[0].answer + "x"), 0);
});
