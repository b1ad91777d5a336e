// Progress on stderr while a recipe runs: which run, which step, and an ETA from the steps done
// so far. One rewritten line on a terminal, one line per run otherwise; silent with --quiet.

export interface Progress {
  phase(text: string): void;
  run(index: number, label: string): void;
  step(step: number, last: number): void;
  done(): void;
}

function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
}

/** A progress reporter for `totalSteps` optimiser steps over `totalRuns` runs. */
export function progress(
  opts: { quiet: boolean; totalRuns: number; totalSteps: number },
): Progress {
  const tty = Deno.stderr.isTerminal(), enc = new TextEncoder();
  const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
  let stepsDone = 0, started = 0, label = "", runIndex = 0, lastPrint = 0;
  const line = (step: number, last: number) => {
    const rate = stepsDone / ((performance.now() - started) / 1000);
    const eta = (opts.totalSteps - stepsDone) / rate;
    return `[run ${runIndex}/${opts.totalRuns}] ${label} step ${step}/${last} · ETA ${
      fmtSecs(eta)
    }`;
  };
  if (opts.quiet) return { phase() {}, run() {}, step() {}, done() {} };
  return {
    phase(text) {
      write(`${tty ? "\r\x1b[K" : ""}${text}\n`);
    },
    run(index, l) {
      if (!started) started = performance.now();
      runIndex = index;
      label = l;
    },
    step(step, last) {
      stepsDone++;
      const now = performance.now();
      if (tty && now - lastPrint > 200) {
        write(`\r\x1b[K${line(step, last)}`);
        lastPrint = now;
      } else if (!tty && step === last) {
        write(`${line(step, last)}\n`);
      }
    },
    done() {
      if (tty) write("\r\x1b[K");
    },
  };
}
