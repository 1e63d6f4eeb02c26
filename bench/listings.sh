#!/usr/bin/env bash
# Listings at scale (issue 24): `docker ps -a` with CONTAINERS containers across both backends
# and `docker images` with IMAGES image entries, through twinboxd, against the two engines' own
# sockets asked at once (what twinboxd does; on two cores two TCG engines busy together are
# slower than one alone) and against each engine alone. Calls on a fresh connection each (the
# docker CLI) and on one kept connection (docker-py), interleaved (bench/api_calls.py).
#   bench/listings.sh [RUNS] [CONTAINERS] [IMAGES]   (default 5, 500, 200)
# The containers are created (not started) half on each engine straight on its own socket, and
# the image entries are tags, half on each: what is measured is the listing, not the creating.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-5}
NC=${2:-500}
NI=${3:-200}
ARM=127.0.0.1:5000/twinbox/busybox:latest
AMD=127.0.0.1:5000/twinbox/busybox-amd64:latest
bench_state_dir
TB=$S/docker.sock HV=$S/run/hv-engine.sock RO=$S/run/rosetta-engine.sock

"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" >>"$S/twinboxd.log" 2>&1 &
# shellcheck disable=SC2034  # lib.sh stop_daemon ends it
PID=$!
"$TWINBOX" --socket "$TB" status --wait 900 >/dev/null

docker pull -q "$ARM" >/dev/null
docker pull -q --platform linux/amd64 "$AMD" >/dev/null
echo "creating $NC containers and $NI image tags, half on each engine" >&2
seq 1 $((NC / 2)) | xargs -P 4 -I{} docker -H "unix://$HV" create --name hv{} "$ARM" true >/dev/null
seq 1 $((NC - NC / 2)) | xargs -P 4 -I{} docker -H "unix://$RO" create --platform linux/amd64 --name ro{} "$AMD" true >/dev/null
seq 1 $((NI / 2)) | xargs -P 4 -I{} docker -H "unix://$HV" tag "$ARM" bench/hv:{}
seq 1 $((NI - NI / 2)) | xargs -P 4 -I{} docker -H "unix://$RO" tag "$AMD" bench/ro:{}
got=$(docker ps -aq | wc -l)
[ "$got" -ge "$NC" ] || { echo "listings.sh: docker ps -a shows $got containers, want $NC" >&2; exit 1; }
got=$(docker images -q --filter reference='bench/*' | wc -l)
[ "$got" -ge 2 ] || { echo "listings.sh: docker images shows no bench/* entries" >&2; exit 1; }

echo "listings: ${RUNS} per place, interleaved" >&2
python3 "$BENCH_ROOT/bench/api_calls.py" "$RUNS" twinbox="$TB" both="$HV+$RO" hv="$HV" \
  rosetta="$RO" -- "/v1.45/containers/json?all=1" /v1.45/images/json >"$OUT/calls"

echo "medians of $RUNS, ms; $NC containers, $NI image tags (floor: both engines' own sockets asked"
echo "at once; alone: the slower engine asked alone)"
echo "| call | connection | twinbox | floor | ratio | slower alone | ratio | goal |"
echo "|---|---|---|---|---|---|---|---|"
for target in "/v1.45/containers/json?all=1" /v1.45/images/json; do
  for mode in fresh kept; do
    m=$(api_call_ms "$OUT/calls" "$target" "$mode" twinbox)
    f=$(api_call_ms "$OUT/calls" "$target" "$mode" both)
    h=$(api_call_ms "$OUT/calls" "$target" "$mode" hv)
    r=$(api_call_ms "$OUT/calls" "$target" "$mode" rosetta)
    slow=$(awk -v a="$h" -v b="$r" 'BEGIN {print (a > b) ? a : b}')
    figure "GET $target, $mode connection, $NC containers / $NI images, vs both engines at once (ms)" \
      "$m" "$f" "$(ratio "$m" "$f")" "<= 1.1"
    echo "| \`GET $target\` | $mode | $m | $f | $(ratio "$m" "$f") | $slow | $(ratio "$m" "$slow") | <= 1.1 |"
  done
done
