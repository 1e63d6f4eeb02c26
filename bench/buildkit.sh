#!/usr/bin/env bash
# BuildKit through twinboxd's /grpc relay (issue 21) against the same build on a direct connection
# to the engine that runs it (its forwarded socket: the floor), in one run, alternating. Per
# platform: `docker buildx build --load` of a two-step Dockerfile (a RUN made new each time by a
# build-arg, so nothing is cached) on rosetta (linux/amd64) and hv (linux/arm64); and `docker
# buildx du`, which twinboxd asks of both engines (floor: hv's alone).
#   bench/buildkit.sh [RUNS]   (default 3)
# Needs the test registry (scripts/test-registry push).
set -euo pipefail
RUNS=${1:-3}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox:latest
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)
S=$WORK/s
PID=""
trap '[ -z "$PID" ] || { kill -TERM "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$S" "$WORK/ctx"
# shellcheck disable=SC2016 # $N is the build step's
printf 'FROM %s\nARG N=0\nRUN echo "$N" > /n && uname -m > /arch\n' "$IMG" >"$WORK/ctx/Dockerfile"
export DOCKER_CONFIG=$WORK/docker-config
"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" >"$WORK/twinboxd.log" 2>&1 &
PID=$!
"$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null

# timed HOST FILE CMD...: runs CMD with DOCKER_HOST=HOST, appends its seconds to FILE.
timed() {
  local host=$1 file=$2 t0 t1
  shift 2
  t0=$(now)
  DOCKER_HOST=$host "$@" >/dev/null 2>&1
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b-a}' >>"$file"
}
n=0
for pair in rosetta:linux/amd64 hv:linux/arm64; do
  vm=${pair%%:*}
  plat=${pair#*:}
  direct=unix://$S/run/$vm-engine.sock
  # Warm both paths (the base image in the engine's build cache).
  for h in "unix://$S/docker.sock" "$direct"; do
    DOCKER_HOST=$h docker buildx build -q --platform "$plat" --load -t bench-bk "$WORK/ctx" >/dev/null
  done
  for _ in $(seq 1 "$RUNS"); do
    n=$((n + 1))
    timed "unix://$S/docker.sock" "$WORK/tb.$vm" docker buildx build --platform "$plat" \
      --build-arg N=$n --load -t bench-bk "$WORK/ctx"
    n=$((n + 1))
    timed "$direct" "$WORK/floor.$vm" docker buildx build --platform "$plat" \
      --build-arg N=$n --load -t bench-bk "$WORK/ctx"
  done
done
for _ in $(seq 1 "$RUNS"); do
  timed "unix://$S/docker.sock" "$WORK/tb.du" docker buildx du
  timed "unix://$S/run/hv-engine.sock" "$WORK/floor.du" docker buildx du
done

echo "| figure (median of $RUNS) | through twinboxd | floor: the engine's own socket | ratio |"
echo "|---|---|---|---|"
for fig in rosetta hv du; do
  case $fig in
    rosetta) what="\`buildx build --load\`, linux/amd64 in rosetta, s" ;;
    hv) what="\`buildx build --load\`, linux/arm64 in hv, s" ;;
    du) what="\`buildx du\` (twinboxd: both engines; floor: hv), s" ;;
  esac
  row "$what" "$WORK/tb.$fig" "$WORK/floor.$fig"
done
