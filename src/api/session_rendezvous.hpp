#pragma once
// BuildKit's `POST /session` reaches twinboxd before the `POST /build?session=ID` that uses it,
// and only the build says which platform (so which backend) it is for. The session request
// waits here until its build claims it, then goes to the same backend. A claim that arrives
// first is kept for a while so the order does not matter.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace twinbox::api {

class SessionRendezvous {
 public:
  // The backend the build naming `id` went to, or nullopt after `timeout`.
  std::optional<std::string> await(const std::string& id, std::chrono::milliseconds timeout);
  // A build naming session `id` goes to `backend`.
  void claim(const std::string& id, const std::string& backend);

 private:
  using Clock = std::chrono::steady_clock;
  struct Claim {
    std::string backend;
    Clock::time_point at;
  };
  void expire_locked(Clock::time_point now);

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Claim> claims_;
};

}  // namespace twinbox::api
