// Tests for evals/sandbox.ts: hostile programs (writes and deletes outside the sandbox, network,
// fork and thread bombs, endless loops, memory, signals, endless output) are contained and leave
// the host as it was; a program passes only when it runs to its end, which no early exit and no
// attempt on the runner's proof token fakes; ordinary programs pass or fail as Python says. No
// skips: a machine without a sandbox fails here with the message a user would see. Where both
// backends work (root with bubblewrap installed), every case runs on each.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  type Backend,
  DEFAULT_LIMITS,
  probeSandbox,
  runPrograms,
  runPython,
  type RunResult,
} from "./sandbox.ts";
import { type HumanEvalDoc, humanEvalProgram } from "../tasks/humaneval.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const TAG = `forgetbench_sandbox_test_${Deno.pid}_${Math.floor(Math.random() * 1e9)}`;

/** Whether `path` exists on the host (via test(1): Deno reads /dev only with --allow-all). */
async function exists(path: string): Promise<boolean> {
  const { code } = await new Deno.Command("test", { args: ["-e", path] }).output();
  return code === 0;
}

function show(result: RunResult): string {
  return JSON.stringify({ ...result, stdout: result.stdout.slice(-500) }).slice(0, 1500);
}

/** A host process the sandbox must not be able to kill; stopped by the returned function. */
function hostCanary(): { pid: number; alive: () => Promise<boolean>; stop: () => Promise<void> } {
  const child = new Deno.Command("sleep", { args: ["60"], stdout: "null", stderr: "null" })
    .spawn();
  let exited = false;
  const status = child.status.then(() => {
    exited = true;
  });
  return {
    pid: child.pid,
    alive: async () => {
      // Deno reaps a dead child at once; give it a moment to notice.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return !exited;
    },
    stop: async () => {
      if (!exited) child.kill("SIGKILL");
      await status;
    },
  };
}

/** Pids of the host's processes that run as `uid`, via ps (Deno reads /proc only with -A). */
function processesOf(uid: string): string[] {
  const out = new Deno.Command("ps", { args: ["-e", "-o", "pid=,uid="] }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, owner]) => owner === uid)
    .map(([pid]) => pid);
}

// A program that hunts for the runner's proof token (64 hex digits) in whatever `find` is given
// and prints each candidate. It exits 0 after the hunt, so printing the token is its only way to
// pass: each attack below must fail.
const FIND_TOKEN = String.raw`import re, sys, types
TOKEN = re.compile("[0-9a-f]{64}")
SEEN = set()

def find(value, depth=0):
    if value is None or depth > 8 or id(value) in SEEN:
        return
    SEEN.add(id(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("latin-1")
    if isinstance(value, str):
        for token in TOKEN.findall(value):
            print(token, flush=True)
    elif isinstance(value, dict):
        for item in list(value.values()):
            find(item, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in list(value):
            find(item, depth + 1)
    elif isinstance(value, types.FrameType):  # its locals, globals and caller
        find(value.f_locals, depth + 1)
        find(value.f_globals, depth + 1)
        find(value.f_back, depth + 1)
    elif isinstance(value, types.FunctionType):
        find([cell.cell_contents for cell in value.__closure__ or ()], depth + 1)
        find(value.__defaults__, depth + 1)
        find(value.__globals__, depth + 1)
    elif isinstance(value, types.ModuleType):
        find(vars(value), depth + 1)

`;

