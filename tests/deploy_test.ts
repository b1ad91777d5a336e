// The scheduler files (README "Grids on many machines") read as their schedulers read them: the
// GitHub Actions workflow and the Kubernetes manifests parse as YAML and wire a base job, a
// matrix / Indexed Job of shards and a merge after them, with commands that exist in deno.json
// and flags that bench and merge accept. (The Slurm scripts run for real in tests/slurm_test.ts.)

import { deepEqual, equal, ok } from "node:assert/strict";
import { parse } from "yaml";

const ROOT = new URL("..", import.meta.url).pathname;
const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks as Record<
  string,
  string
>;
const help = (await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}main.ts`, "--help"],
  stdout: "piped",
}).output()).stdout;
const HELP = new TextDecoder().decode(help);

/** Every `deno task NAME ... --flag` in a command names a task and flags bench/merge document. */
function checkCommand(cmd: string, where: string): void {
  for (const m of cmd.matchAll(/deno@2\.9\.6 task (\w+)/g)) {
    ok(m[1] in tasks, `${where}: task '${m[1]}' is in deno.json`);
  }
  for (const m of cmd.matchAll(/(--[a-z-]+)/g)) {
    ok(HELP.includes(m[1]), `${where}: ${m[1]} is a documented flag`);
  }
}

Deno.test("GitHub Actions: base, a matrix of 4 shards per recipe, a merge publishing artifacts", async () => {
  const wf = parse(await Deno.readTextFile(`${ROOT}.github/workflows/bench.yml`));
  deepEqual(Object.keys(wf.jobs), ["test", "base", "shard", "merge"]);
  equal(wf.jobs.shard.needs, "base");
  equal(wf.jobs.merge.needs, "shard");
  deepEqual(wf.jobs.shard.strategy.matrix.shard, [0, 1, 2, 3]);
  equal(Number(wf.env.SHARDS), wf.jobs.shard.strategy.matrix.shard.length);
  for (const [name, job] of Object.entries(wf.jobs) as [string, { steps: { run?: string }[] }][]) {
    for (const s of job.steps) if (s.run) checkCommand(s.run, `job ${name}`);
  }
  const run = wf.jobs.shard.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
  ok(/--shard \$\{\{ matrix\.shard \}\}\/\$\{\{ env\.SHARDS \}\}/.test(run), run);
  const uploads = JSON.stringify(wf.jobs.merge.steps);
  for (const f of ["report.html", "records.jsonl", "leaderboard"]) ok(uploads.includes(f), f);
});

Deno.test("Kubernetes: an Indexed Job of shards reading JOB_COMPLETION_INDEX, base and merge Jobs", async () => {
  const job = parse(await Deno.readTextFile(`${ROOT}deploy/k8s/bench-job.yaml`));
  equal(job.kind, "Job");
  equal(job.spec.completionMode, "Indexed");
  const c = job.spec.template.spec.containers[0];
  const shards = c.env.find((e: { name: string }) => e.name === "SHARDS").value;
  equal(Number(shards), job.spec.completions, "SHARDS matches completions");
  const cmd = c.args.join(" ");
  ok(cmd.includes('--shard "$JOB_COMPLETION_INDEX/$SHARDS"'), cmd);
  checkCommand(cmd, "bench-job");
  for (const f of ["base-job.yaml", "merge-job.yaml"]) {
    const j = parse(await Deno.readTextFile(`${ROOT}deploy/k8s/${f}`));
    equal(j.kind, "Job");
    checkCommand(j.spec.template.spec.containers[0].args.join(" "), f);
    equal(
      j.spec.template.spec.volumes.find((v: { name: string }) => v.name === "results")
        .persistentVolumeClaim.claimName,
      "forgetbench-results",
    );
  }
  const pvc = parse(await Deno.readTextFile(`${ROOT}deploy/k8s/volume.yaml`));
  deepEqual([pvc.kind, pvc.metadata.name, pvc.spec.accessModes], [
    "PersistentVolumeClaim",
    "forgetbench-results",
    ["ReadWriteMany"],
  ]);
});
