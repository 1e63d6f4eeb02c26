# shellcheck shell=bash
# Rootfs, initramfs and image steps of scripts/build-guest-assets. Sourced, not executed.
# $TMP/rootfs is the mmdebstrap output; everything here runs on the host (chroot only where a
# guest tool must run), so it is quick.

customize_rootfs() {
  R="$TMP/rootfs"
  restore_ca_certificates
  # The guest's host key comes from its data disk; keys baked in here would be shared by all VMs.
  rm -f "$R"/etc/ssh/ssh_host_*
  # docker 20.10 with iptables-legacy: fewer modules to load than nf_tables, same behaviour.
  chroot "$R" update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy >>"$LOG" 2>&1 &&
    chroot "$R" update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-legacy >>"$LOG" 2>&1 ||
    die "selecting iptables-legacy in the rootfs failed"
  install_modules
  install_translator
  install_guest_files
  slim_rootfs
}

# The essential hook diverted update-ca-certificates to a no-op; put it back and build the
# bundle and hash links with the host's (same Debian release) script, natively.
restore_ca_certificates() {
  rm -f "$R/usr/sbin/update-ca-certificates"
  chroot "$R" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-ca-certificates ||
    die "removing the update-ca-certificates diversion failed"
  if command -v update-ca-certificates >/dev/null; then
    update-ca-certificates --fresh --certsconf "$R/etc/ca-certificates.conf" \
      --certsdir "$R/usr/share/ca-certificates" \
      --localcertsdir "$R/usr/local/share/ca-certificates" --etccertsdir "$R/etc/ssl/certs" \
      --hooksdir "$R/etc/ca-certificates/update.d" >>"$LOG" 2>&1 ||
      die "update-ca-certificates for the rootfs failed"
    local link target
    while IFS= read -r link; do
      target=$(readlink "$link")
      case "$target" in "$R"/*) ln -sfn "${target#"$R"}" "$link" ;; esac
    done < <(find "$R/etc/ssl/certs" -type l)
  else
    chroot "$R" update-ca-certificates --fresh >>"$LOG" 2>&1 ||
      die "update-ca-certificates in the rootfs failed"
  fi
  [ -s "$R/etc/ssl/certs/ca-certificates.crt" ] || die "no CA bundle in the rootfs"
}

install_modules() {
  local dst="$R/lib/modules/$KERNEL_RELEASE" p
  mkdir -p "$R/lib/modules"
  cp -a "$MODULES_SRC" "$dst" || die "copy kernel modules into the rootfs"
  for p in "${PRUNE_MODULES[@]}"; do rm -rf "${dst:?}/kernel/$p"; done
  if command -v depmod >/dev/null; then
    depmod -b "$R" "$KERNEL_RELEASE" >>"$LOG" 2>&1 || die "depmod -b $R $KERNEL_RELEASE failed"
  else  # the host has no kmod: the rootfs's depmod through qemu-user (~1 s)
    chroot "$R" /usr/sbin/depmod -a "$KERNEL_RELEASE" >>"$LOG" 2>&1 ||
      die "depmod $KERNEL_RELEASE in the rootfs failed"
  fi
  [ -s "$dst/modules.dep" ] || die "depmod wrote no modules.dep"
  say "modules: $(du -sh "$dst" | cut -f1) after pruning"
}

# Only qemu-x86_64 of $QEMU_PKG:arm64 (the rosetta VM's translator; static in both suites),
# taken from the .deb with the host's tar and installed as /usr/bin/qemu-x86_64-static, plus the
# binfmt.d drop-in the guest init registers.
# Flags POCF, as Debian and the peers register it: F opens the interpreter at registration (so it
# runs in containers whose image has no qemu), C/O take credentials from the binary, and P keeps
# argv[0] — without P, multi-call binaries (busybox, so alpine) lose the applet name and
# `echo a | wc -l` runs "a". QEMU knows P is on when it is started as *-binfmt-P (Debian's link).
install_translator() {
  local line
  mkdir -p "$TMP/work/qemu" "$R/usr/lib/binfmt.d"
  dpkg-deb --fsys-tarfile "$QEMU_DEB" |
    tar -x -C "$TMP/work/qemu" --wildcards "*/$QEMU_BIN" ||
    die "extracting $QEMU_BIN from $QEMU_DEB failed"
  install -m 0755 "$TMP/work/qemu/$QEMU_BIN" "$R/usr/bin/qemu-x86_64-static"
  mkdir -p "$R/usr/libexec/qemu-binfmt"
  ln -sf ../../bin/qemu-x86_64-static "$R/usr/libexec/qemu-binfmt/x86_64-binfmt-P"
  line=$("$TOOL" binfmt-rule --arch amd64 --name qemu-x86_64 \
    --interpreter /usr/libexec/qemu-binfmt/x86_64-binfmt-P --flags POCF) ||
    die "twinbox-assets binfmt-rule failed"
  {
    echo "# amd64 ELF executables through qemu-user (twinbox role rosetta). Registered by"
    echo "# /usr/lib/twinbox/guest-init; as a binfmt.d drop-in it survives a systemd-binfmt flush."
    echo "$line"
  } >"$R/usr/lib/binfmt.d/twinbox-qemu-x86_64.conf"
}

