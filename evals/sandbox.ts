// Runs untrusted, model-written Python 3 programs (HumanEval completions plus their tests) in a
// throwaway sandbox: no network, a private tmpfs as the only writable place, an unprivileged uid,
// its own pid namespace, and wall, CPU, memory, file-size and process limits. A program passes only
// when it ran to its end, which a trusted runner proves with a per-run secret token; its exit
// status proves nothing. See docs/sandbox.md.

import { UsageError, ValidationError } from "../lib/errors.ts";

/** How a program ended: "passed" = it ran to its end (the runner's proof was seen). */
export type RunStatus = "passed" | "failed" | "timeout" | "error";

/** The outcome of one program. */
export interface RunResult {
  /**
   * "passed": the program's top level ran to its end without an exception, which the sandbox's
   * runner proves by printing a secret token the program cannot know (docs/sandbox.md); the exit
   * status alone never makes a pass. "failed": anything else (an exception, a failed assert, a
   * syntax error, an early `sys.exit(0)` or `os._exit(0)`, a signal, the output limit).
   * "timeout": the wall-time or CPU-time limit ended it first. "error": the sandbox itself could
   * not start the program (see `reason`).
   */
  readonly status: RunStatus;
  /** `status === "passed"`. */
  readonly passed: boolean;
  /** Exit status as a shell reports it (128 + n for signal n); null when it never ran. */
  readonly exitCode: number | null;
  /** The signal that ended the program ("SIGKILL", "SIGXCPU", ...), when one did. */
  readonly signal?: string;
  /** The last `maxOutputBytes` of standard output, decoded as UTF-8, the runner's tokens removed. */
  readonly stdout: string;
  /** The last `maxOutputBytes` of standard error (Python's traceback lands here). */
  readonly stderr: string;
  /** Wall time from start to exit, sandbox setup included, in milliseconds. */
  readonly wallMs: number;
  /** Why the program did not pass, in words; set for every status but "passed". */
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

// The trusted runner, run as `python3 -I -B -c RUNNER` (docs/sandbox.md, "The proof"): it reads
// the job from stdin, arms an audit hook that keeps the program away from the proof token, runs
// the program in a thread of its own and prints the token only if the program's top level
// returned normally. Python, not TypeScript, because it must run inside the sandbox.
const RUNNER = String.raw`import os, sys


def forgetbench_runner():
    # The job, on stdin: "<start marker> <proof token>\n" then the program's source. The token
    # is nowhere else: not on a command line, in the environment or in a file.
    _exit, write = os._exit, os.write
    if sys.version_info < (3, 8):
        write(2, b"forgetbench-sandbox: the runner needs Python 3.8 or newer (audit hooks)\n")
        _exit(125)
    import _thread, builtins, gc, types

    try:
        chunks = []
        while True:
            chunk = os.read(0, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        head, _, source = b"".join(chunks).partition(b"\n")
        del chunks
        started, proof = head.split(b" ")
        del head
        # stdin becomes /dev/null: the program never sees the pipe the token came through.
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        out = os.dup(1)  # the runner's own copy of stdout, for the proof
    except Exception as error:
        write(2, f"forgetbench-sandbox: the runner cannot read its job: {error}\n".encode())
        _exit(125)
    write(out, started)  # from here on, whatever happens is the program's doing
    del started

    try:
        with open("main.py", "wb") as file:  # for the source lines of tracebacks only
            file.write(source)
    except OSError:
        pass
    main = types.ModuleType("__main__")
    main.__file__ = "main.py"
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.argv[:] = ["main.py"]
    # Loaded now from the interpreter's .pyc files; modules imported later compile from source,
    # since the hook refuses to unmarshal code (a crafted .pyc can read any memory).
    import resource, threading, typing  # noqa: F401

    try:  # OpenSSL reads its configuration once, now: later, OPENSSL_CONF could load an engine
        import _hashlib  # noqa: F401
    except ImportError:
        pass

    stack = resource.getrlimit(resource.RLIMIT_STACK)[0]  # the program's thread gets as much

    sys.pycache_prefix = "/dev/null/pycache"
    # subprocess (which asyncio imports) needs _posixsubprocess, whose fork_exec raises no audit
    # event: it is replaced, and importing the module afresh is refused below.
    import _posixsubprocess

    denied = {}
    exec("def fork_exec(*args):\n    raise RuntimeError('the sandbox runs no programs')", denied)
    _posixsubprocess.fork_exec = denied["fork_exec"]

    # The audit hook (PEP 578), which nothing can remove. The program gets no frame (a frame
    # leads to the runner's locals, where the token is, and to the tests' globals), no view of
    # the garbage collector, no tracing, no new code objects, no native code, no new processes,
    # no symlinks, no chdir and nothing under /proc. Refused events raise; sys._getframe raises
    # ValueError, which namedtuple, enum, typing and logging take for "no frame here".
    realpath = os.path.realpath
    # Native modules load from the standard library's lib-dynload only: third-party ones (numpy's
    # __array_interface__, cffi) can read any address.
    library = realpath(os.path.join(os.path.dirname(os.__file__), "lib-dynload")) + "/"
    denied_modules = frozenset((
        "ctypes", "_ctypes", "_ctypes_test", "_posixsubprocess", "_testcapi",
        "_testinternalcapi", "_testbuffer", "_testmultiphase", "_testsinglephase", "_testclinic",
        "_testimportmultiple", "_xxtestfuzz", "_xxsubinterpreters", "_xxinterpchannels",
        "_interpreters", "_interpchannels", "_interpqueues", "_remote_debugging", "_tkinter",
    ) + (("_sqlite3",) if sys.version_info < (3, 10) else ()))
    denied_events = frozenset((
        "sys._current_frames", "sys._current_exceptions", "gc.get_objects", "gc.get_referrers",
        "gc.get_referents", "sys.settrace", "sys.setprofile", "sys._settraceallthreads",
        "sys._setprofileallthreads", "sys.monitoring.register_callback", "sys.addaudithook",
        "sys.remote_exec", "marshal.load", "marshal.loads", "os.fork", "os.forkpty", "os.exec",
        "os.posix_spawn", "os.spawn", "os.system", "os.startfile", "subprocess.Popen",
        "pty.spawn", "os.symlink", "os.chdir", "sqlite3.enable_load_extension",
        "sqlite3.load_extension",
    ))
    frame_attributes = frozenset(("tb_frame", "gi_frame", "cr_frame", "ag_frame"))
    get_ident, getframe = _thread.get_ident, sys._getframe
    # The one code object the standard library makes at run time: types.coroutine sets a flag on
    # a compiled function's code (asyncio needs it). Allowed from that function only, by identity.
    coroutine_code = types.coroutine.__code__
    looking = set()  # threads in which the hook itself looks at its caller's frame

    def policy(event, args):
        if event == "code.__new__":
            ident = get_ident()
            looking.add(ident)
            try:
                caller = getframe(1).f_code
            finally:
                looking.discard(ident)
            if caller is not coroutine_code:
                raise RuntimeError("the sandbox does not allow code.__new__")
        elif event in denied_events or event[:7] == "ctypes.":
            raise RuntimeError(f"the sandbox does not allow {event}")
        elif event == "object.__getattr__":
            if args[1] in frame_attributes:
                raise RuntimeError(f"the sandbox gives out no frames ({args[1]})")
        elif event == "sys._getframe":
            if get_ident() not in looking:
                raise ValueError("the sandbox gives out no frames (sys._getframe)")
        elif event == "import":
            if args[0].partition(".")[0] in denied_modules:
                raise ImportError(f"the sandbox does not allow importing {args[0]}")
            if args[1] is not None and not realpath(args[1]).startswith(library):
                raise ImportError(f"the sandbox loads native modules only from {library}: {args[1]}")
        elif event == "open":
            path = args[0]
            if not isinstance(path, int):
                if not isinstance(path, (str, bytes)):
                    raise PermissionError("the sandbox opens only str, bytes or fd paths")
                path = os.fsdecode(path)
                parts = path.split("/")
                resolved = realpath(path)
                if "proc" in parts or (path[:1] != "/" and ".." in parts) or (
                    resolved == "/proc" or resolved[:6] == "/proc/"
                ):
                    raise PermissionError(f"the sandbox does not allow opening {path}")

    gc.collect()  # no garbage of the runner's left for gc.DEBUG_SAVEALL to keep
    sys.addaudithook(policy)
    del policy

    # The program runs in a thread of its own. Only the main thread may set signal handlers
    # (which are handed frames), and it runs nothing of the program.
    _thread.stack_size(stack if 0 < stack <= 64 << 20 else 8 << 20)
    flushes = [(type(stream).flush, stream) for stream in (sys.__stdout__, sys.__stderr__)]
    excepthook = sys.__excepthook__

    def run(source=source, namespace=main.__dict__):
        status = 1
        try:
            exec(compile(source, "main.py", "exec", dont_inherit=True), namespace)
            # The program's top level returned: its output, then the proof, which nothing else
            # writes.
            for flush, stream in flushes:
                try:
                    flush(stream)
                except BaseException:
                    pass
            write(out, proof)
            status = 0
        except SystemExit as exit:
            # Python's own exit status for it, and no proof, whatever the status.
            code = exit.code
            status = 0 if code is None else code if isinstance(code, int) else 1
            if status == 1 and not isinstance(code, int):
                print(code, file=sys.stderr)
        except BaseException as error:
            traceback = error.__traceback__.tb_next  # without this function's frame
            BaseException.with_traceback(error, traceback)
            excepthook(type(error), error, traceback)
        finally:
            for flush, stream in flushes:
                try:
                    flush(stream)
                except BaseException:
                    pass
            try:
                status = int(status) & 0xFF
            except BaseException:
                status = 1
            _exit(status)

    del source, main
    lock = _thread.allocate_lock()
    lock.acquire()
    try:
        _thread.start_new_thread(run, ())
        lock.acquire()  # forever: run() ends the process
    finally:
        _exit(1)  # a signal (SIGINT) reached the main thread first


forgetbench_runner()
`;

/**
 * Runs one Python 3 program, given as source text, in the sandbox and reports how it ended.
 * The program and the run's tokens go in on stdin, never on a command line, in the environment
 * or in a file; a trusted runner (`python3 -I -B -c RUNNER`) reads them, sets stdin to /dev/null,
 * arms an audit hook and runs the program as `__main__` (file name main.py) in a thread of its
 * own. It passes only if its top level returns normally (docs/sandbox.md, "The proof").
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
// only fresh tmpfs instances, all noexec. /sys is a fresh read-only sysfs (this network
// namespace's devices, no host cgroups); /dev holds only null, zero, full, random, urandom and shm;
// /proc is an empty read-only tmpfs, last, once the setup no longer reads it: the program cannot
// read its own memory (/proc/self/mem), where the runner keeps the proof token. stdin, the job,
// passes through untouched to the runner. Few commands on purpose: each exec costs a few ms per
// program, so the mounts go through one `mount -a` and the devices through one `cp -a`.
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
mount -n -t tmpfs -o size=1m,nr_inodes=64,mode=755,nosuid,nodev,noexec sandbox /run ||
  fail "cannot mount a tmpfs on /run"
{
  scratch="size=$small,nr_inodes=1024,mode=1777,nosuid,nodev,noexec"
  echo "sandbox /sys sysfs ro,nosuid,nodev,noexec 0 0"
  echo "sandbox /tmp tmpfs size=$disk,nr_inodes=16384,mode=1777,nosuid,nodev,noexec 0 0"
  [ ! -d /var/tmp ] || echo "sandbox /var/tmp tmpfs $scratch 0 0"
  echo "sandbox /dev tmpfs size=1m,nr_inodes=64,mode=755,nosuid,noexec 0 0"
  echo "sandbox /dev/shm tmpfs $scratch,X-mount.mkdir 0 0"
  echo "sandbox /proc tmpfs ro,size=4k,nr_inodes=4,mode=555,nosuid,nodev,noexec 0 0"
} > /run/sandbox.fstab
# The working directory keeps the host's /dev reachable after the tmpfs hides it, for cp.
cd /dev && mount -n -a -T /run/sandbox.fstab || fail "cannot mount the sandbox's file systems"
cp -a null zero full random urandom /dev/ || fail "cannot fill /dev"
install -d -m 700 -o "$uid" -g "$uid" ${WORKDIR} && cd ${WORKDIR} ||
  fail "cannot make the working directory ${WORKDIR}"
unset OLDPWD
exec "$@"
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
    // -I: ignore PYTHON* variables and the user's site-packages, no script directory on sys.path;
    // -B: write no .pyc files. The runner reads the job from stdin.
    "-I",
    "-B",
    "-c",
    RUNNER,
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
      // No procfs: an empty read-only tmpfs hides the host's, so the program cannot read its own
      // memory (/proc/self/mem), where the runner keeps the proof token.
      "--tmpfs",
      "/proc",
      "--remount-ro",
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
  // Fresh per program, from the system's CSPRNG: the runner prints `marker` once it has read the
  // job, and `proof` only after the program's top level returned (docs/sandbox.md, "The proof").
  const marker = randomHex(16);
  const proof = randomHex(32);
  const watch = new TokenWatch([marker, proof]);
  const stdout = readTail(child.stdout, limits.maxOutputBytes, onBytes, watch);
  const stderr = readTail(child.stderr, limits.maxOutputBytes, onBytes);
  await writeJob(child.stdin, `${marker} ${proof}\n`, opts.program);
  const status = await child.status;
  clearTimeout(timer);
  const [out, err] = await Promise.all([stdout, stderr]);
  return classify({
    code: status.code,
    signal: status.signal ?? signalOf(status.code),
    stdout: out.replaceAll(marker, "").replaceAll(proof, ""),
    stderr: err,
    wallMs: wallMs(),
    killedFor,
    limits,
    started: watch.seen(marker),
    proved: watch.seen(proof),
  });
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Sends the runner its job: the line with the tokens, then the program. */
async function writeJob(
  stdin: WritableStream<Uint8Array>,
  tokens: string,
  program: string,
): Promise<void> {
  const writer = stdin.getWriter();
  try {
    const encoder = new TextEncoder();
    await writer.write(encoder.encode(tokens));
    await writer.write(encoder.encode(program));
    await writer.close();
  } catch {
    // The sandbox died before reading it all (a setup failure); its exit status says why.
  }
}

/**
 * Watches a byte stream for ASCII tokens wherever they occur, across chunk boundaries, and over
 * all of it (not only the tail that is kept).
 */
class TokenWatch {
  readonly #tokens: readonly string[];
  readonly #found = new Set<string>();
  // The end of the stream so far (as many bytes as the longest token but one), as Latin-1, which
  // maps each byte to one character and ASCII to itself.
  #carry = "";
  readonly #keep: number;
  readonly #decoder = new TextDecoder("latin1");

