#include "guest/binfmt.hpp"

#include <cctype>

namespace twinbox::guest {

namespace {

Error invalid(std::string msg) {
  return make_error(ErrorCode::InvalidArgument, "binfmt rule: " + std::move(msg));
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

Status check_name(std::string_view name) {
  if (name.empty()) return invalid("name is empty");
  if (name == "." || name == "..") return invalid("name '" + std::string(name) + "' is reserved");
  if (name.size() > kMaxBinfmtNameLength)
    return invalid("name '" + std::string(name) + "' is longer than " +
                   std::to_string(kMaxBinfmtNameLength) + " characters");
  for (char c : name)
    if (!is_name_char(c))
      return invalid("name '" + std::string(name) + "' has a character outside [A-Za-z0-9._-]");
  return {};
}

Status check_interpreter(std::string_view path) {
  if (path.empty() || path.front() != '/')
    return invalid("interpreter '" + std::string(path) + "' is not an absolute path");
  if (path.size() > kMaxInterpreterLength)
    return invalid("interpreter path is longer than " + std::to_string(kMaxInterpreterLength) +
                   " characters");
  for (char c : path) {
    if (c == ':') return invalid("interpreter '" + std::string(path) + "' contains ':'");
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == '\0')
      return invalid("interpreter '" + std::string(path) + "' contains whitespace");
  }
  return {};
}

Status check_flags(std::string_view flags) {
  std::string seen;
  for (char c : flags) {
    if (c != 'P' && c != 'O' && c != 'C' && c != 'F')
      return invalid("flag '" + std::string(1, c) + "' is not one of P, O, C, F");
    if (seen.find(c) != std::string::npos)
      return invalid("flag '" + std::string(1, c) + "' given twice");
    seen.push_back(c);
  }
  return {};
}

}  // namespace

Result<std::string> binfmt_register_line(const platform::ArchInfo& arch, std::string_view name,
                                         std::string_view interpreter, std::string_view flags) {
  TRY(check_name(name));
  TRY(check_interpreter(interpreter));
  TRY(check_flags(flags));
  if (arch.elf_magic.empty() || arch.elf_mask.empty())
    return invalid("arch " + arch.oci_arch + " has no ELF magic/mask");
  if (arch.elf_magic.find(':') != std::string::npos || arch.elf_mask.find(':') != std::string::npos)
    return invalid("ELF magic/mask of arch " + arch.oci_arch + " contains ':'");
  std::string line = ":";
  line.append(name).append(":M::");
  line.append(arch.elf_magic).append(":").append(arch.elf_mask).append(":");
  line.append(interpreter).append(":").append(flags);
  return line;
}

}  // namespace twinbox::guest
