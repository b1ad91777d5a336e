// General skill `lookup` of the tiny LM: read a key's value from a short key-value table.
//
//   kv:a=3 b=71 c=1;b=  -> 71   (2-3 distinct keys, values 0-99)

import { between, LETTERS, pick } from "./items.ts";
import { permutation } from "../../lib/rng.ts";
import { defineGeneratedTask, SKILL_SIZES } from "./generated.ts";

/** Look a key up in a table of 2-3 keys: `kv:a=3 b=71 c=1;b=` -> `71`. */
export const lookupTask = defineGeneratedTask({
  id: "lookup",
  version: "1",
  kind: "general",
  description: "look a key up in a table of 2-3 distinct keys with values 0-99",
  generator: "`kv:<k>=<v> ...;<k>=` with 2-3 distinct letter keys and values 0-99",
  sizes: SKILL_SIZES,
  draw(r) {
    const keys = permutation(26, r).slice(0, between(r, 2, 3)).map((k) => LETTERS[k]);
    const values = keys.map(() => between(r, 0, 99));
    const q = r.int(keys.length);
    const table = keys.map((k, i) => `${k}=${values[i]}`).join(" ");
    return { prompt: `kv:${table};${keys[q]}=`, answer: String(values[q]) };
  },
  // The queried key swapped for another key of the table with another value:
  // `kv:a=3 b=71 c=1;b=` -> `kv:a=3 b=71 c=1;c=` (answer 1).
  corrupt(item, r) {
    const [, table] = item.prompt.match(/^kv:(.*);[a-z]=$/)!;
    const options = table.split(" ").map((kv) => kv.split("="))
      .filter(([, v]) => v !== item.answer)
      .map(([k, v]) => ({ prompt: `kv:${table};${k}=`, answer: v }));
    return options.length === 0 ? null : pick(r, options);
  },
});
