#!/usr/bin/env bash
# Submits a recipe as three Slurm jobs: the base model pretrained once (base.sh), a job array of N
# shards that starts after it (bench_array.sh), and a merge job that waits for every shard.
#
#   deploy/slurm/submit.sh N RECIPE OUT [bench flags...]
#
# Prints the three job ids ("BASE_ID ARRAY_ID MERGE_ID"). Extra sbatch options (partition, time, account)
# go in $SBATCH_ARGS, e.g. SBATCH_ARGS="--partition=gpu --time=08:00:00".
set -euo pipefail
n=${1:?usage: submit.sh N RECIPE OUT [bench flags...]}
recipe=${2:?usage: submit.sh N RECIPE OUT [bench flags...]}
out=${3:?usage: submit.sh N RECIPE OUT [bench flags...]}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/logs"
# shellcheck disable=SC2086
base=$(sbatch --parsable ${SBATCH_ARGS:-} --output="$out/logs/base.out" "$here/base.sh" "$recipe" "$@")
base=${base%%;*}
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_ARGS:-} --array="0-$((n - 1))" \
  --dependency="afterok:$base" --kill-on-invalid-dep=yes \
  --output="$out/logs/shard-%a.out" "$here/bench_array.sh" "$recipe" "$out" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_ARGS:-} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$out/logs/merge.out" "$here/merge.sh" "$out")
echo "$base $array ${merge%%;*}"
