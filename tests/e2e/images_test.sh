#!/usr/bin/env bash
# Images through the docker CLI and docker-py (issue 3): pulls by tag, by platform and by digest go through the
# host content store and land in the engine the router picks; `docker images` shows both engines;
# an image with no runnable platform is refused listing what it has; a container keeps the digest
# it was created from; and after `twinbox image import` a reference whose registry is unreachable
# still runs and pulls (CI without a registry).
# One twinboxd boot, two containers, six pulls/deliveries. ~2 min under TCG.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REG=127.0.0.1:5000
IMG=$REG/twinbox/busybox:latest
IMG_AMD64=$REG/twinbox/busybox-amd64:latest
IMG_S390X=$REG/twinbox/busybox-s390x:latest
# Nothing listens on 5999: a registry that cannot be reached.
OFFLINE=127.0.0.1:5999/offline/busybox

check "test registry answers on $REG" curl -fsS "http://$REG/v2/"
# The digests the registry serves (not hard-coded: a Debian point release changes them).
raw() { skopeo inspect --raw --tls-verify=false "docker://$1"; }
INDEX_DIGEST=sha256:$(raw "$IMG" | sha256sum | cut -d' ' -f1)
child() { raw "$IMG" | jq -r --arg a "$1" '.manifests[] | select(.platform.architecture == $a) | .digest'; }
AMD64_DIGEST=$(child amd64)
ARM64_DIGEST=$(child arm64)
AMD64_ONLY_DIGEST=sha256:$(raw "$IMG_AMD64" | sha256sum | cut -d' ' -f1)
expect_match "the registry's index has an amd64 and an arm64 child" \
  '^sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}$' "$AMD64_DIGEST $ARM64_DIGEST"
start_twinboxd

# --- pull by tag, no platform: the index offers arm64, so hv gets it natively
out=$(docker pull "$IMG" 2>&1)
expect_eq "docker pull by tag succeeds" "0" "$?"
expect_match "a twinbox: line says the arm64 variant goes to hv" \
  '^twinbox: linux/arm64(/v8)? for hv \(' "$out"
expect_contains "the digest line names the index" "Digest: $INDEX_DIGEST" "$out"
expect_contains "the pull pins the arm64 child" "twinbox: pinned $REG/twinbox/busybox@$ARM64_DIGEST" \
  "$out"
expect_out "hv's engine holds the arm64 image" "arm64" \
  engine hv image inspect --format '{{.Architecture}}' "$IMG"
# The engine loaded it (no RepoDigests of its own); twinboxd shows the digest that was pulled.
expect_eq "docker image inspect shows the pulled index digest in RepoDigests" \
  "$REG/twinbox/busybox@$INDEX_DIGEST" \
  "$(docker image inspect --format '{{index .RepoDigests 0}}' "$IMG" 2>&1)"
expect_contains "docker images --digests shows it too" "$INDEX_DIGEST" \
  "$(docker images --digests --format '{{.Repository}} {{.Digest}}' "$REG/twinbox/busybox" 2>&1)"

# --- pull by platform: amd64 goes to rosetta
out=$(docker pull --platform linux/amd64 "$IMG" 2>&1)
expect_eq "docker pull --platform linux/amd64 succeeds" "0" "$?"
expect_match "a twinbox: line says amd64 goes to rosetta" '^twinbox: linux/amd64 for rosetta \(' "$out"
expect_contains "the pull pins the amd64 child" "twinbox: pinned $REG/twinbox/busybox@$AMD64_DIGEST" \
  "$out"
expect_out "rosetta's engine holds the amd64 image" "amd64" \
  engine rosetta image inspect --format '{{.Architecture}}' "$IMG"

# --- pull by digest: a child manifest digest is one platform, not re-resolved
out=$(docker pull "$REG/twinbox/busybox@$AMD64_DIGEST" 2>&1)
expect_eq "docker pull by digest succeeds" "0" "$?"
expect_match "the amd64 child goes to rosetta" '^twinbox: linux/amd64 for rosetta \(' "$out"
expect_contains "its digest line is the child's" "Digest: $AMD64_DIGEST" "$out"

