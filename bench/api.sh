#!/usr/bin/env bash
# The proxy's cost (issue 23, part 2). API calls and streams through twinboxd against the same
# call on the guest engine's own socket (the one twinboxd itself forwards over ssh,
# <state>/run/<vm>-engine.sock), and streams also inside the guest (no channel at all: what the
# ssh channel costs). All in one run, the places taking turns.
#   bench/api.sh [RUNS] [TWINBOXD FLAGS...]   (default 5). Starts and stops its own twinboxd.
# Calls: `_ping`, `/version`, `/info`, `/containers/json?all=1`, `/containers/{id}/json`, on a fresh
# connection each (the docker CLI) and on one kept-alive connection (docker-py). Calls twinboxd
# answers by asking both engines have as floor both engine sockets asked at once.
# Streams on hv, 50 MB each: `docker cp` out of and into a container, `docker exec cat` (a
# hijacked stream), `docker logs` (2 MB: dockerd decodes its json-file log at well under 1 MB/s
# under TCG), `docker save` and `docker load` of an image with a 50 MB layer.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-5}
shift || true
ARM=127.0.0.1:5000/twinbox/busybox:latest
bench_state_dir
TB=$S/docker.sock HV=$S/run/hv-engine.sock RO=$S/run/rosetta-engine.sock

"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" "$@" >>"$S/twinboxd.log" 2>&1 &
# shellcheck disable=SC2034  # lib.sh stop_daemon ends it
PID=$!
"$TWINBOX" --socket "$TB" status --wait 900 >/dev/null

secs() {  # T0 T1
  awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", b-a}'
}
timed() {  # COMMAND... (its stdout and stderr dropped) -> seconds
  local t0
  t0=$(now)
  "$@" >/dev/null 2>&1
  secs "$t0" "$(now)"
}

# The workload: a few containers on each backend, one on hv holding 50 MB to stream, and an
# image with that 50 MB as its top layer.
docker pull -q "$ARM" >/dev/null
docker run -d --name src "$ARM" sh -c 'head -c 50000000 /dev/urandom > /big; exec sleep 3600' >/dev/null
for i in 1 2 3; do docker create --name "idle$i" "$ARM" true >/dev/null; done
docker run -d --name ro1 --platform linux/amd64 127.0.0.1:5000/twinbox/busybox-amd64:latest sleep 3600 >/dev/null
until docker exec src test -s /big 2>/dev/null && [ "$(docker exec src stat -c %s /big)" = 50000000 ]; do sleep 1; done
docker run --name logger "$ARM" sh -c 'yes 0123456789012345678901234567890123456789 | head -c 2000000' >/dev/null
docker commit src bench/big:1 >/dev/null
docker save bench/big:1 >"$S/big.tar"
docker exec src sh -c 'mkdir -p /in && cd / && tar cf /in.tar big'
docker cp src:/in.tar "$S/in.tar"

# Inside the guest: a privileged helper enters PID 1's namespaces and times the same commands
# with the guest's own docker CLI on /var/run/docker.sock.
helper=$(docker run -d --privileged --pid host --cgroupns host "$ARM" sleep 3600)
in_guest() {  # SHELL-COMMAND -> seconds
  docker exec "$helper" nsenter -t 1 -m -u -i -n -p bash -c \
    "s=\$EPOCHREALTIME; { $1; } >/dev/null 2>&1; awk -v a=\$s -v b=\$EPOCHREALTIME 'BEGIN {printf \"%.3f\n\", b-a}'"
}
docker cp "$S/in.tar" "$helper:/in.tar"
docker exec "$helper" nsenter -t 1 -m -u -i -n -p bash -c \
  "docker save bench/big:1 > /run/bench-big.tar && docker cp $helper:/in.tar /run/bench-in.tar"

echo "API calls: ${RUNS} per place, interleaved" >&2
python3 "$BENCH_ROOT/bench/api_calls.py" "$RUNS" twinbox="$TB" hv="$HV" both="$HV+$RO" -- \
  /_ping /v1.45/version /v1.45/info "/v1.45/containers/json?all=1" /v1.45/containers/src/json \
  >"$OUT/calls"

echo "streams: ${RUNS} per place, interleaved" >&2
for _ in $(seq 1 "$RUNS"); do
  for place in twinbox engine guest; do
    case $place in
      twinbox) H=unix://$TB ;;
      engine) H=unix://$HV ;;
    esac
    if [ "$place" = guest ]; then
      in_guest "docker cp src:/big -" >>"$OUT/cpout-$place"
      in_guest "docker cp - src:/in </run/bench-in.tar" >>"$OUT/cpin-$place"
      in_guest "docker exec src cat /big" >>"$OUT/exec-$place"
      in_guest "docker logs logger" >>"$OUT/logs-$place"
      in_guest "docker save bench/big:1" >>"$OUT/save-$place"
      in_guest "docker rmi bench/big:1" >/dev/null
      in_guest "docker load -i /run/bench-big.tar" >>"$OUT/load-$place"
      continue
    fi
    timed docker -H "$H" cp src:/big - >>"$OUT/cpout-$place"
    timed sh -c "docker -H $H cp - src:/in <'$S/in.tar'" >>"$OUT/cpin-$place"
    timed docker -H "$H" exec src cat /big >>"$OUT/exec-$place"
    timed docker -H "$H" logs logger >>"$OUT/logs-$place"
    timed docker -H "$H" save bench/big:1 >>"$OUT/save-$place"
    docker -H "$H" rmi bench/big:1 >/dev/null
    timed docker -H "$H" load -i "$S/big.tar" >>"$OUT/load-$place"
  done
done
docker rm -f "$helper" >/dev/null

echo "API calls, medians of $RUNS, ms (floor: the engine's own socket; both: the two engines' own"
echo "sockets asked at once, for what twinboxd answers by asking both)"
echo "| call | connection | twinbox | floor | ratio | goal |"
echo "|---|---|---|---|---|---|"
for t in /_ping:hv /v1.45/version:both /v1.45/info:both "/v1.45/containers/json?all=1:both" \
  /v1.45/containers/src/json:hv; do
  target=${t%:*} floor=${t##*:}
  for mode in fresh kept; do
    m=$(api_call_ms "$OUT/calls" "$target" "$mode" twinbox)
    f=$(api_call_ms "$OUT/calls" "$target" "$mode" "$floor")
    figure "GET $target, $mode connection, vs $floor engine socket(s) (ms)" "$m" "$f" "$(ratio "$m" "$f")" "<= 1.05"
    echo "| \`GET $target\` ($floor) | $mode | $m | $f | $(ratio "$m" "$f") | <= 1.05 |"
  done
done
echo
echo "streams on hv, medians of $RUNS, s (floor: the engine's own socket, through ssh; MB/s of 50 MB,"
echo "logs 2 MB; guest: the guest's own docker CLI on its own socket, no channel)"
echo "| stream | twinbox | floor | ratio (throughput) | guest | goal |"
echo "|---|---|---|---|---|---|"
for s in cpout:"docker cp out" cpin:"docker cp in" exec:"docker exec cat" logs:"docker logs" \
  save:"docker save" load:"docker load"; do
  k=${s%%:*} what=${s#*:}
  m=$(median <"$OUT/$k-twinbox") f=$(median <"$OUT/$k-engine") g=$(median <"$OUT/$k-guest")
  figure "$what on hv, throughput vs the engine's socket (s; guest's own CLI: $g s)" "$m" "$f" "$(ratio "$f" "$m")" ">= 0.9"
  echo "| $what | $m | $f | $(ratio "$f" "$m") | $g | >= 0.9 |"
done
