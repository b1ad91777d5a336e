// The recipe registry (`bench <name>`), plus loading a recipe from a file path
// (`bench ./my_recipe.ts`), for experiments outside the repository.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../../lib/errors.ts";
import { type Recipe, type ResolvedRecipe, validateRecipe } from "../recipe.ts";
import { recipe as circuits } from "./circuits.ts";
import { fullRecipe as lmFull, recipe as lm } from "./lm.ts";
import { recipe as lmPanel } from "./lm_panel.ts";
import { recipe as parityMnist } from "./parity_mnist.ts";
import {
  loraRecipe as razorLlmLora,
  recipe as razorLlm,
  tinyRecipe as razorLlmTiny,
} from "./razor_llm.ts";
import { recipe as smoke } from "./smoke.ts";

/** Registered recipes, by name; `parity_mnist` is the default of `deno task bench`. */
export const RECIPES: Readonly<Record<string, { recipe: Recipe; file: string }>> = {
  parity_mnist: { recipe: parityMnist, file: "runs/recipes/parity_mnist.ts" },
  smoke: { recipe: smoke, file: "runs/recipes/smoke.ts" },
  lm: { recipe: lm, file: "runs/recipes/lm.ts" },
  lm_full: { recipe: lmFull, file: "runs/recipes/lm.ts" },
  lm_panel: { recipe: lmPanel, file: "runs/recipes/lm_panel.ts" },
  circuits: { recipe: circuits, file: "runs/recipes/circuits.ts" },
  razor_llm: { recipe: razorLlm, file: "runs/recipes/razor_llm.ts" },
  razor_llm_lora: { recipe: razorLlmLora, file: "runs/recipes/razor_llm.ts" },
  razor_llm_tiny: { recipe: razorLlmTiny, file: "runs/recipes/razor_llm.ts" },
};

/** A recipe loaded and validated, with the file it came from. */
export interface LoadedRecipe {
  readonly recipe: ResolvedRecipe;
  readonly file: string;
}

/** Resolves a recipe name or a path to a .ts file exporting `recipe`; validates it. */
export async function loadRecipe(nameOrPath: string): Promise<LoadedRecipe> {
  const known = RECIPES[nameOrPath];
  if (known) return { recipe: validateRecipe(known.recipe, known.file), file: known.file };
  if (!nameOrPath.endsWith(".ts") && !nameOrPath.endsWith(".js")) {
    throw new UsageError(
      `unknown recipe '${nameOrPath}'; known recipes: ${
        Object.keys(RECIPES).join(", ")
      } (or give a path to a .ts file)`,
    );
  }
  let mod: { recipe?: unknown };
  const url = pathToFileURL(resolve(nameOrPath)).href;
  try {
    mod = await import(url);
  } catch (e) {
    // Where in the file it failed (a syntax error's or a throw's line and column), when known.
    const err = e instanceof Error ? e : new Error(String(e));
    const at = `${err.message}\n${err.stack ?? ""}`.match(
      new RegExp(`${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)`),
    );
    throw new UsageError(
      `recipe file ${nameOrPath}${at ? `:${at[1]}:${at[2]}` : ""}: cannot load it (${
        err.message.split("\n")[0]
      })`,
    );
  }
  return { recipe: validateRecipe(mod.recipe, nameOrPath), file: nameOrPath };
}
