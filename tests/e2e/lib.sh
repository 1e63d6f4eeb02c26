# shellcheck shell=bash
# Helpers for e2e scripts: assertions that count, and a twinboxd on a private state dir.
# Sourced. Each script ends with `finish`, which prints "N passed, N failed".
PASSED=0
FAILED=0
E2E_ROOT=${TWINBOX_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
E2E_BUILD=${TWINBOX_BUILD_DIR:-$E2E_ROOT/build}
TWINBOX=$E2E_BUILD/src/cli/twinbox
TWINBOXD=$E2E_BUILD/src/daemon/twinboxd

pass() { PASSED=$((PASSED + 1)); echo "PASS: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $1${2:+ -- $2}"; }
# check NAME CMD...: passes when CMD exits 0.
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 5)"; fi
}
# expect_eq NAME WANT GOT
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$2', got '$3'"; fi
}
# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1" "'$2' not in: $(echo "$3" | tail -n 5)"; fi
}
# out CMD...: stdout of CMD; its stderr goes to $LAST_ERR for failure messages.
LAST_ERR=/dev/null
out() {
  LAST_ERR=$(mktemp)
  "$@" 2>"$LAST_ERR"
}
# expect_out NAME WANT CMD...: CMD's stdout (whitespace folded) equals WANT.
expect_out() {
  local name=$1 want=$2; shift 2
  local got
  got=$(out "$@" | tr -s ' \n' ' ' | sed 's/ $//')
  if [ "$got" = "$want" ]; then pass "$name"; else fail "$name" "want '$want', got '$got'; stderr: $(tail -n 5 "$LAST_ERR")"; fi
}
# Listening TCP ports of the QEMU processes of this test's twinboxd.
our_qemu_ports() {
  local pids
  pids=$(pgrep -f "qemu-system.*$STATE/" | tr '\n' '|' | sed 's/|$//')
  [ -n "$pids" ] || return 0
  ss -ltnpH | grep -E "pid=($pids)," | awk '{print $4}'
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# Starts twinboxd on a fresh state dir (short path: unix socket names are limited to 108 bytes)
# and waits until both engines answer. Sets STATE and DOCKER_HOST. --exit-with-parent: a script
# killed by SIGKILL (no EXIT trap) still takes its twinboxd and VMs with it.
start_twinboxd() {
  local assets=${TWINBOX_TEST_ASSETS:-}
  if [ -z "$assets" ] || [ ! -f "$assets/base.img" ]; then
    fail "guest assets available" "TWINBOX_TEST_ASSETS='$assets' (scripts/test builds them)"
    finish; exit 1
  fi
  STATE=$(mktemp -d /tmp/tbe2e.XXXXXX)
  export DOCKER_CONFIG=$STATE/docker-config
  mkdir -p "$DOCKER_CONFIG"
  "$TWINBOXD" --state-dir "$STATE" --assets "$assets" --exit-with-parent "$@" \
    >"$STATE/twinboxd.out" 2>&1 &
  TWINBOXD_PID=$!
  trap stop_twinboxd EXIT
  export DOCKER_HOST=unix://$STATE/docker.sock
  if "$TWINBOX" --socket "$STATE/docker.sock" status --wait 900; then
    pass "both utility VMs boot and their engines answer"
  else
    fail "both utility VMs boot and their engines answer" "$(tail -n 40 "$STATE/twinboxd.out")"
    finish; exit 1
  fi
}

# Starts twinboxd again on the same state dir (after `twinbox down`), with extra flags if given.
restart_twinboxd() {
  "$TWINBOXD" --state-dir "$STATE" --assets "$TWINBOX_TEST_ASSETS" --exit-with-parent "$@" \
    >>"$STATE/twinboxd.out" 2>&1 &
  TWINBOXD_PID=$!
  if "$TWINBOX" --socket "$STATE/docker.sock" status --wait 900 >/dev/null; then
    pass "twinboxd restarts on the same state dir"
  else
    fail "twinboxd restarts on the same state dir" "$(tail -n 20 "$STATE/twinboxd.out")"
  fi
}

stop_twinboxd() {
  if [ -n "${TWINBOXD_PID:-}" ] && kill -0 "$TWINBOXD_PID" 2>/dev/null; then
    kill -TERM "$TWINBOXD_PID"
    for _ in $(seq 1 120); do kill -0 "$TWINBOXD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$TWINBOXD_PID" 2>/dev/null || true
  fi
  # A QEMU outlives a twinboxd that was killed (it is re-attached on the next start): never leave
  # one of this test's VMs running for the rest of the suite.
  if [ -n "${STATE:-}" ] && pkill -KILL -f -- "$STATE/" 2>/dev/null; then
    echo "note: killed QEMU processes left behind under $STATE"
  fi
  if [ -n "${STATE:-}" ] && [ -z "${E2E_KEEP_STATE:-}" ]; then rm -rf "$STATE"; fi
}

# --- additions for the image, routing and compose scripts (issues 3 and 4)

# skip NAME WHY: a check that cannot run here (an optional fixture is missing); not counted.
skip() { echo "SKIP: $1${2:+ -- $2}"; }
# expect_match NAME REGEX HAYSTACK: some line of HAYSTACK matches the extended REGEX.
expect_match() {
  if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "/$2/ not in: $(echo "$3" | tail -n 8)"; fi
}
# eventually NAME SECONDS CMD...: passes once CMD exits 0, retried every second for SECONDS.
eventually() {
  local name=$1 secs=$2; shift 2
  local out i
  for ((i = 0; i < secs; i++)); do
    if out=$("$@" 2>&1); then pass "$name"; return 0; fi
    sleep 1
  done
  fail "$name" "$(echo "$out" | tail -n 5)"
}
# label_of CONTAINER LABEL: the label's value as twinboxd's docker inspect shows it.
label_of() { docker inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>&1; }
backend_of() { label_of "$1" io.twinbox.backend; }
# engine BACKEND DOCKER-ARGS...: the docker CLI on that guest engine's own socket (bypasses the
# router: proves where something really is).
engine() { local b=$1; shift; docker --host "unix://$STATE/run/$b-engine.sock" "$@"; }
# tb ARGS...: the twinbox CLI on this test's twinboxd.
tb() { "$TWINBOX" --socket "$STATE/docker.sock" "$@"; }

# Kills twinboxd with SIGKILL (no cleanup of its own: VMs, ssh channels and the socket stay
# behind), using the pid its pid file names, and reaps it. restart_twinboxd starts it again.
kill9_twinboxd() {
  local pid
  pid=$(cat "$STATE/twinboxd.pid" 2>/dev/null)
  expect_eq "the pid file names the running twinboxd" "$TWINBOXD_PID" "$pid"
  kill -KILL "$TWINBOXD_PID" 2>/dev/null
  wait "$TWINBOXD_PID" 2>/dev/null
  if kill -0 "$TWINBOXD_PID" 2>/dev/null; then
    fail "twinboxd died of SIGKILL"
  else
    pass "twinboxd died of SIGKILL"
  fi
}