install_guest_files() {
  jq empty "$GUEST/daemon.json" || die "$GUEST/daemon.json is not valid JSON"
  install -D -m 0755 "$GUEST/guest-init" "$R/usr/lib/twinbox/guest-init"
  install -D -m 0755 "$GUEST/power-button" "$R/usr/lib/twinbox/power-button"
  install -D -m 0644 "$GUEST/daemon.json" "$R/etc/docker/daemon.json"
  install -D -m 0644 "$GUEST/sshd_config" "$R/etc/twinbox/sshd_config"
  mkdir -p "$R/data"
  printf 'hash=%s\nkernel=%s\nbuilt=%s\n' "$HASH" "$KERNEL_RELEASE" "$(date -u +%FT%TZ)" \
    >"$R/etc/twinbox/build-info"
}

slim_rootfs() {
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/* "$R"/var/cache/debconf/*-old \
    "$R"/var/lib/dpkg/*-old "$R"/var/log/* "$R"/usr/share/man "$R"/usr/share/info \
    "$R"/usr/share/lintian "$R"/usr/share/locale/* "$R"/tmp/* "$R/etc/resolv.conf" \
    "$R/usr/bin/dnet"  # docker.io's network test tool, 15 MB
  find "$R/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
}

build_initramfs() {
  local args=(--kernel-modules "$R/lib/modules" --kernel-version "$KERNEL_RELEASE"
    --module "${INITRAMFS_MODULES[@]}")
  # Debian 13's modules are xz-compressed (.ko.xz) and busybox's insmod hands the kernel a
  # buffer, not a file it could decompress: the initramfs gets plain copies of the modules it
  # loads, in a tree of their own whose modules.dep is the rootfs's with the names unxz'd (the
  # host may have no depmod). The rootfs keeps them compressed (kmod's modprobe loads .ko.xz).
  if [ -n "$(find "$R/lib/modules/$KERNEL_RELEASE/kernel" -name '*.ko.xz' -print -quit)" ]; then
    local base="$TMP/work/initramfs-root" rel list
    local src="$R/lib/modules/$KERNEL_RELEASE" dst="$base/lib/modules/$KERNEL_RELEASE"
    mkdir -p "$dst"
    cp "$src"/modules.builtin* "$src/modules.order" "$dst/" || die "copy modules.builtin/order"
    list=$("$TOOL" module-order "${args[@]}") || die "twinbox-assets module-order failed"
    while read -r rel; do
      mkdir -p "$dst/$(dirname "$rel")"
      case "$rel" in
        *.xz) xz -dc "$src/$rel" >"$dst/${rel%.xz}" || die "xz -d $rel failed" ;;
        *) cp "$src/$rel" "$dst/$rel" ;;
      esac
    done <<<"$list"
    sed 's/\.ko\.xz\b/.ko/g' "$src/modules.dep" >"$dst/modules.dep" || die "write modules.dep"
    args=(--kernel-modules "$base/lib/modules" --kernel-version "$KERNEL_RELEASE"
      --module "${INITRAMFS_MODULES[@]}")
  fi
  "$TOOL" initramfs --out "$TMP/out/initramfs.img" --init "$GUEST/stage1-init" \
    --busybox "$BUSYBOX_BIN" "${args[@]}" 2>>"$LOG" ||
    die "twinbox-assets initramfs failed: $(tail -n 2 "$LOG")"
  INITRAMFS_MODULE_PATHS=$("$TOOL" module-order "${args[@]}") || die "twinbox-assets module-order failed"
  say "initramfs: $(echo "$INITRAMFS_MODULE_PATHS" | wc -l) modules, $(du -h "$TMP/out/initramfs.img" | cut -f1)"
}

# Read-only ext4 of the rootfs: no journal (never written), no reserved blocks, sized to the
# content plus a margin for metadata.
build_image() {
  local kib files mib inodes uuid
  kib=$(du -sk "$R" | cut -f1)
  files=$(find "$R" | wc -l)
  mib=$((kib * 11 / 10 / 1024 + 64))
  inodes=$((files + files / 10 + 1024))
  uuid="${FULL_HASH:0:8}-${FULL_HASH:8:4}-${FULL_HASH:12:4}-${FULL_HASH:16:4}-${FULL_HASH:20:12}"
  mkfs.ext4 -q -F -t ext4 -L twinbox-base -O ^has_journal -m 0 -N "$inodes" -U "$uuid" \
    -E root_owner=0:0 -d "$R" "$TMP/out/base.img" "${mib}M" >>"$LOG" 2>&1 ||
    die "mkfs.ext4 -d (${mib} MiB, $inodes inodes) failed: $(tail -n 3 "$LOG")"
  e2fsck -fn "$TMP/out/base.img" >>"$LOG" 2>&1 || die "e2fsck of the new base.img found errors"
  say "base.img: ${mib} MiB for $((kib / 1024)) MiB in $files files"
}

write_assets_json() {
  local versions modules
  versions=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package}\t${Version}\n' \
    docker.io containerd runc crun tini openssh-server iptables kmod |
    jq -Rn '[inputs | split("\t") | {(.[0]): .[1]}] | add')
  modules=$(echo "$INITRAMFS_MODULE_PATHS" | jq -Rn '[inputs]')
  jq -n --arg hash "$HASH" --arg full "$FULL_HASH" --arg built "$(date -u +%FT%TZ)" \
    --argjson secs "$(($(date +%s) - BUILD_START))" \
    --arg kpkg "$KERNEL_PKG" --arg kver "$KERNEL_VERSION" --arg krel "$KERNEL_RELEASE" \
    --arg kfmt "$KERNEL_FORMAT" --argjson versions "$versions" --argjson modules "$modules" \
    --arg qemu "$QEMU_VERSION" --arg qemu_pkg "$QEMU_PKG" --arg busybox "$BUSYBOX_VERSION" \
    --arg suite "$SUITE" \
    --argjson s_k "$(stat -c %s "$TMP/out/vmlinuz")" \
    --argjson s_i "$(stat -c %s "$TMP/out/initramfs.img")" \
    --argjson s_b "$(stat -c %s "$TMP/out/base.img")" '{
      hash: $hash, input_sha256: $full, built_at: $built, build_seconds: $secs, suite: $suite,
      kernel: {file: "vmlinuz", release: $krel, package: $kpkg, version: $kver, format: $kfmt},
      initramfs: {file: "initramfs.img", format: "newc cpio, gzip", modules: $modules},
      base_image: {file: "base.img", format: "raw ext4, no journal, attach read-only"},
      files: {"vmlinuz": $s_k, "initramfs.img": $s_i, "base.img": $s_b},
      packages: ($versions + {($qemu_pkg): $qemu, "busybox-static": $busybox}),
      cmdline: "console=ttyAMA0 root=/dev/vda ro twinbox.role=<hv|rosetta> twinbox.data=/dev/vdb"
    }' >"$TMP/out/assets.json" || die "writing assets.json failed"
}
