// Tests for evals/sandbox.ts: hostile programs (writes and deletes outside the sandbox, network,
// fork bomb, endless loops, memory, signals, endless output) are contained and leave the host as
// it was; ordinary programs pass or fail as Python says. No skips: a machine without a sandbox
// fails here with the message a user would see. Where both backends work (root with bubblewrap
// installed), every case runs on each.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  type Backend,
  DEFAULT_LIMITS,
  probeSandbox,
  runPrograms,
  runPython,
  type RunResult,
} from "./sandbox.ts";

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

/** Pids of the host's processes in the pid namespace `ns` ("pid:[4026532000]"), via ps. */
function processesIn(ns: string): string[] {
  // ps rather than /proc, which Deno reads only with --allow-all.
  const out = new Deno.Command("ps", { args: ["-e", "-o", "pid=,pidns="] }).outputSync();
  const inode = /\d+/.exec(ns)?.[0];
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, pidns]) => pidns === inode)
    .map(([pid]) => pid);
}

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

  Deno.test(`${label}runPython: a fork bomb hits the process limit, leaves nothing`, async () => {
    const program = "import os\n" +
      "print(os.readlink('/proc/self/ns/pid'), flush=True)\n" +
      "while True:\n" +
      "    try:\n" +
      "        os.fork()\n" +
      "    except OSError:\n" +
      "        pass\n";
    const result = await run(program, { ...hostile, timeoutMs: 2000 });
    equal(result.status, "timeout", show(result));
    const ns = result.stdout.split("\n")[0];
    match(ns, /^pid:\[\d+\]$/);
    // Every process of that pid namespace is gone: the kernel killed them with its first process.
    deepEqual(processesIn(ns), [], "processes of the fork bomb outlived it");
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
