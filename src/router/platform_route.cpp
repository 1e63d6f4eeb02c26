#include "router/platform_route.hpp"

#include "platform/platform.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

std::string accepted_platforms_text(const platform::HostProfile& profile) {
  return "accepted on host profile " + profile.name + ": " + profile.accepted_text() +
         "; also spelled arm64, aarch64, linux/arm64/v8, amd64, x86_64, x86-64";
}

Result<PlatformChoice> backend_for_platform(std::string_view platform, std::string_view origin,
                                            const platform::HostProfile& profile) {
  auto parsed = platform::parse_platform(platform);
  if (!parsed)
    return make_error(ErrorCode::InvalidArgument, std::string(origin) + ": " +
                                                      parsed.error().message + " (" +
                                                      accepted_platforms_text(profile) + ")");
  platform::Platform p = platform::normalize(*parsed);
  auto match = profile.backend_for(p);
  if (!match.backend)
    return make_error(ErrorCode::InvalidArgument,
                      std::string(origin) + ": twinbox cannot run platform " + p.to_string() +
                          " (" + accepted_platforms_text(profile) + ")");
  PlatformChoice c;
  c.platform = p.to_string();
  c.arch = p.arch;
  c.backend = *match.backend;
  c.reason = std::string(origin) + ": " + match.reason;
  return c;
}

std::optional<RequestedPlatform> requested_platform(
    const std::optional<std::string>& query_platform,
    const std::optional<std::string>& body_platform) {
  if (query_platform && !trim(*query_platform).empty()) {
    std::string p(trim(*query_platform));
    return RequestedPlatform{p, "--platform " + p + " requested"};
  }
  if (body_platform && !trim(*body_platform).empty()) {
    std::string p(trim(*body_platform));
    return RequestedPlatform{p, "platform " + p + " in the request body"};
  }
  return std::nullopt;
}

Result<PlatformChoice> choose_platform(const std::optional<std::string>& query_platform,
                                       const std::optional<std::string>& body_platform,
                                       const platform::HostProfile& profile) {
  if (auto req = requested_platform(query_platform, body_platform))
    return backend_for_platform(req->platform, req->origin, profile);
  const platform::BackendSupport* home = profile.support(profile.default_backend());
  if (!home || home->native.empty())
    return make_error(ErrorCode::Internal,
                      "host profile " + profile.name + " has no default backend");
  PlatformChoice c;
  c.backend = home->name;
  c.platform = home->native.front().to_string();
  c.arch = home->native.front().arch;
  c.reason = "no platform requested: " + c.backend + " is the default backend (host profile " +
             profile.name + ")";
  return c;
}

}  // namespace twinbox::router
