#pragma once
// The prewarm list: image references to have in the content store before any workload asks, so
// CI can pay for pulls once at start (or import them and run with no registry). Pure.
#include <string_view>
#include <vector>

#include "platform/reference.hpp"
#include "util/result.hpp"

namespace twinbox::store {

// One reference per line; '#' starts a comment (whole line or after the reference); blank lines
// are skipped; duplicates (after normalization) are kept once, first position wins.
// InvalidArgument "prewarm list line N: ..." for a malformed reference or a line with more than
// one word.
Result<std::vector<platform::Reference>> parse_prewarm_list(std::string_view text);

}  // namespace twinbox::store
