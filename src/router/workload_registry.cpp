#include "router/workload_registry.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "util/json.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

std::string_view strip_name_slash(std::string_view name) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return name;
}

void WorkloadRegistry::drop_name_of(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end() || it->second.name.empty()) return;
  auto n = names_.find(it->second.name);
  if (n != names_.end() && n->second == id) names_.erase(n);
  it->second.name.clear();
}

void WorkloadRegistry::record_container(const ContainerRecord& c) {
  drop_name_of(c.id);
  ContainerRecord rec{c.id, c.backend, std::string(strip_name_slash(c.name)), c.project};
  if (!rec.name.empty()) {
    auto holder = names_.find(rec.name);
    if (holder != names_.end() && holder->second != rec.id) drop_name_of(holder->second);
    names_[rec.name] = rec.id;
  }
  written_at_[rec.id] = ++writes_;
  note({{"op", "container"},
        {"id", rec.id},
        {"backend", rec.backend},
        {"name", rec.name},
        {"project", rec.project}});
  containers_[rec.id] = std::move(rec);
}

bool WorkloadRegistry::forget_container(std::string_view id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return false;
  drop_name_of(it->second.id);
  std::erase_if(execs_, [&](const auto& e) { return e.second.container_id == id; });
  if (auto w = written_at_.find(id); w != written_at_.end()) written_at_.erase(w);
  note({{"op", "forget"}, {"id", it->second.id}});
  containers_.erase(it);
  return true;
}

Status WorkloadRegistry::rename_container(std::string_view id, std::string_view new_name) {
  auto it = containers_.find(id);
  if (it == containers_.end())
    return make_error(ErrorCode::NotFound,
                      "rename: container " + std::string(id) + " is not in the workload registry");
  ContainerRecord rec = it->second;
  rec.name = std::string(strip_name_slash(new_name));
  record_container(rec);
  return {};
}

void WorkloadRegistry::record_exec(const std::string& id, const std::string& backend,
                                   const std::string& container_id) {
  execs_[id] = ExecRecord{id, backend, container_id, next_seq_};
  note({{"op", "exec"},
        {"id", id},
        {"backend", backend},
        {"container", container_id},
        {"seq", next_seq_}});
  next_seq_++;
  evict_old_execs();
}

void WorkloadRegistry::evict_old_execs() {
  while (execs_.size() > kMaxExecs) {
    auto oldest = execs_.begin();
    for (auto it = execs_.begin(); it != execs_.end(); ++it)
      if (it->second.seq < oldest->second.seq) oldest = it;
    execs_.erase(oldest);
  }
}

Result<ContainerMatch> WorkloadRegistry::find_container(std::string_view ref) const {
  if (ref.empty()) return make_error(ErrorCode::InvalidArgument, "empty container reference");
  if (auto it = containers_.find(ref); it != containers_.end())
    return ContainerMatch{it->second.id, it->second.backend};
  if (auto n = names_.find(strip_name_slash(ref)); n != names_.end()) {
    const auto& rec = containers_.at(n->second);
    return ContainerMatch{rec.id, rec.backend};
  }
  std::vector<const ContainerRecord*> hits;
  for (auto it = containers_.lower_bound(ref); it != containers_.end(); ++it) {
    if (!starts_with(it->first, ref)) break;
    hits.push_back(&it->second);
  }
  if (hits.empty())
    return make_error(ErrorCode::NotFound,
                      "no container \"" + std::string(ref) + "\" in the workload registry");
  std::set<std::string> backends;
  for (const auto* h : hits) backends.insert(h->backend);
  if (hits.size() == 1) return ContainerMatch{hits[0]->id, hits[0]->backend};
  if (backends.size() == 1) return ContainerMatch{"", hits[0]->backend};
  std::vector<std::string> candidates;
  for (const auto* h : hits)
    candidates.push_back(h->id.substr(0, 12) + (h->name.empty() ? "" : " (" + h->name + ")") +
                         " on " + h->backend);
  return make_error(ErrorCode::Conflict,
                    "container reference \"" + std::string(ref) + "\" is ambiguous: it matches " +
                        join(candidates, ", ") + "; use a longer ID prefix or the container name");
}

std::optional<ContainerRecord> WorkloadRegistry::holder_of_name(std::string_view name) const {
  auto n = names_.find(strip_name_slash(name));
  if (n == names_.end()) return std::nullopt;
  return containers_.at(n->second);
}

Result<ExecRecord> WorkloadRegistry::find_exec(std::string_view id) const {
  auto it = execs_.find(id);
  if (it == execs_.end())
    return make_error(ErrorCode::NotFound,
                      "no exec instance \"" + std::string(id) + "\" in the workload registry");
  return it->second;
}

