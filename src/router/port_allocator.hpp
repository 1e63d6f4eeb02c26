#pragma once
// One host port space across both utility VMs. Published ports of containers on hv and on
// rosetta are forwarded from the same host, so a port held by one backend is taken for the
// other. Pure: the caller forwards what was reserved (slirp hostfwd) and releases on removal.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "util/result.hpp"

namespace twinbox::router {

struct PortHolder {
  std::string backend;  // "hv" or "rosetta"
  std::string container_id;
  std::string container_name;  // for messages; may be empty
};

// One `-p` request: HostIp/HostPort -> container port. host_port 0 asks for an ephemeral one.
struct PortRequest {
  std::string host_ip;  // "" is normalized to 127.0.0.1 (twinbox's default)
  int host_port = 0;
  int container_port = 0;
  std::string proto = "tcp";  // "tcp" or "udp"
};

struct PortReservation {
  PortRequest request;  // with host_ip normalized and host_port assigned
  PortHolder holder;
};

// "container web (abcdef012345) on rosetta": how conflicts name a holder.
std::string describe_holder(const PortHolder& h);

class PortAllocator {
 public:
  explicit PortAllocator(int ephemeral_low = 49152, int ephemeral_high = 60999);

  // Reserves every request of one container, all or nothing. Conflict names the holder:
  // "host port 127.0.0.1:8080/tcp is already published by container web (abc123) on rosetta".
  Result<std::vector<PortReservation>> reserve(const std::vector<PortRequest>& requests,
                                               const PortHolder& holder);
  // Frees every port a container holds; returns how many.
  size_t release(const std::string& container_id);
  std::optional<PortHolder> holder_of(const std::string& host_ip, int port,
                                      const std::string& proto) const;
  std::vector<PortReservation> reservations() const;
  // What one container holds.
  std::vector<PortReservation> reservations_of(const std::string& container_id) const;
  // Hands every port of `from_id` (a pending create) to `to` (the created container).
  void rehold(const std::string& from_id, const PortHolder& to);

 private:
  struct Key {
    std::string ip;
    int port;
    std::string proto;
    bool operator<(const Key& o) const {
      return std::tie(port, proto, ip) < std::tie(o.port, o.proto, o.ip);
    }
  };
  // The reservation a new (ip, port, proto) would collide with: same port and protocol, and the
  // same address or either side a wildcard (0.0.0.0 / ::).
  const PortReservation* conflict(const Key& k) const;
  Result<int> next_ephemeral(const std::string& ip, const std::string& proto,
                             const std::map<Key, PortReservation>& pending) const;

  int low_, high_;
  int cursor_;
  std::map<Key, PortReservation> held_;
};

// Docker's HostConfig.PortBindings ({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}) as
// requests. Bad keys or ports are InvalidArgument naming the entry.
Result<std::vector<PortRequest>> parse_port_bindings(const nlohmann::json& port_bindings);

}  // namespace twinbox::router