# --- docker images: both engines' images in one list (one busybox per VM, different image IDs)
ids=$(docker images --no-trunc --filter "reference=$REG/twinbox/busybox" --format '{{.ID}}' 2>&1 | sort -u)
expect_eq "docker images lists busybox from both engines" "2" "$(echo "$ids" | grep -c '^sha256:')"

# --- twinbox images: each engine's copy with its backend and platform
placed=$(tb images --json 2>&1 | jq -r --arg t "$IMG" \
  '.[] | select(.repo_tags | index($t)) | "\(.backend) \(.platform)"' 2>&1)
expect_match "twinbox images: hv holds the arm64 busybox" '^hv linux/arm64(/v8)?$' "$placed"
expect_match "twinbox images: rosetta holds the amd64 busybox" '^rosetta linux/amd64$' "$placed"

# --- twinbox image ls: the store has the reference with both platforms
row=$(tb image ls 2>&1 | grep "^$IMG ")
expect_contains "twinbox image ls lists $IMG with linux/amd64" "linux/amd64" "$row"
expect_contains "twinbox image ls lists $IMG with linux/arm64" "linux/arm64" "$row"

# --- no platform, amd64-only image: rosetta, through qemu-x86_64; the container pins its digest
out=$(docker run --name amdonly "$IMG_AMD64" uname -m 2>"$STATE/amdonly.err")
expect_eq "an amd64-only image runs without --platform" "x86_64" "$out"
expect_eq "it was routed to rosetta" "rosetta" "$(backend_of amdonly)"
expect_eq "the container keeps the digest it was created from" \
  "$REG/twinbox/busybox-amd64@$AMD64_ONLY_DIGEST" "$(label_of amdonly io.twinbox.image.digest)"
expect_contains "docker inspect says why it is there" "linux/amd64" \
  "$(label_of amdonly io.twinbox.route.reason)"
check "docker rm amdonly" docker rm amdonly

