#!/usr/bin/env bash
# The end-to-end spine (issue 2): one socket, two arm64 VMs, real `docker run`s routed by
# --platform, run with the real docker CLI against twinboxd and the project's test registry.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox:latest
IMG_AMD64=127.0.0.1:5000/twinbox/busybox-amd64:latest

check "test registry answers on 127.0.0.1:5000" curl -fsS http://127.0.0.1:5000/v2/
start_twinboxd

# --- the API socket and version negotiation
expect_eq "API socket is mode 0660" "660" "$(stat -c %a "$STATE/docker.sock")"
# twinboxd speaks the API version both engines speak: the lower of the two (1.45 with Debian 13's
# dockerd 26, 1.41 with Debian 12's 20.10), and says each engine's version.
hv_api=$(engine hv version --format '{{.Server.APIVersion}}' 2>&1)
rosetta_api=$(engine rosetta version --format '{{.Server.APIVersion}}' 2>&1)
want=$(printf '%s\n' "$hv_api" "$rosetta_api" | sort -V | head -n 1)
expect_match "each engine says its API version" '^1\.[0-9]+ 1\.[0-9]+$' "$hv_api $rosetta_api"
expect_eq "docker negotiates the API version both engines speak" "$want" \
  "$(docker version --format '{{.Server.APIVersion}}' 2>&1)"
status=$(tb status 2>&1)
expect_match "twinbox status names hv's engine version" "^hv .* \\(API $hv_api\\) " "$status"
expect_match "and rosetta's" "^rosetta .* \\(API $rosetta_api\\) " "$status"

# --- routing by --platform, binfmt in rosetta only
expect_out "arm64 runs natively on hv" "aarch64" docker run --rm --platform linux/arm64 "$IMG" uname -m
expect_out "amd64 runs through qemu-x86_64 on rosetta" "x86_64" \
  docker run --rm --platform linux/amd64 "$IMG" uname -m
# The image holds no interpreter: only binfmt's F flag (interpreter opened at registration) can
# make an amd64 binary run inside it.
expect_out "amd64 binary runs in an image without qemu (binfmt F: the interpreter is opened at registration)" "0 x86_64" \
  docker run --rm --platform linux/amd64 "$IMG" sh -c \
  'find / -xdev -name "qemu*" 2>/dev/null | wc -l; uname -m'
# busybox re-executes itself per applet and picks the applet from argv[0]: binfmt's P flag.
expect_out "amd64 busybox pipelines work (binfmt P keeps argv[0])" "1 ok" \
  docker run --rm --platform linux/amd64 "$IMG" sh -c 'echo a | wc -l; echo ok'
# Without --platform an amd64-only image now goes to rosetta (routing by the image's platforms);
# hv's lack of a translator is checked on its engine directly, with the image copied over.
expect_out "an amd64-only image without --platform runs on rosetta" "x86_64" \
  docker run --rm "$IMG_AMD64" uname -m
engine rosetta save "$IMG_AMD64" | engine hv load >/dev/null 2>&1
out=$(engine hv run --rm "$IMG_AMD64" uname -m 2>&1)
# runc says "exec format error", crun (the default) "Exec format error".
expect_contains "hv has no translator: an amd64-only image fails there" "exec format error" \
  "$(tr '[:upper:]' '[:lower:]' <<<"$out")"

# --- a detached amd64 container: inspect, ps, logs, rm
cid=$(docker run -d --name web --platform linux/amd64 "$IMG" sh -c 'echo hello from web; exec sleep 300' 2>&1)
expect_eq "docker run -d prints an id" "64" "${#cid}"
labels=$(docker inspect web --format '{{index .Config.Labels "io.twinbox.backend"}}|{{index .Config.Labels "io.twinbox.translator"}}' 2>&1)
expect_eq "inspect labels name backend and translator" "rosetta|qemu-x86_64 (binfmt POCF)" "$labels"
expect_eq "web runs translated" "translated" "$(label_of web io.twinbox.execution)"
# The label's flags are those the guest registered: its own binfmt_misc entry, read in a
# privileged container of rosetta's engine, must say the same.
guest_flags=$(engine rosetta run -q --rm --privileged --platform linux/arm64 "$IMG" sh -c \
  'mkdir -p /bm && mount -t binfmt_misc binfmt_misc /bm && sed -n "s/^flags: //p" /bm/qemu-x86_64' 2>&1)
expect_eq "the translator label carries the guest's binfmt flags ($guest_flags)" \
  "qemu-x86_64 (binfmt $guest_flags)" "$(label_of web io.twinbox.translator)"
