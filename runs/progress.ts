// Progress on stderr while a recipe runs: phases, one line per finished stage with its scores,
// and an ETA from the optimiser steps done so far (evaluation time included, since it happens
// between steps). On a terminal a live line shows the current step; silent with --quiet.

/** What the pipeline reports. */
export interface Progress {
  /** A phase line (loading, base model, ...). */
  phase(text: string): void;
  /** Starts run `index` of the total with a label. */
  run(index: number, label: string): void;
  /** One optimiser step of `last` in the current stage. */
  step(step: number, last: number): void;
  /** A permanent line about the current run, with the elapsed time and ETA appended. */
  note(text: string): void;
  done(): void;
}

/** Seconds as `1m05s` or `42s`. */
function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
}

/** A progress reporter for `totalSteps` optimiser steps over `totalRuns` runs. */
export function progress(
  opts: { quiet: boolean; totalRuns: number; totalSteps: number },
): Progress {
  if (opts.quiet) return { phase() {}, run() {}, step() {}, note() {}, done() {} };
  const tty = Deno.stderr.isTerminal(), enc = new TextEncoder();
  const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
  const t0 = performance.now();
  let stepsDone = 0, started = 0, label = "", runIndex = 0, lastPrint = 0;
  const eta = () => {
    if (stepsDone === 0) return "";
    const rate = stepsDone / ((performance.now() - started) / 1000);
    return ` · ETA ${fmtSecs((opts.totalSteps - stepsDone) / rate)}`;
  };
  const head = () => `[run ${runIndex}/${opts.totalRuns}] ${label}`;
  const clear = tty ? "\r\x1b[K" : "";
  return {
    phase(text) {
      write(`${clear}${text}\n`);
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
        write(`${clear}${head()} step ${step}/${last}${eta()}`);
        lastPrint = now;
      }
    },
    note(text) {
      write(`${clear}${head()} ${text} · ${fmtSecs((performance.now() - t0) / 1000)}${eta()}\n`);
    },
    done() {
      if (tty) write(clear);
    },
  };
}
