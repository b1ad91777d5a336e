#!/usr/bin/env bash
# Stops the one-node Slurm cluster started by .ci/slurm_up.sh.
if [ "$(id -u)" != 0 ]; then exec sudo bash "$0" "$@"; fi
scancel --user=root >/dev/null 2>&1 || true
for d in slurmd slurmctld munged; do pkill -x "$d" 2>/dev/null || true; done
for _ in $(seq 1 20); do pgrep -x 'slurmd|slurmctld|munged' >/dev/null || exit 0; sleep 0.5; done
pkill -9 -x 'slurmd|slurmctld|munged' 2>/dev/null || true
