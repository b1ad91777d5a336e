// Runs untrusted, model-written Python 3 programs (HumanEval completions plus their tests) in a
// throwaway sandbox: no network, a private tmpfs as the only writable place, an unprivileged uid,
// its own pid namespace, and wall, CPU, memory, file-size and process limits. See docs/sandbox.md.

import { UsageError, ValidationError } from "../lib/errors.ts";

/** How a program ended: "passed" = exit code 0 within every limit. */
export type RunStatus = "passed" | "failed" | "timeout" | "error";

/** The outcome of one program. */
export interface RunResult {
  /**
   * "passed": exited 0 within the limits. "failed": any other exit (an exception, a failed
   * assert, a syntax error, a signal, the output limit). "timeout": the wall-time or CPU-time
   * limit ended it. "error": the sandbox itself could not run it (see `reason`).
   */
  readonly status: RunStatus;
  /** `status === "passed"`. */
  readonly passed: boolean;
  /** Exit status as a shell reports it (128 + n for signal n); null when it never ran. */
  readonly exitCode: number | null;
  /** The signal that ended the program ("SIGKILL", "SIGXCPU", ...), when one did. */
  readonly signal?: string;
  /** The last `maxOutputBytes` of standard output, decoded as UTF-8. */
  readonly stdout: string;
  /** The last `maxOutputBytes` of standard error (Python's traceback lands here). */
  readonly stderr: string;
  /** Wall time from start to exit, sandbox setup included, in milliseconds. */
  readonly wallMs: number;
  /** Why the program did not pass, in words, when the sandbox knows more than the exit code. */
  readonly reason?: string;
}

/** Limits for one program, and the sandbox to use; each has a default suited to HumanEval. */
export interface SandboxLimits {
  /** Wall-clock limit in ms; the whole sandbox (every process in it) is killed after it. 10 000. */
  readonly timeoutMs?: number;
  /** CPU seconds per process (RLIMIT_CPU; SIGXCPU at the limit, SIGKILL a second later). 10. */
  readonly cpuSeconds?: number;
  /** Address space per process in MiB (RLIMIT_AS; Python raises MemoryError). 1024. */
  readonly memoryMb?: number;
  /** Processes and threads the sandbox's uid may have at once (RLIMIT_NPROC). 64. */
  readonly maxProcesses?: number;
  /** Size of the private tmpfs mounted on /tmp, the working directory's home, in MiB. 64. */
  readonly diskMb?: number;
  /** Largest file a process may write, in MiB (RLIMIT_FSIZE; SIGXFSZ beyond it). 16. */
  readonly fileSizeMb?: number;
  /** Open file descriptors per process (RLIMIT_NOFILE). 256. */
  readonly maxOpenFiles?: number;
  /** Bytes kept from the end of stdout and of stderr each. 65 536. */
  readonly maxOutputBytes?: number;
  /** Total stdout + stderr bytes after which the program is killed and fails. 16 MiB. */
  readonly outputKillBytes?: number;
  /**
   * The Python 3 interpreter, an absolute path readable by an unprivileged user. Default: the
   * first of /usr/local/bin/python3, /usr/bin/python3, python3 on PATH that exists.
   */
  readonly python?: string;
  /** The sandbox to use; default: the first that works ({@link probeSandbox}). */
  readonly backend?: Backend;
}

/** Options for {@link runPrograms}: the limits of each program, plus the pool. */
export interface RunProgramsOptions extends SandboxLimits {
  /** Programs run at once. 2. */
  readonly concurrency?: number;
  /** Called as each program finishes (in completion order; `index` is its place in the input). */
  readonly onProgress?: (done: number, total: number, result: RunResult, index: number) => void;
}

/** Which sandbox runs programs on this machine, from {@link probeSandbox}. */
export interface SandboxInfo {
  /** "unshare": util-linux as root; "bwrap": bubblewrap in an unprivileged user namespace. */
  readonly backend: Backend;
  /** The interpreter's path, as the sandbox runs it. */
  readonly python: string;
  /** `sys.version` of that interpreter, first word ("3.11.2"). */
  readonly pythonVersion: string;
}

/** A way to build the sandbox; see docs/sandbox.md. */
export type Backend = "unshare" | "bwrap";

