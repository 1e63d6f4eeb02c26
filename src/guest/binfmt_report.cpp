#include "guest/binfmt_report.hpp"

namespace twinbox::guest {

std::optional<BinfmtReport> find_binfmt_report(std::string_view console, std::string_view name) {
  const std::string prefix = "twinbox-guest: binfmt " + std::string(name) + ": ";
  std::optional<BinfmtReport> found;
  size_t pos = 0;
  while (pos < console.size()) {
    size_t end = console.find('\n', pos);
    if (end == std::string_view::npos) end = console.size();
    std::string_view line = console.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    size_t at = line.find(prefix);
    if (at == std::string_view::npos) continue;
    std::string_view rest = line.substr(at + prefix.size());
    size_t flags_at = rest.rfind(" flags=");
    if (flags_at == std::string_view::npos) continue;
    std::string_view interp = rest.substr(0, flags_at);
    std::string_view flags = rest.substr(flags_at + 7);
    if (interp.empty() || interp.front() != '/' || flags.size() > 4) continue;
    bool clean = true;
    for (char c : flags)
      if (c != 'P' && c != 'O' && c != 'C' && c != 'F') clean = false;
    if (!clean) continue;
    found = BinfmtReport{std::string(name), std::string(interp), std::string(flags)};
  }
  return found;
}

}  // namespace twinbox::guest
