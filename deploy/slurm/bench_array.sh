#!/usr/bin/env bash
# One shard of a forgetbench recipe per Slurm array task (README "Grids on many machines").
#
#   sbatch --array=0-3 deploy/slurm/bench_array.sh RECIPE OUT [bench flags...]
#
# Task i of an array of n runs `bench RECIPE --shard i/n --out OUT/shards/i`; the shards share
# the cache ($FORGETBENCH_CACHE, on a filesystem every node sees), where the first shard to get
# there pretrains the base model and the others wait for it. deploy/slurm/submit.sh submits the
# array and a merge job that runs after it (afterok). Runs from the submission directory, which
# must be a forgetbench checkout ($FORGETBENCH_DIR overrides); Deno comes from npm unless
# $FORGETBENCH_DENO names a deno binary.
#SBATCH --job-name=forgetbench
#SBATCH --cpus-per-task=1
#SBATCH --output=forgetbench-%A_%a.out
set -euo pipefail
recipe=${1:?usage: sbatch --array=0-3 bench_array.sh RECIPE OUT [bench flags...]}
out=${2:?usage: sbatch --array=0-3 bench_array.sh RECIPE OUT [bench flags...]}
shift 2
: "${SLURM_ARRAY_TASK_ID:?run as an array job: sbatch --array=0-3 ...}"
# Indexes from 0 whatever the array's range (--array=1-4 works too).
i=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
n=${SLURM_ARRAY_TASK_COUNT:?SLURM_ARRAY_TASK_COUNT is unset: Slurm 18.08 or newer is needed}
cd "${FORGETBENCH_DIR:-${SLURM_SUBMIT_DIR:-$PWD}}"
deno=${FORGETBENCH_DENO:-npx -y deno@2.9.6}
# --resume: a requeued (preempted) task continues its shard where it stopped.
exec $deno task bench "$recipe" --shard "$i/$n" --out "$out/shards/$i" --quiet --resume "$@"
