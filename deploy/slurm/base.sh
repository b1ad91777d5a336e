#!/usr/bin/env bash
# Pretrains a recipe's base model into the shared cache (bench --base-only) before its shards
# run, so that none of them pretrains; submit.sh makes the array depend on it (afterok).
#
#   sbatch deploy/slurm/base.sh RECIPE [bench flags...]
#SBATCH --job-name=forgetbench-base
#SBATCH --cpus-per-task=1
#SBATCH --output=forgetbench-base-%j.out
set -euo pipefail
recipe=${1:?usage: sbatch base.sh RECIPE [bench flags...]}
shift
cd "${FORGETBENCH_DIR:-${SLURM_SUBMIT_DIR:-$PWD}}"
deno=${FORGETBENCH_DENO:-npx -y deno@2.9.6}
exec $deno task bench "$recipe" --base-only "$@"
