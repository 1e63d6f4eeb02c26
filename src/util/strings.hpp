#pragma once
// Small pure string helpers shared by every module.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinbox {

std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view s, std::string_view prefix);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// The decimal integer `s` is, all of it (an optional '-' and digits); nullopt otherwise.
std::optional<int64_t> parse_int(std::string_view s);
// Last `max_lines` lines of `text` (for error messages quoting a log tail).
std::string tail_lines(std::string_view text, size_t max_lines);
// Percent-decoding of a URL query component ('+' is a space).
std::string url_decode(std::string_view s);
std::string url_encode(std::string_view s);
// %XX-encodes every byte `keep` refuses (uppercase hex).
std::string percent_encode(std::string_view s, bool (*keep)(unsigned char));

}  // namespace twinbox
