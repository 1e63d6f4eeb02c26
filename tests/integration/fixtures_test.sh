#!/usr/bin/env bash
# Integration test for the fixture images and the local test registry:
# scripts/build-test-images + scripts/test-registry against a real docker-registry on a free
# loopback port with a throw-away data directory. Runnable standalone:
#   bash tests/integration/fixtures_test.sh
# Prints one line per check and "N passed, N failed" last; exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REGISTRY="$ROOT/scripts/test-registry"
BUILD="$ROOT/scripts/build-test-images"
CACHE=${TWINBOX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/twinbox}
ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json'
MT_INDEX=application/vnd.oci.image.index.v1+json
MT_MANIFEST=application/vnd.oci.image.manifest.v1+json

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds (its stdout is discarded).
check() {
  local what=$1; shift
  if "$@" >/dev/null; then pass "$what"; else fail "$what"; fi
}
not() { ! "$@"; }
# check_eq DESCRIPTION GOT WANT
check_eq() {
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

free_port() {
  local port i
  for ((i = 0; i < 100; i++)); do
    port=$((20000 + RANDOM % 25000))
    [[ -z $(ss -ltnH "sport = :$port") ]] && { echo "$port"; return 0; }
  done
  return 1
}

for cmd in docker-registry skopeo jq curl ss ip gzip tar od; do
  command -v "$cmd" >/dev/null || { echo "FAIL - missing command $cmd"; echo "0 passed, 1 failed"; exit 1; }
done

TMP=$(mktemp -d)
PORT=$(free_port) || { echo "FAIL - no free port"; echo "0 passed, 1 failed"; exit 1; }
BASE="http://127.0.0.1:$PORT"
IMAGES="$TMP/images"
SUMMARY_PRINTED=0

# The scripts' own messages go to a log, shown when something fails.
exec 3>&2 2>"$TMP/scripts.log"

cleanup() {
  local rc=$?
  "$REGISTRY" stop --port "$PORT" >/dev/null 2>&1 || true
  if [[ $SUMMARY_PRINTED -eq 0 ]]; then
    fail "test aborted by an unexpected error (exit $rc)"
    echo "$PASSED passed, $FAILED failed"
  fi
  if [[ $FAILED -gt 0 ]]; then
    echo "--- script messages (last 30 lines)"; tail -n 30 "$TMP/scripts.log"
    if [[ -f $CACHE/registry/run/$PORT/registry.log ]]; then
      echo "--- registry log (last 20 lines)"; tail -n 20 "$CACHE/registry/run/$PORT/registry.log"
    fi
  fi
  rm -rf "$CACHE/registry/run/$PORT" "$TMP"
  exec 2>&3
  [[ $FAILED -eq 0 ]] || exit 1
  exit "$rc"
}
trap cleanup EXIT

sha256_file() { sha256sum "$1" | cut -d' ' -f1; }

# fetch PATH FILE: GET $BASE/v2/PATH into FILE (manifests with OCI Accept); fails on HTTP errors.
fetch() { curl -fsSL --max-time 30 -H "Accept: $ACCEPT" -o "$2" "$BASE/v2/$1"; }

# ELF e_machine of a file, as a Debian architecture name.
elf_arch() {
  local m
  m=$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')
  case $m in
    3e00) echo amd64 ;; b700) echo arm64 ;; 0016) echo s390x ;; f300) echo riscv64 ;; *) echo "unknown($m)" ;;
  esac
}

# check_blob REPO DIGEST FILE: fetches a blob and checks its sha256 against its digest.
check_blob() {
  local repo=$1 digest=$2 file=$3
  if fetch "$repo/blobs/$digest" "$file"; then
    check_eq "$repo blob ${digest:7:12} sha256 matches its digest" "sha256:$(sha256_file "$file")" "$digest"
  else
    fail "$repo blob $digest cannot be fetched"
  fi
}

