// Runs forgetbench's CLI in a child process, as a user would, for the end-to-end tests.

const ROOT = new URL("..", import.meta.url);

/** Result of one CLI invocation. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run main.ts ...args` from the repository root, with the bench task's permissions unless given. */
export async function cli(
  args: string[],
  opts?: { env?: Record<string, string>; permissions?: readonly string[] },
): Promise<CliResult> {
  const permissions = opts?.permissions ??
    [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run",
    ];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "main.ts", ...args],
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

/** The permissions of the eval and score tasks in deno.json (ONNX Runtime is a native addon). */
export const TEXT_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
] as const;
