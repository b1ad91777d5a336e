#!/usr/bin/env bash
# Stops the one-node Slurm cluster started by .ci/slurm_up.sh.
if [ "$(id -u)" != 0 ]; then exec sudo bash "$0" "$@"; fi
scancel --user=root >/dev/null 2>&1 || true
for d in slurmd slurmctld munged; do pkill -x "$d" 2>/dev/null || true; done
running() { pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null; }
for _ in $(seq 1 20); do running || exit 0; sleep 0.5; done
for d in slurmd slurmctld munged; do pkill -9 -x "$d" 2>/dev/null || true; done
