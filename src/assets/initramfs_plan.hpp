#pragma once
// What goes into the stage-1 initramfs, as a list of archive entries in write order (every
// directory before its contents). Pure: host files are named, not read; initramfs_writer packs
// the plan with libarchive.
#include <string>
#include <vector>

namespace twinbox::assets {

enum class EntryType { Directory, File, Symlink, CharDevice };

struct InitramfsEntry {
  std::string path;  // inside the archive, relative ("bin/busybox")
  EntryType type = EntryType::File;
  unsigned mode = 0644;     // permission bits only
  std::string source;       // File: host path to copy; empty means `data`
  std::string data;         // File: inline content when `source` is empty
  std::string link_target;  // Symlink
  unsigned dev_major = 0;   // CharDevice
  unsigned dev_minor = 0;
};

struct InitramfsInputs {
  std::string init;            // host path of the stage-1 /init script
  std::string busybox;         // host path of a static busybox for the guest arch
  std::string modules_root;    // host dir holding <kernel_version>/ (i.e. .../lib/modules)
  std::string kernel_version;  // "6.1.0-56-arm64"
  std::vector<std::string> module_paths;  // relative to <modules_root>/<version>, load order
};

// Where the plan lists the modules to load, one absolute in-guest path per line, in order.
inline constexpr const char* kModuleLoadList = "etc/twinbox/modules.load";

// The entries: base directories, /dev/console and /dev/null (the kernel opens /dev/console
// for /init before any devtmpfs exists), /init, /bin/busybox with /bin/sh, the modules at their
// usual paths under /lib/modules/<version>/, and kModuleLoadList.
std::vector<InitramfsEntry> plan_initramfs(const InitramfsInputs& in);

}  // namespace twinbox::assets
