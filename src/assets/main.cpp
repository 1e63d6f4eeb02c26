// twinbox-assets: the C++ half of scripts/build-guest-assets (the stage-1 initramfs, the
// translator's binfmt rule). The script does the fetching and the rootfs.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "assets/commands.hpp"

namespace {

const char kUsage[] =
    "usage: twinbox-assets COMMAND [OPTIONS]\n"
    "\n"
    "  initramfs --out FILE --init FILE --busybox FILE --kernel-modules DIR\n"
    "            --kernel-version VER --module NAME...\n"
    "      Writes a gzip'd newc cpio: /init, busybox, the named modules and their\n"
    "      dependencies (from DIR/VER/modules.dep) and /etc/twinbox/modules.load,\n"
    "      the order to insmod them in.\n"
    "  module-order --kernel-modules DIR --kernel-version VER --module NAME...\n"
    "      Prints the module paths initramfs would pack, in load order.\n"
    "  binfmt-rule --arch ARCH --name NAME --interpreter PATH --flags FLAGS\n"
    "      Prints the binfmt_misc register line for ELF executables of ARCH.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "initramfs") return twinbox::assets::run_initramfs(args);
  if (cmd == "module-order") return twinbox::assets::run_module_order(args);
  if (cmd == "binfmt-rule") return twinbox::assets::run_binfmt_rule(args);
  std::fprintf(stderr, "twinbox-assets: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
