// manifest.json: everything needed to know what produced a result folder: the resolved recipe,
// seeds, data checksums, package versions, engine and device, the git commit and whether the
// tree was dirty, and the sha256 of every result file written beside it.

import { sha256Hex } from "../lib/hash.ts";
import type { Recipe } from "./recipe.ts";

/** Runs git; null where git is missing, not permitted, or fails. */
export async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // git not installed or not permitted
  }
}

/** Exact versions of the npm packages the project pins in deno.json. */
export async function packageVersions(): Promise<Record<string, string>> {
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return Object.fromEntries(
    Object.values(cfg.imports as Record<string, string>)
      .map((spec) => spec.match(/^npm:\/?(@?[^@]+)@([^/]+)/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

/** Builds the manifest for a finished run. */
export async function buildManifest(m: {
  recipe: Recipe;
  recipeFile: string;
  device: string;
  engine: string;
  checksums: Readonly<Record<string, string>>;
  base: Record<string, unknown>;
  files: Readonly<Record<string, string>>;
  started: Date;
}) {
  const outputs: Record<string, string> = {};
  for (const [name, text] of Object.entries(m.files)) {
    outputs[name] = await sha256Hex(new TextEncoder().encode(text));
  }
  const { forgetbench, ...made } = await provenance();
  return {
    forgetbench,
    recipe: m.recipe,
    recipe_file: m.recipeFile,
    seeds: { data: m.recipe.dataSeed, base: m.recipe.base.seed, finetune: m.recipe.finetune.seeds },
    device: m.device,
    engine: m.engine,
    ...made,
    data_checksums: m.checksums,
    base_model: m.base,
    started: m.started.toISOString(),
    finished: new Date().toISOString(),
    outputs_sha256: outputs,
  };
}

/** What produced a result folder, whatever the command: runtime, package pins, git state. */
export async function provenance() {
  const commit = await git(["rev-parse", "HEAD"]);
  const status = commit === null ? null : await git(["status", "--porcelain"]);
  return {
    forgetbench: "0.1.0",
    runtime: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      os: Deno.build.os,
      arch: Deno.build.arch,
    },
    packages: await packageVersions(),
    git: { commit, dirty: status === null ? null : status.length > 0 },
  };
}
