# Shared by scripts/run and scripts/test. Sourced, not executed.
# shellcheck shell=bash
TWINBOX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TWINBOX_BUILD_DIR=${TWINBOX_BUILD_DIR:-$TWINBOX_ROOT/build}

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Configures and builds with CMake (incremental after the first time).
build_project() {
  say "building in $TWINBOX_BUILD_DIR"
  cmake -S "$TWINBOX_ROOT" -B "$TWINBOX_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
    || die "cmake configure failed (run: cmake -S $TWINBOX_ROOT -B $TWINBOX_BUILD_DIR)"
  cmake --build "$TWINBOX_BUILD_DIR" -j"$(nproc)" >/dev/null 2>"$TWINBOX_BUILD_DIR/build.err" || {
    tail -n 30 "$TWINBOX_BUILD_DIR/build.err" >&2
    die "build failed"
  }
}

# Builds (or finds, by content hash) the guest assets; prints their directory.
guest_assets() {
  "$TWINBOX_ROOT/scripts/build-guest-assets" --build-dir "$TWINBOX_BUILD_DIR" | tail -n 1
}
