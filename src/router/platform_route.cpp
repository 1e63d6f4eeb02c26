#include "router/platform_route.hpp"

#include "platform/arch_table.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

namespace {

struct Alias {
  std::string_view from;
  std::string_view arch;
  std::string_view variant;  // applied when the input has no variant of its own
};

// Spellings beyond the `uname -m` names the arch table already maps (x86_64, aarch64).
constexpr Alias kArchAliases[] = {
    {"x86-64", "amd64", ""},
    {"armhf", "arm", "v7"},
    {"armel", "arm", "v6"},
    {"i386", "386", ""},
};

bool is_known_os(std::string_view s) {
  for (std::string_view os : {"linux", "windows", "darwin", "freebsd"})
    if (s == os) return true;
  return false;
}

// Canonical variants: amd64 v1 and arm64 v8 are the baseline and have no variant.
std::string normalize_variant(std::string_view arch, std::string variant) {
  if (arch == "amd64" && variant == "v1") return "";
  if (arch == "arm64") {
    if (variant == "8" || variant == "v8" || variant == "v8.0") return "";
    if (variant == "9" || variant == "v9.0") return "v9";
  }
  if (arch == "arm" && variant.size() == 1 && variant[0] >= '5' && variant[0] <= '8')
    return "v" + variant;
  return variant;
}

}  // namespace

std::string Platform::str() const {
  return os + "/" + arch + (variant.empty() ? "" : "/" + variant);
}

Result<Platform> parse_platform(std::string_view s) {
  std::string text = to_lower(trim(s));
  auto parts = split(text, '/');
  bool malformed = parts.size() > 3;
  for (const auto& part : parts) malformed = malformed || part.empty();
  if (malformed)
    return make_error(ErrorCode::InvalidArgument,
                      "malformed platform \"" + std::string(s) + "\" (want os/arch[/variant])");
  Platform p;
  p.os = "linux";
  if (parts.size() == 1) {
    p.arch = parts[0];
  } else if (parts.size() == 2 && !is_known_os(parts[0])) {
    p.arch = parts[0];  // "arm64/v8": an arch and its variant
    p.variant = parts[1];
  } else {
    p.os = parts[0];
    p.arch = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  }
  if (auto oci = platform::oci_arch_from_uname(p.arch)) p.arch = *oci;
  for (const auto& a : kArchAliases) {
    if (p.arch != a.from) continue;
    p.arch = a.arch;
    if (p.variant.empty()) p.variant = a.variant;
  }
  p.variant = normalize_variant(p.arch, p.variant);
  return p;
}

std::string accepted_platforms_text() {
  return "accepted: linux/arm64 (also arm64, aarch64, linux/arm64/v8) runs on hv; linux/amd64 "
         "(also amd64, x86_64, x86-64) runs on rosetta";
}

Result<PlatformChoice> backend_for_platform(std::string_view platform, std::string_view origin) {
  auto parsed = parse_platform(platform);
  if (!parsed)
    return make_error(ErrorCode::InvalidArgument, std::string(origin) + ": " +
                                                      parsed.error().message + " (" +
                                                      accepted_platforms_text() + ")");
  PlatformChoice c;
  c.platform = parsed->str();
  c.arch = parsed->arch;
  if (c.platform == "linux/arm64") {
    c.backend = std::string(kHv);
  } else if (c.platform == "linux/amd64") {
    c.backend = std::string(kRosetta);
  } else {
    return make_error(ErrorCode::InvalidArgument,
                      std::string(origin) + ": twinbox cannot run platform " + c.platform + " (" +
                          accepted_platforms_text() + ")");
  }
  c.reason = std::string(origin) + ": " + c.arch + " runs on " + c.backend;
  return c;
}

Result<PlatformChoice> choose_platform(const std::optional<std::string>& query_platform,
                                       const std::optional<std::string>& body_platform) {
  if (query_platform && !trim(*query_platform).empty())
    return backend_for_platform(*query_platform,
                                "--platform " + std::string(trim(*query_platform)) + " requested");
  if (body_platform && !trim(*body_platform).empty())
    return backend_for_platform(
        *body_platform, "platform " + std::string(trim(*body_platform)) + " in the request body");
  PlatformChoice c;
  c.backend = std::string(kHv);
  c.platform = "linux/arm64";
  c.arch = "arm64";
  c.reason = "no platform requested: hv is the default backend";
  return c;
}

}  // namespace twinbox::router
