#include "api/ports.hpp"

#include <algorithm>
#include <set>

#include "util/log.hpp"

namespace twinbox::api {

Status PortPublisher::forward_all(const std::vector<router::PortReservation>& held) {
  for (size_t i = 0; i < held.size(); ++i) {
    const auto& r = held[i];
    auto st = backends_.forward_port(r.holder.backend, r.request.proto, r.request.host_ip,
                                     r.request.host_port);
    if (!st) {
      unforward_all({held.begin(), held.begin() + static_cast<long>(i)});
      return st;
    }
  }
  return {};
}

void PortPublisher::unforward_all(const std::vector<router::PortReservation>& held) {
  for (const auto& r : held) {
    auto st = backends_.unforward_port(r.holder.backend, r.request.proto, r.request.host_ip,
                                       r.request.host_port);
    if (!st) log::warn("ports", st.error().message);
  }
}

Result<std::vector<router::PortReservation>> PortPublisher::publish(
    const std::string& backend, const std::string& pending_id, const std::string& name,
    const std::vector<router::PortRequest>& requests,
    const std::function<bool(const router::PortHolder&)>& holder_alive) {
  if (requests.empty()) return std::vector<router::PortReservation>{};
  router::PortHolder holder{backend, pending_id, name};
  // A conflicting holder may be a container the engine removed on its own (`--rm`); ask once
  // per holder, outside the lock (it is a request to an engine).
  std::set<std::string> asked;
  for (int attempt = 0; attempt < 8; ++attempt) {
    Result<std::vector<router::PortReservation>> held = std::vector<router::PortReservation>{};
    {
      std::lock_guard lock(mu_);
      held = alloc_.reserve(requests, holder);
    }
    if (!held) {
      if (held.error().code != ErrorCode::Conflict) return held.error();
      std::optional<router::PortHolder> stale;
      {
        std::lock_guard lock(mu_);
        for (const auto& r : requests) {
          std::string ip = r.host_ip.empty() ? "127.0.0.1" : r.host_ip;
          auto h = r.host_port ? alloc_.holder_of(ip, r.host_port, r.proto) : std::nullopt;
          if (h && !asked.count(h->container_id)) {
            stale = h;
            break;
          }
        }
      }
      if (!stale) return held.error();
      asked.insert(stale->container_id);
      if (holder_alive(*stale)) return held.error();
      log::info("ports", "container " + stale->container_id.substr(0, 12) + " on " +
                             stale->backend + " is gone; freeing its ports");
      release(stale->container_id);
      continue;
    }
    auto st = forward_all(*held);
    if (st) return held;
    {
      std::lock_guard lock(mu_);
      alloc_.release(pending_id);
    }
    // An ephemeral port another program on the host holds: try the next one.
    bool ephemeral = std::any_of(requests.begin(), requests.end(),
                                 [](const auto& r) { return r.host_port == 0; });
    if (st.error().code != ErrorCode::Conflict || !ephemeral) return st.error();
  }
  return make_error(ErrorCode::Unavailable, "could not publish ports for " + name +
                                                ": every host port tried was taken");
}

void PortPublisher::adopt(const std::string& pending_id, const std::string& container_id) {
  std::lock_guard lock(mu_);
  auto held = alloc_.reservations_of(pending_id);
  if (held.empty()) return;
  router::PortHolder h = held.front().holder;
  h.container_id = container_id;
  alloc_.rehold(pending_id, h);
}

void PortPublisher::release(const std::string& id) {
  std::vector<router::PortReservation> held;
  {
    std::lock_guard lock(mu_);
    held = alloc_.reservations_of(id);
    alloc_.release(id);
  }
  unforward_all(held);
}

void PortPublisher::restore(const std::string& backend, const std::string& container_id,
                            const std::string& name,
                            const std::vector<router::PortRequest>& ports) {
  if (ports.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (!alloc_.reservations_of(container_id).empty()) return;
  }
  auto held = publish(backend, container_id, name, ports,
                      [](const router::PortHolder&) { return true; });
  if (!held)
    log::warn("ports", "restoring published ports of " + name + " on " + backend + ": " +
                           held.error().message);
}

void PortPublisher::forget_missing(const std::string& backend,
                                   const std::vector<std::string>& live_ids) {
  std::set<std::string> live(live_ids.begin(), live_ids.end()), gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : alloc_.reservations())
      if (r.holder.backend == backend && !live.count(r.holder.container_id) &&
          r.holder.container_id.rfind("pending-", 0) != 0)
        gone.insert(r.holder.container_id);
  }
  for (const auto& id : gone) release(id);
}

std::vector<router::PortReservation> PortPublisher::reservations() const {
  std::lock_guard lock(mu_);
  return alloc_.reservations();
}

}  // namespace twinbox::api