bool WorkloadRegistry::reconcile_backend(std::string_view backend,
                                         const std::vector<ContainerRecord>& live,
                                         std::optional<uint64_t> listed_at) {
  std::set<std::string, std::less<>> live_ids;
  for (const auto& c : live) live_ids.insert(c.id);
  auto newer = [&](const std::string& id) {
    auto w = written_at_.find(id);
    return listed_at && w != written_at_.end() && w->second > *listed_at;
  };
  std::vector<std::string> gone;
  for (const auto& [id, rec] : containers_)
    if (rec.backend == backend && !live_ids.count(id) && !newer(id)) gone.push_back(id);
  bool changed = !gone.empty();
  for (const auto& id : gone) forget_container(id);
  for (const auto& c : live) {
    auto it = containers_.find(c.id);
    bool same = it != containers_.end() && it->second.backend == backend &&
                it->second.name == strip_name_slash(c.name) && it->second.project == c.project;
    if (same) continue;
    record_container(ContainerRecord{c.id, std::string(backend), c.name, c.project});
    changed = true;
  }
  return changed;
}

void WorkloadRegistry::declare_project(const ProjectRecord& p) {
  declared_[p.name] = p;
  note({{"op", "declare"}, {"name", p.name}, {"backend", p.backend}, {"reason", p.reason}});
}

bool WorkloadRegistry::forget_project(std::string_view name) {
  auto it = declared_.find(name);
  if (it == declared_.end()) return false;
  note({{"op", "undeclare"}, {"name", it->first}});
  declared_.erase(it);
  return true;
}

std::optional<ProjectSummary> WorkloadRegistry::project_placement(std::string_view name) const {
  if (name.empty()) return std::nullopt;
  std::optional<ProjectSummary> out;
  if (auto d = declared_.find(name); d != declared_.end())
    out = ProjectSummary{d->second.backend, true, d->second.reason, "", 0, false};
  // The oldest known container decided an undeclared project; ids carry no age, so the
  // registry keeps the first one it saw per project (map order is by id: stable, and what a
  // restart rebuilds the same way).
  for (const auto& [id, c] : containers_) {
    if (c.project != name) continue;
    if (!out) {
      std::string who = c.name.empty() ? id.substr(0, 12) : c.name;
      out = ProjectSummary{c.backend, false, "", "container " + who, 0, false};
    }
    if (!out->declared && c.backend != out->backend) out->mixed = true;
    out->containers++;
  }
  return out;
}

std::map<std::string, ProjectSummary> WorkloadRegistry::projects() const {
  std::set<std::string> names;
  for (const auto& [n, p] : declared_) names.insert(n);
  for (const auto& [id, c] : containers_)
    if (!c.project.empty()) names.insert(c.project);
  std::map<std::string, ProjectSummary> out;
  for (const auto& n : names)
    if (auto p = project_placement(n)) out.emplace(n, *p);
  return out;
}