# check_image_manifest REPO DIGEST ARCH: the manifest, its config and its layer, for one platform.
check_image_manifest() {
  local repo=$1 digest=$2 arch=$3 dir
  dir="$TMP/check/$repo/${digest:7}"
  mkdir -p "$dir"
  fetch "$repo/manifests/$digest" "$dir/manifest" || { fail "$repo manifest $digest cannot be fetched"; return; }
  check_eq "$repo $arch manifest sha256 matches its digest" "sha256:$(sha256_file "$dir/manifest")" "$digest"
  check_eq "$repo $arch manifest is an OCI image manifest" "$(jq -r .mediaType "$dir/manifest")" "$MT_MANIFEST"
  check_eq "$repo $arch manifest has one layer" "$(jq '.layers | length' "$dir/manifest")" 1

  local config_d layer_d
  config_d=$(jq -r .config.digest "$dir/manifest")
  layer_d=$(jq -r '.layers[0].digest' "$dir/manifest")
  check_blob "$repo" "$config_d" "$dir/config"
  check_blob "$repo" "$layer_d" "$dir/layer.tar.gz"
  check_eq "$repo $arch config architecture/os" "$(jq -r '"\(.os)/\(.architecture)"' "$dir/config")" "linux/$arch"
  check_eq "$repo $arch config Cmd" "$(jq -c .config.Cmd "$dir/config")" '["sh"]'
  check "$repo $arch config has PATH and created" \
    jq -e '(.config.Env | any(startswith("PATH="))) and (.created | test("^[0-9]{4}-"))' "$dir/config"
  check_eq "$repo $arch diff_id is the sha256 of the uncompressed layer" \
    "$(jq -r '.rootfs.diff_ids | join(",")' "$dir/config")" "sha256:$(gzip -dc "$dir/layer.tar.gz" | sha256sum | cut -d' ' -f1)"

  gzip -dc "$dir/layer.tar.gz" >"$dir/layer.tar"
  tar -tvf "$dir/layer.tar" >"$dir/listing"
  local entry
  for entry in '^-rwxr-xr-x .* bin/busybox$' ' bin/sh -> busybox$' ' etc/passwd$' ' etc/group$' \
    '^drwx------ .* root/$' '^drwxrwxrwt .* tmp/$'; do
    check "$repo $arch layer has an entry matching '$entry'" grep -q "$entry" "$dir/listing"
  done
  check "$repo $arch layer holds no qemu or other interpreter" not grep -qiE 'qemu|ld-linux|/lib' "$dir/listing"
  check "$repo $arch layer is owned by 0/0 only" not grep -qv '^[^ ]* 0/0 ' "$dir/listing"
  tar -xOf "$dir/layer.tar" bin/busybox >"$dir/busybox"
  check_eq "$repo $arch /bin/busybox is an $arch ELF" "$(elf_arch "$dir/busybox")" "$arch"
}

# --- registry lifecycle -------------------------------------------------------------------------

echo "# port $PORT, data $TMP/data"
check "start succeeds" "$REGISTRY" start --port "$PORT" --data "$TMP/data"
check "start again is a no-op success" "$REGISTRY" start --port "$PORT" --data "$TMP/data"
check "status says running" "$REGISTRY" status --port "$PORT"
check "GET /v2/ answers" curl -fsS -o /dev/null "$BASE/v2/"

# Someone else's listener on the port (a registry from another cache dir is not ours).
out=$(TWINBOX_CACHE_DIR="$TMP/other-cache" "$REGISTRY" start --port "$PORT" --data "$TMP/other-data" 2>&1) && rc=0 || rc=$?
check "start on a port someone else uses fails" test "$rc" -ne 0
check "that error names the port in use" grep -q "port $PORT is already in use" <<<"$out"

# Bound to loopback only.
listen=$(ss -ltnH "sport = :$PORT" | awk '{print $4}' | sort -u | tr '\n' ' ')
check_eq "listens on 127.0.0.1:$PORT only" "$listen" "127.0.0.1:$PORT "
others=$(ip -o addr show 2>/dev/null | awk '$2 != "lo" { sub(/\/.*/, "", $4); print $4 }' | grep -v '^fe80' || true)
if [[ -z $others ]]; then
  pass "no non-loopback address on this host to probe"
else
  for addr in $others; do
    [[ $addr == *:* ]] && url="http://[$addr]:$PORT/v2/" || url="http://$addr:$PORT/v2/"
    check "not reachable on $addr" not curl -sS -o /dev/null --max-time 3 "$url"
  done
fi

# --- push ---------------------------------------------------------------------------------------

start=$(date +%s%N)
check "push succeeds" "$REGISTRY" push --port "$PORT" --images "$IMAGES"
echo "# first push (build + copy) took $((($(date +%s%N) - start) / 1000000)) ms"
start=$(date +%s%N)
out=$("$REGISTRY" push --port "$PORT" --images "$IMAGES" 2>&1) && rc=0 || rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "second push succeeds" test "$rc" -eq 0
check "second push copies nothing" grep -q "pushed 0 images" <<<"$out"
check "second push is fast (${elapsed_ms} ms < 5000 ms)" test "$elapsed_ms" -lt 5000

