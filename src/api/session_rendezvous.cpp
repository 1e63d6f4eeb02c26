#include "api/session_rendezvous.hpp"

namespace twinbox::api {

namespace {
// A claim nobody awaited (a build without a session request) is dropped after this.
constexpr auto kClaimTtl = std::chrono::minutes(10);
}  // namespace

void SessionRendezvous::expire_locked(Clock::time_point now) {
  std::erase_if(claims_, [&](const auto& c) { return now - c.second.at > kClaimTtl; });
}

std::optional<std::string> SessionRendezvous::await(const std::string& id,
                                                    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool claimed = cv_.wait_for(lock, timeout, [&] { return claims_.count(id) > 0; });
  if (!claimed) return std::nullopt;
  // A session id may serve several builds (buildx bake); keep the claim until it expires.
  return claims_.at(id).backend;
}

void SessionRendezvous::claim(const std::string& id, const std::string& backend) {
  if (id.empty()) return;
  {
    std::lock_guard lock(mu_);
    auto now = Clock::now();
    expire_locked(now);
    claims_[id] = Claim{backend, now};
  }
  cv_.notify_all();
}

}  // namespace twinbox::api
