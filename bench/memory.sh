#!/usr/bin/env bash
# Idle memory once both engines answer: the RSS of everything twinboxd runs (twinboxd, both QEMUs,
# both ssh channels) against a floor measured in the same run: two plain qemu-system-aarch64 of
# the same guest at their "engine ready" console marker.
#   bench/memory.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
rss_mib() { ps -o rss= -p "$(echo "$@" | tr ' ' ',')" | awk '{s+=$1} END {printf "%.0f", s/1024}'; }

pids=()
for role in hv rosetta; do
  floor_prepare "$WORK/floor-$role"
  floor_start "$role" "$WORK/floor-$role" 2>/dev/null
  pids+=($!)
done
floor_wait_ready "$WORK/floor-hv" "$WORK/floor-rosetta"
sleep 5
floor=$(rss_mib "${pids[@]}")
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true

S=$WORK/state; mkdir -p "$S"
"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" >"$WORK/twinboxd.log" 2>&1 &
PID=$!
"$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
sleep 5
tree=$(pgrep -f "$S/" | tr '\n' ' ')
tb=$(rss_mib $PID $tree)
# shellcheck disable=SC2046  # one argument per pid
qemus=$(rss_mib $(pgrep -f "qemu-system.*$S/" | tr '\n' ' '))
kill -TERM $PID; wait $PID || true
echo "idle RSS with both engines ready:"
echo "  floor (two plain QEMUs, same guest): ${floor} MiB"
echo "  twinboxd + its QEMUs + ssh channels: ${tb} MiB (of which QEMUs ${qemus} MiB)"
echo "  ratio: $(ratio "$tb" "$floor")"
figure "idle RSS, both engines ready (MiB)" "$tb" "$floor" "$(ratio "$tb" "$floor")"
