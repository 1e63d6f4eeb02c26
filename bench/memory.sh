#!/usr/bin/env bash
# Idle memory once both engines answer: the RSS of everything twinboxd runs (twinboxd, both QEMUs,
# both ssh channels) against a floor measured in the same run: two plain qemu-system-aarch64 of
# the same guest at their "engine ready" console marker.
#   bench/memory.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK=$(mktemp -d /tmp/tbbench.XXXXXX)
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
rss_mib() { ps -o rss= -p "$(echo "$@" | tr ' ' ',')" | awk '{s+=$1} END {printf "%.0f", s/1024}'; }

pids=()
for role in hv rosetta; do
  d=$WORK/floor-$role; mkdir -p "$d/seed/twinbox/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$d/seed/twinbox/ssh/ssh_host_ed25519_key"
  cp "$d/seed/twinbox/ssh/ssh_host_ed25519_key.pub" "$d/seed/twinbox/ssh/authorized_keys"
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
for role in hv rosetta; do
  until grep -q "twinbox-guest: engine ready" "$WORK/floor-$role/console.log" 2>/dev/null; do sleep 0.2; done
done
sleep 5
floor=$(rss_mib "${pids[@]}")
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true

S=$WORK/state; mkdir -p "$S"
"$TWINBOXD" --state-dir "$S" --assets "$ASSETS" >"$WORK/twinboxd.log" 2>&1 &
PID=$!
"$TWINBOX" --socket "$S/docker.sock" status --wait 900 >/dev/null
sleep 5
tree=$(pgrep -f "$S/" | tr '\n' ' ')
tb=$(rss_mib $PID $tree)
qemus=$(rss_mib $(pgrep -f "qemu-system.*$S/" | tr '\n' ' '))
kill -TERM $PID; wait $PID || true
echo "idle RSS with both engines ready:"
echo "  floor (two plain QEMUs, same guest): ${floor} MiB"
echo "  twinboxd + its QEMUs + ssh channels: ${tb} MiB (of which QEMUs ${qemus} MiB)"
echo "  ratio: $(ratio "$tb" "$floor")"
