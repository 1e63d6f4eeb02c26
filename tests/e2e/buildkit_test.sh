#!/usr/bin/env bash
# BuildKit builds through twinboxd (issue 21) with the real buildx plugin (its `docker` driver):
# twinboxd ends the /grpc HTTP/2 connection and sends each build to the engine of its platform,
# with its /session. --platform linux/amd64 builds in rosetta, linux/arm64 and no platform in hv;
# what a build made is in that engine and runs there at once. The session carries the context
# (.dockerignore applied), a secret, an ssh agent; cache mounts persist in the engine that built;
# --build-arg and --target reach the frontend; buildx du / prune cover both engines' build
# cache; Ctrl-C stops the build in the guest;
# multi-platform is refused at once. ~3 min under TCG.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox:latest

check "test registry answers on 127.0.0.1:5000" curl -fsS http://127.0.0.1:5000/v2/
expect_match "buildx is a docker CLI plugin" '^github.com/docker/buildx v?0\.' \
  "$(docker buildx version 2>&1)"
start_twinboxd

CTX=$STATE/ctx
mkdir -p "$CTX"
cat >"$CTX/Dockerfile" <<DOCKERFILE
FROM $IMG AS base
ARG GREETING=hi
ARG BUST=1
RUN --mount=type=cache,target=/cache echo "run \$BUST" >> /cache/runs && wc -l < /cache/runs > /cache-count
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /secret-copy
COPY keep.txt /keep.txt
RUN echo "\$GREETING" > /greeting && uname -m > /arch
FROM base AS final
RUN echo final > /stage
DOCKERFILE
echo keep >"$CTX/keep.txt"
echo skip >"$CTX/skip.txt"
echo skip.txt >"$CTX/.dockerignore"
echo s3cr3t-token >"$STATE/tok"

# --- linux/amd64: built in rosetta, runnable there at once
out=$(docker buildx build --progress=plain --platform linux/amd64 \
  --secret id=tok,src="$STATE/tok" --build-arg GREETING=hello --target base \
  --load -t tb-bk:amd64 "$CTX" 2>&1)
rc=$?
expect_eq "buildx build --platform linux/amd64 --load succeeds" "0" "$rc"
[ "$rc" -eq 0 ] || echo "$out" | tail -20
expect_contains "the progress output names the engine and why" \
  "twinbox: building in rosetta (build for linux/amd64" "$out"
check "the amd64 image is in rosetta's engine" engine rosetta image inspect tb-bk:amd64
if engine hv image inspect tb-bk:amd64 >/dev/null 2>&1; then
  fail "the amd64 image is not in hv's engine"
else pass "the amd64 image is not in hv's engine"; fi
expect_out "the RUN steps ran translated (uname -m in the build)" "x86_64" \
  docker run --rm --platform linux/amd64 tb-bk:amd64 cat /arch
expect_out "the built image runs through twinbox" "x86_64" \
  docker run --rm --platform linux/amd64 tb-bk:amd64 uname -m
expect_out "--build-arg reached the frontend" "hello" docker run --rm tb-bk:amd64 cat /greeting
expect_out "the secret was mounted from the session" "s3cr3t-token" \
  docker run --rm tb-bk:amd64 cat /secret-copy
expect_out "the context came through the session" "keep" docker run --rm tb-bk:amd64 cat /keep.txt
out=$(docker run --rm tb-bk:amd64 sh -c 'ls /skip.txt /stage 2>&1; true')
expect_contains ".dockerignore left skip.txt out" "/skip.txt: No such file" "$out"
expect_contains "--target base stopped before the final stage" "/stage: No such file" "$out"
expect_out "the cache mount started empty" "1" docker run --rm tb-bk:amd64 cat /cache-count
# The cache mount lives in the engine that built: a second amd64 build finds it there.
out=$(docker buildx build --progress=plain --platform linux/amd64 --build-arg BUST=2 \
  --secret id=tok,src="$STATE/tok" --target base --load -t tb-bk:amd64-again "$CTX" 2>&1)
expect_eq "a second amd64 build succeeds" "0" "$?"
expect_out "its cache mount is the first build's (same engine)" "2" \
  docker run --rm tb-bk:amd64-again cat /cache-count

