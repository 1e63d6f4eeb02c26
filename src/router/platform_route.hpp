#pragma once
// Which backend runs a requested platform. Pure: the strings in, a choice or an error out.
#include <optional>
#include <string>
#include <string_view>

#include "platform/host_profile.hpp"
#include "util/result.hpp"

namespace twinbox::router {

struct PlatformChoice {
  std::string backend;   // "hv" or "rosetta"
  std::string platform;  // normalized: "linux/arm64" or "linux/amd64"
  std::string arch;      // "arm64" or "amd64"
  std::string reason;    // one human line: why this backend
};

// The backend for an explicit platform: parsed and normalized by platform::parse_platform
// (containerd's semantics), decided by the host profile. InvalidArgument listing the accepted
// forms for any platform twinbox cannot run. `origin` words the reason: "--platform x
// requested" etc.
Result<PlatformChoice> backend_for_platform(
    std::string_view platform, std::string_view origin,
    const platform::HostProfile& profile = platform::default_profile());

// The explicit platform of a request and how to word where it came from.
struct RequestedPlatform {
  std::string platform;  // trimmed, as the client wrote it
  std::string origin;    // "--platform x requested" / "platform x in the request body"
};

// The rule of create/pull/build: the query parameter wins over a body field; empty strings
// count as absent. nullopt when neither gives a platform. decide_run() uses it too.
std::optional<RequestedPlatform> requested_platform(
    const std::optional<std::string>& query_platform,
    const std::optional<std::string>& body_platform);

// The create/pull/build rule: requested_platform(), else the profile's default backend (hv)
// and its first native platform.
Result<PlatformChoice> choose_platform(
    const std::optional<std::string>& query_platform,
    const std::optional<std::string>& body_platform,
    const platform::HostProfile& profile = platform::default_profile());

// The accepted forms, for error messages.
std::string accepted_platforms_text(
    const platform::HostProfile& profile = platform::default_profile());

}  // namespace twinbox::router