  constructor(tokens: readonly string[]) {
    this.#tokens = tokens;
    this.#keep = Math.max(...tokens.map((t) => t.length)) - 1;
  }

  scan(chunk: Uint8Array): void {
    const text = this.#carry + this.#decoder.decode(chunk);
    for (const token of this.#tokens) {
      if (!this.#found.has(token) && text.includes(token)) this.#found.add(token);
    }
    this.#carry = text.slice(-this.#keep);
  }

  seen(token: string): boolean {
    return this.#found.has(token);
  }
}

/** Drains a stream to the end, keeping only its last `cap` bytes, so output cannot fill memory. */
async function readTail(
  stream: ReadableStream<Uint8Array>,
  cap: number,
  onBytes: (n: number) => void,
  watch?: TokenWatch,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let dropped = 0;
  for await (const chunk of stream) {
    onBytes(chunk.length);
    watch?.scan(chunk);
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
  /** The runner's start marker was seen: the sandbox worked and the runner read the job. */
  started: boolean;
  /** The proof token was seen: the program's top level ran to its end. */
  proved: boolean;
}): RunResult {
  const { code, signal, stdout, stderr, wallMs, killedFor, limits } = end;
  const base = { exitCode: code, stdout, stderr, wallMs, ...(signal ? { signal } : {}) };
  const seconds = limits.timeoutMs / 1000;
  const failed = (reason: string): RunResult => ({
    ...base,
    status: "failed",
    passed: false,
    reason,
  });
  if (killedFor === "output") return failed(`printed more than ${limits.outputKillBytes} bytes`);
  // The proof, and nothing else, makes a pass: whatever ended the process after it (the runner
  // exits at once, so at most a thread of the program racing it) came after the program's end.
  if (end.proved) return { ...base, status: "passed", passed: true };
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
  const lastLine = stderr.trim().split("\n").at(-1)?.slice(0, 300) ?? "";
  if (!end.started) {
    // The runner never read the job: the sandbox (or the interpreter) failed, not the program.
    const first = stderr.trim().split("\n")[0];
    return {
      ...base,
      status: "error",
      passed: false,
      reason: SANDBOX_ERROR.test(stderr)
        ? first
        : `the sandbox did not start the program (exit status ${code}${
          lastLine ? `: ${lastLine}` : ""
        })`,
    };
  }
  const why = "the program did not run to its end (no proof of completion)";
  if (signal === "SIGXFSZ") return failed(`${why}: file size limit (${limits.fileSizeMb} MiB)`);
  if (signal !== undefined) return failed(`${why}: killed by ${signal}`);
  if (code === 0) {
    return failed(
      `${why}: it exited with status 0 before its end (sys.exit, os._exit, exit() or the like)`,
    );
  }
  return failed(`${why}: exit status ${code}${lastLine ? `, ${lastLine}` : ""}`);
}
