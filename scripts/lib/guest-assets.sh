# shellcheck shell=bash
# Steps of scripts/build-guest-assets. Sourced, not executed: the variables they use are set
# there (ROOT, GUEST, ASSETS, DEBS, TMP, LOG, TOOL, the package lists and resolved versions).

say() { printf 'build-guest-assets: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

STEP_NO=0 STEP_NAME="start" STEPS=7
step() {
  STEP_NO=$1
  shift
  STEP_NAME=$*
  printf '[%d/%d] %s\n' "$STEP_NO" "$STEPS" "$STEP_NAME" >&2
}

# ERR trap: the command that failed where no step reported a reason itself.
on_error() {
  [ "$BASHPID" = "$$" ] || return 0
  say "error at line $1: '$2' failed"
}

cleanup() {
  local rc=$?
  binfmt_teardown
  [ -n "${TMP:-}" ] && [ -d "$TMP" ] && rm_tree "$TMP"
  if [ $rc -ne 0 ]; then
    say "FAILED in step [$STEP_NO/$STEPS] ${STEP_NAME%%:*}; nothing was installed into the cache"
    [ -n "${LOG:-}" ] && [ -s "$LOG" ] && say "full log: $LOG"
  fi
}

# rm -rf that never crosses into a mount left behind by a killed chroot build.
rm_tree() {
  local dir m
  for dir in "$@"; do
    [ -e "$dir" ] || continue
    for m in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$dir"
  done
}

# The versions apt would install for each PKG:ARCH, on one line (one apt-cache run: each costs ~1 s).
candidates() {
  local out pkg v versions=()
  out=$(apt-cache "${APT_OPTS[@]}" policy "$@" 2>/dev/null)
  for pkg in "$@"; do
    # A private configuration's only architecture is its native one: apt names it without ":arm64".
    v=$(awk -v p="$pkg:" -v q="${pkg%:arm64}:" '$0 == p || $0 == q { found = 1 }
      found && /Candidate:/ { print $2; exit }' <<<"$out")
    [ -n "$v" ] && [ "$v" != "(none)" ] || die "no installable version of $pkg in apt's lists (apt-get update?)"
    versions+=("$v")
  done
  echo "${versions[*]}"
}

# A suite the host's apt does not know is resolved through a private apt configuration: its lists
# are fetched when missing or older than a day (a cached build stays offline-capable).
refresh_private_apt() {
  [ ${#APT_OPTS[@]} -gt 0 ] || return 0
  local lists="$CACHE/apt-$SUITE-arm64/lists"
  if [ -n "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
    return 0
  fi
  say "fetching $SUITE's arm64 package index (private apt configuration under $CACHE)"
  apt-get -qq "${APT_OPTS[@]}" update >&2 ||
    [ -n "$(find "$lists" -maxdepth 1 -name '*_Packages*' 2>/dev/null)" ] ||
    die "apt-get update of $SUITE (arm64) failed and no lists are cached"
}

# Everything the assets are made from. README files are documentation, not inputs.
input_manifest() {
  echo "suite=$SUITE mirror=$MIRROR security=$SECURITY_MIRROR"
  echo "kernel=$KERNEL_PKG=$KERNEL_VERSION busybox=$BUSYBOX_VERSION qemu=$QEMU_VERSION"
  (cd "$ROOT" && find scripts/build-guest-assets scripts/lib/guest-assets.sh scripts/lib/guest-rootfs.sh \
    vmtemplates/guest \
    src/assets src/guest/binfmt.hpp src/guest/binfmt.cpp src/platform/arch_table.hpp \
    src/platform/arch_table.cpp -type f ! -name '*.md' | LC_ALL=C sort | xargs sha256sum)
}

assets_complete() {
  local f
  for f in vmlinuz initramfs.img base.img assets.json; do [ -s "$1/$f" ] || return 1; done
  [ "$(jq -r .hash "$1/assets.json" 2>/dev/null)" = "$HASH" ]
}

link_current() {
  ln -sfn "$HASH" "$ASSETS/.current.$$" && mv -Tf "$ASSETS/.current.$$" "$ASSETS/current"
  touch "$ASSETS/$HASH"  # last used: what prune_old_assets keeps
}

# Keeps the KEEP most recently used asset dirs (built or found; ~400 MB each) and removes the
# others with their logs, saying so. Not run while another build holds the lock.
prune_old_assets() {
  local keep=${TWINBOX_KEEP_ASSETS:-3} dir h
  [ "$keep" -gt 0 ] 2>/dev/null || return 0
  exec 8>"$ASSETS/.lock"
  flock -n 8 || return 0
  while read -r dir; do
    h=$(basename "$dir")
    [ "$h" != "$HASH" ] || continue
    rm_tree "$dir"
    rm -f "$ASSETS/logs/$h.log"
    say "pruned old guest assets $h"
  done < <(find "$ASSETS" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' \
    -printf '%T@ %p\n' | sort -rn | tail -n +"$((keep + 1))" | cut -d' ' -f2-)
  exec 8>&-
}

# Builds twinbox-assets (incremental) and prints its path.
build_tool() {
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" >>"$LOG" 2>&1 ||
      die "cmake configure of $BUILD_DIR failed: $(tail -n 5 "$LOG")"
  fi
  cmake --build "$BUILD_DIR" --target twinbox-assets -j"$(nproc)" >>"$LOG" 2>&1 ||
    die "building twinbox-assets failed: $(tail -n 8 "$LOG")"
  local t
  for t in "$BUILD_DIR/src/assets/twinbox-assets" "$BUILD_DIR/bin/twinbox-assets" \
    "$BUILD_DIR/twinbox-assets"; do
    [ -x "$t" ] && { echo "$t"; return 0; }
  done
  die "twinbox-assets not found in $BUILD_DIR after building it"
}

# apt-get download PKG:arm64=VERSION into the deb cache unless already there; prints the path.
fetch_deb() {
  local pkg=$1 version=$2 file
  file="$DEBS/${pkg}_${version//:/%3a}_arm64.deb"
  if [ ! -s "$file" ]; then
    (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "${APT_OPTS[@]}" "$pkg:arm64=$version") \
      >>"$LOG" 2>&1 ||
      die "apt-get download $pkg:arm64=$version failed: $(tail -n 3 "$LOG")"
  fi
  [ -s "$file" ] || die "apt-get download $pkg did not produce $file"
  echo "$file"
}

# Debian's arm64 vmlinuz is a plain arm64 Image ("ARM\x64" at offset 56); QEMU's -kernel also
# takes a gzip'd one. Anything else is refused rather than booted.
kernel_format() {
  local magic
  if [ "$(od -An -tx1 -N2 "$1" | tr -d ' ')" = 1f8b ]; then
    magic=$(zcat "$1" 2>/dev/null | od -An -c -j56 -N4 | tr -d ' ')
    [ "$magic" = 'ARMd' ] && { echo "gzip-compressed arm64 Image"; return 0; }
  else
    magic=$(od -An -c -j56 -N4 "$1" | tr -d ' ')
    [ "$magic" = 'ARMd' ] && { echo "arm64 Image"; return 0; }
  fi
  return 1
}

extract_kernel() {
  local dir="$TMP/work/kernel" img
  mkdir -p "$dir"
  dpkg-deb -x "$KERNEL_DEB" "$dir" || die "dpkg-deb -x $KERNEL_DEB failed"
  img="$dir/boot/vmlinuz-$KERNEL_RELEASE"
  [ -f "$img" ] || die "$KERNEL_DEB has no boot/vmlinuz-$KERNEL_RELEASE"
  KERNEL_FORMAT=$(kernel_format "$img") || die "$img is not an arm64 Image (plain or gzip)"
  MODULES_SRC="$dir/lib/modules/$KERNEL_RELEASE"
  # Debian 13's kernel packages put them under /usr (merged /usr).
  [ -d "$MODULES_SRC/kernel" ] || MODULES_SRC="$dir/usr/lib/modules/$KERNEL_RELEASE"
  [ -d "$MODULES_SRC/kernel" ] || die "$KERNEL_DEB has no lib/modules/$KERNEL_RELEASE"
  cp "$img" "$TMP/out/vmlinuz"
  say "kernel $KERNEL_RELEASE: $KERNEL_FORMAT, $(du -h "$img" | cut -f1)"
}

extract_busybox() {
  mkdir -p "$TMP/work/busybox"
  dpkg-deb -x "$BUSYBOX_DEB" "$TMP/work/busybox" || die "dpkg-deb -x $BUSYBOX_DEB failed"
  BUSYBOX_BIN="$TMP/work/busybox/bin/busybox"
  # Debian 13's package puts it under /usr (merged /usr).
  [ -x "$BUSYBOX_BIN" ] || BUSYBOX_BIN="$TMP/work/busybox/usr/bin/busybox"
  [ -x "$BUSYBOX_BIN" ] || die "$BUSYBOX_DEB has no bin/busybox"
}

# mmdebstrap runs arm64 maintainer scripts through binfmt_misc: register the host's
# qemu-aarch64-static with F (works inside the chroot) for the build only; binfmt_teardown
# (also run on any exit) removes it and unmounts binfmt_misc if we mounted it.
BINFMT_DIR=/proc/sys/fs/binfmt_misc BINFMT_MOUNTED='' BINFMT_REGISTERED=''
binfmt_setup() {
  local line
  [ -x /usr/bin/qemu-aarch64-static ] ||
    die "/usr/bin/qemu-aarch64-static missing (apt-get install qemu-user-static)"
  if [ ! -e "$BINFMT_DIR/register" ]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" || die "mount binfmt_misc on $BINFMT_DIR failed"
    BINFMT_MOUNTED=1
  fi
  # A registration left by a killed build (we hold the build lock, so it is not in use).
  [ -e "$BINFMT_DIR/$BINFMT_BUILD_NAME" ] && echo -1 >"$BINFMT_DIR/$BINFMT_BUILD_NAME"
  line=$("$TOOL" binfmt-rule --arch arm64 --name "$BINFMT_BUILD_NAME" \
    --interpreter /usr/bin/qemu-aarch64-static --flags F) || die "twinbox-assets binfmt-rule failed"
  echo "$line" >"$BINFMT_DIR/register" || die "register $BINFMT_BUILD_NAME with binfmt_misc failed"
  BINFMT_REGISTERED=1
  [ "$("$BUSYBOX_BIN" uname -m 2>&1)" = aarch64 ] ||
    die "an arm64 binary does not run through $BINFMT_BUILD_NAME ($BUSYBOX_BIN uname -m)"
}

binfmt_teardown() {
  if [ -n "$BINFMT_REGISTERED" ] && [ -e "$BINFMT_DIR/$BINFMT_BUILD_NAME" ]; then
    echo -1 >"$BINFMT_DIR/$BINFMT_BUILD_NAME" || say "warning: could not remove $BINFMT_BUILD_NAME"
  fi
  BINFMT_REGISTERED=
  if [ -n "$BINFMT_MOUNTED" ]; then
    umount "$BINFMT_DIR" 2>/dev/null || true
    BINFMT_MOUNTED=
  fi
}

# Runs in the chroot after the essential set, before the other packages are configured:
# placeholder host keys stop openssh-server's postinst from generating keys (slow under
# emulation; the guest uses the data disk's key), and update-ca-certificates is diverted to a
# no-op (~60 s of emulated openssl); customize_rootfs runs the host's native one instead.
write_essential_hook() {
  cat >"$TMP/work/essential-hook.sh" <<'EOF'
#!/bin/sh
set -e
mkdir -p "$1/etc/ssh"
for t in rsa ecdsa ed25519; do : >"$1/etc/ssh/ssh_host_${t}_key"; done
chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-ca-certificates
printf '#!/bin/sh\nexit 0\n' >"$1/usr/sbin/update-ca-certificates"
chmod 0755 "$1/usr/sbin/update-ca-certificates"
EOF
  chmod +x "$TMP/work/essential-hook.sh"
}

run_mmdebstrap() {
  local include from
  include=$(IFS=,; echo "${PACKAGES[*]}")
  from=$(($(wc -l <"$LOG") + 1))
  write_essential_hook
  mmdebstrap --mode=root --format=directory --arch=arm64 --variant=minbase --skip=check/qemu \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='APT::Install-Recommends "false"' --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$ROOTFS_DEBS' /var/cache/apt/archives/" \
    --essential-hook="$TMP/work/essential-hook.sh" \
    --customize-hook="rm -f '$ROOTFS_DEBS'/*.deb" \
    --customize-hook="sync-out /var/cache/apt/archives '$ROOTFS_DEBS'" \
    --include="$include" \
    "$SUITE" "$TMP/rootfs" "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main" >>"$LOG" 2>&1 ||
    die "mmdebstrap failed: $(tail -n "+$from" "$LOG" | grep -E '^E: ' | tail -n 5 | tr '\n' ' ')"
}