std::string WorkloadRegistry::to_json() const {
  nlohmann::json j;
  j["version"] = 1;
  j["generation"] = generation_;
  j["containers"] = nlohmann::json::array();
  for (const auto& [id, c] : containers_)
    j["containers"].push_back(
        {{"id", c.id}, {"backend", c.backend}, {"name", c.name}, {"project", c.project}});
  j["projects"] = nlohmann::json::array();
  for (const auto& [n, p] : declared_)
    j["projects"].push_back({{"name", p.name}, {"backend", p.backend}, {"reason", p.reason}});
  j["execs"] = nlohmann::json::array();
  for (const auto& [id, e] : execs_)
    j["execs"].push_back(
        {{"id", e.id}, {"backend", e.backend}, {"container", e.container_id}, {"seq", e.seq}});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {
// The string at `key`, or nullopt when missing or not a string.
std::optional<std::string> str_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
}  // namespace

Result<WorkloadRegistry> WorkloadRegistry::from_json(std::string_view text) {
  auto j = parse_json<nlohmann::json>(text);
  auto bad = [](const std::string& why) {
    return make_error(ErrorCode::InvalidArgument, "workload registry: " + why);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int>() != 1)
    return bad("unsupported version (want 1)");
  WorkloadRegistry reg;
  if (auto g = j.find("generation"); g != j.end()) {
    if (!g->is_number_unsigned()) return bad("\"generation\" not a count");
    reg.generation_ = g->get<uint64_t>();
  }
  auto containers = j.find("containers");
  if (containers != j.end() && !containers->is_array()) return bad("\"containers\" not a list");
  for (const auto& c : containers != j.end() ? *containers : nlohmann::json::array()) {
    auto id = str_field(c, "id"), backend = str_field(c, "backend");
    if (!c.is_object() || !id || !backend) return bad("container entry without id or backend");
    reg.record_container(ContainerRecord{*id, *backend, str_field(c, "name").value_or(""),
                                         str_field(c, "project").value_or("")});
  }
  auto execs = j.find("execs");
  if (execs != j.end() && !execs->is_array()) return bad("\"execs\" not a list");
  for (const auto& e : execs != j.end() ? *execs : nlohmann::json::array()) {
    auto id = str_field(e, "id"), backend = str_field(e, "backend");
    if (!e.is_object() || !id || !backend) return bad("exec entry without id or backend");
    uint64_t seq =
        e.contains("seq") && e["seq"].is_number_unsigned() ? e["seq"].get<uint64_t>() : 0;
    reg.execs_[*id] = ExecRecord{*id, *backend, str_field(e, "container").value_or(""), seq};
    reg.next_seq_ = std::max(reg.next_seq_, seq + 1);
  }
  auto projects = j.find("projects");
  if (projects != j.end() && !projects->is_array()) return bad("\"projects\" not a list");
  for (const auto& p : projects != j.end() ? *projects : nlohmann::json::array()) {
    auto name = str_field(p, "name"), backend = str_field(p, "backend");
    if (!p.is_object() || !name || !backend) return bad("project entry without name or backend");
    reg.declared_[*name] = ProjectRecord{*name, *backend, str_field(p, "reason").value_or("")};
  }
  return reg;
}

void WorkloadRegistry::note(nlohmann::json entry) {
  if (!journaling_) return;
  journal_.push_back(entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string WorkloadRegistry::take_journal() {
  std::string out;
  if (journal_.size() == 1) {
    out = std::move(journal_[0]);
  } else if (!journal_.empty()) {
    out = R"({"op":"batch","ops":[)" + join(journal_, ",") + "]}";
  }
  journal_.clear();
  return out;
}

Status WorkloadRegistry::apply_journal_line(std::string_view line) {
  bool was = std::exchange(journaling_, false);  // replaying is not a change to write down again
  Status s = apply_line(line);
  journaling_ = was;
  return s;
}

Status WorkloadRegistry::apply_line(std::string_view line) {
  auto j = parse_json<nlohmann::json>(line);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::InvalidArgument,
                      "workload registry journal: a line that is not a JSON object");
  }
  return apply_entry(j, 0);
}

Status WorkloadRegistry::apply_entry(const nlohmann::json& j, int depth) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::InvalidArgument, "workload registry journal: " + why);
  };
  if (!j.is_object()) return bad("an entry that is not a JSON object");
  auto op = str_field(j, "op");
  if (op && *op == "batch" && depth == 0) {
    // One update's changes, written as one line so that they count together or not at all.
    auto ops = j.find("ops");
    if (ops == j.end() || !ops->is_array()) return bad("batch without \"ops\"");
    for (const auto& e : *ops) TRY(apply_entry(e, depth + 1));
    return {};
  }
  if (!op) return bad("a line without \"op\"");
  if (*op == "container") {
    auto id = str_field(j, "id"), backend = str_field(j, "backend");
    if (!id || !backend) return bad("container without id or backend");
    record_container(ContainerRecord{*id, *backend, str_field(j, "name").value_or(""),
                                     str_field(j, "project").value_or("")});
  } else if (*op == "forget") {
    auto id = str_field(j, "id");
    if (!id) return bad("forget without id");
    forget_container(*id);
  } else if (*op == "exec") {
    auto id = str_field(j, "id"), backend = str_field(j, "backend");
    if (!id || !backend || !j.contains("seq") || !j["seq"].is_number_unsigned())
      return bad("exec without id, backend or seq");
    auto seq = j["seq"].get<uint64_t>();
    execs_[*id] = ExecRecord{*id, *backend, str_field(j, "container").value_or(""), seq};
    next_seq_ = std::max(next_seq_, seq + 1);
    evict_old_execs();
  } else if (*op == "declare") {
    auto name = str_field(j, "name"), backend = str_field(j, "backend");
    if (!name || !backend) return bad("declare without name or backend");
    declared_[*name] = ProjectRecord{*name, *backend, str_field(j, "reason").value_or("")};
  } else if (*op == "undeclare") {
    auto name = str_field(j, "name");
    if (!name) return bad("undeclare without name");
    if (auto it = declared_.find(*name); it != declared_.end()) declared_.erase(it);
  } else {
    return bad("unknown op \"" + *op + "\"");
  }
  return {};
}

}  // namespace twinbox::router
