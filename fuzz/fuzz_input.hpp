#pragma once
// Shared by the libFuzzer harnesses: the input as a string_view, and a way to cut one input into
// several fields (parsers that take more than one string).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace twinbox::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at every "\n--\n" (the seed corpora separate fields the same way); at most `max` parts,
// the last one holding the rest.
inline std::vector<std::string_view> fields(std::string_view in, size_t max) {
  std::vector<std::string_view> out;
  constexpr std::string_view kSep = "\n--\n";
  while (out.size() + 1 < max) {
    auto pos = in.find(kSep);
    if (pos == std::string_view::npos) break;
    out.push_back(in.substr(0, pos));
    in.remove_prefix(pos + kSep.size());
  }
  out.push_back(in);
  return out;
}

}  // namespace twinbox::fuzz
