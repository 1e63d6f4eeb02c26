#include "image/endpoint.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <optional>

#include "image/docker_config.hpp"
#include "util/strings.hpp"

namespace twinbox::image {

namespace {

// "host" of "host", "host:port", "[v6]", "[v6]:port"; IPv6 without brackets is returned whole.
std::string host_part(std::string_view domain) {
  if (!domain.empty() && domain.front() == '[') {
    auto close = domain.find(']');
    if (close != std::string_view::npos) return std::string(domain.substr(1, close - 1));
    return std::string(domain);
  }
  if (domain.find(':') != domain.rfind(':')) return std::string(domain);  // bare IPv6
  auto colon = domain.find(':');
  return std::string(domain.substr(0, colon));
}

std::optional<uint32_t> parse_ipv4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

bool in_cidr(const std::string& host, std::string_view cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  auto net = parse_ipv4(std::string(cidr.substr(0, slash)));
  auto ip = parse_ipv4(host);
  if (!net || !ip) return false;
  int bits = 0;
  for (char c : cidr.substr(slash + 1)) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + (c - '0');
    if (bits > 32) return false;
  }
  if (slash + 1 == cidr.size()) return false;
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (*ip & mask) == (*net & mask);
}

}  // namespace

bool is_loopback_registry(std::string_view domain) {
  std::string host = to_lower(host_part(domain));
  if (host == "localhost" || host == "::1") return true;
  auto ip = parse_ipv4(host);
  return ip && (*ip >> 24) == 127;
}

bool is_insecure_registry(std::string_view domain, const std::vector<std::string>& insecure) {
  std::string d = to_lower(domain);
  std::string host = to_lower(host_part(domain));
  for (const auto& raw : insecure) {
    std::string e = to_lower(trim(raw));
    // "http://host:port/" in a config file means the same host.
    if (starts_with(e, "http://")) e = e.substr(7);
    if (starts_with(e, "https://")) e = e.substr(8);
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e.empty()) continue;
    if (e == d) return true;
    if (e.find('/') != std::string::npos) {
      if (in_cidr(host, e)) return true;
      continue;
    }
    // An entry without a port covers the host on any port.
    if (host_part(e) == e && e == host) return true;
  }
  return false;
}

RegistryEndpoint registry_endpoint(std::string_view domain,
                                   const std::vector<std::string>& insecure) {
  RegistryEndpoint ep;
  ep.registry = std::string(domain);
  std::string host = std::string(domain);
  if (normalize_registry_host(domain) == "docker.io") {
    ep.registry = "docker.io";
    host = "registry-1.docker.io";
  }
  ep.plain_http = is_loopback_registry(domain) || is_insecure_registry(domain, insecure);
  ep.base_url = (ep.plain_http ? "http://" : "https://") + host;
  return ep;
}

}  // namespace twinbox::image
