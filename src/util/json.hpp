#pragma once
// JSON from untrusted input (clients, registries, archives, engines). nlohmann's parser does not
// recurse, but copying, dumping and walking a value do: a body nested 200 000 levels deep
// overflowed twinboxd's stack when an error message or a rewrite dumped it. Documents nested
// deeper than any real Docker, OCI or registry document are refused before anything is built.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace twinbox {

// Go's encoding/json (dockerd, the registry) allows 10 000; nothing twinbox reads nests past 20.
inline constexpr size_t kMaxJsonDepth = 512;

// True when arrays and objects in `text` nest deeper than `max_depth`. Brackets inside strings
// (escapes honoured) do not count. Linear in the text, no recursion.
bool json_nesting_exceeds(std::string_view text, size_t max_depth = kMaxJsonDepth);

// J::parse(text, nullptr, false) for untrusted text (J: nlohmann::json or ordered_json):
// discarded (is_discarded()) when it is not JSON or nests deeper than `max_depth`.
template <class J = nlohmann::json>
J parse_json(std::string_view text, size_t max_depth = kMaxJsonDepth) {
  if (json_nesting_exceeds(text, max_depth)) return J(J::value_t::discarded);
  return J::parse(text, nullptr, false);
}

}  // namespace twinbox