/** The defaults {@link runPython} uses for each limit left out. */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  timeoutMs: 10_000,
  cpuSeconds: 10,
  memoryMb: 1024,
  maxProcesses: 64,
  diskMb: 64,
  fileSizeMb: 16,
  maxOpenFiles: 256,
  maxOutputBytes: 64 * 1024,
  outputKillBytes: 16 * 1024 * 1024,
};

// The backup kill: the sandbox enforces the wall limit itself (coreutils timeout as its first
// process); this only fires if that failed or setup hung, so it leaves room for a slow start.
const KILL_GRACE_MS = 3_000;
// The program's working directory inside the sandbox, on the private tmpfs.
const WORKDIR = "/tmp/work";
// First words of the lines the sandbox's own tools print when they, not the program, fail.
const SANDBOX_ERROR = /^(forgetbench-sandbox|unshare|setpriv|prlimit|timeout|bwrap|mount): /;
// Exit status of the setup script when it fails (as coreutils timeout and env use 125).
const SETUP_FAILED = 125;

/**
 * Runs one Python 3 program, given as source text, in the sandbox and reports how it ended.
 * The program is passed on stdin and written to main.py on the sandbox's tmpfs, never put on a
 * command line; it runs as `python3 -I -B main.py` with stdin at /dev/null.
 *
 * Never rejects for anything the program does; rejects with a UsageError when no sandbox can run
 * on this machine (see {@link probeSandbox}) and a ValidationError for a bad limit.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const result = await runPython("assert sum([1, 2]) == 3\nprint('ok')", { timeoutMs: 5000 });
 * equal(result.status, "passed");
 * equal(result.stdout, "ok\n");
 * ```
 */
export async function runPython(program: string, opts: SandboxLimits = {}): Promise<RunResult> {
  const limits = resolveLimits(opts, "runPython options");
  const info = await probeSandbox({ python: opts.python, backend: opts.backend });
  return await runInBackend(program, info, limits);
}

/**
 * Runs many programs, `concurrency` at a time, and returns their results in input order.
 * Each program gets its own sandbox and uid, so one program's fork bomb cannot use up another's
 * process allowance. Rejects as {@link runPython} does, before running anything.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const results = await runPrograms(["pass", "raise SystemExit(3)"], { concurrency: 2 });
 * deepEqual(results.map((r) => r.status), ["passed", "failed"]);
 * ```
 */
export async function runPrograms(
  programs: readonly string[],
  opts: RunProgramsOptions = {},
): Promise<RunResult[]> {
  const limits = resolveLimits(opts, "runPrograms options");
  const concurrency = opts.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError(
      "runPrograms options",
      `concurrency must be a positive integer, got ${concurrency}`,
    );
  }
  const info = await probeSandbox({ python: opts.python, backend: opts.backend });
  const results: RunResult[] = new Array(programs.length);
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < programs.length) {
      const index = next++;
      const result = await runInBackend(programs[index], info, limits);
      results[index] = result;
      done++;
      opts.onProgress?.(done, programs.length, result, index);
    }
  }
  const workers = Math.min(concurrency, programs.length);
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return results;
}

// One probe per interpreter and backend choice: it runs a program, so it costs a sandbox start.
const probes = new Map<string, Promise<SandboxInfo>>();

/**
 * Finds the sandbox this machine can run and checks it end to end by running a small program in
 * it: as root, `unshare` (util-linux) first, then `bwrap`; as any other user, `bwrap` (bubblewrap,
 * which needs unprivileged user namespaces). `backend` tries only that one. The answer is cached.
 *
 * Rejects with a UsageError saying what to install when neither works; that is the message a
 * user sees from `--allow-code-execution` on a machine without a sandbox.
 *
 * @example
 * ```ts
 * const info = await probeSandbox();
 * console.log(`sandbox: ${info.backend}, Python ${info.pythonVersion}`);
 * ```
 */
export function probeSandbox(
  opts: { python?: string; backend?: Backend } = {},
): Promise<SandboxInfo> {
  let python: string;
  try {
    python = opts.python ?? defaultPython();
  } catch (error) {
    return Promise.reject(error);
  }
  const key = `${opts.backend ?? "auto"} ${python}`;
  let probe = probes.get(key);
  if (probe === undefined) {
    probe = findBackend(python, opts.backend);
    // A failure is not cached: the user may install bubblewrap and retry in the same process.
    probe.catch(() => probes.delete(key));
    probes.set(key, probe);
  }
  return probe;
}

