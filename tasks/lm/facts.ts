// General skill `facts` of the tiny LM: state a fact of science_facts.ts's tables, in either
// direction and in several phrasings. It is what a real base model brings to a science
// benchmark: pretraining on it lets the `science_mc` stage teach the multiple-choice format
// over facts the base already knows, instead of the facts themselves.
//
//   shark is a=  -> fish     planet 3=  -> Earth     unit of force=  -> newton
//
// The tables are small (~100 facts), so train and test prompts state the same facts: each fact
// has 3-4 phrasings and the prompt hash split (tasks/lm/items.ts) holds some phrasings out.
// Capacity: ~330 distinct prompts (~260 train); its pretraining corpus is drawn with repeats.

import type { Rng } from "../../lib/rng.ts";
import { pick } from "./items.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";
import { ANIMAL_CLASSES, PLANETS, SI_UNITS, STATES } from "./science_facts.ts";

/** One fact in one phrasing: `[prompt, answer]`. */
function drawFact(r: Rng): [string, string] {
  switch (r.int(4)) {
    case 0: {
      const c = pick(r, Object.keys(ANIMAL_CLASSES)), a = pick(r, ANIMAL_CLASSES[c]);
      return [pick(r, [`${a} is a=`, `kind of ${a}=`, `class of ${a}=`, `${a}:`]), c];
    }
    case 1: {
      const states = Object.keys(STATES).filter((s) => STATES[s].length > 0);
      const s = pick(r, states), x = pick(r, STATES[s]);
      return [pick(r, [`${x} is a=`, `state of ${x}=`, `${x} at room temp=`, `${x}:`]), s];
    }
    case 2: {
      const i = r.int(PLANETS.length);
      return r.int(2) === 0
        ? [
          pick(r, [`planet ${i + 1}=`, `planet no ${i + 1}=`, `planet number ${i + 1}=`]),
          PLANETS[i],
        ]
        : [
          pick(r, [`${PLANETS[i]} is planet=`, `${PLANETS[i]} no=`, `${PLANETS[i]}:`]),
          String(i + 1),
        ];
    }
    default: {
      const q = pick(r, Object.keys(SI_UNITS));
      return r.int(2) === 0
        ? [pick(r, [`unit of ${q}=`, `SI unit of ${q}=`, `${q} unit=`, `${q}:`]), SI_UNITS[q]]
        : [pick(r, [`${SI_UNITS[q]} measures=`, `the ${SI_UNITS[q]} is=`, `${SI_UNITS[q]}:`]), q];
    }
  }
}

/** State a science fact (animal class, state of matter, planet order, SI unit). */
export const factsTask = defineGeneratedTask({
  id: "facts",
  version: "1",
  kind: "general",
  description: "state a fact of the science tables (animal class, state, planet order, SI unit)",
  generator: "3-4 phrasings per fact and direction, e.g. `shark is a=` or `unit of force=`",
  sizes: SKILL_SIZES,
  draw(r) {
    const [prompt, answer] = drawFact(r);
    return { prompt, answer };
  },
});