# --- linux/arm64: built in hv
out=$(docker buildx build --progress=plain --platform linux/arm64 \
  --secret id=tok,src="$STATE/tok" --load -t tb-bk:arm64 "$CTX" 2>&1)
rc=$?
expect_eq "buildx build --platform linux/arm64 --load succeeds" "0" "$rc"
[ "$rc" -eq 0 ] || echo "$out" | tail -20
check "the arm64 image is in hv's engine" engine hv image inspect tb-bk:arm64
expect_out "its RUN steps ran natively in hv" "aarch64" docker run --rm tb-bk:arm64 cat /arch
expect_out "the final stage was built" "final" docker run --rm tb-bk:arm64 cat /stage

# --- plain docker build (BuildKit through the plugin), no platform, with an ssh agent
# shellcheck disable=SC2016 # $SSH_AUTH_SOCK is the build step's
printf 'FROM %s\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && uname -m > /arch\n' "$IMG" \
  >"$CTX/Dockerfile.ssh"
AGENT_OUT=$(ssh-agent -s)
eval "$AGENT_OUT" >/dev/null
out=$(docker build --ssh default -f "$CTX/Dockerfile.ssh" -t tb-bk:plain "$CTX" 2>&1)
rc=$?
ssh-agent -k >/dev/null 2>&1
expect_eq "docker build --ssh default (BuildKit, no platform) succeeds" "0" "$rc"
[ "$rc" -eq 0 ] || echo "$out" | tail -20
check "without a platform it built in hv" engine hv image inspect tb-bk:plain
expect_out "and ran there natively" "aarch64" docker run --rm tb-bk:plain cat /arch

# --- build cache of both engines: buildx du lists each engine's pulled base, prune empties both
out=$(docker buildx du --verbose 2>&1)
expect_eq "buildx du lists the base image's layer once per engine" "2" \
  "$(echo "$out" | grep -c "pulled from $IMG")"
check "buildx prune -af succeeds" docker buildx prune -af
expect_contains "and leaves no build cache in either engine" "Total:" "$(docker buildx du 2>&1)"
expect_eq "in either engine" "0" "$(docker buildx du --verbose 2>&1 | grep -c "pulled from")"

# --- multi-platform: refused at once with what to do
out=$(timeout 60 docker buildx build --platform linux/amd64,linux/arm64 "$CTX" 2>&1)
rc=$?
expect_eq "a multi-platform build fails" "1" "$rc"
expect_contains "at once, saying it is not supported by this builder" "Multi-platform build is not supported" "$out"

# --- Ctrl-C stops the build in the guest
printf 'FROM %s\nRUN sleep 987\n' "$IMG" >"$CTX/Dockerfile.slow"
# How many `sleep 987` run in hv's guest (a container in the host's pid namespace sees them).
sleepers() { engine hv run --rm --pid host "$IMG" ps -o args 2>/dev/null | grep -c '^sleep 987'; }
slow_running() { [ "$(sleepers)" -ge 1 ]; }
slow_gone() { [ "$(sleepers)" -eq 0 ]; }
docker buildx build --progress=plain -f "$CTX/Dockerfile.slow" "$CTX" >"$STATE/slow.log" 2>&1 &
BUILD_PID=$!
eventually "the slow build's RUN step runs in hv" 120 slow_running
kill -INT "$BUILD_PID"
wait "$BUILD_PID"
rc=$?
if [ "$rc" -ne 0 ]; then pass "the interrupted build exits non-zero ($rc)"; else
  fail "the interrupted build exits non-zero" "$(tail -5 "$STATE/slow.log")"; fi
eventually "the RUN step is gone from the guest after Ctrl-C" 60 slow_gone

# --- docker info and the log name the engine of each build
expect_contains "docker info says where each platform builds" \
  "linux/arm64 -> hv, linux/amd64 -> rosetta" "$(docker info --format '{{json .Labels}}' 2>&1)"
expect_contains "twinboxd's log says where the amd64 build ran" "linux/amd64 runs on rosetta" \
  "$(grep 'BuildKit' "$STATE/twinboxd.out")"

stop_twinboxd
finish
