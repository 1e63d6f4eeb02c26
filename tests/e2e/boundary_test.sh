#!/usr/bin/env bash
# Issue 18, the host boundary: a container on either backend reaches the host's loopback only at
# the ports the user opened (--host-access, as host.docker.internal), published ports still
# answer, and no other local user reaches the API socket, an engine, a VM's monitor or its sshd.
# One twinboxd start, with one port opened and the socket given to the group "users".
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMG=127.0.0.1:5000/twinbox/busybox:latest
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A state dir another user could replace is refused before anything starts.
OPEN_DIR=$(mktemp -d /tmp/tbopen.XXXXXX)
chmod 0777 "$OPEN_DIR"
out=$(timeout 60 "$TWINBOXD" --state-dir "$OPEN_DIR/state" --assets "${TWINBOX_TEST_ASSETS:-/x}" 2>&1)
rc=$?
expect_eq "twinboxd refuses a state dir under a directory others can write" "1" "$rc"
expect_contains "and says which directory and why" "$OPEN_DIR (mode 0777) is writable by other users" \
  "$out"
rm -rf "$OPEN_DIR"

# Two HTTP servers on the host's 127.0.0.1: one stays closed to containers, one is opened.
SRV=$(mktemp -d /tmp/tbsrv.XXXXXX)
echo secret-from-the-host >"$SRV/f"
CLOSED=$(free_port)
OPENED=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$SRV" "$CLOSED" >/dev/null 2>&1 &
SRV_PIDS=$!
python3 -m http.server --bind 127.0.0.1 --directory "$SRV" "$OPENED" >/dev/null 2>&1 &
SRV_PIDS="$SRV_PIDS $!"
cleanup() {
  stop_twinboxd
  # shellcheck disable=SC2086
  kill $SRV_PIDS 2>/dev/null
  rm -rf "$SRV"
}

start_twinboxd --host-access "$OPENED" --socket-group users
trap cleanup EXIT

eventually "the host's loopback server answers on the host" 20 \
  sh -c "curl -fsS http://127.0.0.1:$CLOSED/f | grep -q secret-from-the-host"

# busybox's nc, not its wget: the static busybox's wget crashes on any URL in these images, and
# a crash must not pass for a refusal. Each run fetches from both ports in one container: the
# opened port proves the path works, so the closed one is refused by the rule, not by chance.
# shellcheck disable=SC2016  # expanded by the container's shell
fetch='for p in "$@"; do printf "GET /f HTTP/1.0\r\n\r\n" | nc -w 10 "$0" "$p" | tail -n 1; echo "rc=$?"; done'
for plat in linux/arm64 linux/amd64; do
  backend=hv
  [ "$plat" = linux/amd64 ] && backend=rosetta
  for net in bridge host; do
    out=$(docker run --rm --platform "$plat" --network "$net" "$IMG" \
      sh -c "set -o pipefail; $fetch" 10.0.2.2 "$CLOSED" "$OPENED" 2>&1)
    expect_contains "a $net-network container on $backend is refused the host's 127.0.0.1:$CLOSED" \
      "can't connect to remote host (10.0.2.2): Connection refused" "$out"
    expect_eq "a $net-network container on $backend reaches only the opened port $OPENED" "rc=1 secret-from-the-host rc=0" \
      "$(echo "$out" | grep -E '^(rc=[0-9]+|secret-from-the-host)$' | tr '\n' ' ' | sed 's/ $//')"
  done
  expect_out "a container on $backend reaches the opened port at host.docker.internal" \
    "secret-from-the-host rc=0" docker run --rm --platform "$plat" "$IMG" \
    sh -c "set -o pipefail; $fetch" host.docker.internal "$OPENED"
done

# Replies to the host's own connections are not new connections: a published port on rosetta
# still answers.
PORT=$(free_port)
check "a container on rosetta publishes $PORT" docker run -d --name web --platform linux/amd64 \
  -p "$PORT:80" "$IMG" sh -c \
  'mkdir -p /www && echo hello-from-rosetta >/www/index.html && exec httpd -f -p 80 -h /www'
eventually "the published port on rosetta answers" 60 \
  sh -c "curl -fsS http://127.0.0.1:$PORT/ | grep -q hello-from-rosetta"
docker rm -f web >/dev/null 2>&1

# Another local user: nobody (not in "users"), then nobody with "users" as a supplementary group.
as_nobody() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -u DOCKER_CONFIG HOME=/tmp "$@"
}
as_member() {
  setpriv --reuid=nobody --regid=nogroup --groups="$(getent group users | cut -d: -f3)" -- \
    env -u DOCKER_CONFIG HOME=/tmp "$@"
}
connect_py='import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(type(e).__name__); sys.exit(1)
print("connected")'
out=$(as_nobody docker -H "unix://$STATE/docker.sock" version 2>&1)
expect_contains "another user cannot use the API socket" \
  "permission denied while trying to connect" "$out"
expect_out "a member of the socket's group can" "$(docker version --format '{{.Server.Version}}')" \
  as_member docker -H "unix://$STATE/docker.sock" version --format '{{.Server.Version}}'
SOCKETS=$(find "$STATE" -type s ! -path "$STATE/docker.sock")
n=$(echo "$SOCKETS" | grep -c . || true)
if [ "$n" -ge 2 ]; then pass "the state dir holds the engine and monitor sockets ($n)"; else
  fail "the state dir holds the engine and monitor sockets" "found: $SOCKETS"
fi
reached=''
for s in $SOCKETS; do
  for who in as_nobody as_member; do
    r=$($who python3 -c "$connect_py" "$s" 2>&1)
    [ "$r" = connected ] && reached="$reached $who:$s"
  done
done
expect_eq "no engine or monitor socket is reachable by another user, group member or not" "" \
  "$reached"
# The VMs' sshd listen on the host's loopback (slirp hostfwd); only twinboxd's key opens them.
denied=0 ports=0
for hp in $(our_qemu_ports); do
  p=${hp##*:}
  [ "$p" = "$PORT" ] && continue
  ports=$((ports + 1))
  r=$(as_nobody ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -p "$p" root@127.0.0.1 true 2>&1)
  [[ "$r" == *"Permission denied"* ]] && denied=$((denied + 1))
done
if [ "$ports" -ge 2 ] && [ "$denied" -eq "$ports" ]; then
  pass "each VM's sshd refuses another user ($denied of $ports ports)"
else
  fail "each VM's sshd refuses another user" "$denied of $ports ports refused"
fi

finish
