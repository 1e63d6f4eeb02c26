#pragma once
// The workload registry: which backend holds each container and exec instance, and the names
// that point at containers. Pure map logic (persistence is registry_store.hpp). Lookups fail
// closed: a reference that could mean containers on two backends is a Conflict, never a guess.
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::router {

struct ContainerRecord {
  std::string id;            // full 64-hex id as the engine returned it
  std::string backend;       // "hv" or "rosetta"
  std::string name;          // without the leading '/', "" when unknown
  std::string project = {};  // its com.docker.compose.project label, "" when none
};

// A compose project placed on one backend before its first container (`twinbox compose`, or
// POST /twinbox/v1/projects/{name}). Undeclared projects have no record: their placement is
// the backend of their containers (the first one decided), rebuilt from labels after a restart.
struct ProjectRecord {
  std::string name;
  std::string backend;
  std::string reason;  // why that backend (the group decision's reason)
};

// Where a project's workloads go, who said so, and how many containers it has.
struct ProjectSummary {
  std::string backend;
  bool declared = false;
  std::string reason;      // declared: the declaration's reason
  std::string decided_by;  // undeclared: "container <name or short id>" that placed it
  size_t containers = 0;   // how many of its containers the registry knows
  bool mixed = false;      // undeclared and its containers are on different backends
};

struct ExecRecord {
  std::string id;
  std::string backend;
  std::string container_id;
  uint64_t seq = 0;  // insertion order, to evict the oldest beyond kMaxExecs
};

// A resolved container reference. `id` is "" when several containers of one backend share the
// prefix: the backend is certain, and its engine answers the ambiguity itself.
struct ContainerMatch {
  std::string id;
  std::string backend;
};

class WorkloadRegistry {
 public:
  // Exec ids are never deleted by clients; keep the newest ones only.
  static constexpr size_t kMaxExecs = 4096;

  // Adds or updates a container. A name held by another container moves to this one (the
  // engine accepted it, so the other holder is gone or was auto-removed).
  void record_container(const ContainerRecord& c);
  // Forgets a container, its name and its execs. False when it was not known.
  bool forget_container(std::string_view id);
  // NotFound when the id is not known.
  Status rename_container(std::string_view id, std::string_view new_name);
  void record_exec(const std::string& id, const std::string& backend,
                   const std::string& container_id);

  // Docker's lookup order: full id, then name (with or without '/'), then unique id prefix.
  // NotFound on a miss; Conflict when a prefix matches containers on different backends.
  Result<ContainerMatch> find_container(std::string_view ref) const;
  // The container holding `name` (with or without the leading '/'), matched exactly.
  std::optional<ContainerRecord> holder_of_name(std::string_view name) const;
  // Exec ids are matched exactly, as dockerd does.
  Result<ExecRecord> find_exec(std::string_view id) const;

  // Compose projects. A declaration replaces an earlier one of the same name.
  void declare_project(const ProjectRecord& p);
  bool forget_project(std::string_view name);
  // nullopt when the project is neither declared nor has a known container.
  std::optional<ProjectSummary> project_placement(std::string_view name) const;
  // Every declared project and every project some known container belongs to.
  std::map<std::string, ProjectSummary> projects() const;

  // Makes the records of `backend` equal to `live`, a complete listing from its engine
  // (GET /containers/json?all=1). Returns true when anything changed. A listing is taken
  // before it is applied: records written after `listed_at` (a mark() taken before asking the
  // engine) are newer than the listing and are kept.
  bool reconcile_backend(std::string_view backend, const std::vector<ContainerRecord>& live,
                         std::optional<uint64_t> listed_at = std::nullopt);
  // Counts container writes (not persisted): what reconcile_backend's `listed_at` compares.
  uint64_t mark() const { return writes_; }

  const std::map<std::string, ContainerRecord, std::less<>>& containers() const {
    return containers_;
  }
  size_t exec_count() const { return execs_.size(); }

  std::string to_json() const;
  // InvalidArgument when `text` is not a registry written by to_json().
  static Result<WorkloadRegistry> from_json(std::string_view text);

  // The journal: every change above (record, forget, rename, exec, declare, forget project,
  // and what reconcile_backend changes) is also written down in compact JSON, so the store
  // appends what changed instead of rewriting everything. take_journal() hands over the
  // changes since the last call as one line (several are one "batch" entry: they count
  // together or not at all), "" when there were none; apply_journal_line() replays one
  // (InvalidArgument when it is not a line take_journal() produced). Off until journal(true):
  // a registry that nobody persists keeps no lines.
  void journal(bool on) { journaling_ = on; }
  std::string take_journal();
  // Which journal continues this snapshot (written by to_json, read by from_json; the store
  // counts it up at each compaction). 0 in a snapshot written before journals existed.
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }
  Status apply_journal_line(std::string_view line);

 private:
  void note(nlohmann::json entry);
  Status apply_line(std::string_view line);
  Status apply_entry(const nlohmann::json& entry, int depth);
  void drop_name_of(const std::string& id);
  void evict_old_execs();

  std::map<std::string, ContainerRecord, std::less<>> containers_;  // by id; sorted for prefixes
  uint64_t writes_ = 0;
  std::map<std::string, uint64_t, std::less<>> written_at_;     // container id -> writes_ then
  std::map<std::string, std::string, std::less<>> names_;       // name -> id
  std::map<std::string, ExecRecord, std::less<>> execs_;        // by exec id
  std::map<std::string, ProjectRecord, std::less<>> declared_;  // by project name
  uint64_t next_seq_ = 1;
  bool journaling_ = false;
  uint64_t generation_ = 0;
  std::vector<std::string> journal_;
};

// "/foo" -> "foo".
std::string_view strip_name_slash(std::string_view name);

}  // namespace twinbox::router
