#pragma once
// Packs an initramfs plan into a gzip-compressed newc cpio archive with libarchive.
#include <string>
#include <vector>

#include "assets/initramfs_plan.hpp"
#include "util/result.hpp"

namespace twinbox::assets {

// Writes `entries` to `out` atomically: into "<out>.tmp.<pid>" first, fsynced, then renamed
// over `out`; on failure the temp file is removed and `out` is untouched. Every entry is owned
// by root with mtime 0, so the same inputs give the same archive.
// Errors read "write initramfs <out>: <what>: <cause>".
Status write_initramfs(const std::string& out, const std::vector<InitramfsEntry>& entries);

}  // namespace twinbox::assets