/** The attacks on the proof token, by what they try. */
const TOKEN_ATTACKS: Record<string, string> = {
  "sys._getframe and f_back": "find(sys._getframe())",
  "a traceback's tb_frame":
    "try:\n    1 / 0\nexcept Exception as e:\n    find(e.__traceback__.tb_frame)",
  "a generator's gi_frame": "def g():\n    yield\nx = g()\nnext(x)\nfind(x.gi_frame)",
  "a coroutine's cr_frame": "async def c():\n    pass\nx = c()\nfind(x.cr_frame)",
  "sys._current_frames": "find(sys._current_frames())",
  "gc.get_objects": "import gc\nfind(gc.get_objects())",
  "gc.get_referrers": "import gc\nfind(gc.get_referrers(sys.modules))",
  "gc.get_referents": "import gc\nfind(gc.get_referents(sys.modules))",
  "gc.DEBUG_SAVEALL garbage":
    "import gc\ngc.set_debug(gc.DEBUG_SAVEALL)\ngc.collect()\nfind(gc.garbage)",
  "sys.settrace":
    "def t(frame, event, arg):\n    find(frame)\n    return t\nsys.settrace(t)\nprint()",
  "sys.setprofile": "sys.setprofile(lambda frame, event, arg: find(frame))\nprint()",
  "threading.settrace":
    "import threading\nthreading.settrace(lambda f, e, a: find(f))\nt = threading.Thread(target=print)\nt.start()\nt.join()",
  "a signal handler's frame":
    "import os, signal\nsignal.signal(signal.SIGUSR1, lambda n, f: find(f))\nos.kill(os.getpid(), signal.SIGUSR1)",
  "/proc/self/mem": "import os\n" +
    "mem = os.open('/proc/self/mem', os.O_RDONLY)\n" +
    "for line in open('/proc/self/maps'):\n" +
    "    lo, hi = (int(x, 16) for x in line.split()[0].split('-'))\n" +
    "    try:\n        find(os.pread(mem, hi - lo, lo))\n    except OSError:\n        pass",
  "/proc through /dev/fd/..": "find(open('/dev/fd/../environ', 'rb').read())",
  "/proc through a dir_fd": "import os\nd = os.open('/dev', os.O_RDONLY)\n" +
    "find(os.read(os.open('fd/../environ', os.O_RDONLY, dir_fd=d), 4096))",
  "a symlink into /proc":
    "import os\nos.symlink('/proc/self/mem', 'mem')\nfind(open('mem', 'rb').read(64))",
  "chdir into /proc": "import os\nos.chdir('/proc/self')\nfind(open('environ', 'rb').read())",
  "ctypes": "import ctypes\nfind(ctypes.string_at(id(sys), 1 << 16))",
  "_ctypes from its file": "import glob, importlib.util\n" +
    "for path in glob.glob(sys.base_prefix + '/lib/python3*/lib-dynload/_ctypes*.so'):\n" +
    "    spec = importlib.util.spec_from_file_location('_ctypes', path)\n" +
    "    importlib.util.module_from_spec(spec)",
  "a native module copied to /tmp": "import glob, importlib.util, shutil\n" +
    "for path in glob.glob(sys.base_prefix + '/lib/python3*/lib-dynload/_bz2*.so')[:1]:\n" +
    "    shutil.copy(path, '/tmp/x.so')\n" +
    "    spec = importlib.util.spec_from_file_location('_bz2', '/tmp/x.so')\n" +
    "    importlib.util.module_from_spec(spec)",
  "cffi's backend from the interpreter's site-packages": "import _cffi_backend as b\n" +
    "char_p = b.new_pointer_type(b.new_primitive_type('char'))\n" +
    "find(b.buffer(b.cast(char_p, id(sys)), 1 << 16)[:])",
  "a SQLite extension": "import sqlite3\ndb = sqlite3.connect(':memory:')\n" +
    "db.enable_load_extension(True)\ndb.load_extension('/tmp/x.so')",
  "code.replace (out-of-range constants)":
    "f = lambda: 0\nf.__code__ = f.__code__.replace(co_consts=())\nf()",
  "types.coroutine with its code swapped": "import types\n" +
    "types.coroutine.__code__ = (lambda f: f.__code__.replace(co_consts=())).__code__\n" +
    "types.coroutine(lambda: 0)",
  "marshal.loads": "import marshal\nexec(marshal.loads(marshal.dumps(compile('1', 'x', 'exec'))))",
  "a sourceless .pyc": "import importlib.util\n" +
    "open('evil.pyc', 'wb').write(importlib.util.MAGIC_NUMBER + bytes(12) + b'c')\n" +
    "sys.path.insert(0, '.')\nimport evil",
  "a fresh _posixsubprocess":
    "del sys.modules['_posixsubprocess']\nimport _posixsubprocess\n_posixsubprocess.fork_exec()",
  "a forked child's signal handler": "import os, signal\nif os.fork() == 0:\n" +
    "    signal.signal(signal.SIGUSR1, lambda n, f: find(f))\n    os.kill(os.getpid(), signal.SIGUSR1)",
  "a subprocess reading the parent": "import os, subprocess\n" +
    "find(subprocess.run(['cat', f'/proc/{os.getpid()}/environ'], capture_output=True).stdout)",
  "every file descriptor": "import os\nfor fd in range(256):\n" +
    "    try:\n        find(os.read(fd, 1 << 16))\n    except OSError:\n        pass",
  "stdin": "find(sys.stdin.read())",
  "__main__ and every module": "import __main__\nfind(vars(__main__))\n" +
    "for m in list(sys.modules.values()):\n    find(vars(m))",
  "sys.addaudithook": "sys.addaudithook(lambda event, args: find(args))\nprint()",
};

