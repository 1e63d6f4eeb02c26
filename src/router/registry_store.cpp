#include "router/registry_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

#include "util/fs.hpp"
#include "util/json.hpp"

namespace twinbox::router {

namespace {

// The journal's first line: which snapshot it continues.
std::string journal_header(uint64_t generation) {
  return R"({"journal":1,"generation":)" + std::to_string(generation) + "}\n";
}

// The generation a journal's header names, or nullopt when it has no complete, valid header.
std::optional<uint64_t> header_generation(std::string_view line) {
  auto j = parse_json<nlohmann::json>(line);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto v = j.find("journal"), g = j.find("generation");
  if (v == j.end() || !v->is_number_integer() || v->get<int>() != 1) return std::nullopt;
  if (g == j.end() || !g->is_number_unsigned()) return std::nullopt;
  return g->get<uint64_t>();
}

}  // namespace

RegistryStore::RegistryStore(std::string path, size_t compact_min)
    : path_(std::move(path)), compact_min_(compact_min) {
  registry_.journal(!path_.empty());
}

namespace {

// What the snapshot at a path and its journal hold.
struct ReadBack {
  WorkloadRegistry registry;
  Status problem;        // what was wrong: a corrupt snapshot, a bad journal line
  bool corrupt = false;  // the snapshot could not be read as a registry
};

Result<ReadBack> read_files(const std::string& path, const std::string& journal_path) {
  ReadBack out;
  WorkloadRegistry& reg = out.registry;
  auto text = fs::read_file(path);
  if (!text && text.error().code != ErrorCode::NotFound) {
    return text.error().context("load workload registry");
  }
  if (text) {
    auto parsed = WorkloadRegistry::from_json(*text);
    if (!parsed) {
      // Nothing for a journal to continue.
      out.corrupt = true;
      out.problem = parsed.error();
      return out;
    }
    reg = std::move(parsed).value();
  }
  // The journal continues the snapshot only when its header names the snapshot's generation:
  // any other is from before the last compaction (its changes are in the snapshot) or torn.
  auto journal = fs::read_file(journal_path);
  if (!journal) {
    if (journal.error().code == ErrorCode::NotFound) return out;
    return journal.error().context("load workload registry journal");
  }
  std::string_view rest = *journal;
  size_t eol = rest.find('\n');
  auto gen = eol == std::string_view::npos ? std::nullopt : header_generation(rest.substr(0, eol));
  if (!gen || *gen != reg.generation()) return out;
  rest.remove_prefix(eol + 1);
  size_t line_no = 1;
  while ((eol = rest.find('\n')) != std::string_view::npos) {
    line_no++;
    if (Status s = reg.apply_journal_line(rest.substr(0, eol)); !s) {
      out.problem =
          s.error().context("replay " + journal_path + " line " + std::to_string(line_no) +
                            " (the changes from there on are lost)");
      break;
    }
    rest.remove_prefix(eol + 1);
  }
  // What is left without a newline is an append a crash cut short: never written.
  return out;
}

}  // namespace

WorkloadRegistry RegistryStore::peek(const std::string& path, Status* problem) {
  auto read = read_files(path, path + ".journal");
  if (problem) *problem = read ? read->problem : Status(read.error());
  return read ? std::move(read->registry) : WorkloadRegistry();
}

Status RegistryStore::load() {
  if (path_.empty()) return {};
  TRY_ASSIGN(ReadBack read, read_files(path_, journal_path()));
  Status problem = read.problem;
  if (read.corrupt) {
    std::string aside = path_ + ".corrupt";
    std::rename(path_.c_str(), aside.c_str());
    problem = problem.error().context("load " + path_ + " (moved aside to " + aside +
                                      ", starting with an empty registry)");
  }
  std::lock_guard lock(mu_);
  registry_ = std::move(read.registry);
  registry_.journal(true);
  if (Status s = compact_locked(); !s) return s;
  return problem;
}

Status RegistryStore::update(const std::function<bool(WorkloadRegistry&)>& f) {
  std::lock_guard lock(mu_);
  bool changed = f(registry_);
  std::string line = registry_.take_journal();
  if (path_.empty() || (!changed && line.empty())) return {};
  if (line.empty()) return compact_locked();  // a change nobody wrote down: save it all
  return append_locked(line);
}

Status RegistryStore::append_locked(const std::string& line) {
  if (!journal_.valid()) return compact_locked();
  // One line per update, in one write: a crash cuts at most this one, which load() then drops
  // as a whole (a line counts once its newline is on disk).
  Status st = write_all(journal_.get(), line + "\n");
  if (st && ::fdatasync(journal_.get()) != 0) st = make_error(ErrorCode::Io, "fdatasync");
  if (!st) {
    // The journal's end is unknown now: save everything in a new snapshot and journal.
    journal_.reset();
    Status c = compact_locked();
    if (!c) {
      return make_error(c.error().code, "append to " + journal_path() + ": " + st.error().message +
                                            "; then " + c.error().message);
    }
    return {};
  }
  lines_++;
  size_t records = registry_.containers().size() + registry_.exec_count();
  if (lines_ > std::max(compact_min_, records)) return compact_locked();
  return {};
}

Status RegistryStore::compact_locked() {
  // Snapshot first (it holds every change), then a new journal naming its generation: a crash
  // between the two leaves the old journal, whose header no longer matches and which load()
  // therefore ignores.
  uint64_t old = registry_.generation();
  registry_.set_generation(old + 1);
  if (auto st = fs::write_file_atomic(path_, registry_.to_json(), 0600); !st) {
    registry_.set_generation(old);
    journal_.reset();
    return st.error().context("save workload registry");
  }
  journal_.reset();
  if (auto st = fs::write_file_atomic(journal_path(), journal_header(old + 1), 0600); !st) {
    return st.error().context("start workload registry journal");
  }
  journal_ = Fd(::open(journal_path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!journal_.valid()) return make_error(ErrorCode::Io, "open " + journal_path());
  lines_ = 0;
  return {};
}

}  // namespace twinbox::router
