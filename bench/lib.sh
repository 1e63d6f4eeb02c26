# Shared by the bench scripts. Sourced.
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source it
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${TWINBOX_BUILD_DIR:-$BENCH_ROOT/build}
TWINBOX=$BUILD/src/cli/twinbox
TWINBOXD=$BUILD/src/daemon/twinboxd
ASSETS=${TWINBOX_TEST_ASSETS:-$("$BENCH_ROOT/scripts/build-guest-assets" --build-dir "$BUILD" | tail -n 1)}

now() { date +%s.%N; }
# The median bench/api_calls.py printed (ms) for one call: its output file, then what it names.
api_call_ms() {  # FILE TARGET MODE NAME
  awk -v t="$2" -v m="$3" -v n="$4" '$1 == t && $2 == m && $3 == n {print $4}' "$1"
}
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
# A state dir of the bench's own in $S (short: a socket path is limited to 108 bytes), figures
# in $OUT, the docker CLI pointed at the twinboxd the script starts there (its pid in $PID);
# stop_daemon ends that twinboxd, and the script's exit ends it and removes $S.
bench_state_dir() {
  S=$(mktemp -d /tmp/tbbench.XXXXXX)
  OUT=$S/figures
  mkdir -p "$OUT"
  PID=
  trap 'stop_daemon; rm -rf "$S"' EXIT
  export DOCKER_CONFIG=$S/cfg DOCKER_HOST=unix://$S/docker.sock
}
stop_daemon() {
  [ -n "$PID" ] || return 0
  "$TWINBOX" --socket "$S/docker.sock" down --timeout 120 >/dev/null 2>&1 || kill -TERM "$PID"
  wait "$PID" || true
  PID=
}
# A row of bench/all's one table (metric, twinbox, floor, ratio, goal), appended to the file
# $BENCH_TABLE when bench/all runs the script; nothing otherwise.
figure() {  # METRIC TWINBOX FLOOR RATIO [GOAL]
  [ -n "${BENCH_TABLE:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$0")" "$1" "$2" "$3" "$4" "${5:--}" >>"$BENCH_TABLE"
}
# One table row: WHAT, then the files of figures (one per line) measured and of the floor.
row() {  # WHAT FIGURES FLOOR_FIGURES [GOAL]
  local m f
  m=$(median <"$2")
  f=$(median <"$3")
  figure "$1" "$m" "$f" "$(ratio "$m" "$f")" "${4:-}"
  echo "| $1 | $m | $f | $(ratio "$m" "$f") |"
}

# The floor: a plain QEMU of the same guest (kernel, initramfs, base image) with a data disk in
# DIR seeded as twinboxd seeds its own (the guest wants its ssh keys). Not timed.
floor_prepare() {  # DIR
  local d=$1
  rm -rf "$d"; mkdir -p "$d/seed/twinbox/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$d/seed/twinbox/ssh/ssh_host_ed25519_key"
  cp "$d/seed/twinbox/ssh/ssh_host_ed25519_key.pub" "$d/seed/twinbox/ssh/authorized_keys"
  mkfs.ext4 -q -F -d "$d/seed" "$d/data.img" 32G >/dev/null 2>&1
}
# Starts the floor VM of ROLE from DIR in the background (same settings as the domain template);
# its pid is in $! afterwards. The console goes to DIR/console.log.
floor_start() {  # ROLE DIR
  local role=$1 d=$2
  qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg,tb-size=256 -smp 1 -m 2048 \
    -display none -serial "file:$d/console.log" -monitor none -nodefaults \
    -kernel "$ASSETS/vmlinuz" -initrd "$ASSETS/initramfs.img" \
    -append "console=ttyAMA0 root=/dev/vda ro twinbox.role=$role twinbox.data=/dev/vdb loglevel=4" \
    -drive "file=$ASSETS/base.img,if=none,id=b,format=raw,readonly=on" -device virtio-blk-pci,drive=b \
    -drive "file=$d/data.img,if=none,id=d,format=raw" -device virtio-blk-pci,drive=d \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= &
}
floor_wait_ready() {  # DIR...
  local d
  for d in "$@"; do
    until grep -q "twinbox-guest: engine ready" "$d/console.log" 2>/dev/null; do sleep 0.1; done
  done
}
