# shellcheck shell=bash
# A private apt configuration: apt options that make apt-get/apt-cache see only one suite's main
# for one architecture, with their sources list, lists and cache under DIR, never the host's apt
# configuration (which stays as the host has it). For packages that are only downloaded (apt-get
# download) or whose versions are asked, never installed. Sourced, not executed.

# private_apt_opts DIR ARCH SUITE MIRROR -> the options, one per line (mapfile them). Run
# `apt-get update` with them before asking for a package.
private_apt_opts() {
  local dir=$1 arch=$2 suite=$3 mirror=$4
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
  printf 'deb [arch=%s signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
    "$arch" "$mirror" "$suite" >"$dir/sources.list"
  printf '%s\n' -o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/parts" \
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "Dir::State::status=/dev/null" \
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Acquire::Languages=none"
  # apt's _apt sandbox user cannot write into root's cache.
  if [[ $EUID -eq 0 ]]; then printf '%s\n' -o APT::Sandbox::User=root; fi
}
