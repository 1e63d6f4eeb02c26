#!/usr/bin/env bash
# One guest engine against another in the same run (issue 20): the guests of NEW assets (Debian
# 13: dockerd 26) against those of OLD assets (Debian 12: dockerd 20.10, the floor). Per round
# and per asset dir: twinboxd launch -> both engines answering, each guest's own "ready after N s
# of uptime" (its console), and `docker run --rm` through twinboxd on hv (linux/arm64) and on
# rosetta (linux/amd64). Rounds alternate OLD and NEW so drift in the machine's load hits both.
#   bench/engines.sh OLD_ASSETS NEW_ASSETS [ROUNDS] [RUNS]   (defaults: 2 rounds, 3 runs each)
# Needs the test registry (scripts/test-registry push).
set -euo pipefail
OLD=${1:?usage: bench/engines.sh OLD_ASSETS NEW_ASSETS [ROUNDS] [RUNS]}
NEW=${2:?usage: bench/engines.sh OLD_ASSETS NEW_ASSETS [ROUNDS] [RUNS]}
ROUNDS=${3:-2}
RUNS=${4:-3}
export TWINBOX_TEST_ASSETS=$OLD # lib.sh must not build assets
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox:latest
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)
PID=""
trap '[ -z "$PID" ] || { kill -TERM "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$WORK"' EXIT

# round ASSETS LABEL: appends one figure per line to $WORK/LABEL.{boot,uptime,hv,rosetta}.
round() {
  local assets=$1 label=$2 s=$WORK/state t0 t1 pair vm plat
  rm -rf "$s"
  mkdir -p "$s"
  t0=$(now)
  "$TWINBOXD" --state-dir "$s" --assets "$assets" >"$WORK/$label.twinboxd.log" 2>&1 &
  PID=$!
  "$TWINBOX" --socket "$s/docker.sock" status --wait 900 >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b-a}' >>"$WORK/$label.boot"
  sed -n 's/.*ready after \([0-9.]*\) s of uptime.*/\1/p' "$s"/vms/*/console.log >>"$WORK/$label.uptime"
  for pair in hv:linux/arm64 rosetta:linux/amd64; do
    vm=${pair%%:*}
    plat=${pair#*:}
    DOCKER_HOST=unix://$s/docker.sock docker pull -q --platform "$plat" "$IMG" >/dev/null
    for _ in $(seq 1 "$RUNS"); do
      t0=$(now)
      DOCKER_HOST=unix://$s/docker.sock docker run --rm --platform "$plat" "$IMG" true >/dev/null
      t1=$(now)
      awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b-a}' >>"$WORK/$label.$vm"
    done
  done
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
}

for r in $(seq 1 "$ROUNDS"); do
  round "$OLD" old
  round "$NEW" new
  echo "round $r done" >&2
done

engine() { jq -r '.packages["docker.io"]' "$1/assets.json"; }
echo "| figure (median) | new: docker.io $(engine "$NEW") | floor: docker.io $(engine "$OLD") | ratio |"
echo "|---|---|---|---|"
for fig in boot uptime hv rosetta; do
  case $fig in
    boot) what="twinboxd launch -> both engines answering, s ($ROUNDS rounds)" ;;
    uptime) what="guest boot -> engine ready (console, both VMs), s" ;;
    *) what="\`docker run --rm\` on $fig, s ($((ROUNDS * RUNS)) runs)" ;;
  esac
  row "$what" "$WORK/new.$fig" "$WORK/old.$fig"
done