expect_contains "docker ps lists web" "web" "$(docker ps --format '{{.Names}} {{.Status}}' 2>&1)"
sleep 2
expect_contains "docker logs web" "hello from web" "$(docker logs web 2>&1)"
expect_eq "docker inspect by id prefix" "/web" "$(docker inspect --format '{{.Name}}' "${cid:0:12}" 2>&1)"
check "docker rm -f web" docker rm -f web
out=$(docker ps -a --format '{{.Names}}' 2>&1)
if [[ "$out" == *web* ]]; then fail "web is gone after rm -f" "$out"; else pass "web is gone after rm -f"; fi

# --- docker info lists both backends
info=$(docker info 2>&1)
expect_contains "docker info lists hv" "io.twinbox.backend.hv=state=running arch=arm64" "$info"
expect_contains "docker info lists rosetta with its translator" "translator=qemu-x86_64 (binfmt POCF)" "$info"
expect_contains "docker info names the host profile" "io.twinbox.host-profile=apple-silicon" "$info"
expect_contains "docker info: rosetta runs arm64 natively and amd64 translated" \
  "io.twinbox.backend.rosetta=state=running arch=arm64 native=linux/arm64 translated=linux/amd64" "$info"
expect_eq "docker info: the default runtime is crun, as the engines say" "crun" \
  "$(docker info --format '{{.DefaultRuntime}}' 2>&1)"
if grep -q "accelerator=tcg" <<<"$info"; then
  expect_contains "docker info: under TCG the guests keep no address space randomisation" \
    "io.twinbox.guest-aslr=off in hv, rosetta" "$info"
  expect_eq "so a container on hv sees randomize_va_space 0" "0" \
    "$(docker run --rm --platform linux/arm64 "$IMG" cat /proc/sys/kernel/randomize_va_space 2>&1)"
  expect_eq "and one on rosetta too" "0" \
    "$(docker run --rm --platform linux/amd64 "$IMG_AMD64" cat /proc/sys/kernel/randomize_va_space 2>&1)"
fi
status=$(tb status 2>&1)
expect_match "twinbox status: rosetta, native arm64, amd64 through the guest's translator" \
  '^rosetta +running +arm64 +linux/arm64 +linux/amd64 +(tcg|kvm) +qemu-x86_64 \(binfmt POCF\)' "$status"
expect_match "twinbox status: hv, native arm64, no translator" \
  '^hv +running +arm64 +linux/arm64 +none +(tcg|kvm) +none' "$status"

# --- security: no engine reachable over TCP; the ssh channel wants twinboxd's key
ports=$(our_qemu_ports | sed 's/.*://' | sort -u)
expect_eq "each VM exposes exactly one loopback port (ssh)" "2" "$(echo "$ports" | grep -c .)"
nonloop=$(our_qemu_ports | grep -vc '^127\.0\.0\.1:')
expect_eq "QEMU listens on loopback only" "0" "$nonloop"
for p in $ports; do
  if curl -s -m 5 "http://127.0.0.1:$p/_ping" 2>/dev/null | grep -q OK; then
    fail "port $p does not serve the Docker API"
  else
    pass "port $p does not serve the Docker API"
  fi
  out=$(ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o IdentitiesOnly=yes -o IdentityFile=/dev/null -p "$p" root@127.0.0.1 docker version 2>&1)
  expect_contains "ssh on $p refuses a client without twinboxd's key" "Permission denied" "$out"
done
expect_eq "engine sockets live in a 0700 directory" "700" "$(stat -c %a "$STATE/run")"

# --- orderly shutdown: ACPI power-off of both VMs, then twinboxd exits
check "twinbox down" "$TWINBOX" --socket "$STATE/docker.sock" down --timeout 120
log=$(cat "$STATE/twinboxd.out")
expect_contains "hv powered off through ACPI" "[hv] twinbox-hv powered off" "$log"
expect_contains "rosetta powered off through ACPI" "[rosetta] twinbox-rosetta powered off" "$log"
if kill -0 "$TWINBOXD_PID" 2>/dev/null; then fail "twinboxd exited"; else pass "twinboxd exited"; fi

# --- engine state lives on each VM's data disk: pulled images survive a restart
restart_twinboxd
expect_out "hv keeps its pulled image across a restart" "127.0.0.1:5000/twinbox/busybox" \
  docker --host "unix://$STATE/run/hv-engine.sock" images --filter reference=127.0.0.1:5000/twinbox/busybox --format '{{.Repository}}'
expect_out "rosetta keeps its pulled image across a restart" "127.0.0.1:5000/twinbox/busybox" \
  docker --host "unix://$STATE/run/rosetta-engine.sock" images --filter reference=127.0.0.1:5000/twinbox/busybox --format '{{.Repository}}'
finish
