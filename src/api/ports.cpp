#include "api/ports.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "util/log.hpp"

namespace twinbox::api {

namespace {

std::string short_id(const std::string& id) { return id.substr(0, 12); }

std::string describe(const router::PortRequest& r) {
  std::string ip = r.host_ip.find(':') != std::string::npos ? "[" + r.host_ip + "]" : r.host_ip;
  return ip + ":" + std::to_string(r.host_port);
}

std::vector<router::PortRequest> requests_of(const std::vector<router::PortReservation>& ports) {
  std::vector<router::PortRequest> out;
  for (const auto& p : ports) out.push_back(p.request);
  return out;
}

}  // namespace

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

Result<std::vector<router::PortReservation>> PortPublisher::hold(
    const router::PortHolder& holder, const std::vector<router::PortRequest>& requests,
    const StateOf& state_of) {
  // Holders in the way are asked once each, outside the lock (it is a request to an engine).
  std::set<std::string> asked;
  for (int attempt = 0; attempt < 8; ++attempt) {
    Result<std::vector<router::PortReservation>> held = std::vector<router::PortReservation>{};
    {
      std::lock_guard lock(mu_);
      held = alloc_.reserve(requests, holder);
    }
    if (!held) {
      if (held.error().code != ErrorCode::Conflict) return held.error();
      std::optional<router::PortHolder> other;
      router::PortRequest wanted;
      {
        std::lock_guard lock(mu_);
        for (const auto& r : requests) {
          std::string ip = r.host_ip.empty() ? "127.0.0.1" : r.host_ip;
          auto h = r.host_port ? alloc_.holder_of(ip, r.host_port, r.proto) : std::nullopt;
          if (h && !asked.count(h->container_id)) {
            other = h;
            wanted = r;
            wanted.host_ip = ip;
            break;
          }
        }
      }
      if (!other) return held.error();
      asked.insert(other->container_id);
      // Another create in flight holds it as "pending-N": as good as running.
      bool pending = other->container_id.rfind("pending-", 0) == 0;
      HolderState state = pending ? HolderState::Running : state_of(*other);
      if (state == HolderState::Running)
        return make_error(ErrorCode::Conflict, "Bind for " + describe(wanted) +
                                                   " failed: port is already allocated (published "
                                                   "by " +
                                                   router::describe_holder(*other) + ")");
      log::info("ports", router::describe_holder(*other) +
                             (state == HolderState::Gone ? " is gone" : " is not running") +
                             "; its host ports go to " + router::describe_holder(holder));
      unhold(other->container_id, state == HolderState::Gone);
      continue;
    }
    auto st = forward_all(*held);
    if (st) return held;
    {
      std::lock_guard lock(mu_);
      alloc_.release(holder.container_id);
    }
    // An ephemeral port another program on the host holds: try the next one.
    bool ephemeral = std::any_of(requests.begin(), requests.end(),
                                 [](const auto& r) { return r.host_port == 0; });
    if (st.error().code != ErrorCode::Conflict || !ephemeral) return st.error();
  }
  return make_error(ErrorCode::Unavailable, "could not publish ports for " + holder.container_name +
                                                ": every host port tried was taken");
}

Result<std::vector<router::PortReservation>> PortPublisher::assign_only(
    const router::PortHolder& holder, const std::vector<router::PortRequest>& requests) {
  std::vector<router::PortReservation> out;
  std::lock_guard lock(mu_);
  for (router::PortRequest r : requests) {
    if (r.host_ip.empty()) r.host_ip = "127.0.0.1";
    if (r.host_port == 0) {
      // A number nobody holds now; the guest is told it at create, so it is fixed from here.
      TRY_ASSIGN(auto one, alloc_.reserve({r}, holder));
      alloc_.release(holder.container_id);
      r = one.front().request;
    }
    out.push_back({r, holder});
  }
  return out;
}

Result<std::vector<router::PortReservation>> PortPublisher::publish(
    const std::string& backend, const std::string& pending_id, const std::string& name,
    const std::vector<router::PortRequest>& requests, const StateOf& state_of) {
  if (requests.empty()) return std::vector<router::PortReservation>{};
  router::PortHolder holder{backend, pending_id, name};
  auto held = hold(holder, requests, state_of);
  if (!held && held.error().code == ErrorCode::Conflict) {
    log::info("ports", router::describe_holder(holder) +
                           " is created without its host ports, which its start "
                           "will claim: " +
                           held.error().message);
    held = assign_only(holder, requests);
  }
  if (!held) return held.error();
  std::lock_guard lock(mu_);
  given_[pending_id] = Entry{holder, *held, ++writes_};
  return held;
}

void PortPublisher::adopt(const std::string& pending_id, const std::string& container_id) {
  std::lock_guard lock(mu_);
  auto it = given_.find(pending_id);
  if (it == given_.end()) return;
  Entry e = std::move(it->second);
  given_.erase(it);
  e.holder.container_id = container_id;
  for (auto& p : e.ports) p.holder = e.holder;
  e.given_at = ++writes_;
  if (!alloc_.reservations_of(pending_id).empty()) alloc_.rehold(pending_id, e.holder);
  given_[container_id] = std::move(e);
}

Status PortPublisher::claim(const std::string& container_id, const StateOf& state_of) {
  Entry e;
  {
    std::lock_guard lock(mu_);
    auto it = given_.find(container_id);
    if (it == given_.end() || !alloc_.reservations_of(container_id).empty()) return {};
    e = it->second;
  }
  auto held = hold(e.holder, requests_of(e.ports), state_of);
  if (held) return {};
  std::string endpoint = e.holder.container_name.empty()
                             ? short_id(container_id)
                             : e.holder.container_name + " (" + short_id(container_id) + ")";
  return make_error(ErrorCode::Internal,
                    "driver failed programming external connectivity on endpoint " + endpoint +
                        " on " + e.holder.backend + ": " + held.error().message);
}

void PortPublisher::unhold(const std::string& id, bool forget) {
  std::vector<router::PortReservation> held;
  {
    std::lock_guard lock(mu_);
    held = alloc_.reservations_of(id);
    alloc_.release(id);
    if (forget) given_.erase(id);
  }
  unforward_all(held);
}

void PortPublisher::release(const std::string& id) { unhold(id, true); }

void PortPublisher::restore(const std::string& backend, const std::string& container_id,
                            const std::string& name, const std::vector<router::PortRequest>& ports,
                            bool running) {
  if (ports.empty()) return;
  router::PortHolder holder{backend, container_id, name};
  std::vector<router::PortReservation> already;
  {
    std::lock_guard lock(mu_);
    already = alloc_.reservations_of(container_id);
  }
  if (!already.empty()) {
    // Held since before its VM restarted (a crash repaired): a new VM has none of the forwards;
    // an adopted one has them, which forward_port counts as done.
    if (!running) return;
    if (auto st = forward_all(already); !st)
      log::warn("ports", "forwarding the published ports of " + name + " on " + backend +
                             " again: " + st.error().message);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (!given_.count(container_id)) {
      Entry e{holder, {}, ++writes_};
      for (const auto& p : ports) e.ports.push_back({p, holder});
      given_[container_id] = std::move(e);
    }
    if (!running) {
      // A VM adopted from an earlier twinboxd still forwards the ports of a container that
      // stopped while none ran: a forward nobody holds would keep its host port from the other
      // VM. (Under the lock: a hold of the port meanwhile reserves it before forwarding.)
      auto held_now = alloc_.reservations();
      for (const auto& p : ports) {
        bool holder_now = std::any_of(held_now.begin(), held_now.end(), [&](const auto& r) {
          return r.request.proto == p.proto && r.request.host_ip == p.host_ip &&
                 r.request.host_port == p.host_port;
        });
        // An error is the usual answer: there was no such forward.
        if (!holder_now && p.host_port != 0)
          (void)backends_.unforward_port(backend, p.proto, p.host_ip, p.host_port);
      }
      return;
    }
  }
  auto held = hold(holder, ports, [](const router::PortHolder&) { return HolderState::Running; });
  if (!held)
    log::warn("ports", "restoring published ports of " + name + " on " + backend + ": " +
                           held.error().message);
}

void PortPublisher::forget_missing(const std::string& backend,
                                   const std::vector<std::string>& live_ids, uint64_t listed_at) {
  std::set<std::string> live(live_ids.begin(), live_ids.end()), gone;
  {
    std::lock_guard lock(mu_);
    auto missing = [&](const router::PortHolder& h) {
      auto e = given_.find(h.container_id);
      bool newer = e != given_.end() && e->second.given_at > listed_at;
      return h.backend == backend && !live.count(h.container_id) && !newer &&
             h.container_id.rfind("pending-", 0) != 0;
    };
    for (const auto& r : alloc_.reservations())
      if (missing(r.holder)) gone.insert(r.holder.container_id);
    for (const auto& [id, e] : given_)
      if (missing(e.holder)) gone.insert(id);
  }
  for (const auto& id : gone) release(id);
}

uint64_t PortPublisher::mark() const {
  std::lock_guard lock(mu_);
  return writes_;
}

std::vector<router::PortReservation> PortPublisher::reservations() const {
  std::lock_guard lock(mu_);
  return alloc_.reservations();
}

std::vector<router::PortReservation> PortPublisher::ports_of(
    const std::string& container_id) const {
  std::lock_guard lock(mu_);
  auto it = given_.find(container_id);
  return it == given_.end() ? std::vector<router::PortReservation>{} : it->second.ports;
}

}  // namespace twinbox::api
