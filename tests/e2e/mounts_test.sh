#!/usr/bin/env bash
# Host bind mounts (issue 22): twinboxd shares the user's home and the temp dir into both VMs
# (virtio-9p, passthrough) at the same path, so `-v "$PWD":/src` means the host's files on hv and
# on rosetta alike: read and written at once in both directions, owner, mode and symlinks as the
# container left them, `:ro` enforced, a missing `-v` source created on the host, a missing
# `--mount` source refused as dockerd refuses it. A source outside every share is refused with a
# 400 before anything is made; the VM's own docker.sock still mounts. Compose v1 and v2 projects
# with `./` paths and a published port serve files from the host on either backend. Non-overlapping
# network pools per VM. Then, restarted as an upgrade would (per-VM volumes before, global volumes
# after): each VM's old volume is read on the other; one namespace of volumes whose data lives
# under <state>/volumes, written on hv and read on rosetta one after the other and concurrently;
# `volume rm` of a volume in use on the other backend is a 409 and loses nothing; implicit,
# anonymous, --volumes-from, :ro, tmpfs and --mount type=volume|tmpfs as with one dockerd; prune
# spares what either backend uses. Two boots. ~5 min under TCG.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REG=127.0.0.1:5000
IMG_AMD64=$REG/twinbox/busybox-amd64:latest
IMG_ARM64=$REG/twinbox/busybox-arm64:latest
PORT=${TWINBOX_E2E_PORT:-18441}
UNSHARED=/srv/twinbox-e2e-unshared-$$

check "test registry answers on $REG" curl -fsS "http://$REG/v2/"
WORK=$(mktemp -d /tmp/tbmounts.XXXXXX)
cleanup_work() { rm -rf "$WORK"; }
start_twinboxd --no-global-volumes
trap 'stop_twinboxd; cleanup_work' EXIT
expect_match "the log names what is shared" "shared into both VMs at the same path.*/tmp" \
  "$(cat "$STATE/twinboxd.out")"

check "the arm64 and amd64 test images pull" sh -c "docker pull -q $IMG_ARM64 && docker pull -q $IMG_AMD64"
check "per-VM volumes (as before global volumes): one with data on hv" \
  docker run --rm -v legacy-hv:/v "$IMG_ARM64" sh -c 'echo kept-from-hv >/v/f'
check "and one on rosetta" docker run --rm -v legacy-ros:/v "$IMG_AMD64" sh -c 'echo kept-from-rosetta >/v/f'
printf 'hello from the host\n' >"$WORK/f"
ln -s f "$WORK/link"
mkdir -m 0777 "$WORK/open"

# --- on each backend: read, write, owner, mode, symlink, a host change seen at once
for b in hv rosetta; do
  img=$IMG_ARM64 arch=aarch64 plat=linux/arm64
  [ "$b" = rosetta ] && img=$IMG_AMD64 arch=x86_64 plat=linux/amd64
  expect_eq "$b: a container reads the host's file (and through a symlink)" \
    "hello from the host|hello from the host|$arch" \
    "$(docker run --rm --platform "$plat" -v "$WORK:/w" "$img" sh -c 'echo "$(cat /w/f)|$(cat /w/link)|$(uname -m)"' 2>&1)"
  check "$b: a container writes, chowns, chmods and links in the bind mount" \
    docker run --rm -v "$WORK:/w" "$img" sh -c \
    "echo written-in-$b >/w/out-$b && chown 1234:5678 /w/out-$b && chmod 640 /w/out-$b && ln -s out-$b /w/ln-$b && mkdir /w/dir-$b"
  expect_eq "$b: the host sees the content at once" "written-in-$b" "$(cat "$WORK/out-$b" 2>&1)"
  expect_eq "$b: with the owner and mode the container gave it (passthrough)" "1234:5678 640" \
    "$(stat -c '%u:%g %a' "$WORK/out-$b" 2>&1)"
  expect_eq "$b: the symlink is a symlink on the host" "out-$b" "$(readlink "$WORK/ln-$b" 2>&1)"
  check "$b: and the directory a directory" test -d "$WORK/dir-$b"
  check "$b: a file written by --user 1000:1000" \
    docker run --rm --user 1000:1000 -v "$WORK/open:/o" "$img" sh -c "echo u >/o/user-$b"
  expect_eq "$b: is owned by uid 1000 on the host" "1000:1000" \
    "$(stat -c '%u:%g' "$WORK/open/user-$b" 2>&1)"
  out=$(docker run --rm -v "$WORK:/w:ro" "$img" sh -c "echo x >/w/ro-$b" 2>&1)
  rc=$?
  expect_eq "$b: :ro refuses a write" "1" "$rc"
  expect_contains "$b: with a read-only file system error" "Read-only file system" "$out"
  check "$b: and nothing reached the host" test ! -e "$WORK/ro-$b"
