#!/usr/bin/env bash
# Cold start: twinboxd launch -> both guest engines answering through twinboxd, against a floor
# measured in the same run: plain qemu-system-aarch64 booting the same kernel, initramfs and base
# image (two at once, as twinboxd does) to the guest's "engine ready" console marker.
#   bench/cold_start.sh [RUNS]      (default 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-3}
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Floor: one data disk per role seeded like twinboxd's (the guest wants its ssh keys).
floor_once() {
  local pids=() t0 role
  t0=$(now)
  for role in hv rosetta; do
    local d=$WORK/floor-$role
    rm -rf "$d"; mkdir -p "$d/seed/twinbox/ssh"
    ssh-keygen -q -t ed25519 -N '' -f "$d/seed/twinbox/ssh/ssh_host_ed25519_key"
    ssh-keygen -q -t ed25519 -N '' -f "$d/client"
    cp "$d/client.pub" "$d/seed/twinbox/ssh/authorized_keys"
    mkfs.ext4 -q -F -d "$d/seed" "$d/data.img" 32G >/dev/null 2>&1
    qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg,tb-size=256 -smp 1 -m 2048 \
      -display none -serial "file:$d/console.log" -monitor none -nodefaults \
      -kernel "$ASSETS/vmlinuz" -initrd "$ASSETS/initramfs.img" \
      -append "console=ttyAMA0 root=/dev/vda ro twinbox.role=$role twinbox.data=/dev/vdb loglevel=4" \
      -drive "file=$ASSETS/base.img,if=none,id=b,format=raw,readonly=on" -device virtio-blk-pci,drive=b \
      -drive "file=$d/data.img,if=none,id=d,format=raw" -device virtio-blk-pci,drive=d \
      -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= &
    pids+=($!)
  done
  t0=$(now)
  for role in hv rosetta; do
    until grep -q "twinbox-guest: engine ready" "$WORK/floor-$role/console.log" 2>/dev/null; do sleep 0.1; done
  done
  local t1; t1=$(now)
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b-a}'
}

twinbox_once() {
  local s=$WORK/state t0 t1
  rm -rf "$s"; mkdir -p "$s"
  t0=$(now)
  "$TWINBOXD" --state-dir "$s" --assets "$ASSETS" >"$WORK/twinboxd.log" 2>&1 &
  local pid=$!
  "$TWINBOX" --socket "$s/docker.sock" status --wait 900 >/dev/null
  t1=$(now)
  kill -TERM "$pid"; wait "$pid" || true
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b-a}'
}

floor=(); tb=()
for i in $(seq 1 "$RUNS"); do
  floor+=("$(floor_once)")
  tb+=("$(twinbox_once)")
  echo "run $i: floor ${floor[-1]} s, twinboxd ${tb[-1]} s" >&2
done
mf=$(printf '%s\n' "${floor[@]}" | median)
mt=$(printf '%s\n' "${tb[@]}" | median)
echo "cold start (both VMs, engines answering), median of $RUNS:"
echo "  floor (plain qemu, same guest, console marker): ${mf} s"
echo "  twinboxd (launch to both engines via its API): ${mt} s"
echo "  ratio twinboxd/floor: $(ratio "$mt" "$mf")"
