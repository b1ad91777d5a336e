// manifest.json: everything needed to know what produced a result folder: the resolved recipe,
// seeds, data checksums, package versions, engine and device, the git commit and whether the
// tree was dirty, and the sha256 of every result file written beside it.

/** The version of forgetbench that wrote a result (records, manifests). */
export const FORGETBENCH_VERSION = "0.2.0";

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
async function packageVersions(): Promise<Record<string, string>> {
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return Object.fromEntries(
    Object.values(cfg.imports as Record<string, string>)
      .map((spec) => spec.match(/^npm:\/?(@?[^@]+)@([^/]+)/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

/**
 * The one manifest shape of every command (bench, eval, score): what ran (command, recipe or model
 * and tasks, options), on what (device, engine), from which inputs (every data file with its
 * sha256 and source, the base model), with what code (versions, git commit and dirty flag), when,
 * and the sha256 of every output file beside it.
 */
export async function buildManifest(m: {
  command: "bench" | "eval" | "score";
  /** The resolved recipe (bench) or the model and tasks (eval, score). */
  what: Record<string, unknown>;
  options: Record<string, unknown>;
  dataFiles: readonly unknown[];
  base?: Record<string, unknown>;
  outputs: Readonly<Record<string, string>>;
  started: Date;
}) {
  const { forgetbench, ...made } = await provenance();
  return {
    forgetbench,
    command: m.command,
    ...m.what,
    options: m.options,
    ...made,
    data_files: m.dataFiles,
    ...(m.base ? { base_model: m.base } : {}),
    started: m.started.toISOString(),
    finished: new Date().toISOString(),
    outputs_sha256: m.outputs,
  };
}

/** What produced a result folder, whatever the command: runtime, package pins, git state. */
export async function provenance() {
  const commit = await git(["rev-parse", "HEAD"]);
  const status = commit === null ? null : await git(["status", "--porcelain"]);
  return {
    forgetbench: FORGETBENCH_VERSION,
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
