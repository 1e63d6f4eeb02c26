#!/usr/bin/env bash
# Host bind mounts (issue 22): file work in a container on hv in a bind mount of a host directory
# (virtio-9p, passthrough) against the same work on the host directly, and against the same
# container in a directory of its own (overlay on the VM's ext4 data disk: what TCG alone costs),
# in one run, alternating. The work: a sequential 100 MB write (fsync'd) and read, then 10 000
# small files created, listed with their attributes (stat) and removed. Timed inside the shell
# that does the work (/proc/uptime), so docker exec's own cost is not in the figures.
#   bench/binds.sh [RUNS]   (default 3)
# Needs the test registry (scripts/test-registry push).
set -euo pipefail
RUNS=${1:-3}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox-arm64:latest
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)  # /tmp: shared into the VMs by default
S=$WORK/s
PID=""
trap '[ -z "$PID" ] || { kill -TERM "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$S" "$WORK/bind" "$WORK/host"
# DIR -> "write read create stat remove" in seconds (busybox sh in the container, dash on the host).
cat >"$WORK/bind/work.sh" <<'SH'
d=$1
t() { read -r u _ </proc/uptime; echo "$u"; }
mkdir -p "$d"
a=$(t)
dd if=/dev/zero of="$d/big" bs=1048576 count=100 conv=fsync 2>/dev/null
b=$(t)
dd if="$d/big" of=/dev/null bs=1048576 2>/dev/null
c=$(t)
rm -f "$d/big"
mkdir "$d/small"
d0=$(t)
i=0
while [ $i -lt 10000 ]; do echo x >"$d/small/$i"; i=$((i + 1)); done
e=$(t)
ls -l "$d/small" >/dev/null
f=$(t)
rm -r "$d/small"
g=$(t)
echo "$a $b $c $d0 $e $f $g" |
  awk '{printf "%.2f %.2f %.2f %.2f %.2f\n", $2-$1, $3-$2, $5-$4, $6-$5, $7-$6}'
SH
export DOCKER_CONFIG=$WORK/docker-config
"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" >"$WORK/twinboxd.log" 2>&1 &
PID=$!
"$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
export DOCKER_HOST=unix://$S/docker.sock
docker run -d --name bench -v "$WORK/bind:/bind" "$IMG" sleep 36000 >/dev/null

# split LINE NAME: appends each figure of LINE to $WORK/NAME.<figure>
split() {
  local i=0 v
  for v in $1; do
    i=$((i + 1))
    echo "$v" >>"$WORK/$2.$i"
  done
}
for _ in $(seq 1 "$RUNS"); do
  split "$(docker exec bench sh /bind/work.sh /bind/t)" bind
  split "$(docker exec bench sh /bind/work.sh /tmp/t)" own
  split "$(sh "$WORK/bind/work.sh" "$WORK/host/t")" host
done

echo "| figure (median of $RUNS, s) | container on hv, bind mount (9p) | floor: the host directly | ratio | container's own dir (overlay, ext4) | ratio to it |"
echo "|---|---|---|---|---|---|"
i=0
for what in "100 MB sequential write + fsync" "100 MB sequential read" "10 000 small files: create" \
  "10 000 small files: list with attributes" "10 000 small files: remove"; do
  i=$((i + 1))
  m=$(median <"$WORK/bind.$i")
  h=$(median <"$WORK/host.$i")
  o=$(median <"$WORK/own.$i")
  r=n/a
  [ "$(awk -v h="$h" 'BEGIN {print (h > 0)}')" = 1 ] && r=$(ratio "$m" "$h")
  figure "$what in a 9p bind mount on hv vs the host (s; container's own dir: $o s)" "$m" "$h" "$r"
  echo "| $what | $m | $h | $r | $o | $(ratio "$m" "$o") |"
done
