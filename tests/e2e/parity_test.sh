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

T0=$(date +%s)
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
  # The streams and waits the comparison would also pass if both sides failed alike.
  for want in 'attach\.stream .*"tick1\\ntick2\\ntick3' 'cli\.start-attach \(0\) "tick1' \
    'wait\.next-exit \(200\) .*"StatusCode": 0' 'wait\.removed \(200\)' \
    'cli\.run-stdin \(0\) "piped"' 'cli\.cp-in-read \(0\) "copied in"' \
    'cli\.port \(0\) "80/tcp -> 127\.0\.0\.1:<port>"' 'py\.run-remove .*"high level' \
    'py\.list .*par-X-renamed'; do
    step=${want%% *}
    expect_match "$backend: ${step//\\/} did what it says on both sides" "^same: $backend $want" "$out"
  done
done

# What one dockerd would show and two engines must add up to: events of both, in time order
# (each run's engine side came before its twinbox side, hv's run before rosetta's; containers
# made on an engine's own socket are that engine's events too), prune of both, disk usage of
# both.
out=$(docker events --since "$T0" --until "$(($(date +%s) + 1))" --filter type=container \
  --filter event=create --filter label=par=yes --format '{{.Actor.Attributes.name}}' 2>&1)
expect_eq "docker events shows the creates of both engines, in time order" \
  "par-earm64-main par-tarm64-main par-eamd64-main par-tamd64-main" "$(echo "$out" | tr '\n' ' ' | sed 's/ $//')"
arm=$(docker create --label par-prune=1 --name prune-arm "$IMG" true 2>&1)
amd=$(docker create --label par-prune=1 --platform linux/amd64 --name prune-amd "$IMG" true 2>&1)
expect_eq "prune-amd is on rosetta" "rosetta" "$(backend_of prune-amd)"
out=$(docker container prune -f --filter label=par-prune=1 2>&1)
expect_contains "docker container prune removes the one on hv" "$arm" "$out"
expect_contains "and the one on rosetta" "$amd" "$out"
expect_eq "none is left" "" \
  "$(docker ps -a --filter label=par-prune=1 --format '{{.Names}}' 2>&1)"
expect_eq "prune-amd is gone from rosetta's engine too" "" \
  "$(engine rosetta ps -a --filter label=par-prune=1 --format '{{.Names}}' 2>&1)"
out=$(docker system df --format '{{.Type}} {{.TotalCount}}' 2>&1)
images=$(echo "$out" | awk '$1 == "Images" {print $2}')
expect_eq "docker system df counts the images of both engines" \
  "$(($(engine hv images -q | wc -l) + $(engine rosetta images -q | wc -l)))" "$images"
finish
