#pragma once
// Which backend runs a requested platform. Pure: the strings in, a choice or an error out.
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace twinbox::router {

inline constexpr std::string_view kHv = "hv";
inline constexpr std::string_view kRosetta = "rosetta";

struct PlatformChoice {
  std::string backend;   // "hv" or "rosetta"
  std::string platform;  // normalized: "linux/arm64" or "linux/amd64"
  std::string arch;      // "arm64" or "amd64"
  std::string reason;    // one human line: why this backend
};

// A platform string in OCI form, normalized (lower case, trimmed, aliases resolved).
struct Platform {
  std::string os;       // "linux"
  std::string arch;     // "amd64", "arm64", "arm", "386", ...
  std::string variant;  // "" or e.g. "v7"
  std::string str() const;
};

// Parses "os/arch[/variant]" or a bare "arch" with the OCI aliases (x86_64 -> amd64,
// aarch64 -> arm64 with v8 dropped, armhf -> arm/v7, ...). InvalidArgument when malformed.
Result<Platform> parse_platform(std::string_view s);

// The backend for an explicit platform; InvalidArgument listing the accepted forms for any
// platform twinbox cannot run. `origin` words the reason: "--platform x requested" etc.
Result<PlatformChoice> backend_for_platform(std::string_view platform, std::string_view origin);

// The create/pull/build rule: the query parameter wins over a body field; neither (or empty
// strings) routes to hv, the default backend.
Result<PlatformChoice> choose_platform(const std::optional<std::string>& query_platform,
                                       const std::optional<std::string>& body_platform);

// The accepted forms, for error messages.
std::string accepted_platforms_text();

}  // namespace twinbox::router