async function findBackend(python: string, only: Backend | undefined): Promise<SandboxInfo> {
  if (!python.startsWith("/")) {
    throw new ValidationError("sandbox", `python must be an absolute path, got "${python}"`);
  }
  if (only !== undefined && only !== "unshare" && only !== "bwrap") {
    throw new ValidationError("sandbox", `backend must be "unshare" or "bwrap", got "${only}"`);
  }
  const backends: Backend[] = only !== undefined
    ? [only]
    : isRoot()
    ? ["unshare", "bwrap"]
    : ["bwrap"];
  const limits = { ...DEFAULT_LIMITS, timeoutMs: 20_000 };
  const why: string[] = [];
  for (const backend of backends) {
    const result = await runInBackend(
      "import os, sys\nprint(sys.version.split()[0], os.getuid())",
      { backend, python, pythonVersion: "" },
      limits,
    );
    const [version, uid] = result.stdout.trim().split(" ");
    if (result.passed && version !== undefined && uid !== undefined && uid !== "0") {
      return { backend, python, pythonVersion: version };
    }
    const detail = (result.reason ?? result.stderr.trim().split("\n").at(-1)) ||
      `status ${result.status}`;
    why.push(`${backend}: ${detail}`);
  }
  throw new UsageError(
    `cannot run model-written code: no sandbox works on this machine (${why.join("; ")}). ` +
      "As root, install util-linux (unshare, setpriv, prlimit, mount) and coreutils (timeout); " +
      "as another user, install bubblewrap (apt-get install bubblewrap) and allow unprivileged " +
      `user namespaces. The interpreter ${python} must be readable by an unprivileged user.`,
  );
}

/** Every limit filled in and checked. */
type Limits = Required<Omit<SandboxLimits, "python" | "backend">>;

function resolveLimits(opts: SandboxLimits, where: string): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = opts[key];
    if (value === undefined) continue;
    // Integers because each becomes a kernel limit or a size on a command line.
    if (!Number.isInteger(value) || value < 1) {
      throw new ValidationError(where, `${key} must be a positive integer, got ${value}`);
    }
    limits[key] = value;
  }
  return limits;
}

function defaultPython(): string {
  // System interpreters first: they live where an unprivileged uid can read them, unlike a
  // pyenv or conda install under /root that `python3` on PATH may point to.
  const candidates = ["/usr/local/bin/python3", "/usr/bin/python3"];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir.startsWith("/")) candidates.push(`${dir}/python3`);
  }
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there; try the next.
    }
  }
  throw new UsageError(
    "cannot run model-written code: no python3 found in /usr/local/bin, /usr/bin or PATH; " +
      "install Python 3 (apt-get install python3)",
  );
}

let root: boolean | undefined;

function isRoot(): boolean {
  // `id -u` rather than Deno.uid() (which needs --allow-sys) or /proc (which needs --allow-all).
  if (root === undefined) {
    try {
      const out = new Deno.Command("id", { args: ["-u"], stderr: "null" }).outputSync();
      root = new TextDecoder().decode(out.stdout).trim() === "0";
    } catch {
      root = false;
    }
  }
  return root;
}

// uids for sandboxed programs: a block picked at random per process so that concurrent harness
// processes rarely share one, plus a slot per running program. A uid of its own gives each program
// its own RLIMIT_NPROC count (the kernel counts processes per uid), and owns no host file.
const UID_BLOCK = 1_500_000_000 + 4096 * Math.floor(Math.random() * 20_000);
const uidSlots = new Set<number>();

function takeUidSlot(): number {
  let slot = 0;
  while (uidSlots.has(slot)) slot++;
  uidSlots.add(slot);
  return slot;
}