[[ -f $IMAGES/images.json ]] || { fail "no $IMAGES/images.json"; echo "$PASSED passed, $FAILED failed"; exit 1; }
mapfile -t names < <(jq -r '.images[].name | sub(":latest$"; "")' "$IMAGES/images.json")
catalog=$(curl -fsS "$BASE/v2/_catalog" | jq -r '.repositories | sort | join(" ")')
check_eq "catalog lists exactly the built images" "$catalog" "$(printf '%s\n' "${names[@]}" | sort | paste -sd' ')"
for want in twinbox/busybox twinbox/busybox-amd64 twinbox/busybox-arm64; do
  check "image $want was built and pushed" grep -qx "$want" <(printf '%s\n' "${names[@]}")
done

# --- twinbox/busybox: an index of exactly amd64 and arm64 ---------------------------------------

repo=twinbox/busybox
mkdir -p "$TMP/check"
headers=$(curl -fsS -I -H "Accept: $ACCEPT" "$BASE/v2/$repo/manifests/latest" | tr -d '\r')
served=$(awk 'tolower($1) == "docker-content-digest:" {print $2}' <<<"$headers")
fetch "$repo/manifests/latest" "$TMP/check/index"
check_eq "$repo served digest equals the built one" "$served" "$(jq -r --arg n "$repo:latest" '.images[] | select(.name == $n) | .digest' "$IMAGES/images.json")"
check_eq "$repo index sha256 matches its digest" "sha256:$(sha256_file "$TMP/check/index")" "$served"
check_eq "$repo is an OCI index" "$(jq -r .mediaType "$TMP/check/index")" "$MT_INDEX"
check_eq "$repo index lists exactly amd64 and arm64" \
  "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")' "$TMP/check/index")" "linux/amd64 linux/arm64"
declare -A child=()
while read -r arch digest; do child[$arch]=$digest; done < <(jq -r '.manifests[] | "\(.platform.architecture) \(.digest)"' "$TMP/check/index")
for arch in amd64 arm64; do
  check_image_manifest "$repo" "${child[$arch]}" "$arch"
  got=$(skopeo --insecure-policy inspect --tls-verify=false --override-os linux --override-arch "$arch" \
    "docker://127.0.0.1:$PORT/$repo:latest" | jq -r '"\(.Os)/\(.Architecture) \(.Layers[0])"')
  check_eq "skopeo inspect $repo for $arch" "$got" \
    "linux/$arch $(jq -r '.layers[0].digest' "$TMP/check/$repo/${child[$arch]:7}/manifest")"
done

# --- single-platform images ---------------------------------------------------------------------

for name in "${names[@]}"; do
  [[ $name == twinbox/busybox ]] && continue
  arch=${name#twinbox/busybox-}
  fetch "$name/manifests/latest" "$TMP/check/single-${arch}" || { fail "$name:latest cannot be fetched"; continue; }
  check_eq "$name is one image manifest, not an index" "$(jq -r .mediaType "$TMP/check/single-$arch")" "$MT_MANIFEST"
  digest="sha256:$(sha256_file "$TMP/check/single-$arch")"
  check_image_manifest "$name" "$digest" "$arch"
  if [[ -n ${child[$arch]:-} ]]; then
    check_eq "$name is the same manifest as $repo's $arch child" "$digest" "${child[$arch]}"
  else
    check "$name offers neither amd64 nor arm64" test "$arch" != amd64 -a "$arch" != arm64
  fi
done

# --- reproducibility ----------------------------------------------------------------------------

"$BUILD" --force --out "$TMP/rebuild" 2>/dev/null || fail "rebuild into $TMP/rebuild failed"
check_eq "a forced rebuild gives the same digests" \
  "$(jq -c '[.images[] | {name, digest, platforms}]' "$TMP/rebuild/images.json" 2>/dev/null)" \
  "$(jq -c '[.images[] | {name, digest, platforms}]' "$IMAGES/images.json")"

# --- stop ---------------------------------------------------------------------------------------

check "stop succeeds" "$REGISTRY" stop --port "$PORT"
check "status says not running (exit 1)" not "$REGISTRY" status --port "$PORT"
check "nothing listens on the port any more" test -z "$(ss -ltnH "sport = :$PORT")"
check "stop again is a no-op success" "$REGISTRY" stop --port "$PORT"

echo "$PASSED passed, $FAILED failed"
SUMMARY_PRINTED=1
