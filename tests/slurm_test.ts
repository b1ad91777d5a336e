// The Slurm path for real (README "Grids on many machines"): `.ci/run` starts a one-node cluster
// (.ci/slurm_up.sh: Debian's slurm-wlm and munge on localhost) and sets FORGETBENCH_SLURM=1;
// this test submits `bench smoke` with deploy/slurm/submit.sh as a base job (pretraining once), a
// job array of 4 shards after it and a merge job that depends on the array, waits for both, and compares the merged folder with the
// unsharded run byte for byte (CSVs and samples; records without their wall-clock timing lines).
// Without a cluster it is ignored (and fails under CI=1 when FORGETBENCH_SLURM=1 promised one).

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { cli, sameResults } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const o = new Deno.Command(cmd, { args, cwd: ROOT, env, stdout: "piped", stderr: "piped" })
    .outputSync();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

function clusterUp(): boolean {
  try {
    return sh("sinfo", ["-h", "-o", "%T"]).out.trim() !== "";
  } catch {
    return false;
  }
}

const wanted = Deno.env.get("FORGETBENCH_SLURM") === "1";

Deno.test({
  name: "slurm: bench smoke as a job array of 4 plus a dependent merge equals the unsharded run",
  ignore: !wanted && !clusterUp(),
  async fn() {
    ok(clusterUp(), "FORGETBENCH_SLURM=1 but no Slurm cluster answers (run .ci/slurm_up.sh)");
    const tmp = await Deno.makeTempDir({ prefix: "fb-slurm-" });
    try {
      const env = { FORGETBENCH_CACHE: join(tmp, "cache"), FORGETBENCH_DENO: Deno.execPath() };
      const want = join(tmp, "whole");
      const whole = await cli(["bench", "smoke", "--jobs", "1", "--out", want, "--quiet"], {
        env,
      });
      equal(whole.code, 0, whole.stderr);
      const out = join(tmp, "slurm");
      const sub = sh("bash", ["deploy/slurm/submit.sh", "4", "smoke", out], {
        ...Deno.env.toObject(),
        ...env,
      });
      equal(sub.code, 0, sub.err);
      const [base, array, merge] = sub.out.trim().split(" ");
      ok([base, array, merge].every((id) => /^\d+$/.test(id)), sub.out);
      // Wait for both jobs to leave the queue (10 minutes at most).
      const t0 = Date.now();
      while (sh("squeue", ["-h", "-j", `${base},${array},${merge}`]).out.trim() !== "") {
        ok(Date.now() - t0 < 600_000, "the Slurm jobs did not finish within 10 minutes");
        await new Promise((r) => setTimeout(r, 1000));
      }
      const state = sh("scontrol", ["show", "job", merge]).out;
      ok(/JobState=COMPLETED/.test(state), `merge job: ${state.slice(0, 400)}`);
      for (let i = 0; i < 4; i++) {
        const info = JSON.parse(await Deno.readTextFile(join(out, "shards", `${i}`, "shard.json")));
        equal(`${info.shard.index}/${info.shard.count}`, `${i}/4`, "SLURM_ARRAY_TASK_ID/COUNT");
      }
      await sameResults(out, want, "Slurm array of 4 merged");
      // The base job made sure of the base (the unsharded run above pretrained it into this
      // cache); every shard found it there.
      const baseLog = await Deno.readTextFile(join(out, "logs", "base.out"));
      ok(/base model (pretrained|already in the cache): /.test(baseLog), baseLog);
      for (let i = 0; i < 4; i++) {
        const m = JSON.parse(await Deno.readTextFile(join(out, "shards", `${i}`, "manifest.json")));
        equal(m.base_model.cached, true, `shard ${i} took the base from the cache`);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
