#pragma once
// OCI platforms with containerd's semantics: parsing "os/arch[/variant]", normalizing aliases
// (x86_64, aarch64, armhf, ...), and the preference order in which a wanted platform accepts
// others (amd64/v3 -> v2 -> v1 -> 386; arm64 -> arm/v8 ... arm/v5). Pure: no I/O, no host facts;
// what a host can actually run is host_profile.hpp's business.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::platform {

struct Platform {
  std::string os;       // "linux"
  std::string arch;     // "amd64", "arm64", "arm", "386", or any other OCI arch
  std::string variant;  // "" (the baseline: amd64 v1, arm64 v8) or "v2", "v7", ...

  // "linux/arm64", "linux/arm/v7".
  std::string to_string() const;
  bool operator==(const Platform&) const = default;
};

// Parses a user's platform string: "os/arch[/variant]", or a bare "arch" meaning linux/<arch>.
// Trimmed and lower-cased, then normalize()d; a bare or two-part "arm" means arm/v7 as in
// containerd. Unknown architectures are accepted in the os/arch form (containerd does), but a
// bare word must be a known architecture so that typos are caught. As an extension to containerd,
// "arm64/v8" (a known arch with a variant, no os) reads as linux/arm64/v8.
// InvalidArgument saying what is wrong and which forms are accepted.
Result<Platform> parse_platform(std::string_view s);

// containerd's normalization of a platform taken from an image index or config: lower case,
// arch aliases (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, armel -> arm/v6, i386 -> 386),
// canonical variants (amd64 v1 and arm64 v8 -> "", arm64 "9" -> "v9", arm "7" -> "v7"), and an
// arm without a variant is arm/v7.
Platform normalize(const Platform& p);

// The platforms `want` accepts, best first (containerd's platformVector), `want` itself first.
std::vector<Platform> compatible_platforms(const Platform& want);

// Whether an image whose config says `have` satisfies `want`. A config without a variant matches
// on os+arch alone (image configs often omit it).
bool matches(const Platform& want, const Platform& have);

// The position in `index_entries` (the platforms of an OCI index's manifests) of the best one for
// `want`: the first in compatible_platforms() order that any entry provides; among entries that
// tie, the first in the index. nullopt when none is compatible.
std::optional<size_t> select_from_index(const std::vector<Platform>& index_entries,
                                        const Platform& want);

// Operating systems and architectures containerd knows (GOOS/GOARCH lists), for validation.
bool is_known_os(std::string_view os);
bool is_known_arch(std::string_view arch);

}  // namespace twinbox::platform
