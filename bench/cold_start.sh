#!/usr/bin/env bash
# Cold start: twinboxd launch -> both guest engines answering through twinboxd, against a floor
# measured in the same run: plain qemu-system-aarch64 booting the same kernel, initramfs and base
# image (two at once, as twinboxd does) to the guest's "engine ready" console marker.
#   bench/cold_start.sh [RUNS]      (default 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-3}
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

floor_once() {
  local pids=() t0 t1 role
  for role in hv rosetta; do floor_prepare "$WORK/floor-$role"; done
  t0=$(now)
  for role in hv rosetta; do
    floor_start "$role" "$WORK/floor-$role" 2>/dev/null
    pids+=($!)
  done
  floor_wait_ready "$WORK/floor-hv" "$WORK/floor-rosetta"
  t1=$(now)
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b-a}'
}

twinbox_once() {
  local s=$WORK/state t0 t1
  rm -rf "$s"; mkdir -p "$s"
  t0=$(now)
  "$TWINBOXD" --state-dir "$s" --assets "$ASSETS" >"$WORK/twinboxd.log" 2>&1 &
  local pid=$!
  "$TWINBOX" --socket "$s/docker.sock" status --wait 900 >/dev/null
  t1=$(now)
  kill -TERM "$pid"; wait "$pid" || true
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b-a}'
}

floor=(); tb=()
for i in $(seq 1 "$RUNS"); do
  floor+=("$(floor_once)")
  tb+=("$(twinbox_once)")
  echo "run $i: floor ${floor[-1]} s, twinboxd ${tb[-1]} s" >&2
done
mf=$(printf '%s\n' "${floor[@]}" | median)
mt=$(printf '%s\n' "${tb[@]}" | median)
echo "cold start (both VMs, engines answering), median of $RUNS:"
echo "  floor (plain qemu, same guest, console marker): ${mf} s"
echo "  twinboxd (launch to both engines via its API): ${mt} s"
echo "  ratio twinboxd/floor: $(ratio "$mt" "$mf")"
figure "cold start: launch to both engines answering (s)" "$mt" "$mf" "$(ratio "$mt" "$mf")"
