#pragma once
// The workload registry shared by every connection thread, persisted so a restarted daemon still
// knows where its containers are: a snapshot (`<path>`, JSON, written atomically) and a journal
// (`<path>.journal`) that each change appends one line to, so a create costs the same at 10 000
// workloads as at 10. The journal is folded into a new snapshot when it grows past the registry's
// size (and at every load). A crash part-way through an append loses at most that change. I/O:
// not in twinbox_core (library twinbox_router_io). See src/router/README.md.
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "router/workload_registry.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::router {

class RegistryStore {
 public:
  // `path` "" keeps the registry in memory only (tests, or a daemon without a state dir).
  // The journal is compacted once it holds more than max(`compact_min`, records) lines.
  explicit RegistryStore(std::string path, size_t compact_min = 1024);

  // Reads the snapshot and replays the journal, then compacts (a fresh snapshot, an empty
  // journal). A missing snapshot is an empty registry. A corrupt one is moved aside to
  // "<path>.corrupt" and the registry starts empty (the engines are probed on each miss, so
  // nothing is lost but speed); the returned error says so and the caller logs it. A torn last
  // journal line (a crash during an append) is dropped silently; a bad line before the last
  // ends the replay there and the error says so.
  Status load();

  // What load() would find at `path`, without changing any file (no compaction, nothing moved
  // aside): for tests and tools looking at a running daemon's registry. `problem`, when given,
  // gets what load() would report.
  static WorkloadRegistry peek(const std::string& path, Status* problem = nullptr);

  // Runs `f` on the registry under the lock.
  template <class F>
  auto read(F&& f) const {
    std::lock_guard lock(mu_);
    return f(static_cast<const WorkloadRegistry&>(registry_));
  }

  // Runs `f` under the lock; when it changed anything, appends the change to the journal (one
  // write and an fdatasync) before unlocking.
  Status update(const std::function<bool(WorkloadRegistry&)>& f);

  const std::string& path() const { return path_; }
  std::string journal_path() const { return path_ + ".journal"; }
  // Lines in the journal since the last compaction (tests, benches).
  size_t journal_lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  Status append_locked(const std::string& line);
  Status compact_locked();

  std::string path_;
  size_t compact_min_;
  mutable std::mutex mu_;
  WorkloadRegistry registry_;
  Fd journal_;        // O_APPEND; invalid until load() or after a failed append
  size_t lines_ = 0;  // journal lines since the last compaction
};

}  // namespace twinbox::router