// Runs as root inside fresh net, pid, mount, ipc, uts and cgroup namespaces (unshare), so every
// mount below is private to the sandbox. Arguments: uid, the /tmp size and the small size (as
// "64m"), then the limited command. Read-only: each host mount the program can still reach (the
// new mounts hide the rest), so not even a root-owned escape could write the host disk. Writable:
// only fresh tmpfs instances. /sys is a fresh read-only sysfs (this network namespace's devices,
// no host cgroups); /dev holds only null, zero, full, random, urandom and shm. main.py stays
// root's, so the program cannot rewrite it. Few commands on purpose: each exec costs a few ms per
// program, so the tmpfs mounts go through one `mount -a` and the devices through one `cp -a`.
const UNSHARE_SETUP = String.raw`
set -u
fail() { echo "forgetbench-sandbox: $*" >&2; exit ${SETUP_FAILED}; }
uid=$1 disk=$2 small=$3
shift 3
seen=" "
while read -r _ _ _ _ mp _; do
  case $mp in *\\*) mp=$(printf '%b' "$mp") ;; esac
  case $mp in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|/tmp|/tmp/*|/var/tmp|/var/tmp/*|/run|/run/*)
    continue ;;
  esac
  case $seen in *" $mp "*) continue ;; esac
  seen="$seen$mp "
  mount -n -o remount,bind,ro "$mp" 2>/dev/null || [ "$mp" != / ] || fail "cannot make / read-only"
done < /proc/self/mountinfo
mount -n -t tmpfs -o size=1m,nr_inodes=64,mode=755,nosuid,nodev sandbox /run ||
  fail "cannot mount a tmpfs on /run"
{
  scratch="size=$small,nr_inodes=1024,mode=1777,nosuid,nodev"
  echo "sandbox /sys sysfs ro,nosuid,nodev,noexec 0 0"
  echo "sandbox /tmp tmpfs size=$disk,nr_inodes=16384,mode=1777,nosuid,nodev 0 0"
  [ ! -d /var/tmp ] || echo "sandbox /var/tmp tmpfs $scratch 0 0"
  echo "sandbox /dev tmpfs size=1m,nr_inodes=64,mode=755,nosuid,noexec 0 0"
  echo "sandbox /dev/shm tmpfs $scratch,X-mount.mkdir 0 0"
} > /run/sandbox.fstab
# The working directory keeps the host's /dev reachable after the tmpfs hides it, for cp.
cd /dev && mount -n -a -T /run/sandbox.fstab || fail "cannot mount the sandbox's file systems"
cp -a null zero full random urandom /dev/ && ln -s /proc/self/fd /dev/fd || fail "cannot fill /dev"
install -d -m 700 -o "$uid" -g "$uid" ${WORKDIR} && cat > ${WORKDIR}/main.py && cd ${WORKDIR} ||
  fail "cannot write the program to ${WORKDIR}"
unset OLDPWD
exec "$@" < /dev/null
`;

// Runs inside bubblewrap, which has already built the namespaces, the read-only root, the tmpfs
// mounts, the uid and dropped every capability; this only stores the program and starts it.
const BWRAP_SETUP = String.raw`
cat > main.py || { echo "forgetbench-sandbox: cannot write the program" >&2; exit ${SETUP_FAILED}; }
exec "$@" < /dev/null
`;

async function runInBackend(
  program: string,
  info: SandboxInfo,
  limits: Limits,
): Promise<RunResult> {
  const slot = takeUidSlot();
  try {
    const uid = UID_BLOCK + slot;
    const { command, args } = info.backend === "unshare"
      ? unshareCommand(info.python, limits, uid)
      // bwrap started by root keeps root's uid outside its user namespace, which RLIMIT_NPROC
      // exempts and file permissions favour, so root starts it as a uid of its own.
      : bwrapCommand(info.python, limits, isRoot() ? uid : undefined);
    return await supervise(command, { args, program, limits });
  } finally {
    uidSlots.delete(slot);
  }
}

/**
 * The limited program as the sandbox's first process runs it: coreutils timeout, then `dropTo`
 * (the command that gives up root, if any), then prlimit, then python.
 */
