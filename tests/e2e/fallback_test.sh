#!/usr/bin/env bash
# Issue 4, translator configuration: with rosetta turned off, linux/amd64 workloads go to hv
# only when a fallback translator is configured, and then really run there under it; without
# one they are refused with a clear error. One twinboxd start with hv alone.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMG=127.0.0.1:5000/twinbox/busybox:latest
IMG_AMD64=127.0.0.1:5000/twinbox/busybox-amd64:latest

start_twinboxd --no-rosetta --hv-fallback-translator qemu-x86_64

expect_contains "docker info names hv's fallback translator" \
  "translator=qemu-x86_64 (binfmt POCF, hv fallback)" "$(docker info 2>&1)"
expect_out "--platform linux/amd64 runs in hv under the fallback translator" "x86_64" \
  docker run --rm --name amd --platform linux/amd64 "$IMG" uname -m
cid=$(docker run -d --platform linux/amd64 "$IMG_AMD64" sleep 300 2>/dev/null)
expect_eq "an amd64-only image lands on hv" "hv" "$(backend_of "$cid")"
expect_eq "its translator label names the fallback" "qemu-x86_64 (binfmt POCF, hv fallback)" \
  "$(label_of "$cid" io.twinbox.translator)"
expect_contains "its reason says why" "fallback translator" \
  "$(label_of "$cid" io.twinbox.route.reason)"
expect_out "arm64 still runs natively on hv" "aarch64" \
  docker run --rm --platform linux/arm64 "$IMG" uname -m
docker rm -f "$cid" >/dev/null 2>&1

finish
