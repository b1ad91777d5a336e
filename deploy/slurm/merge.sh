#!/usr/bin/env bash
# Joins the shards of deploy/slurm/bench_array.sh into OUT (submitted by submit.sh with
# --dependency=afterok on the array, so it runs once every shard finished).
#
#   sbatch --dependency=afterok:ARRAY_JOB_ID deploy/slurm/merge.sh OUT
#SBATCH --job-name=forgetbench-merge
#SBATCH --cpus-per-task=1
#SBATCH --output=forgetbench-merge-%j.out
set -euo pipefail
out=${1:?usage: sbatch --dependency=afterok:JOB merge.sh OUT}
cd "${FORGETBENCH_DIR:-${SLURM_SUBMIT_DIR:-$PWD}}"
deno=${FORGETBENCH_DENO:-npx -y deno@2.9.6}
exec $deno task merge "$out" "$out"/shards/* --quiet
