# Shared helpers for scripts/build-test-images, scripts/test-registry and
# scripts/install-cli-plugins. Source it; do not run it.
# shellcheck shell=bash

FIXTURES_PROG=${FIXTURES_PROG:-$(basename "$0")}

log() { printf '%s: %s\n' "$FIXTURES_PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Root of twinbox's per-user cache (debs, built images, registry data).
twinbox_cache_dir() {
  printf '%s\n' "${TWINBOX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/twinbox}"
}

# Where build-test-images writes its OCI layouts unless told otherwise.
default_images_dir() { printf '%s/images\n' "$(twinbox_cache_dir)"; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

need_cmds() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "missing command '$c' (see scripts/install-deps)"
  done
}
