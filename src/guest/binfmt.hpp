#pragma once
// binfmt_misc registration lines for a user-space translator (qemu-user standing in for Rosetta).
// Pure: the caller writes the line to /proc/sys/fs/binfmt_misc/register or to a binfmt.d drop-in.
#include <string>
#include <string_view>

#include "platform/arch_table.hpp"
#include "util/result.hpp"

namespace twinbox::guest {

// Names longer than this are rejected: the name becomes a file under binfmt_misc and a
// drop-in name, and nothing twinbox registers needs more.
inline constexpr size_t kMaxBinfmtNameLength = 64;
// Longest interpreter path accepted (the kernel opens it by name; PATH_MAX is the hard limit).
inline constexpr size_t kMaxInterpreterLength = 255;

// ":<name>:M::<magic>:<mask>:<interpreter>:<flags>" for ELF executables of `arch`, e.g.
// ":qemu-x86_64:M::\x7fELF...:\xff...:/usr/bin/qemu-x86_64-static:FC".
// InvalidArgument when: the name is empty, ".", "..", longer than kMaxBinfmtNameLength or has a
// character outside [A-Za-z0-9._-]; the interpreter is not an absolute path, is too long or has
// ':' or whitespace; a flag is not one of P, O, C, F or repeats; the arch has no ELF magic/mask.
Result<std::string> binfmt_register_line(const platform::ArchInfo& arch, std::string_view name,
                                         std::string_view interpreter, std::string_view flags);

}  // namespace twinbox::guest
