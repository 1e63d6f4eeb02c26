# Shared by the bench scripts. Sourced.
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${TWINBOX_BUILD_DIR:-$BENCH_ROOT/build}
TWINBOX=$BUILD/src/cli/twinbox
TWINBOXD=$BUILD/src/daemon/twinboxd
ASSETS=${TWINBOX_TEST_ASSETS:-$("$BENCH_ROOT/scripts/build-guest-assets" --build-dir "$BUILD" | tail -n 1)}

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