done

# runc's console socket lives in the engine's temp dir, not in the shared /tmp (9p binds no sockets).
expect_contains "docker run -t works with /tmp shared" "tty-ok" \
  "$(docker run --rm -t "$IMG_ARM64" echo tty-ok 2>&1)"
check "a long-running container on rosetta with the bind mount" \
  docker run -d --name live -v "$WORK:/w" "$IMG_AMD64" sleep 600
echo "changed on the host" >"$WORK/live"
expect_eq "it reads a file the host wrote after it started" "changed on the host" \
  "$(docker exec live cat /w/live 2>&1)"
expect_contains "docker exec -t works there too" "tty-ok" "$(docker exec -t live echo tty-ok 2>&1)"
expect_eq "the hv container's file is there too (one set of files for both VMs)" "written-in-hv" \
  "$(docker exec live cat /w/out-hv 2>&1)"
docker rm -f live >/dev/null 2>&1

# --- missing sources under a share, as dockerd does
check "-v of a missing directory under a share succeeds" \
  docker run --rm -v "$WORK/new/deeper:/n" "$IMG_ARM64" sh -c 'echo made >/n/file'
expect_eq "and the directory and the file are on the host" "made" "$(cat "$WORK/new/deeper/file" 2>&1)"
out=$(docker run --rm --mount "type=bind,source=$WORK/missing,target=/m" "$IMG_ARM64" true 2>&1)
expect_contains "--mount of a missing source is dockerd's error" "bind source path does not exist" "$out"

# --- a source outside every share: 400 before anything is made
before=$(docker ps -aq | wc -l)
out=$(docker run --rm -v "$UNSHARED:/x" "$IMG_ARM64" true 2>&1)
rc=$?
expect_eq "-v of an unshared path is refused" "125" "$rc"
expect_contains "naming the path and that it is not shared" \
  "Mounts denied: the path $UNSHARED is not shared from the host into twinbox's VMs" "$out"
