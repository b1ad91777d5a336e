// Downstream task `science_mc` of the tiny LM: numbered multiple choice over the fact tables of
// science_facts.ts. The facts are shared by both splits on purpose (a tiny model has no world
// knowledge to generalise from); test prompts pair them with unseen distractors and option
// orders, so memorising the option number of a training prompt does not help.
//
//   Q:shark is a kind of? 1)bird 2)fish 3)insect 4)reptile =  -> 2
//
// Capacity: over 30k distinct prompts in each split.

import { permutation, type Rng } from "../../lib/rng.ts";
import { type LmItem, MAX_PROMPT, pick } from "./items.ts";
import { defineGeneratedTask, DOWNSTREAM_SIZES } from "./generated.ts";
import { ANIMAL_CLASSES, PLANETS, SI_UNITS, STATES } from "./science_facts.ts";

/** A multiple-choice item: the options as shown and the index of the correct one. */
export interface ScienceItem extends LmItem {
  readonly options: readonly string[];
  readonly correct: number;
}

// Options are numbered, not lettered: the base model writes digits far more often than
// capitals, so sampled answers hit an option often enough for RL to get a reward.
const OPTION_NUMBERS = "1234";

/** "a" or "an", for the question templates. */
function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** 1st, 2nd, 3rd, 4th... for planet positions. */
function ordinal(n: number): string {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

/** All members of a class table not in class `except`. */
function membersOutside(table: Readonly<Record<string, readonly string[]>>, except: string) {
  return Object.entries(table).filter(([c]) => c !== except).flatMap(([, xs]) => xs);
}

/** One fact as a question, its correct answer and the pool of wrong answers. */
function drawFact(r: Rng): { question: string; right: string; wrong: string[] } {
  const classes = Object.keys(ANIMAL_CLASSES), quantities = Object.keys(SI_UNITS);
  const states = Object.keys(STATES).filter((s) => STATES[s].length > 0);
  // (No "planet number?" question: its numeric options would read like option numbers.)
  switch (r.int(7)) {
    case 0: {
      const c = pick(r, classes), animal = pick(r, ANIMAL_CLASSES[c]);
      return {
        question: `${animal} is a kind of?`,
        right: c,
        wrong: classes.filter((x) => x !== c),
      };
    }
    case 1: {
      const c = pick(r, classes);
      return {
        question: `which is ${article(c)} ${c}?`,
        right: pick(r, ANIMAL_CLASSES[c]),
        wrong: membersOutside(ANIMAL_CLASSES, c),
      };
    }
    case 2: {
      const s = pick(r, states), stuff = pick(r, STATES[s]);
      const wrong = Object.keys(STATES).filter((x) => x !== s);
      return { question: `${stuff} at room temp is?`, right: s, wrong };
    }
    case 3: {
      const s = pick(r, states);
      return {
        question: `which is ${article(s)} ${s} at room temp?`,
        right: pick(r, STATES[s]),
        wrong: membersOutside(STATES, s),
      };
    }
    case 4: {
      const i = r.int(PLANETS.length);
      return {
        question: `${ordinal(i + 1)} planet from the sun?`,
        right: PLANETS[i],
        wrong: PLANETS.filter((_, j) => j !== i),
      };
    }
    case 5: {
      const q = pick(r, quantities);
      const wrong = quantities.filter((x) => x !== q).map((x) => SI_UNITS[x]);
      return { question: `SI unit of ${q}?`, right: SI_UNITS[q], wrong };
    }
    default: {
      const q = pick(r, quantities);
      return {
        question: `the ${SI_UNITS[q]} measures?`,
        right: q,
        wrong: quantities.filter((x) => x !== q),
      };
    }
  }
}

/** `Q:<question> 1)x 2)y 3)z 4)w =` with 4 options, or 3 where 4 would not fit MAX_PROMPT. */
function drawScience(r: Rng): Omit<ScienceItem, "id"> {
  for (;;) {
    const { question, right, wrong } = drawFact(r);
    const distractors = permutation(wrong.length, r).slice(0, 3).map((i) => wrong[i]);
    for (const k of [4, 3]) {
      const pool = [right, ...distractors.slice(0, k - 1)];
      const options = permutation(k, r).map((i) => pool[i]);
      const shown = options.map((o, i) => `${OPTION_NUMBERS[i]})${o}`).join(" ");
      const prompt = `Q:${question} ${shown} =`;
      const correct = options.indexOf(right);
      if (prompt.length <= MAX_PROMPT) {
        return { prompt, answer: OPTION_NUMBERS[correct], options, correct };
      }
    }
  }
}

/**
 * Numbered multiple choice over small science fact tables; options shuffled by the seed. The
 * score is 1 iff the output is exactly the correct option number (nothing else).
 */
export const scienceMc = defineGeneratedTask<ScienceItem>({
  id: "science_mc",
  version: "2",
  kind: "downstream",
  description: "multiple choice (3-4 numbered options) on animal classes, states, planets, units",
  generator: "`Q:<question> 1)x 2)y 3)z 4)w =` from science_facts.ts, shuffled distractors",
  sizes: DOWNSTREAM_SIZES,
  draw: drawScience,
  // The reward is the score, 1 or 0 (version 2; version 1 gave 0.25 for another option number,
  // format credit for a base that never wrote one: the base now answers with an option number
  // most of the time, see many_answers.ts).
});
