#include "router/port_allocator.hpp"

#include <charconv>

#include "util/strings.hpp"

namespace twinbox::router {

namespace {

bool is_wildcard(const std::string& ip) { return ip == "0.0.0.0" || ip == "::"; }

std::string describe(const PortRequest& r) {
  std::string ip = r.host_ip.find(':') != std::string::npos ? "[" + r.host_ip + "]" : r.host_ip;
  return ip + ":" + std::to_string(r.host_port) + "/" + r.proto;
}

Result<int> parse_port(std::string_view s, const std::string& what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > 65535)
    return make_error(ErrorCode::InvalidArgument,
                      "invalid " + what + " '" + std::string(s) + "': expected 1-65535");
  return v;
}

}  // namespace

std::string describe_holder(const PortHolder& h) {
  std::string id = h.container_id.substr(0, 12);
  std::string who = h.container_name.empty() ? id : h.container_name + " (" + id + ")";
  return "container " + who + " on " + h.backend;
}

PortAllocator::PortAllocator(int ephemeral_low, int ephemeral_high)
    : low_(ephemeral_low), high_(ephemeral_high), cursor_(ephemeral_low) {}

const PortReservation* PortAllocator::conflict(const Key& k) const {
  for (auto it = held_.lower_bound(Key{"", k.port, ""}); it != held_.end(); ++it) {
    if (it->first.port != k.port) break;
    if (it->first.proto != k.proto) continue;
    if (it->first.ip == k.ip || is_wildcard(it->first.ip) || is_wildcard(k.ip)) return &it->second;
  }
  return nullptr;
}

Result<int> PortAllocator::next_ephemeral(const std::string& ip, const std::string& proto,
                                          const std::map<Key, PortReservation>& pending) const {
  int span = high_ - low_ + 1;
  for (int i = 0; i < span; ++i) {
    int port = low_ + (cursor_ - low_ + i) % span;
    Key k{ip, port, proto};
    if (!conflict(k) && !pending.count(k)) return port;
  }
  return make_error(ErrorCode::Unavailable, "no free host port left in " + std::to_string(low_) +
                                                "-" + std::to_string(high_) + " for " + proto);
}

Result<std::vector<PortReservation>> PortAllocator::reserve(
    const std::vector<PortRequest>& requests, const PortHolder& holder) {
  std::map<Key, PortReservation> pending;
  std::vector<PortReservation> out;
  for (PortRequest r : requests) {
    if (r.host_ip.empty()) r.host_ip = "127.0.0.1";
    if (r.proto != "tcp" && r.proto != "udp")
      return make_error(ErrorCode::InvalidArgument, "unsupported protocol '" + r.proto + "'");
    if (r.host_port == 0) {
      TRY_ASSIGN(r.host_port, next_ephemeral(r.host_ip, r.proto, pending));
    }
    Key k{r.host_ip, r.host_port, r.proto};
    if (const PortReservation* other = conflict(k)) {
      return make_error(ErrorCode::Conflict, "host port " + describe(r) +
                                                 " is already published by " +
                                                 describe_holder(other->holder) +
                                                 "; pick another host port or remove it");
    }
    if (pending.count(k))
      return make_error(ErrorCode::InvalidArgument,
                        "host port " + describe(r) + " is requested twice by this container");
    PortReservation res{r, holder};
    pending.emplace(k, res);
    out.push_back(res);
  }
  for (auto& [k, v] : pending) {
    held_.emplace(k, v);
    if (k.port >= low_ && k.port <= high_) cursor_ = k.port + 1 > high_ ? low_ : k.port + 1;
  }
  return out;
}

size_t PortAllocator::release(const std::string& container_id) {
  size_t n = 0;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.holder.container_id == container_id) {
      it = held_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

std::optional<PortHolder> PortAllocator::holder_of(const std::string& host_ip, int port,
                                                   const std::string& proto) const {
  if (const PortReservation* r = conflict(Key{host_ip, port, proto})) return r->holder;
  return std::nullopt;
}

std::vector<PortReservation> PortAllocator::reservations() const {
  std::vector<PortReservation> out;
  for (const auto& [k, v] : held_) out.push_back(v);
  return out;
}

Result<std::vector<PortRequest>> parse_port_bindings(const nlohmann::json& bindings) {
  std::vector<PortRequest> out;
  if (bindings.is_null()) return out;
  if (!bindings.is_object())
    return make_error(ErrorCode::InvalidArgument, "HostConfig.PortBindings must be an object");
  for (const auto& [key, list] : bindings.items()) {
    auto parts = split(key, '/');
    if (parts.size() > 2)
      return make_error(ErrorCode::InvalidArgument, "invalid port spec '" + key + "'");
    TRY_ASSIGN(int container_port, parse_port(parts[0], "container port in '" + key + "'"));
    std::string proto = parts.size() == 2 ? to_lower(parts[1]) : "tcp";
    if (!list.is_array() && !list.is_null())
      return make_error(ErrorCode::InvalidArgument, "bindings of '" + key + "' must be a list");
    for (const auto& b : list.is_array() ? list : nlohmann::json::array()) {
      PortRequest r;
      r.container_port = container_port;
      r.proto = proto;
      r.host_ip = b.is_object() ? b.value("HostIp", "") : "";
      std::string hp = b.is_object() ? b.value("HostPort", "") : "";
      if (!hp.empty()) {
        TRY_ASSIGN(r.host_port, parse_port(hp, "host port for '" + key + "'"));
      }
      out.push_back(r);
    }
  }
  return out;
}

std::vector<PortReservation> PortAllocator::reservations_of(const std::string& container_id) const {
  std::vector<PortReservation> out;
  for (const auto& [k, r] : held_)
    if (r.holder.container_id == container_id) out.push_back(r);
  return out;
}

void PortAllocator::rehold(const std::string& from_id, const PortHolder& to) {
  for (auto& [k, r] : held_)
    if (r.holder.container_id == from_id) r.holder = to;
}

}  // namespace twinbox::router
