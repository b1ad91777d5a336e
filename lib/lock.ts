// One writer per output folder: a lock file `DIR/.lock` created exclusively (O_CREAT|O_EXCL) by
// the process that writes the folder, holding its pid, host, start time and command. A second
// process is refused at once with a line naming the holder. A lock left by a process that no
// longer runs (kill -9, power loss) is stale: it is taken over and said so. On this host a holder
// counts as running when a process with its pid runs, with the same start time as recorded (a pid
// reused by another program is not the holder; asked of `ps`); a lock from another host is never
// taken over.

import { hostname } from "node:os";
import process from "node:process";
import { UsageError } from "./errors.ts";

/** What a lock file holds. */
export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  /** ISO time the holder took the lock. */
  readonly started: string;
  /** The holder's process start time as `ps -o lstart` gives it. */
  readonly procStart: string | null;
  readonly command: string;
}

/** A held lock; `release` removes it (only if it is still ours). */
export interface Lock {
  readonly path: string;
  /** Set when a stale lock was taken over: the previous holder. */
  readonly tookOver: LockInfo | null;
  release(): Promise<void>;
}

/** A process's state letter and start time as `ps` reports them. */
interface PsInfo {
  readonly state: string;
  readonly start: string;
}

/**
 * `ps`'s view of process `pid`: null when there is none, undefined when `ps` cannot run here.
 * (Deno reads /proc only with --allow-all, so `ps`, which the run permission covers, asks.)
 */
function ps(pid: number): PsInfo | null | undefined {
  try {
    const out = new Deno.Command("ps", {
      args: ["-o", "stat=,lstart=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const line = new TextDecoder().decode(out.stdout).trim();
    if (out.code !== 0 || line === "") return null;
    const [state, ...start] = line.split(/\s+/);
    return { state, start: start.join(" ") };
  } catch {
    return undefined;
  }
}

/** This process's start time (to tell it from a later process given the same pid). */
export function processStart(pid: number): string | null {
  return ps(pid)?.start ?? null;
}

/**
 * Whether the lock's holder still runs: on this host, a process with its pid that is not a zombie
 * (killed, not yet reaped) and started when the lock says; another host's lock always counts as
 * held (we cannot tell).
 */
export function holderAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true;
  const p = ps(info.pid);
  if (p === undefined) {
    try {
      return process.kill(info.pid, 0); // no `ps`: at least whether the pid exists
    } catch {
      return false;
    }
  }
  if (p === null || p.state.startsWith("Z")) return false;
  return info.procStart === null || info.procStart === p.start;
}

function describe(info: LockInfo): string {
  return `pid ${info.pid} on ${info.host}, started ${info.started} (${info.command})`;
}

async function readLock(path: string): Promise<LockInfo | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const v = JSON.parse(text);
    if (typeof v?.pid === "number" && typeof v?.host === "string") return v as LockInfo;
  } catch { /* a lock cut short while being written: its writer died at once */ }
  return { pid: -1, host: hostname(), started: "?", procStart: null, command: "unreadable lock" };
}

/**
 * Takes `DIR/.lock` for `command` (creating DIR). A live holder is a one-line UsageError naming
 * it; a dead holder's lock is taken over (`tookOver` says whose).
 */
export async function acquireLock(dir: string, command: string): Promise<Lock> {
  const got = await tryLock(dir, command);
  if ("release" in got) return got;
  throw new UsageError(
    `${dir} is being written by ${describe(got)}; wait for it to finish or give another --out${
      got.host !== hostname() ? ` (if that process is gone, delete ${dir}/.lock)` : ""
    }`,
  );
}

/** Takes `DIR/.lock`, or returns the live process that holds it. */
export async function tryLock(dir: string, command: string): Promise<Lock | LockInfo> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/.lock`;
  const me: LockInfo = {
    pid: Deno.pid,
    host: hostname(),
    started: new Date().toISOString(),
    procStart: processStart(Deno.pid),
    command,
  };
  let tookOver: LockInfo | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Written whole by one write of a small file; readers treat a partial one as a dead holder.
      const f = await Deno.open(path, { write: true, createNew: true });
      try {
        await f.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
      } finally {
        f.close();
      }
      const held = await readLock(path);
      if (held?.pid !== me.pid || held.started !== me.started) continue; // lost a takeover race
      return { path, tookOver, release: () => releaseLock(path, me) };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const holder = await readLock(path);
    if (holder === null) continue; // released meanwhile
    if (holderAlive(holder)) return holder;
    tookOver = holder;
    await Deno.remove(path).catch(() => {});
  }
  throw new UsageError(`${dir}: could not take its lock ${path} (another process keeps taking it)`);
}

async function releaseLock(path: string, me: LockInfo): Promise<void> {
  const held = await readLock(path).catch(() => null);
  if (held?.pid === me.pid && held.started === me.started) {
    await Deno.remove(path).catch(() => {});
  }
}
