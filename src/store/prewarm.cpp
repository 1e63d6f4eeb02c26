#include "store/prewarm.hpp"

#include <set>
#include <string>

#include "util/strings.hpp"

namespace twinbox::store {

Result<std::vector<platform::Reference>> parse_prewarm_list(std::string_view text) {
  std::vector<platform::Reference> out;
  std::set<std::string> seen;
  size_t line_no = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = raw;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    std::string where = "prewarm list line " + std::to_string(line_no);
    if (line.find_first_of(" \t\r") != std::string_view::npos) {
      return make_error(ErrorCode::InvalidArgument,
                        where + ": \"" + std::string(line) +
                            "\" has more than one word; write one image reference per line");
    }
    auto ref = platform::parse_reference(line);
    if (!ref) return ref.error().context(where);
    if (seen.insert(ref->canonical()).second) out.push_back(std::move(*ref));
  }
  return out;
}

}  // namespace twinbox::store