expect_contains "and how to share it" "twinboxd --share $UNSHARED" "$out"
out=$(docker run --rm --mount "type=bind,source=$UNSHARED,target=/x" "$IMG_AMD64" true 2>&1)
expect_contains "--mount of an unshared path too (on rosetta's side as well)" "Mounts denied" "$out"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$STATE/docker.sock" \
  -H 'Content-Type: application/json' -d "{\"Image\":\"$IMG_ARM64\",\"HostConfig\":{\"Binds\":[\"$UNSHARED:/x\"]}}" \
  http://twinbox/v1.41/containers/create)
expect_eq "the API answers 400" "400" "$code"
check "nothing was created on the host" test ! -e "$UNSHARED"
expect_eq "and no container was created" "$before" "$(docker ps -aq | wc -l)"
ln -s /etc "$WORK/to-etc"
out=$(docker run --rm -v "$WORK/to-etc:/x" "$IMG_ARM64" true 2>&1)
expect_contains "a symlink out of the shares is refused" "leads to /etc" "$out"
check "the VM's own docker.sock still mounts" \
  docker run --rm -v /var/run/docker.sock:/var/run/docker.sock "$IMG_ARM64" test -S /var/run/docker.sock
out=$(docker run --rm -v "$STATE/hv:/s" "$IMG_ARM64" true 2>&1)
expect_contains "twinbox's own state dir is refused though /tmp is shared" "twinbox's own state" "$out"

# --- networks: each VM hands out subnets from its own pools
check "a network created through twinbox" docker network create tbnet
subnets() { engine "$1" network inspect tbnet --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>&1; }
hv_net=$(subnets hv) ros_net=$(subnets rosetta)
expect_match "hv's copy is from hv's pool" '^172\.(18|19|2[0-3])\.' "$hv_net"
expect_match "rosetta's copy is from rosetta's pool" '^172\.(2[5-9]|3[01])\.' "$ros_net"
expect_eq "the default bridges differ too" "172.17.0.0/16 172.24.0.0/16" \
  "$(engine hv network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}') $(engine rosetta network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}')"
check "a rosetta container on tbnet" \
  docker run -d --name netros --network tbnet --platform linux/amd64 "$IMG_AMD64" sleep 600
check "an hv container elsewhere" docker run -d --name netarm "$IMG_ARM64" sleep 600
out=$(docker network connect tbnet netarm 2>&1)
expect_eq "connecting the hv container to tbnet fails" "1" "$?"
expect_contains "naming tbnet's member and its backend" "its members netros run on rosetta" "$out"
expect_contains "and saying why" "could not reach them" "$out"
expect_eq "netarm was not connected" "bridge" \
  "$(docker inspect netarm --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' 2>&1)"
docker run -d --name netros2 --platform linux/amd64 "$IMG_AMD64" sleep 600 >/dev/null 2>&1
check "a rosetta container connects to tbnet" docker network connect tbnet netros2
expect_eq "and reaches its member by name" "0" \
  "$(docker exec netros2 ping -c 1 -W 5 netros >/dev/null 2>&1; echo $?)"
docker rm -f netros netros2 netarm >/dev/null 2>&1
docker network rm tbnet >/dev/null 2>&1

# --- global volumes: restarted with the default, as after an upgrade
check "twinbox down" tb down --timeout 120
restart_twinboxd
expect_eq "hv's own volume from before is read on rosetta" "kept-from-hv" \
  "$(docker run --rm --platform linux/amd64 -v legacy-hv:/v "$IMG_AMD64" cat /v/f 2>&1)"
expect_eq "rosetta's own volume from before is read on hv" "kept-from-rosetta" \
  "$(docker run --rm -v legacy-ros:/v "$IMG_ARM64" cat /v/f 2>&1)"
check "docker volume create gv" docker volume create gv
check "a container on hv writes into gv" docker run --rm -v gv:/v "$IMG_ARM64" sh -c 'echo from-hv >/v/f'
expect_eq "a container on rosetta reads it" "from-hv" "$(docker run --rm --platform linux/amd64 -v gv:/v "$IMG_AMD64" cat /v/f 2>&1)"
expect_eq "the data lives on the host under the state dir" "from-hv" \
  "$(cat "$STATE/volumes/gv/_data/f" 2>&1)"
check "a rosetta container keeps gv mounted" docker run -d --name vuser -v gv:/v "$IMG_AMD64" sleep 600
check "meanwhile a container on hv writes to gv" \
  docker run --rm -v gv:/v "$IMG_ARM64" sh -c 'echo concurrent >/v/g'
expect_eq "the running rosetta container reads it at once" "concurrent" "$(docker exec vuser cat /v/g 2>&1)"
expect_eq "docker volume ls shows gv once" "1" "$(docker volume ls -q | grep -cx gv)"
out=$(docker volume rm gv 2>&1)
rc=$?
expect_eq "volume rm of gv while rosetta uses it fails" "1" "$rc"
expect_contains "with dockerd's in-use message naming the backend" "volume is in use" "$out"
expect_contains "and the backend" "(on rosetta)" "$out"
check "gv's data is still on the host" test -s "$STATE/volumes/gv/_data/f"
check "and hv still knows gv" engine hv volume inspect gv
# --- compose projects with ./ paths, a named volume and a published port, one per backend
mkdir -p "$WORK/v1/site" "$WORK/v2/site"
echo "site v1 from the host" >"$WORK/v1/site/index.html"
echo "site v2 from the host" >"$WORK/v2/site/index.html"
cat >"$WORK/v1/docker-compose.yml" <<YML
version: "2.4"
services:
  web:
    image: $IMG_AMD64
    command: httpd -f -p 80 -h /site
    volumes: ["./site:/site:ro", "shared:/data:ro", "cache:/cache"]
    ports: ["127.0.0.1:$PORT:80"]
volumes:
  cache: {}
  shared:
    external:
      name: mountsv2_data
YML
cat >"$WORK/v2/compose.yaml" <<YML
services:
  web:
    image: $IMG_ARM64
    command: sh -c 'echo written-by-compose-on-hv >/data/note && httpd -f -p 80 -h /site'
    volumes: ["./site:/site", "data:/data"]
    ports: ["127.0.0.1:$((PORT + 1)):80"]
volumes:
  data: {}
YML
out=$(cd "$WORK/v2" && docker compose -p mountsv2 up -d 2>&1)
expect_eq "compose v2 project with ./site up" "0" "$?"
eventually "its page answers on its published port" 60 \
  sh -c "curl -fsS http://127.0.0.1:$((PORT + 1))/ | grep -qx 'site v2 from the host'"
echo "edited on the host" >"$WORK/v2/site/index.html"
expect_eq "an edit on the host is served at once" "edited on the host" \
  "$(curl -fsS "http://127.0.0.1:$((PORT + 1))/" 2>&1)"
expect_eq "compose v2's web runs on hv" "hv" "$(backend_of mountsv2-web-1)"
out=$(cd "$WORK/v1" && docker-compose -p mountsv1 up -d 2>&1)
expect_eq "compose v1 project with ./site up" "0" "$?"
eventually "its page (a host file) answers on the published port" 60 \
  sh -c "curl -fsS http://127.0.0.1:$PORT/ | grep -qx 'site v1 from the host'"
expect_eq "compose v1's web runs on rosetta" "rosetta" "$(backend_of mountsv1_web_1)"
expect_eq "it reads the volume compose v2's hv service wrote" "written-by-compose-on-hv" \
  "$(docker exec mountsv1_web_1 cat /data/note 2>&1)"
check "its own named volume is listed once" sh -c "docker volume ls -q | grep -cx mountsv1_cache | grep -qx 1"
check "compose v1 down -v" sh -c "cd '$WORK/v1' && docker-compose -p mountsv1 down -v"
check "compose v2 down -v" sh -c "cd '$WORK/v2' && docker compose -p mountsv2 down -v"
expect_eq "their named volumes are gone" "" \
  "$(docker volume ls -q | grep -E '^mountsv[12]_')"

check "an implicit volume made on hv" docker run --rm -v implicit:/v "$IMG_ARM64" sh -c 'echo made-implicitly >/v/i'
expect_eq "is read on rosetta" "made-implicitly" "$(docker run --rm --platform linux/amd64 -v implicit:/v "$IMG_AMD64" cat /v/i 2>&1)"
out=$(docker run --rm -v gv:/v:ro "$IMG_ARM64" sh -c 'echo x >/v/ro' 2>&1)
expect_contains "a volume mounted :ro refuses a write" "Read-only file system" "$out"
check "--mount type=volume" docker run --rm --mount type=volume,source=gv,target=/v "$IMG_ARM64" test -s /v/f
check "a container with an anonymous volume" \
  docker run -d --name anon -v /anon "$IMG_AMD64" sh -c 'echo anonymous >/anon/a && sleep 600'
eventually "--volumes-from reads its anonymous volume" 30 \
  sh -c "docker run --rm --volumes-from anon $IMG_AMD64 cat /anon/a | grep -qx anonymous"
expect_contains "--tmpfs is a tmpfs" "tmpfs" \
  "$(docker run --rm --tmpfs /t "$IMG_ARM64" sh -c 'grep " /t " /proc/mounts' 2>&1)"
expect_contains "--mount type=tmpfs too" "tmpfs" \
  "$(docker run --rm --mount type=tmpfs,target=/t "$IMG_AMD64" sh -c 'grep " /t " /proc/mounts' 2>&1)"
check "an unused named volume" docker volume create spare
out=$(docker volume prune -af 2>&1)
expect_contains "volume prune -a removes the unused one" "spare" "$out"
expect_eq "from both engines" "" \
  "$(engine hv volume ls -q | grep -x spare; engine rosetta volume ls -q | grep -x spare)"
check "gv, in use on rosetta only, survives the prune" test -s "$STATE/volumes/gv/_data/f"
expect_eq "and is still listed" "1" "$(docker volume ls -q | grep -cx gv)"
check "so does anon's volume" docker exec anon cat /anon/a
docker rm -f vuser anon >/dev/null 2>&1
check "volume rm gv once nothing uses it" docker volume rm gv
check "its data is gone from the host" test ! -e "$STATE/volumes/gv"

finish
