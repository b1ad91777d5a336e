// Summarises a jax-js profiler trace for the benchmark scripts: kernel time by kind (matmul,
// other reductions, elementwise), matmul GFLOP/s, time outside kernels, and the slowest kernels.

/** Sums traced kernel time by kind; matmuls are Add-reductions of a product of two loads. */
export function kernelSummary(
  name: string,
  o: { entries: PerformanceEntry[]; wall: number },
): string {
  const matmul =
    /^\(GV_\d+<float32>\{[^}]*\}\[[^\]]*\$ridx[^\]]*\] \* GV_\d+<float32>\{[^}]*\}\[[^\]]*\$ridx[^\]]*\]\)$/;
  const kinds = new Map<string, { n: number; ms: number; flop: number }>();
  const slow: [number, string][] = [];
  for (const e of o.entries) {
    const detail = (e as PerformanceMeasure).detail?.devtools?.properties as [string, string][];
    const p = Object.fromEntries(detail ?? []);
    const [op, red] = (p.reduction ?? ":").split(":");
    const isMatmul = op === "Add" && matmul.test(p.exp ?? "");
    const kind = isMatmul
      ? "matmul"
      : p.reduction
      ? "other reduction"
      : /Exp|Log|Sqrt|Sin|Cos/.test(p.exp ?? "")
      ? "elementwise (exp/log/sqrt)"
      : "elementwise (arithmetic)";
    const k = kinds.get(kind) ?? { n: 0, ms: 0, flop: 0 };
    k.n++;
    k.ms += e.duration;
    if (isMatmul) k.flop += 2 * Number(p.size) * Number(red);
    kinds.set(kind, k);
    const rate = isMatmul
      ? ` ${(2 * Number(p.size) * Number(red) / e.duration / 1e6).toFixed(1)} GFLOP/s`
      : "";
    slow.push([
      e.duration,
      `${e.duration.toFixed(1)} ms ${kind} out=${p.size} ${p.reduction ?? ""}${rate}`,
    ]);
  }
  const total = [...kinds.values()].reduce((a, k) => a + k.ms, 0);
  const lines = [`kernels in one traced call of "${name}" (wall ${o.wall.toFixed(1)} ms):`];
  for (const [kind, k] of [...kinds].sort((a, b) => b[1].ms - a[1].ms)) {
    const rate = k.flop ? `, ${(k.flop / k.ms / 1e6).toFixed(1)} GFLOP/s` : "";
    lines.push(
      `  ${kind.padEnd(28)} ${String(k.n).padStart(4)} kernels ${k.ms.toFixed(1).padStart(8)} ms` +
        ` (${((100 * k.ms) / o.wall).toFixed(0)}% of wall${rate})`,
    );
  }
  lines.push(`  outside kernels (dispatch)         ${(o.wall - total).toFixed(1).padStart(8)} ms`);
  slow.sort((a, b) => b[0] - a[0]);
  lines.push(...slow.slice(0, 8).map(([, d]) => `    slow: ${d}`));
  return lines.join("\n");
}
