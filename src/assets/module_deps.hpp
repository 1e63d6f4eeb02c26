#pragma once
// Kernel module dependency resolution from depmod's modules.dep, for the stage-1 initramfs:
// which .ko files to pack, and the order to insmod them in. Pure (the caller reads the files).
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::assets {

struct ModuleInfo {
  std::string path;  // relative to /lib/modules/<version>, e.g. "kernel/fs/ext4/ext4.ko"
  std::vector<std::string> deps;  // names of the modules it needs loaded first
};

// Module name -> info. Names are normalised ('-' becomes '_'), as the kernel does.
using ModuleIndex = std::map<std::string, ModuleInfo>;

// "kernel/drivers/block/virtio_blk.ko.xz" -> "virtio_blk"; "foo-bar.ko" -> "foo_bar".
std::string module_name_from_path(std::string_view path);
// '-' -> '_' (module names are compared this way by modprobe).
std::string normalize_module_name(std::string_view name);

// Parses modules.dep ("path: dep-path dep-path ..." per line). InvalidArgument names the line.
Result<ModuleIndex> parse_modules_dep(std::string_view text);
// Parses modules.builtin (one path per line) into normalised names.
std::set<std::string> parse_modules_builtin(std::string_view text);

// Paths of `names` and of everything they depend on, each once, every module after its
// dependencies (the order to insmod them in). Names built into the kernel (`builtin`) are skipped.
// NotFound for a name neither in the index nor built in; Internal for a dependency cycle.
Result<std::vector<std::string>> resolve_load_order(const ModuleIndex& index,
                                                    const std::vector<std::string>& names,
                                                    const std::set<std::string>& builtin = {});

}  // namespace twinbox::assets