# --- an image offering neither arm64 nor amd64 is refused, listing what it offers
if curl -fsS "http://$REG/v2/twinbox/busybox-s390x/tags/list" >/dev/null 2>&1; then
  out=$(docker pull "$IMG_S390X" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then pass "pulling an s390x-only image fails"; else fail "pulling an s390x-only image fails" "$out"; fi
  expect_contains "the refusal lists linux/s390x" "linux/s390x" "$out"
else
  skip "s390x-only image refused" "the registry has no twinbox/busybox-s390x (optional fixture)"
fi

# --- export, then an archive whose registry is unreachable: import, run and pull with no registry
ARCHIVE=$STATE/busybox-oci.tar
check "twinbox image export writes an OCI archive" tb image export -o "$ARCHIVE" "$IMG"
named=$(tar -xOf "$ARCHIVE" --wildcards '*index.json' 2>/dev/null |
  jq -r '.manifests[].annotations["io.containerd.image.name"]' 2>&1)
expect_eq "the archive's index.json names the full reference" "$IMG" "$named"
out=$(tb image import "$ARCHIVE" 2>&1)
expect_contains "the export imports back under its own name" "imported $IMG" "$out"

# --name applies only to images an archive names by tag alone (as skopeo writes them); an
# exported archive names its images fully. Keep only the tag, as a CI job's saved archive would.
TAGGED=$STATE/busybox-tag-only.tar
python3 - "$ARCHIVE" "$TAGGED" <<'PY'
import io, json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
    for m in tin.getmembers():
        data = tin.extractfile(m) if m.isfile() else None
        if m.name.lstrip("./") == "index.json":
            idx = json.load(data)
            for d in idx["manifests"]:
                d["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
            raw = json.dumps(idx).encode()
            m.size = len(raw)
            data = io.BytesIO(raw)
        tout.addfile(m, data)
PY
out=$(tb image import "$TAGGED" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then pass "a tag-only archive without --name is refused"; else fail "a tag-only archive without --name is refused" "$out"; fi
expect_contains "the refusal says to pass --name" "--name" "$out"
out=$(tb image import --name "$OFFLINE" "$TAGGED" 2>&1)
expect_contains "import --name gives the archive's tag a repository" "imported $OFFLINE:latest" "$out"
out=$(tb image rm "$REG/twinbox/busybox@$AMD64_DIGEST" 2>&1)
expect_contains "twinbox image rm forgets the by-digest reference" "untagged" "$out"
if tb image ls 2>&1 | grep -q "@$AMD64_DIGEST"; then
  fail "the by-digest reference is gone from twinbox image ls"
else
  pass "the by-digest reference is gone from twinbox image ls"
fi
out=$(tb image prune 2>&1)
expect_match "twinbox image prune reports what it removed" '^removed [0-9]+ blobs, freed ' "$out"
expect_contains "the imported reference is listed after the prune" "$OFFLINE:latest" \
  "$(tb image ls 2>&1)"

# The create finds the image in the store (no registry asked) and delivers it into hv.
expect_out "a container runs from the imported image with no registry" "aarch64" \
  docker run --rm "$OFFLINE:latest" uname -m
out=$(docker pull "$OFFLINE" 2>&1)
expect_eq "docker pull with the registry unreachable succeeds" "0" "$?"
expect_contains "a twinbox: line says the content store's copy was used" \
  "using the content store's copy" "$out"
expect_match "and names the unreachable registry" '^twinbox: registry 127\.0\.0\.1:5999 not used' "$out"

# --- docker-py (python3-docker), as CI suites drive twinbox: pull, run by image and by
# platform, exec, info
out=$(python3 - "$IMG" "$IMG_AMD64" 2>&1 <<'PY'
import sys, docker
img, amd64_only = sys.argv[1], sys.argv[2]
c = docker.from_env()
c.images.pull(amd64_only)
print("run", c.containers.run(amd64_only, "uname -m", remove=True).decode().strip())
ctr = c.containers.run(img, "sleep 120", detach=True, platform="linux/amd64", name="pyplat")
try:
    ctr.reload()
    print("backend", ctr.labels.get("io.twinbox.backend"))
    print("exec", ctr.exec_run("uname -m").output.decode().strip())
finally:
    ctr.remove(force=True)
labels = c.info().get("Labels") or []
print("info", sum(1 for l in labels if l.startswith("io.twinbox.backend.")))
PY
)
expect_contains "docker-py: an amd64-only image runs translated" "run x86_64" "$out"
expect_contains "docker-py: platform=linux/amd64 goes to rosetta" "backend rosetta" "$out"
expect_contains "docker-py: exec reaches it there" "exec x86_64" "$out"
expect_contains "docker-py: info lists both backends" "info 2" "$out"

# --- docker load of an amd64-only docker-archive (what `docker save` writes): through the host
# store into rosetta, where it runs, and not into hv, which received the upload before.
check "skopeo writes a docker-archive of the amd64-only image" skopeo copy -q \
  --src-tls-verify=false "docker://$IMG_AMD64" "docker-archive:$STATE/loaded.tar:tb/loaded-amd64:v1"
out=$(docker load -i "$STATE/loaded.tar" 2>&1)
expect_eq "docker load succeeds" "0" "$?"
expect_contains "it names the loaded image" "Loaded image: tb/loaded-amd64:v1" "$out"
expect_contains "and says it went into rosetta" "linux/amd64 loaded into rosetta" "$out"
expect_out "rosetta's engine holds it" "amd64" \
  engine rosetta image inspect --format '{{.Architecture}}' tb/loaded-amd64:v1
if engine hv image inspect tb/loaded-amd64:v1 >/dev/null 2>&1; then
  fail "hv's engine does not hold it"
else
  pass "hv's engine does not hold it"
fi
expect_out "the loaded image runs, translated" "x86_64" docker run --rm tb/loaded-amd64:v1 uname -m
check "docker save of an image only rosetta holds" \
  docker save -o "$STATE/saved.tar" tb/loaded-amd64:v1
expect_contains "the saved archive is a docker-archive" "manifest.json" \
  "$(tar -tf "$STATE/saved.tar" 2>&1)"

# --- docker login and a pull with the client's own credentials (X-Registry-Auth) on the htpasswd
# registry (scripts/test starts it on 5001). twinboxd has none of its own for it: its docker
# config is $STATE/docker-config (lib.sh), which nothing here writes; each docker client below
# gets its own DOCKER_CONFIG, so the pull can only succeed with the header the client sends.
AUTH_REG=127.0.0.1:5001
AUTH_USER=twinbox
AUTH_PW=twinbox-test-pw
AUTH_IMG=$AUTH_REG/twinbox/busybox:latest
if [ "$(curl -sS -o /dev/null -w '%{http_code}' "http://$AUTH_REG/v2/" 2>/dev/null)" = "401" ]; then
  CLIENT_CFG=$STATE/client-login
  NO_LOGIN_CFG=$STATE/client-anonymous
  BAD_CFG=$STATE/client-bad-login
  mkdir -p "$CLIENT_CFG" "$NO_LOGIN_CFG" "$BAD_CFG"
  out=$(DOCKER_CONFIG=$NO_LOGIN_CFG docker pull "$AUTH_IMG" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then pass "a pull from $AUTH_REG without any login fails"
  else fail "a pull from $AUTH_REG without any login fails" "$out"; fi
  expect_contains "and says docker login" "docker login $AUTH_REG" "$out"

  out=$(printf '%s' "wrong-$AUTH_PW" |
    DOCKER_CONFIG=$BAD_CFG docker login "$AUTH_REG" -u "$AUTH_USER" --password-stdin 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then pass "docker login with a wrong password fails"
  else fail "docker login with a wrong password fails" "$out"; fi
  expect_contains "the refusal names the registry" "login attempt to http://$AUTH_REG/v2/ failed" "$out"
  expect_contains "and says what to do" "check the user name and password" "$out"

  out=$(printf '%s' "$AUTH_PW" |
    DOCKER_CONFIG=$CLIENT_CFG docker login "$AUTH_REG" -u "$AUTH_USER" --password-stdin 2>&1)
  expect_eq "docker login $AUTH_REG through twinboxd succeeds" "0" "$?"
  expect_contains "it says Login Succeeded" "Login Succeeded" "$out"
  expect_contains "the client's docker config holds the login" "\"$AUTH_REG\"" \
    "$(cat "$CLIENT_CFG/config.json" 2>&1)"
  if grep -qs "$AUTH_REG" "$DOCKER_CONFIG/config.json"; then
    fail "twinboxd's own docker config has no credentials for $AUTH_REG" "$(cat "$DOCKER_CONFIG/config.json")"
  else
    pass "twinboxd's own docker config has no credentials for $AUTH_REG"
  fi

  out=$(DOCKER_CONFIG=$CLIENT_CFG docker pull "$AUTH_IMG" 2>&1)
  expect_eq "docker pull from $AUTH_REG with the client's login succeeds" "0" "$?"
  expect_contains "the pull pins the image from $AUTH_REG" "twinbox: pinned $AUTH_REG/twinbox/busybox@sha256:" "$out"
  expect_out "hv's engine holds the image pulled with the client's credentials" "arm64" \
    engine hv image inspect --format '{{.Architecture}}' "$AUTH_IMG"
else
  skip "docker login and X-Registry-Auth pulls" "no htpasswd registry on $AUTH_REG (scripts/test-registry push --port 5001 --auth $AUTH_USER:$AUTH_PW)"
fi
finish
