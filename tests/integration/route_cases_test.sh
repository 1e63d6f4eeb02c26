#!/usr/bin/env bash
# Integration test for `twinbox route test` and offline `twinbox route explain` with the built
# binary: the shipped example case file passes, a failing or malformed case file exits non-zero
# with PASS/FAIL lines and line numbers. No daemon, no VM. Runnable standalone:
#   TWINBOX_BUILD_DIR=/path/to/build bash tests/integration/route_cases_test.sh
# Prints one line per check and "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail

ROOT=${TWINBOX_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${TWINBOX_BUILD_DIR:-$ROOT/build}
TWINBOX=$BUILD/src/cli/twinbox
EXAMPLE=$ROOT/docs/examples/routing-cases.txt

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# check_eq DESCRIPTION GOT WANT
check_eq() {
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
# check_has DESCRIPTION NEEDLE HAYSTACK
check_has() {
  if [[ $3 == *"$2"* ]]; then pass "$1"; else fail "$1: '$2' not in: $(tail -n 5 <<<"$3")"; fi
}

if [[ ! -x $TWINBOX ]]; then
  fail "twinbox binary at $TWINBOX (set TWINBOX_BUILD_DIR)"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# No daemon is involved: a socket that does not exist proves it.
export TWINBOX_SOCKET=$TMP/no-daemon.sock

# --- the shipped example ------------------------------------------------------------------------

out=$("$TWINBOX" route test "$EXAMPLE" 2>&1); rc=$?
check_eq "example case file exits 0" "$rc" 0
total=$(grep -c '^case:' "$EXAMPLE")
check_eq "every example case printed PASS" "$(grep -c '^PASS  ' <<<"$out")" "$total"
check_eq "example summary line" "$(tail -n 1 <<<"$out")" "$total passed, 0 failed"

# --- a failing case file ------------------------------------------------------------------------

cat >"$TMP/failing.txt" <<'CASES'
# one right, two wrong
case: amd64 goes to rosetta
platform: linux/amd64
expect: rosetta

case: wrongly expects amd64 on hv
platform: linux/amd64
expect: hv

case: wrongly expects arm/v7 to run on apple-silicon
platform: linux/arm/v7
expect: hv
CASES
out=$("$TWINBOX" route test "$TMP/failing.txt" 2>&1); rc=$?
check_eq "failing case file exits 1" "$rc" 1
check_has "the passing case says PASS" "PASS  amd64 goes to rosetta" "$out"
check_has "a failing case says FAIL with its line" "FAIL  wrongly expects amd64 on hv ($TMP/failing.txt:6)" "$out"
check_has "the failure shows what was expected" "expected: hv" "$out"
check_has "the failure shows what happened" "actual:   rosetta linux/amd64" "$out"
check_has "an unexpected refusal shows its status and reason" "actual:   error 400:" "$out"
check_eq "failing summary line" "$(tail -n 1 <<<"$out")" "1 passed, 2 failed"

# --- a malformed case file ----------------------------------------------------------------------

printf 'case: typo\nplatfrom: linux/amd64\nexpect: rosetta\n' >"$TMP/bad.txt"
out=$("$TWINBOX" route test "$TMP/bad.txt" 2>&1); rc=$?
check_eq "malformed case file exits 2" "$rc" 2
check_has "the parse error names file and line" "$TMP/bad.txt:2: unknown key \"platfrom\"" "$out"
out=$("$TWINBOX" route test "$TMP/missing.txt" 2>&1); rc=$?
check_eq "missing case file exits 2" "$rc" 2

# --- offline explain ----------------------------------------------------------------------------

out=$("$TWINBOX" route explain --image busybox --image-platforms linux/amd64 2>&1); rc=$?
check_eq "offline explain exits 0" "$rc" 0
check_has "offline explain prints the backend" "backend:    rosetta" "$out"
check_has "offline explain prints the translator" "translator: qemu-x86_64 (binfmt POCF)" "$out"
check_has "offline explain reason names the profile" "host profile apple-silicon" "$out"
json=$("$TWINBOX" route explain --image busybox --platform arm/v7 --image-platforms unknown \
  --profile generic-arm64 --json 2>&1); rc=$?
check_eq "offline explain --json exits 0" "$rc" 0
if command -v jq >/dev/null; then
  check_eq "json backend/platform/profile/reference" \
    "$(jq -r '"\(.backend) \(.platform) \(.profile) \(.image.reference)"' <<<"$json")" \
    "hv linux/arm/v7 generic-arm64 docker.io/library/busybox:latest"
fi
out=$("$TWINBOX" route explain --image busybox --platform linux/arm64 --image-platforms linux/amd64 2>&1); rc=$?
check_eq "offline explain of a refusal exits 1" "$rc" 1
check_has "the refusal lists what the image offers" "the index has: linux/amd64" "$out"
out=$("$TWINBOX" route explain --image busybox 2>&1); rc=$?
check_eq "live explain without a daemon exits 1" "$rc" 1
check_has "and hints at offline use" "--image-platforms" "$out"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
