#!/usr/bin/env bash
# Pull time of the multi-arch test image from the local registry (issue 3):
#  1. into the host content store (`twinbox image prewarm`: index, both platforms, verified)
#     against `skopeo copy --all` of the same image into an empty OCI layout;
#  2. `docker pull` through twinboxd end to end (index + the arm64 variant into the store, then
#     `docker load` into hv's engine) against `skopeo copy` of that one platform into an OCI
#     layout, and against `skopeo copy` to a docker-archive + `docker load` into the same engine;
#  3. `docker load` of that docker-archive through twinboxd (into the store, then into hv's
#     engine) against `docker load` of the same file straight into hv's engine.
#   bench/pull.sh [RUNS] [REF...]   (default 5 runs of the multi-arch busybox, ~1 MB a platform,
#   and of 127.0.0.1:5000/twinbox/big:latest, 4 layers of 56 MiB of incompressible data that
#   bench/big_image.py builds and pushes when the registry lacks it). Needs the test registry
#   (`scripts/test-registry push`).
# Every twinboxd measurement starts from an empty content store: `twinbox image rm` + `prune`
# after each one, checked (no blob left). One twinboxd start, with hv only: the rosetta VM plays
# no part in these pulls and an idle TCG VM would only take CPU from both sides.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-5}
shift || true
REFS=("$@")
[ ${#REFS[@]} -gt 0 ] || REFS=(127.0.0.1:5000/twinbox/busybox:latest 127.0.0.1:5000/twinbox/big:latest)
S=$(mktemp -d /tmp/tbbench.XXXXXX)  # short: the socket path is limited to 108 bytes
W=$S/work
mkdir -p "$W"
PID=
stop_daemon() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" || true
    PID=
  fi
}
trap 'stop_daemon; rm -rf "$S"' EXIT
export DOCKER_CONFIG=$S/cfg
HV="unix://$S/run/hv-engine.sock"

curl -fsS "http://127.0.0.1:5000/v2/" >/dev/null ||
  { echo "pull.sh: no test registry on 127.0.0.1:5000 (scripts/test-registry push)" >&2; exit 1; }

start_daemon() {  # CONTENT_STORE_DIR
  "$TWINBOXD" --state-dir "$S" --assets "$ASSETS" --no-rosetta --content-store "$1" \
    >>"$S/twinboxd.log" 2>&1 &
  PID=$!
  "$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
}
tb() { "$TWINBOX" --socket "$S/docker.sock" "$@"; }
# secs CMD...: wall-clock seconds of CMD (its output discarded; a failure stops the script).
secs() {
  local t0 t1
  t0=$(now)
  "$@" >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b-a}'
}
blob_bytes() { du -sb "$1/blobs" | cut -f1; }
STORE=$S/content
# Forgets REF and removes its blobs, so the next measurement fetches everything again.
empty_store() {
  tb image rm "$REF" >/dev/null
  tb image prune >/dev/null
  local left
  left=$(find "$STORE/blobs" -type f | wc -l)
  [ "$left" -eq 0 ] || { echo "pull.sh: $left blobs left in $STORE after rm + prune" >&2; exit 1; }
}
drop_from_hv() { docker --host "$HV" rmi -f "$REF" >/dev/null 2>&1 || true; }
skopeo_load() {  # DIR: one platform to a docker-archive, then docker load into hv's engine
  skopeo copy -q --src-tls-verify=false --override-os linux --override-arch arm64 \
    "docker://$REF" "docker-archive:$1/one.tar:$REF"
  docker --host "$HV" load -q -i "$1/one.tar"
}

# measure REF: the three comparisons above for one image, RUNS times; prints and records them.
measure() {
  REF=$1
  local name=${REF##*/}
  [ "$REF" != 127.0.0.1:5000/twinbox/big:latest ] || "$(dirname "$0")/big_image.py" "$REF" >/dev/null
  LIST=$W/prewarm.txt
  echo "$REF" >"$LIST"
  : >"$W/prewarm" && : >"$W/skopeo_all" && : >"$W/pull" && : >"$W/skopeo_one" && : >"$W/skopeo_load"
  : >"$W/load" && : >"$W/load_direct"
  for i in $(seq 1 "$RUNS"); do
    # 1. the content store, both platforms
    secs tb image prewarm "$LIST" >>"$W/prewarm"
    secs skopeo copy -q --all --src-tls-verify=false "docker://$REF" "oci:$W/all-$i:latest" \
      >>"$W/skopeo_all"
    store_bytes=$(blob_bytes "$STORE")
    skopeo_bytes=$(blob_bytes "$W/all-$i")
    empty_store

    # 2. docker pull end to end (hv), and its floors
    drop_from_hv
    secs docker --host "unix://$S/docker.sock" pull -q "$REF" >>"$W/pull"
    empty_store
    secs skopeo copy -q --src-tls-verify=false --override-os linux --override-arch arm64 \
      "docker://$REF" "oci:$W/one-$i:latest" >>"$W/skopeo_one"
    drop_from_hv
    mkdir -p "$W/load-$i"
    secs skopeo_load "$W/load-$i" >>"$W/skopeo_load"
    drop_from_hv

    # 3. docker load of the same archive, through twinboxd and straight into the engine
    secs docker --host "unix://$S/docker.sock" load -q -i "$W/load-$i/one.tar" >>"$W/load"
    empty_store
    drop_from_hv
    secs docker --host "$HV" load -q -i "$W/load-$i/one.tar" >>"$W/load_direct"
    drop_from_hv
    echo "$name: run $i/$RUNS done (store $store_bytes bytes of blobs, skopeo --all $skopeo_bytes)" >&2
    rm -rf "$W/all-$i" "$W/one-$i" "$W/load-$i"
  done

  pw=$(median <"$W/prewarm"); sa=$(median <"$W/skopeo_all")
  pl=$(median <"$W/pull"); so=$(median <"$W/skopeo_one"); sl=$(median <"$W/skopeo_load")
  ld=$(median <"$W/load"); lf=$(median <"$W/load_direct")
  echo "pull $REF into the content store, both platforms, median of $RUNS: twinbox image prewarm ${pw} s, skopeo copy --all ${sa} s, ratio $(ratio "$pw" "$sa")"
  echo "docker pull $REF through twinboxd (arm64, store + docker load into hv), median of $RUNS: ${pl} s; skopeo copy of linux/arm64 ${so} s, ratio $(ratio "$pl" "$so"); skopeo copy to docker-archive + docker load into hv ${sl} s, ratio $(ratio "$pl" "$sl")"
  figure "$name: pull into the content store, both platforms, vs skopeo copy --all (s)" "$pw" "$sa" "$(ratio "$pw" "$sa")" "<= 1.0"
  figure "$name: docker pull vs skopeo copy + docker load (s)" "$pl" "$sl" "$(ratio "$pl" "$sl")" "<= 1.1"
  figure "$name: docker load vs straight into the engine (s)" "$ld" "$lf" "$(ratio "$ld" "$lf")"
  echo "docker load of that archive, median of $RUNS: through twinboxd (store + docker load into hv) ${ld} s; straight into hv's engine ${lf} s, ratio $(ratio "$ld" "$lf")"
}

start_daemon "$STORE"
for ref in "${REFS[@]}"; do measure "$ref"; done
stop_daemon
