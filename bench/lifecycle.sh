#!/usr/bin/env bash
# Lifecycle (issue 25), against a cold start measured in the same run:
#  - adoption: twinboxd killed with SIGKILL (a container running on each backend) and started
#    again on the same state dir, launch to both engines answering through it;
#  - a killed VM: hv's QEMU killed with SIGKILL, to hv shown failed (detection) and to hv's engine
#    answering again (repair: the restart's backoff of 1 s and a boot).
#   bench/lifecycle.sh [RUNS]      (default 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-3}
IMG=127.0.0.1:5000/twinbox/busybox:latest
IMG_AMD64=127.0.0.1:5000/twinbox/busybox-amd64:latest
bench_state_dir

start_daemon() {
  "$TWINBOXD" --state-dir "$S" --assets "$ASSETS" --exit-with-parent >>"$S/twinboxd.log" 2>&1 &
  PID=$!
  "$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
}
# Seconds from now until `twinbox status` shows hv in STATE (polled every 0.1 s).
until_hv() {  # T0 STATE
  while ! "$TWINBOX" --socket "$S/docker.sock" status 2>/dev/null | grep -qE "^hv +$2 "; do
    sleep 0.1
  done
  awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f\n", b-a}'
}

cold=(); adopt=(); detect=(); repair=()
for i in $(seq 1 "$RUNS"); do
  stop_daemon
  rm -rf "${S:?}/vms" "$S/libvirt" "$S/run" "$S/workloads.json"*
  t0=$(now)
  start_daemon
  cold+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f\n", b-a}')")
  docker run -d --platform linux/arm64 "$IMG" sleep 3600 >/dev/null
  docker run -d --platform linux/amd64 "$IMG_AMD64" sleep 3600 >/dev/null
  kill -KILL "$PID"
  wait "$PID" 2>/dev/null || true
  t0=$(now)
  start_daemon
  adopt+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f\n", b-a}')")
  "$TWINBOX" --socket "$S/docker.sock" status | grep -q "adopted" ||
    { echo "run $i: the VMs were not adopted" >&2; exit 1; }
  t0=$(now)
  kill -KILL "$(pgrep -f -- "guest=twinbox-hv.*$S/")"
  detect+=("$(until_hv "$t0" failed)")
  repair+=("$(until_hv "$t0" running)")
  echo "run $i: cold ${cold[-1]} s, adoption ${adopt[-1]} s, hv killed: failed after" \
    "${detect[-1]} s, running after ${repair[-1]} s" >&2
done
stop_daemon
mc=$(printf '%s\n' "${cold[@]}" | median)
ma=$(printf '%s\n' "${adopt[@]}" | median)
md=$(printf '%s\n' "${detect[@]}" | median)
mr=$(printf '%s\n' "${repair[@]}" | median)
echo "lifecycle, median of $RUNS:"
echo "  cold start, launch to both engines answering: ${mc} s"
echo "  adoption after kill -9, launch to both engines answering: ${ma} s ($(ratio "$ma" "$mc") of cold)"
echo "  hv's QEMU killed: shown failed after ${md} s, engine answering again after ${mr} s" \
  "($(ratio "$mr" "$mc") of a cold start of both)"
figure "adoption after kill -9 vs cold start: launch to both engines answering (s)" "$ma" "$mc" \
  "$(ratio "$ma" "$mc")" "< 1"
figure "hv's QEMU killed: until shown failed (s)" "$md" "-" "-" "<= 5 s"
figure "hv's QEMU killed: until its engine answers again vs cold start (s)" "$mr" "$mc" \
  "$(ratio "$mr" "$mc")" "-"
