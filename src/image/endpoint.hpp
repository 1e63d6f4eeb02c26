#pragma once
// Where a registry named in an image reference is reached: Docker Hub's API endpoint, and HTTPS
// or plain HTTP the way dockerd decides (loopback and configured insecure registries are plain
// HTTP). Pure: the insecure list comes from the caller's options.
#include <string>
#include <string_view>
#include <vector>

namespace twinbox::image {

struct RegistryEndpoint {
  std::string registry;  // the reference's domain, as credentials are keyed: "docker.io"
  std::string base_url;  // "https://registry-1.docker.io", "http://127.0.0.1:5000"
  bool plain_http = false;
};

// True for "localhost", "127.0.0.0/8" and "::1" hosts, with or without a port
// ("127.0.0.1:5000", "[::1]:5000", "localhost:5000").
bool is_loopback_registry(std::string_view domain);

// `insecure` entries are "host[:port]" (compared case-insensitively with the domain; an entry
// without a port covers every port of that host) or IPv4 CIDRs ("10.0.0.0/8") as dockerd accepts.
bool is_insecure_registry(std::string_view domain, const std::vector<std::string>& insecure);

// docker.io (and its aliases, see normalize_registry_host) -> https://registry-1.docker.io.
RegistryEndpoint registry_endpoint(std::string_view domain,
                                   const std::vector<std::string>& insecure);

}  // namespace twinbox::image
