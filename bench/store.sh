#!/usr/bin/env bash
# Storing a pulled layer in the host content store against the disk alone, same run (issue 24):
# build/bench/store_bench (C++, no VM, no daemon) writes MIB of incompressible bytes in libcurl's
# 16 KiB chunks through ContentStore::ingest (SHA-256 as it streams, fsync, rename) and, for the
# floor, the same bytes to a plain file (fsync, rename); interleaved, medians of RUNS.
#   bench/store.sh [RUNS] [MIB]   (default 5 runs of 256 MiB)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${TWINBOX_BUILD_DIR:-$HERE/../build}
RUNS=${1:-5}
MIB=${2:-256}
[ -x "$BUILD/bench/store_bench" ] || { echo "store.sh: build first ($BUILD/bench/store_bench)" >&2; exit 1; }
rows=$("$BUILD/bench/store_bench" "$MIB" "$RUNS")
echo "| metric | twinbox | floor | ratio | goal |"
echo "|---|---|---|---|---|"
while IFS=$'\t' read -r metric tb floor ratio goal; do
  echo "| $metric | $tb | $floor | $ratio | $goal |"
  if [ -n "${BENCH_TABLE:-}" ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' store.sh "$metric" "$tb" "$floor" "$ratio" "$goal" >>"$BENCH_TABLE"
  fi
done <<<"$rows"
