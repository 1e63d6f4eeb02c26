#pragma once
// RFC 4648 base64 (standard alphabet). Docker's config.json stores "user:pass" this way.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace twinbox::image {

std::string base64_encode(std::string_view bytes);
// Accepts padded input and, like most clients writing config.json, unpadded input. Rejects
// characters outside the alphabet (including whitespace), misplaced '=', and a dangling 6 bits.
Result<std::string> base64_decode(std::string_view text);

}  // namespace twinbox::image
