#pragma once
// The workload registry shared by every connection thread, saved atomically to a JSON file on
// each change so a restarted daemon still knows where its containers are. I/O: not in
// twinbox_core (library twinbox_router_io).
#include <functional>
#include <mutex>
#include <string>

#include "router/workload_registry.hpp"
#include "util/result.hpp"

namespace twinbox::router {

class RegistryStore {
 public:
  // `path` "" keeps the registry in memory only (tests, or a daemon without a state dir).
  explicit RegistryStore(std::string path) : path_(std::move(path)) {}

  // Reads the file. A missing file is an empty registry. A corrupt one is moved aside to
  // "<path>.corrupt" and the registry starts empty (the engines are probed on each miss, so
  // nothing is lost but speed); the returned error says so and the caller logs it.
  Status load();

  // Runs `f` on the registry under the lock.
  template <class F>
  auto read(F&& f) const {
    std::lock_guard lock(mu_);
    return f(static_cast<const WorkloadRegistry&>(registry_));
  }

  // Runs `f` under the lock; when it returns true (changed), saves the file before unlocking.
  Status update(const std::function<bool(WorkloadRegistry&)>& f);

  const std::string& path() const { return path_; }

 private:
  Status save_locked() const;

  std::string path_;
  mutable std::mutex mu_;
  WorkloadRegistry registry_;
};

}  // namespace twinbox::router
