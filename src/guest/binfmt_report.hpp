#pragma once
// What the guest says it registered with binfmt_misc, read from its console log. Pure. (Kept
// apart from binfmt.cpp, which the guest assets are built from: a change here must not rebuild
// them.)
#include <optional>
#include <string>
#include <string_view>

namespace twinbox::guest {

// A translator as the guest registered it, read back from /proc/sys/fs/binfmt_misc/<name> by
// guest-init and reported on the console as one line:
//   "twinbox-guest: binfmt qemu-x86_64: /usr/libexec/qemu-binfmt/x86_64-binfmt-P flags=POCF"
struct BinfmtReport {
  std::string name;         // "qemu-x86_64"
  std::string interpreter;  // as the kernel holds it
  std::string flags;        // as the kernel lists them: "POCF"
};

// The last report for `name` in a console log (one boot's), nullopt when there is none. Lines
// may end in "\r\n" (a serial console); a report whose flags hold anything but P, O, C and F,
// or whose interpreter is not an absolute path, is ignored: the label built from it must not
// carry console noise.
std::optional<BinfmtReport> find_binfmt_report(std::string_view console, std::string_view name);

}  // namespace twinbox::guest
