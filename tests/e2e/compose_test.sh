#!/usr/bin/env bash
# Compose projects (issue 4): `twinbox compose` declares a docker-compose 1.29 project before its
# first container. A project mixing an arm64-only and an amd64-only service lands entirely on
# rosetta (an arm64 VM: the arm64 service runs there natively, the amd64 one translated) and its
# services reach each other by name; an all-arm64 project lands on hv; `down`
# removes the containers and the network (from both engines) and forgets the declaration.
# Compose v2 and buildx (issue 20, Debian 13's packages as docker CLI plugins, installed by
# scripts/install-cli-plugins): `docker compose up -d` of a two-service project with a published
# port and a lookup by service name, `ps`, `exec`, `down`; `docker buildx version`.
# One twinboxd boot, five containers. ~3 min under TCG.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG=127.0.0.1:5000/twinbox/busybox:latest
IMG_AMD64=127.0.0.1:5000/twinbox/busybox-amd64:latest
IMG_ARM64=127.0.0.1:5000/twinbox/busybox-arm64:latest

check "test registry answers on 127.0.0.1:5000" curl -fsS http://127.0.0.1:5000/v2/
check "docker-compose is installed" docker-compose version
expect_match "the docker CLI has compose v2 as a plugin" '^Docker Compose version v?2\.' \
  "$(docker compose version 2>&1)"
expect_match "and buildx" '^github.com/docker/buildx v?0\.' "$(docker buildx version 2>&1)"
PORT=${TWINBOX_E2E_PORT:-18439}
start_twinboxd
SOCK=$STATE/docker.sock
# "declared" field of project $1 in GET /twinbox/v1/projects ("absent" when not listed).
declared() {
  curl -fsS --unix-socket "$SOCK" http://twinbox/twinbox/v1/projects 2>&1 | python3 -c '
import sys, json
p = [x for x in json.load(sys.stdin) if x.get("project") == sys.argv[1]]
print(str(p[0].get("declared")).lower() if p else "absent")' "$1"
}

# --- a mixed project: the amd64-only service pulls the whole project onto rosetta
MIXED=$STATE/Mixed.Proj  # compose 1.29 names it "mixedproj"
mkdir -p "$MIXED"
cat >"$MIXED/docker-compose.yml" <<EOF
version: "2.4"
services:
  web:
    image: $IMG_ARM64
    command: ["sleep", "600"]
  legacy:
    image: $IMG_AMD64
    command: ["sleep", "600"]
EOF
out=$(cd "$MIXED" && tb compose up -d 2>&1)
rc=$?
expect_eq "twinbox compose up -d succeeds" "0" "$rc"
expect_contains "the declaration names rosetta" "twinbox: project mixedproj → rosetta" "$out"
expect_eq "the declaration is recorded" "true" "$(declared mixedproj)"
expect_eq "web (arm64-only) lands on rosetta with its project" "rosetta" \
  "$(backend_of mixedproj_web_1)"
expect_eq "legacy (amd64-only) lands on rosetta" "rosetta" "$(backend_of mixedproj_legacy_1)"
expect_out "web runs natively there" "aarch64" docker exec mixedproj_web_1 uname -m
expect_eq "web's labels say linux/arm64, native, no translator" "linux/arm64 native none" \
  "$(label_of mixedproj_web_1 io.twinbox.platform) $(label_of mixedproj_web_1 io.twinbox.execution) $(label_of mixedproj_web_1 io.twinbox.translator)"
expect_out "legacy runs translated there" "x86_64" docker exec mixedproj_legacy_1 uname -m
expect_contains "web's route reason names the declared project" \
  "joins project mixedproj on rosetta (declared)" "$(label_of mixedproj_web_1 io.twinbox.route.reason)"
# The project network is replicated: it exists in both engines, whichever backend uses it.
check "the project network exists in hv's engine" engine hv network inspect mixedproj_default
check "the project network exists in rosetta's engine" engine rosetta network inspect mixedproj_default
expect_eq "both carry the compose project label" "mixedproj mixedproj" \
  "$(docker inspect --format '{{index .Config.Labels "com.docker.compose.project"}}' \
     mixedproj_web_1 mixedproj_legacy_1 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check "web reaches legacy by name" docker exec mixedproj_web_1 ping -c1 -W5 legacy
check "legacy reaches web by name" docker exec mixedproj_legacy_1 ping -c1 -W5 web
ps=$(cd "$MIXED" && tb compose ps 2>&1)
expect_contains "twinbox compose ps lists the project's services" "mixedproj_legacy_1" "$ps"

