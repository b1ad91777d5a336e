// Hand-written fact tables behind the `science_mc` task (tasks/lm/science_mc.ts): animal classes,
// states of matter at room temperature, planet order and SI units. Kept short and unambiguous;
// names are lower case except planets, and every entry is printable ASCII.

/** Animal class -> members. Only unambiguous, commonly taught examples. */
export const ANIMAL_CLASSES: Readonly<Record<string, readonly string[]>> = {
  mammal: ["dog", "cat", "whale", "bat", "horse", "cow", "mouse", "lion"],
  bird: ["eagle", "owl", "duck", "hen", "crow", "robin", "swan"],
  fish: ["shark", "salmon", "trout", "tuna", "cod", "carp"],
  amphibian: ["frog", "toad", "newt", "axolotl"],
  reptile: ["snake", "lizard", "turtle", "gecko", "iguana"],
  insect: ["ant", "bee", "fly", "moth", "wasp", "beetle"],
};

/**
 * State at room temperature (~20 C) -> substances. `plasma` has no members: it only serves as a
 * distractor. Ice and steam are left out on purpose (not solid/gas at room temperature).
 */
export const STATES: Readonly<Record<string, readonly string[]>> = {
  solid: ["iron", "salt", "wood", "gold", "sand", "glass", "copper", "stone"],
  liquid: ["water", "milk", "oil", "mercury", "juice", "honey", "vinegar"],
  gas: ["oxygen", "helium", "neon", "nitrogen", "argon", "hydrogen"],
  plasma: [],
};

/** Planets from the sun outward: index 0 is the 1st. */
export const PLANETS: readonly string[] = [
  "Mercury",
  "Venus",
  "Earth",
  "Mars",
  "Jupiter",
  "Saturn",
  "Uranus",
  "Neptune",
];

/** Physical quantity -> its SI unit (each unit measures exactly one quantity here). */
export const SI_UNITS: Readonly<Record<string, string>> = {
  length: "meter",
  mass: "kilogram",
  time: "second",
  force: "newton",
  energy: "joule",
  power: "watt",
  current: "ampere",
  charge: "coulomb",
  voltage: "volt",
  pressure: "pascal",
  frequency: "hertz",
  temperature: "kelvin",
};
