// Runs forgetbench's CLI in a child process, as a user would, for the end-to-end tests.

const ROOT = new URL("..", import.meta.url);

/** Result of one CLI invocation. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run main.ts ...args` from the repository root, with the bench task's permissions. */
export async function cli(
  args: string[],
  opts?: { env?: Record<string, string> },
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run=git",
      "main.ts",
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...opts?.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