out=$(cd "$MIXED" && tb compose down 2>&1)
rc=$?
expect_eq "twinbox compose down succeeds" "0" "$rc"
left=$(docker ps -a --filter label=com.docker.compose.project=mixedproj --format '{{.Names}}' 2>&1)
expect_eq "down removed the project's containers" "" "$left"
nets=$( (engine hv network ls --format '{{.Name}}'; engine rosetta network ls --format '{{.Name}}') 2>&1)
if [[ "$nets" == *mixedproj_default* ]]; then
  fail "down removed the project network from both engines" "$nets"
else
  pass "down removed the project network from both engines"
fi
d=$(declared mixedproj)
if [ "$d" = "absent" ] || [ "$d" = "false" ]; then
  pass "down forgot the declaration"
else
  fail "down forgot the declaration" "declared=$d"
fi

# --- an all-arm64 project stays native on hv
ARM=$STATE/armonly
mkdir -p "$ARM"
cat >"$ARM/docker-compose.yml" <<EOF
version: "2.4"
services:
  app:
    image: $IMG
    command: ["sleep", "600"]
EOF
out=$(tb compose -f "$ARM/docker-compose.yml" -p ArmOnly up -d 2>&1)
rc=$?
expect_eq "an all-arm64 project comes up" "0" "$rc"
expect_contains "the declaration names hv" "twinbox: project armonly → hv" "$out"
expect_eq "its service lands on hv" "hv" "$(backend_of armonly_app_1)"
expect_out "and runs natively" "aarch64" docker exec armonly_app_1 uname -m
check "twinbox compose down (arm64 project)" tb compose -f "$ARM/docker-compose.yml" -p ArmOnly down

# --- compose v2 (the docker CLI plugin), without a declaration: each container is routed as a
# `docker run` of it would be; a published port on the host, services reach each other by name.
V2=$STATE/v2proj
mkdir -p "$V2"
cat >"$V2/compose.yaml" <<EOF
services:
  web:
    image: $IMG
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-v2 >/www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1:$PORT:80"]
  client:
    image: $IMG
    command: ["sleep", "600"]
    depends_on: [web]
EOF
out=$(cd "$V2" && docker compose up -d 2>&1)
rc=$?
expect_eq "docker compose up -d (v2) succeeds" "0" "$rc"
[ "$rc" -eq 0 ] || echo "$out" | tail -n 5
expect_eq "its containers are named as compose v2 names them, on hv" "hv hv" \
  "$(backend_of v2proj-web-1) $(backend_of v2proj-client-1)"
eventually "curl http://127.0.0.1:$PORT/ reaches the web service" 60 \
  sh -c "curl -fsS -m 5 http://127.0.0.1:$PORT/ | grep -qx hello-from-v2"
expect_out "client reaches web by its service name" "hello-from-v2" \
  sh -c "cd '$V2' && docker compose exec -T client wget -qO- http://web/"
expect_match "docker compose ps shows the port as bound" \
  "web 127\.0\.0\.1:$PORT->80/tcp" "$(cd "$V2" && docker compose ps --format '{{.Service}} {{.Ports}}' 2>&1)"
expect_eq "docker compose ps lists both services" "client web" \
  "$(cd "$V2" && docker compose ps --format '{{.Service}}' 2>&1 | sort | tr '\n' ' ' | sed 's/ $//')"
check "docker compose down (v2)" sh -c "cd '$V2' && docker compose down"
expect_eq "down removed its containers" "" \
  "$(docker ps -a --filter label=com.docker.compose.project=v2proj --format '{{.Names}}' 2>&1)"
expect_eq "and its network" "" "$(docker network ls -q --filter name=v2proj_default 2>&1)"
check "the port is free again" sh -c "! curl -fsS -m 2 http://127.0.0.1:$PORT/"

# --- a refused declaration stops before docker-compose runs
BAD=$STATE/bad
mkdir -p "$BAD"
cat >"$BAD/docker-compose.yml" <<EOF
version: "2.4"
services:
  odd:
    image: $IMG
    platform: linux/s390x
EOF
out=$(tb compose -f "$BAD/docker-compose.yml" up -d 2>&1)
rc=$?
expect_eq "a project no backend can run is refused" "1" "$rc"
expect_contains "with the daemon's reason" "twinbox: declaring project bad: " "$out"
left=$(docker ps -a --filter label=com.docker.compose.project=bad --format '{{.Names}}' 2>&1)
expect_eq "and no container was created" "" "$left"
finish
