#!/usr/bin/env bash
# Container start (issue 23): `docker run --rm IMAGE true` and `docker restart -t 1` through
# twinboxd against the floor, `crun run` of the same image's root filesystem inside the same guest
# (on rosetta the amd64 rootfs, through the translator), timed in the guest. Each backend is
# measured with twinboxd's defaults (crun, no address space randomisation under TCG) and with
# `--guest-aslr` (a second twinboxd), and `--runtime runc` in both, all in one run.
#   bench/container_start.sh [RUNS]   (default 5). Starts and stops its own twinboxd.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-5}
ARM=127.0.0.1:5000/twinbox/busybox:latest
AMD=127.0.0.1:5000/twinbox/busybox-amd64:latest
bench_state_dir

start_daemon() {  # FLAGS...
  "$TWINBOXD" --state-dir "$S" --assets "$ASSETS" "$@" >>"$S/twinboxd.log" 2>&1 &
  # shellcheck disable=SC2034  # lib.sh stop_daemon ends it
  PID=$!
  "$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
}

timed() {  # COMMAND... -> seconds on stdout
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b-a}'
}

# The floor, in the guest of BACKEND: a privileged container enters PID 1's namespaces and runs
# the guest's own bash, which unpacks IMAGE's rootfs once and times `crun run` RUNS times.
# The helper is arm64 (an amd64 nsenter runs in qemu-user, which is multithreaded, and setns
# refuses it); on rosetta it joins an amd64 container's network, so it follows it there.
floor() {  # PLATFORM IMAGE
  local plat=$1 img=$2 helper anchor=() on=()
  if [ "$plat" = linux/amd64 ]; then
    anchor=("$(docker run -d --platform "$plat" "$img" sleep 3600)")
    on=(--network "container:${anchor[0]}")
  fi
  helper=$(docker run -d --privileged --pid host --cgroupns host "${on[@]}" --platform linux/arm64 \
    "$ARM" sleep 3600)
  docker exec "$helper" nsenter -t 1 -m -u -i -n -p bash -c "
    set -e
    b=/run/bench-bundle-${plat//\//-}
    if [ ! -d \$b ]; then
      mkdir -p \$b/rootfs
      c=\$(docker create --platform $plat $img true)
      docker export \$c | tar -C \$b/rootfs -xf -
      docker rm \$c >/dev/null
      cd \$b && crun spec && sed -i 's/\"terminal\": true/\"terminal\": false/; s/\"sh\"/\"true\"/' config.json
    fi
    cd \$b
    for i in \$(seq 1 $RUNS); do
      s=\$EPOCHREALTIME; crun run bench\$i >/dev/null; e=\$EPOCHREALTIME
      awk -v a=\$s -v b=\$e 'BEGIN {printf \"%.3f\n\", b-a}'
    done"
  docker rm -f "$helper" "${anchor[@]}" >/dev/null
}

measure() {  # TAG (defaults | aslr)
  local tag=$1 pair vm rest plat img rt
  for pair in hv:linux/arm64:$ARM rosetta:linux/amd64:$AMD; do
    vm=${pair%%:*} rest=${pair#*:}
    plat=${rest%%:*} img=${rest#*:}
    docker pull -q --platform "$plat" "$img" >/dev/null
    if [ "$tag" = defaults ]; then floor "$plat" "$img" >"$OUT/floor-$vm"; fi
    for rt in crun runc; do
      for _ in $(seq 1 "$RUNS"); do
        timed docker run --rm --runtime "$rt" --platform "$plat" "$img" true
      done >"$OUT/run-$tag-$rt-$vm"
    done
    docker run -d --name restart-me --platform "$plat" "$img" sleep 3600 >/dev/null
    for _ in $(seq 1 "$RUNS"); do timed docker restart -t 1 restart-me; done >"$OUT/restart-$tag-$vm"
    docker rm -f restart-me >/dev/null
  done
}

start_daemon
measure defaults
stop_daemon
start_daemon --guest-aslr
measure aslr
stop_daemon

echo "container start, medians of $RUNS, seconds (floor: crun run in the same guest; restart:"
echo "what it costs above the floor and its own 1 s stop timeout)"
echo "| figure | twinbox | floor | ratio | goal |"
echo "|---|---|---|---|---|"
for vm in hv rosetta; do
  for cfg in defaults:crun aslr:crun defaults:runc aslr:runc; do
    tag=${cfg%%:*} rt=${cfg#*:}
    what="docker run --rm on $vm ($rt, $([ "$tag" = defaults ] && echo "no ASLR" || echo "ASLR"))"
    echo "$(row "$what (s)" "$OUT/run-$tag-$rt-$vm" "$OUT/floor-$vm" "<= 3") <= 3 |"
  done
  for tag in defaults aslr; do
    f=$(median <"$OUT/floor-$vm")
    m=$(median <"$OUT/restart-$tag-$vm")
    above=$(awk -v m="$m" -v f="$f" 'BEGIN {printf "%.2f", m - 1 - f}')
    figure "docker restart -t 1 on $vm ($tag), above floor + 1 s stop (s)" "$m" "$f" "$above s above" "< 3 s above"
    echo "| docker restart -t 1 on $vm ($([ "$tag" = defaults ] && echo "no ASLR" || echo "ASLR")) | $m | $f | $above s above floor + 1 s | < 3 s above |"
  done
done