/** Early exits of every kind: each ends the program before its last line, which never runs. */
const EARLY_EXITS: Record<string, string> = {
  "sys.exit(0)": "import sys\nsys.exit(0)",
  "sys.exit()": "import sys\nsys.exit()",
  "raise SystemExit": "raise SystemExit",
  "raise SystemExit(0) in a try/finally": "try:\n    raise SystemExit(0)\nfinally:\n    pass",
  "exit()": "exit()",
  "quit()": "quit()",
  "os._exit(0)": "import os\nos._exit(0)",
  "os._exit(0) from a thread": "import os, threading, time\n" +
    "threading.Thread(target=os._exit, args=(0,)).start()\ntime.sleep(5)",
  "sys.exit in a thread, then SystemExit(0)": "import threading, sys\n" +
    "threading.Thread(target=sys.exit).start()\nraise SystemExit(0)",
  "os.kill(self, SIGKILL)": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
  "os.kill(self, SIGTERM)":
    "import os, signal, time\nos.kill(os.getpid(), signal.SIGTERM)\ntime.sleep(5)",
  "os.kill(self, SIGINT)":
    "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)",
  "signal.raise_signal(SIGTERM)":
    "import signal, time\nsignal.raise_signal(signal.SIGTERM)\ntime.sleep(5)",
  "signal.alarm": "import signal, time\nsignal.alarm(1)\ntime.sleep(5)",
  "os.abort()": "import os\nos.abort()",
  "KeyboardInterrupt": "raise KeyboardInterrupt",
  "GeneratorExit": "raise GeneratorExit",
  "atexit then SystemExit": "import atexit, os, sys\natexit.register(os._exit, 0)\nsys.exit(1)",
  "stdout closed, then exit 0": "import os\nos.closerange(1, 256)\nos._exit(0)",
  "stdout redirected, then exit 0":
    "import os, sys\nos.dup2(os.open('/dev/null', os.O_WRONLY), 1)\nsys.exit(0)",
  "os.execv of true": "import os\nos.execv('/bin/true', ['true'])",
  "proof-shaped output, then exit 0": "import secrets, sys\n" +
    "for _ in range(5000):\n" +
    "    print(secrets.token_hex(16), secrets.token_hex(32))\n" +
    "    print(secrets.token_hex(32), end='')\n" +
    "sys.exit(0)",
};

Deno.test("probeSandbox: a sandbox runs on this machine (install one if this fails)", async () => {
  const info = await probeSandbox();
  ok(info.backend === "unshare" || info.backend === "bwrap", `backend ${info.backend}`);
  match(info.pythonVersion, /^3\.\d+/);
  console.log(`sandbox backend: ${info.backend}, ${info.python} ${info.pythonVersion}`);
});

