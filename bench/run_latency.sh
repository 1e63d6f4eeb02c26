#!/usr/bin/env bash
# `docker run --rm` latency through twinboxd against a direct connection to the same guest engine
# (the engine's own socket, forwarded by twinboxd's ssh channel), for hv and rosetta.
#   bench/run_latency.sh [RUNS]   (default 7). Starts and stops its own twinboxd.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-7}
IMG=127.0.0.1:5000/twinbox/busybox:latest
S=$(mktemp -d /tmp/tbbench.XXXXXX)
"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" >"$S/twinboxd.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID; wait $PID; rm -rf "$S"' EXIT
"$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
export DOCKER_CONFIG=$S/cfg

time_runs() {  # HOST PLATFORM
  local t0 t1
  DOCKER_HOST=$1 docker pull -q --platform "$2" "$IMG" >/dev/null
  for _ in $(seq 1 "$RUNS"); do
    t0=$(now)
    DOCKER_HOST=$1 docker run --rm --platform "$2" "$IMG" true >/dev/null
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b-a}'
  done | median
}

for pair in hv:linux/arm64 rosetta:linux/amd64; do
  vm=${pair%%:*}; plat=${pair#*:}
  direct=$(time_runs "unix://$S/run/$vm-engine.sock" "$plat")
  via=$(time_runs "unix://$S/docker.sock" "$plat")
  echo "docker run --rm ($vm, $plat), median of $RUNS: direct ${direct} s, via twinboxd ${via} s, ratio $(ratio "$via" "$direct")"
  figure "docker run --rm on $vm through twinboxd vs the engine's socket (s)" "$via" "$direct" "$(ratio "$via" "$direct")" "<= 1.05"
done