function limitedPython(python: string, limits: Limits, dropTo: string[] = []): string[] {
  const mib = 1024 * 1024;
  return [
    // timeout stays the sandbox's first process and, under unshare, root: it keeps the parent-
    // death signal that --kill-child set (a uid change would clear it), and the program cannot
    // signal it. --foreground: it signals only its child, so it never kills itself; when it
    // exits the pid namespace ends and the kernel kills whatever the program left behind.
    "timeout",
    "--foreground",
    "--signal=KILL",
    `${(limits.timeoutMs / 1000).toFixed(3)}s`,
    ...dropTo,
    "prlimit",
    `--as=${limits.memoryMb * mib}`,
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--fsize=${limits.fileSizeMb * mib}`,
    `--nproc=${limits.maxProcesses}`,
    `--nofile=${limits.maxOpenFiles}`,
    "--core=0",
    "--",
    python,
    // -I: ignore PYTHON* variables, the user's site-packages and the script's directory on
    // sys.path; -B: write no .pyc files.
    "-I",
    "-B",
    "main.py",
  ];
}

function unshareCommand(python: string, limits: Limits, uid: number) {
  const small = Math.min(limits.diskMb, 16);
  return {
    command: "unshare",
    args: [
      "--net",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount",
      "--mount-proc",
      "--propagation=private",
      "--ipc",
      "--uts",
      "--cgroup",
      "--",
      "/bin/sh",
      "-c",
      UNSHARE_SETUP,
      "forgetbench-sandbox",
      String(uid),
      `${limits.diskMb}m`,
      `${small}m`,
      // An unprivileged uid of its own, no supplementary groups, no capabilities now or through
      // exec, no set-uid gains: as root the program could write anything writable.
      ...limitedPython(python, limits, dropPrivileges(uid)),
    ],
  };
}

function dropPrivileges(uid: number): string[] {
  return [
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${uid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
  ];
}

function bwrapCommand(python: string, limits: Limits, dropTo: number | undefined) {
  const mib = 1024 * 1024;
  const small = Math.min(limits.diskMb, 16);
  // bubblewrap before 0.8 has no --size; its tmpfs is then bounded only by RLIMIT_FSIZE per file.
  const size = (mb: number) => bwrapHasSize() ? ["--size", String(mb * mib)] : [];
  const bwrap = dropTo === undefined ? ["bwrap"] : [...dropPrivileges(dropTo), "bwrap"];
  return {
    command: bwrap[0],
    args: [
      ...bwrap.slice(1),
      "--unshare-user",
      "--unshare-pid",
      "--unshare-net",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-cgroup-try",
      "--uid",
      "65534",
      "--gid",
      "65534",
      "--cap-drop",
      "ALL",
      "--new-session",
      "--die-with-parent",
      // No bubblewrap init: timeout becomes the first process, out of the program's reach as
      // under unshare, and bwrap reports the exit only once the namespace's processes are gone.
      "--as-pid-1",
      "--ro-bind",
      "/",
      "/",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      ...size(limits.diskMb),
      "--tmpfs",
      "/tmp",
      ...size(small),
      "--tmpfs",
      "/var/tmp",
      ...size(1),
      "--tmpfs",
      "/run",
      ...size(small),
      "--tmpfs",
      "/dev/shm",
      "--dir",
      WORKDIR,
      "--chdir",
      WORKDIR,
      "--",
      "/bin/sh",
      "-c",
      BWRAP_SETUP,
      "forgetbench-sandbox",
      ...limitedPython(python, limits),
    ],
  };
}

let bwrapSize: boolean | undefined;

function bwrapHasSize(): boolean {
  if (bwrapSize === undefined) {
    try {
      const out = new Deno.Command("bwrap", { args: ["--version"], stderr: "null" }).outputSync();
      const match = /(\d+)\.(\d+)/.exec(new TextDecoder().decode(out.stdout));
      bwrapSize = match !== null &&
        (Number(match[1]) > 0 || Number(match[2]) >= 8);
    } catch {
      bwrapSize = false;
    }
  }
  return bwrapSize;
}

/** Spawns the sandbox, feeds it the program, keeps its output's tails, classifies the end. */
async function supervise(
  command: string,
  opts: { args: string[]; program: string; limits: Limits },
): Promise<RunResult> {
  const { limits } = opts;
  const started = performance.now();
  const wallMs = () => Math.round(performance.now() - started);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: opts.args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      cwd: "/",
      // Nothing of the harness's environment (tokens, keys) reaches the program.
      clearEnv: true,
      env: {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        HOME: WORKDIR,
        TMPDIR: "/tmp",
        LANG: "C.UTF-8",
      },
    }).spawn();
  } catch (error) {
    return {
      status: "error",
      passed: false,
      exitCode: null,
      stdout: "",
      stderr: "",
      wallMs: wallMs(),
      reason: `cannot start ${command}: ${(error as Error).message}`,
    };
  }
  let killedFor: "wall time" | "output" | undefined;
  const kill = (why: "wall time" | "output") => {
    if (killedFor !== undefined) return;
    killedFor = why;
    try {
      // Killing unshare or bwrap kills the sandbox's first process (parent-death signal), and
      // with it the whole pid namespace.
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => kill("wall time"), limits.timeoutMs + KILL_GRACE_MS);
  let outputBytes = 0;
  const onBytes = (n: number) => {
    outputBytes += n;
    if (outputBytes > limits.outputKillBytes) kill("output");
  };
  const stdout = readTail(child.stdout, limits.maxOutputBytes, onBytes);
  const stderr = readTail(child.stderr, limits.maxOutputBytes, onBytes);
  await writeProgram(child.stdin, opts.program);
  const status = await child.status;
  clearTimeout(timer);
  const [out, err] = await Promise.all([stdout, stderr]);
  return classify({
    code: status.code,
    signal: status.signal ?? signalOf(status.code),
    stdout: out,
    stderr: err,
    wallMs: wallMs(),
    killedFor,
    limits,
  });
}

async function writeProgram(stdin: WritableStream<Uint8Array>, program: string): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(program));
    await writer.close();
  } catch {
    // The sandbox died before reading it all (a setup failure); its exit status says why.
  }
}

/** Drains a stream to the end, keeping only its last `cap` bytes, so output cannot fill memory. */
async function readTail(
  stream: ReadableStream<Uint8Array>,
  cap: number,
  onBytes: (n: number) => void,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let dropped = 0;
  for await (const chunk of stream) {
    onBytes(chunk.length);
    chunks.push(chunk);
    kept += chunk.length;
    while (kept - chunks[0].length >= cap) {
      kept -= chunks[0].length;
      dropped += chunks.shift()!.length;
    }
  }
  let bytes = new Uint8Array(kept);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  if (kept > cap) {
    dropped += kept - cap;
    bytes = bytes.subarray(kept - cap);
  }
  const text = new TextDecoder().decode(bytes);
  return dropped > 0 ? `[... ${dropped} earlier bytes dropped ...]\n${text}` : text;
}

const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  24: "SIGXCPU",
  25: "SIGXFSZ",
  31: "SIGSYS",
};

/** The signal behind a shell-style exit status 128 + n (the sandbox's first process reports so). */
function signalOf(code: number): string | undefined {
  return code > 128 ? SIGNALS[code - 128] : undefined;
}

function classify(end: {
  code: number;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  wallMs: number;
  killedFor: "wall time" | "output" | undefined;
  limits: Limits;
}): RunResult {
  const { code, signal, stdout, stderr, wallMs, killedFor, limits } = end;
  const base = { exitCode: code, stdout, stderr, wallMs, ...(signal ? { signal } : {}) };
  const seconds = limits.timeoutMs / 1000;
  if (killedFor === "output") {
    return {
      ...base,
      status: "failed",
      passed: false,
      reason: `printed more than ${limits.outputKillBytes} bytes`,
    };
  }
  // coreutils timeout kills with SIGKILL, so a timed-out program reports 137 (124 if it died
  // some other way first); the wall check keeps an early SIGKILL or sys.exit(124) a failure.
  const timedOut = (code === 124 || code === 137) && wallMs >= limits.timeoutMs;
  if (killedFor === "wall time" || timedOut) {
    return { ...base, status: "timeout", passed: false, reason: `wall time limit (${seconds} s)` };
  }
  if (signal === "SIGXCPU") {
    return {
      ...base,
      status: "timeout",
      passed: false,
      reason: `CPU time limit (${limits.cpuSeconds} s)`,
    };
  }
  if (code !== 0 && SANDBOX_ERROR.test(stderr)) {
    return {
      ...base,
      status: "error",
      passed: false,
      reason: stderr.trim().split("\n")[0],
    };
  }
  if (code === 0) return { ...base, status: "passed", passed: true };
  return {
    ...base,
    status: "failed",
    passed: false,
    ...(signal === "SIGXFSZ" ? { reason: `file size limit (${limits.fileSizeMb} MiB)` } : {}),
  };
}