/** Registers every case for one backend (undefined: the one probeSandbox picks). */
function suite(backend: Backend | undefined): void {
  const label = backend === undefined ? "" : `[${backend}] `;
  // Short limits keep the hostile cases, which run to a limit on purpose, quick.
  const hostile = { timeoutMs: 3000, cpuSeconds: 3, backend };
  const run = (program: string, opts: Omit<Parameters<typeof runPython>[1], "backend"> = {}) =>
    runPython(program, { ...opts, backend });

  Deno.test(`${label}runPython: passes, failed asserts, syntax errors and exit codes`, async () => {
    const benign = await run(
      "def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\nprint('ok')\n",
    );
    equal(benign.status, "passed", show(benign));
    equal(benign.passed, true);
    equal(benign.exitCode, 0);
    equal(benign.stdout, "ok\n");

    const assertion = await run("def add(a, b):\n    return a - b\n\nassert add(2, 3) == 5\n");
    equal(assertion.status, "failed", show(assertion));
    equal(assertion.exitCode, 1);
    match(assertion.stderr, /AssertionError/);

    const syntax = await run("def add(a, b)\n    return a + b\n");
    equal(syntax.status, "failed", show(syntax));
    match(syntax.stderr, /SyntaxError/);

    const exit3 = await run("raise SystemExit(3)");
    equal(exit3.status, "failed", show(exit3));
    equal(exit3.exitCode, 3);
    match(exit3.reason ?? "", /no proof of completion\): exit status 3$/);
    match(assertion.reason ?? "", /exit status 1, AssertionError$/);
  });

  Deno.test(`${label}the proof: a program passes only when it runs to its end`, async () => {
    // Each runs to its end, however it leaves its output, threads or stdout behind.
    const correct = [
      "print('no newline at the end', end='')",
      "",
      "import threading\nt = threading.Thread(target=print, args=('thread',))\nt.start()\nt.join()",
      "import sys\nsys.stdout.write('x' * 200000)",
      "import sys\nsys.stdout = open('/dev/null', 'w')\nprint('hidden')",
      "import os\nos.close(1)",
      // atexit handlers never run: the program has ended, the runner leaves at once.
      "import atexit, os\natexit.register(os._exit, 1)",
      "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()",
      // The standard library that looks at frames takes the refusal for "no frame".
      "from collections import namedtuple\nimport enum, logging, typing, warnings\n" +
      "P = namedtuple('P', 'x y')\nE = enum.Enum('E', 'A B')\n" +
      "class N(typing.NamedTuple):\n    a: int\n" +
      "logging.warning('%s %s %s', P(1, 2), E.A, N(1))\nwarnings.warn('careful')",
      "import asyncio\nasync def f():\n    return 1\nassert asyncio.run(f()) == 1",
      "import sys\nsys.setrecursionlimit(100000)\n" +
      "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nassert f(50000) == 50000",
    ];
    const passed = await runPrograms(correct, { backend, concurrency: 2 });
    for (const [i, result] of passed.entries()) {
      equal(result.status, "passed", `${correct[i]}: ${show(result)}`);
      equal(result.reason, undefined);
    }
    equal(passed[0].stdout, "no newline at the end", "the runner's tokens are not in stdout");
    match(passed[3].stdout, /^\[\.\.\. \d+ earlier bytes dropped \.\.\.\]\nx+$/);

    // Each ends before its last line; whatever its exit status, that is no pass.
    const names = Object.keys(EARLY_EXITS);
    const programs = names.map((name) =>
      `${EARLY_EXITS[name]}\nraise AssertionError('unreachable')\n`
    );
    const failed = await runPrograms(programs, { ...hostile, concurrency: 2 });
    for (const [i, result] of failed.entries()) {
      equal(result.status, "failed", `${names[i]}: ${show(result)}`);
      equal(result.passed, false);
      match(result.reason ?? "", /^the program did not run to its end \(no proof of completion\)/);
      equal(result.stderr.includes("unreachable"), false, names[i]);
    }
    const exit0 = failed[names.indexOf("sys.exit(0)")];
    equal(exit0.exitCode, 0, "exit status 0, and still no pass");
    match(exit0.reason ?? "", /exited with status 0 before its end/);
  });

  Deno.test(`${label}the proof token stays out of the program's reach`, async () => {
    // The token hunter works: it finds a token-shaped string planted in its own globals.
    const planted = await run(`${FIND_TOKEN}planted = "ab" * 32\nfind(globals())\n`);
    equal(planted.status, "passed", show(planted));
    equal(planted.stdout, `${"ab".repeat(32)}\n`);
    const names = Object.keys(TOKEN_ATTACKS);
    const results = await runPrograms(
      names.map((name) => `${FIND_TOKEN}${TOKEN_ATTACKS[name]}\nraise SystemExit(0)\n`),
      { ...hostile, concurrency: 2 },
    );
    for (const [i, result] of results.entries()) {
      equal(result.status, "failed", `${names[i]}: ${show(result)}`);
      match(result.reason ?? "", /no proof of completion/, names[i]);
    }
    // And the machine is as it was: the next program runs normally.
    equal((await run("print(1)")).status, "passed");
  });

  Deno.test(`${label}HumanEval programs: the completion cannot touch the tests`, async () => {
    const doc = (prompt: string, test: string, entryPoint: string): HumanEvalDoc => ({
      id: "HumanEval/x",
      prompt,
      canonicalSolution: "",
      test,
      entryPoint,
    });
    // As HumanEval/32: the tests use a helper of the prompt's.
    const poly = doc(
      "def poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\n\n" +
        'def find_zero(xs):\n    """A zero of poly(xs)."""\n',
      "\n\ndef check(candidate):\n" +
        "    for xs in ([1, 2], [-6, 11, -6, 1]):\n" +
        "        assert abs(poly(xs, candidate(xs))) < 1e-6\n",
      "find_zero",
    );
    const bisection = "    lo, hi = -100.0, 100.0\n" +
      "    while hi - lo > 1e-12:\n" +
      "        mid = (lo + hi) / 2\n" +
      "        if (poly(xs, lo) > 0) == (poly(xs, mid) > 0):\n" +
      "            lo = mid\n" +
      "        else:\n" +
      "            hi = mid\n" +
      "    return lo\n";
    // As HumanEval/2: floats compared through abs.
    const truncate = doc(
      'def truncate(x: float) -> float:\n    """The decimal part of x."""\n',
      "\n\ndef check(candidate):\n    assert abs(candidate(3.5) - 0.5) < 1e-6\n",
      "truncate",
    );
    // As HumanEval/33: the tests call the entry point by its name, which is the candidate's.
    const double = doc(
      'def double(x):\n    """2 x."""\n',
      "\n\ndef check(candidate):\n    assert candidate(2) == double(2) == 4\n",
      "double",
    );
    const cases: [string, HumanEvalDoc, string, boolean][] = [
      ["a correct find_zero", poly, bisection, true],
      [
        "find_zero redefining poly",
        poly,
        "    return 0.0\n\n\ndef poly(xs, x):\n    return 0.0\n",
        false,
      ],
      ["a correct truncate", truncate, "    return x % 1.0\n", true],
      [
        "truncate patching builtins.abs",
        truncate,
        "    return 0.0\n\n\nimport builtins\nbuiltins.abs = lambda x: 0\n",
        false,
      ],
      ["truncate shadowing abs", truncate, "    return 0.0\n\n\nabs = lambda x: 0\n", false],
      ["a correct double, called by name", double, "    return 2 * x\n", true],
      ["defining check", double, "    return 0\n\n\ndef check(candidate):\n    pass\n", false],
      ["sys.exit(0) in the candidate", double, "    import sys\n    sys.exit(0)\n", false],
      ["os._exit(0) in the candidate", double, "    import os\n    os._exit(0)\n", false],
      ["SystemExit at the top level", double, "    return 2 * x\n\n\nraise SystemExit\n", false],
      [
        "replacing check through a frame",
        double,
        "    import sys\n    sys._getframe(1).f_globals['check'] = lambda c: None\n    return 0\n",
        false,
      ],
    ];
    const results = await runPrograms(
      cases.map(([, d, completion]) => humanEvalProgram(d, completion)),
      { ...hostile, concurrency: 2 },
    );
    for (const [i, result] of results.entries()) {
      equal(result.passed, cases[i][3], `${cases[i][0]}: ${show(result)}`);
      if (!result.passed) match(result.reason ?? "", /no proof of completion/, cases[i][0]);
    }
  });

  Deno.test(`${label}runPython: the harness's environment does not reach the program`, async () => {
    Deno.env.set("FORGETBENCH_SANDBOX_TEST_SECRET", "hunter2");
    try {
      const result = await run("import os\nprint(' '.join(sorted(os.environ)))");
      equal(result.status, "passed", show(result));
      equal(result.stdout.includes("FORGETBENCH_SANDBOX_TEST_SECRET"), false, result.stdout);
      ok(
        result.stdout.trim().split(" ").every((name) =>
          ["HOME", "LANG", "LC_CTYPE", "PATH", "PWD", "TMPDIR"].includes(name)
        ),
        result.stdout,
      );
    } finally {
      Deno.env.delete("FORGETBENCH_SANDBOX_TEST_SECRET");
    }
  });

  Deno.test(`${label}runPython: writes outside fail or stay in its own tmpfs`, async () => {
    const inRepo = `${REPO}/${TAG}`;
    const persistent = [`/root/${TAG}`, `/etc/${TAG}`, `/var/lib/${TAG}`];
    const privateTmp = [`/tmp/${TAG}`, `/var/tmp/${TAG}`, `/dev/shm/${TAG}`];
    // The checkout itself: read-only, or, for a checkout under /tmp (CI may clone there), hidden
    // under the sandbox's own empty tmpfs. Either way the write fails and the host never sees it.
    const repoWrite = await run(`open(${JSON.stringify(inRepo)}, "w").write("x")`, hostile);
    equal(repoWrite.status, "failed", `${inRepo}: ${show(repoWrite)}`);
    match(repoWrite.stderr, /Read-only file system|Permission denied|No such file or directory/);
    equal(await exists(inRepo), false, `${inRepo} appeared on the host`);
    try {
      for (const path of persistent) {
        const result = await run(`open(${JSON.stringify(path)}, "w").write("x")`, hostile);
        equal(result.status, "failed", `${path}: ${show(result)}`);
        match(result.stderr, /Read-only file system|Permission denied/, path);
        equal(await exists(path), false, `${path} appeared on the host`);
      }
      for (const path of privateTmp) {
        // The write works inside (each sandbox has its own /tmp, /var/tmp and /dev/shm) and reads
        // back there, yet nothing reaches the host's directory of the same name.
        const program = `open(${JSON.stringify(path)}, "w").write("x")\n` +
          `assert open(${JSON.stringify(path)}).read() == "x"`;
        const result = await run(program, hostile);
        equal(result.status, "passed", `${path}: ${show(result)}`);
        equal(await exists(path), false, `${path} appeared on the host`);
      }
    } finally {
      for (const path of [inRepo, ...persistent, ...privateTmp]) {
        await Deno.remove(path).catch(() => {});
      }
    }
  });

  Deno.test(`${label}runPython: host files cannot be deleted or overwritten`, async () => {
    // A world-writable folder: only the read-only mount protects it, not file permissions.
    const dir = await Deno.makeTempDir({ dir: REPO, prefix: `.${TAG}_` });
    const canary = `${dir}/canary.txt`;
    try {
      await Deno.chmod(dir, 0o777);
      await Deno.writeTextFile(canary, "canary");
      await Deno.chmod(canary, 0o666);
      const attacks = [
        `import os\nos.remove(${JSON.stringify(canary)})`,
        `open(${JSON.stringify(canary)}, "w").write("gone")`,
        `import shutil\nshutil.rmtree(${JSON.stringify(dir)})`,
        `import os\nos.rename(${JSON.stringify(canary)}, ${JSON.stringify(`${dir}/moved`)})`,
      ];
      for (const program of attacks) {
        const result = await run(program, hostile);
        equal(result.status, "failed", `${program}: ${show(result)}`);
        equal(await Deno.readTextFile(canary), "canary", `after ${program}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`${label}runPython: no network, not even the host's loopback`, async () => {
    const info = await probeSandbox({ backend });
    // A listener on the host's 127.0.0.1 (Python, since the test task has no --allow-net).
    const listener = new Deno.Command(info.python, {
      args: [
        "-c",
        "import socket, sys\n" +
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); s.settimeout(30)\n" +
        "print(s.getsockname()[1], flush=True)\n" +
        "c, a = s.accept(); print('CONNECTED', a, flush=True)\n",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines = listener.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const port = Number((await lines.read()).value?.trim());
      ok(port > 0, "the host listener did not start");
      const local = await run(
        `import socket\nsocket.create_connection(("127.0.0.1", ${port}), timeout=2)`,
        hostile,
      );
      equal(local.status, "failed", show(local));
      match(local.stderr, /OSError|ConnectionRefusedError|Network is unreachable/);

      // A reserved address (TEST-NET-1, never routed): with no route at all it fails at once with
      // ENETUNREACH; with a route it would hang until the timeout. Nothing real is contacted.
      const remote = await run(
        "import socket\n" +
          "print(socket.if_nameindex())\n" +
          "try:\n" +
          "    socket.create_connection(('192.0.2.1', 80), timeout=2)\n" +
          "except OSError as e:\n" +
          "    print(e.errno)\n" +
          "    raise\n",
        hostile,
      );
      equal(remote.status, "failed", show(remote));
      equal(remote.stdout, "[(1, 'lo')]\n101\n", "only loopback (down), and ENETUNREACH (101)");
      ok(
        remote.wallMs < 1500,
        `connecting took ${remote.wallMs} ms, so it was not refused at once`,
      );

      const dns = await run("import socket\nsocket.getaddrinfo('example.com', 80)", hostile);
      equal(dns.status, "failed", show(dns));
    } finally {
      listener.kill("SIGKILL");
      await listener.status;
      let rest = "";
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        rest += value;
      }
      equal(rest.includes("CONNECTED"), false, "a connection reached the host's loopback");
    }
  });

  Deno.test(`${label}runPython: no new processes; a thread bomb hits the limit, leaves nothing`, async () => {
    // The runner's audit hook refuses fork, exec, posix_spawn, system and subprocess: a child
    // would hold a copy of the proof token, or run outside the hook.
    const spawners = [
      "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
      "import os\nos.execv('/bin/sh', ['sh', '-c', 'exit 0'])",
      "import os\nos.posix_spawn('/bin/true', ['true'], {})",
      "import os\nos.system('true')",
      "import subprocess\nsubprocess.run(['true'])",
      "import _posixsubprocess\n_posixsubprocess.fork_exec()",
      "import multiprocessing\nmultiprocessing.Process(target=print).start()",
      "import pty\npty.fork()",
    ];
    const refused = await runPrograms(spawners, { ...hostile, concurrency: 2 });
    for (const [i, result] of refused.entries()) {
      equal(result.status, "failed", `${spawners[i]}: ${show(result)}`);
      match(result.stderr, /the sandbox (does not allow|runs no programs)/, spawners[i]);
    }
    // Threads count against RLIMIT_NPROC as processes do.
    const program = "import os, threading, time\n" +
      "print(os.getuid(), flush=True)\n" +
      "n = 0\n" +
      "while True:\n" +
      "    try:\n" +
      "        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n" +
      "        n += 1\n" +
      "    except RuntimeError:\n" +
      "        print('limit', n, flush=True)\n" +
      "        break\n" +
      "time.sleep(60)\n";
    const result = await run(program, { ...hostile, timeoutMs: 2000 });
    equal(result.status, "timeout", show(result));
    const [uid, limit] = result.stdout.split("\n");
    const started = Number(/^limit (\d+)$/.exec(limit)?.[1]);
    ok(started > 0 && started < DEFAULT_LIMITS.maxProcesses, show(result));
    // The uid is the host's under unshare (bwrap maps it to 65534): nothing of it is left.
    if (uid !== "65534") deepEqual(processesOf(uid), [], "processes of the sandbox outlived it");
    // And the next program runs normally.
    equal((await run("print(1)")).status, "passed");
  });

  Deno.test(`${label}runPython: endless loops end at the wall and CPU limits`, async () => {
    const busy = await run("while True:\n    pass\n", { timeoutMs: 1500, cpuSeconds: 30 });
    equal(busy.status, "timeout", show(busy));
    ok(busy.wallMs < 1500 + 2000, `took ${busy.wallMs} ms`);

    const sleeping = await run("import time\ntime.sleep(60)\n", { timeoutMs: 1500 });
    equal(sleeping.status, "timeout", show(sleeping));
    match(sleeping.reason ?? "", /wall time/);

    const cpu = await run("while True:\n    pass\n", { timeoutMs: 5000, cpuSeconds: 1 });
    equal(cpu.status, "timeout", show(cpu));
    equal(cpu.signal, "SIGXCPU");
    match(cpu.reason ?? "", /CPU time/);
  });

  Deno.test(`${label}runPython: unbounded memory ends in MemoryError`, async () => {
    const huge = await run("x = bytearray(8 * 1024 ** 3)", hostile);
    equal(huge.status, "failed", show(huge));
    match(huge.stderr, /MemoryError/);

    const growing = await run(
      "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 ** 2))\n",
      { ...hostile, memoryMb: 256 },
    );
    equal(growing.status, "failed", show(growing));
    match(growing.stderr, /MemoryError/);
  });

  Deno.test(`${label}runPython: disk and file-size limits`, async () => {
    const bigFile = await run(
      "open('big', 'wb').write(b'x' * (2 * 1024 ** 2))",
      { ...hostile, fileSizeMb: 1 },
    );
    equal(bigFile.status, "failed", show(bigFile));
    match(bigFile.stderr, /File too large/);

    const fullDisk = await run(
      "for i in range(100):\n    open(f'f{i}', 'wb').write(b'x' * 1024 ** 2)\n",
      { ...hostile, diskMb: 8 },
    );
    equal(fullDisk.status, "failed", show(fullDisk));
    match(fullDisk.stderr, /No space left on device/);
  });

  Deno.test(`${label}runPython: signals cannot reach the test process or the host`, async () => {
    const canary = hostCanary();
    try {
      const programs = [
        // Its parent is the sandbox's own first process.
        "import os, time\nos.kill(os.getppid(), 9)\ntime.sleep(0.2)\nprint(os.getppid())",
        // Everything it may signal: only what lives in its own pid namespace.
        "import os\nos.kill(-1, 9)",
        // The test's own pid and a host process, as literals.
        `import os\nos.kill(${Deno.pid}, 9)`,
        `import os\nos.kill(${canary.pid}, 9)`,
        `import os\nos.killpg(${canary.pid}, 9)`,
      ];
      for (const program of programs) {
        const result = await run(program, hostile);
        ok(result.status !== "error", show(result));
        ok(await canary.alive(), `the host process died after: ${program}`);
      }
      // kill(-1) finds nothing to signal, or (bwrap) only the sandbox's own timeout process,
      // whose death ends the sandbox; the literal pids do not exist in its pid namespace.
      for (const [i, program] of programs.entries()) {
        if (i === 0) continue;
        const result = await run(program, hostile);
        equal(result.status, "failed", show(result));
        if (i >= 2) match(result.stderr, /ProcessLookupError/);
      }
    } finally {
      await canary.stop();
    }
    // This line running is the proof that the test process survived.
    ok(true);
  });

  Deno.test(`${label}runPython: endless output is cut off and only its tail kept`, async () => {
    const result = await run("while True:\n    print('x' * 999)\n", hostile);
    equal(result.status, "failed", show(result));
    match(result.reason ?? "", /printed more than/);
    ok(result.stdout.length <= DEFAULT_LIMITS.maxOutputBytes + 100, `${result.stdout.length}`);
    match(result.stdout, /^\[\.\.\. \d+ earlier bytes dropped \.\.\.\]\n/);

    const small = await run(
      "import sys\nfor i in range(100000):\n    print(i)\nprint('end', file=sys.stderr)",
      { maxOutputBytes: 1000 },
    );
    equal(small.status, "passed", show(small));
    ok(small.stdout.endsWith("99999\n"), "the tail is the end of the output");
    match(small.stdout, /^\[\.\.\. \d+ earlier bytes dropped \.\.\.\]\n/);
    equal(small.stderr, "end\n");
  });

  Deno.test(`${label}runPrograms: results keep input order`, async () => {
    const programs = Array.from(
      { length: 6 },
      (_, i) => `import time\ntime.sleep(${(6 - i) * 0.05})\nprint(${i})\nassert ${i} != 4`,
    );
    const seen: number[] = [];
    const results = await runPrograms(programs, {
      backend,
      concurrency: 3,
      onProgress: (done, total, _result, index) => {
        equal(total, 6);
        equal(done, seen.length + 1);
        seen.push(index);
      },
    });
    deepEqual(results.map((r) => r.stdout), ["0\n", "1\n", "2\n", "3\n", "4\n", "5\n"]);
    deepEqual(results.map((r) => r.status), [
      "passed",
      "passed",
      "passed",
      "passed",
      "failed",
      "passed",
    ]);
    deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
    deepEqual(await runPrograms([], { backend }), []);
  });
}

suite(undefined);
// The other backend too, where it also works (root with bubblewrap installed).
const chosen = await probeSandbox().then((info) => info.backend, () => undefined);
if (
  chosen === "unshare" && await probeSandbox({ backend: "bwrap" }).then(() => true, () => false)
) {
  suite("bwrap");
}
