#!/usr/bin/env bash
# Issue 19, parity: one sequence of Docker API calls (docker-py and the docker CLI,
# tests/e2e/parity.py) against twinboxd and against each guest engine's own socket, on both
# backends; status codes, JSON shapes and outputs must agree except for the differences the table
# in docs/parity.md explains. One boot; ~4 min under TCG.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox:latest

start_twinboxd
# Both engines hold the image (the arm64 variant in hv, the amd64 one in rosetta), pulled through
# twinboxd: the guests cannot reach the host's registry themselves.
check "docker pull $IMG (hv)" docker pull -q "$IMG"
check "docker pull --platform linux/amd64 $IMG (rosetta)" docker pull -q --platform linux/amd64 "$IMG"

for pair in hv:linux/arm64 rosetta:linux/amd64; do
  backend=${pair%%:*}
  platform=${pair#*:}
  out=$(timeout 900 python3 "$E2E_ROOT/tests/e2e/parity.py" --twinbox "$DOCKER_HOST" \
    --engine "unix://$STATE/run/$backend-engine.sock" --platform "$platform" --image "$IMG" \
    --table "$E2E_ROOT/docs/parity.md" --label "$backend " 2>&1)
  rc=$?
  echo "$out" | grep -v '^same: '
  steps=$(echo "$out" | grep -c '^same: ')
  if [ "$rc" -eq 0 ]; then
    pass "$backend: twinboxd answers as its engine does ($steps steps the same, the rest in docs/parity.md)"
  else
    fail "$backend: twinboxd answers as its engine does" "$(echo "$out" | grep -E '^DIFF|Error|Traceback' | head -n 20)"
  fi
  # The steps really ran: most succeeded on the engine itself.
  expect_match "$backend: the engine answered the steps" '^same: .*create.full \(201\)' "$out"
done
finish
