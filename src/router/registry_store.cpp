#include "router/registry_store.hpp"

#include <cstdio>

#include "util/fs.hpp"

namespace twinbox::router {

Status RegistryStore::load() {
  if (path_.empty()) return {};
  auto text = fs::read_file(path_);
  if (!text) {
    if (text.error().code == ErrorCode::NotFound) return {};
    return text.error().context("load workload registry");
  }
  auto parsed = WorkloadRegistry::from_json(*text);
  std::lock_guard lock(mu_);
  if (parsed) {
    registry_ = std::move(parsed).value();
    return {};
  }
  std::string aside = path_ + ".corrupt";
  std::rename(path_.c_str(), aside.c_str());
  registry_ = WorkloadRegistry();
  return parsed.error().context("load " + path_ + " (moved aside to " + aside +
                                ", starting with an empty registry)");
}

Status RegistryStore::update(const std::function<bool(WorkloadRegistry&)>& f) {
  std::lock_guard lock(mu_);
  if (!f(registry_)) return {};
  return save_locked();
}

Status RegistryStore::save_locked() const {
  if (path_.empty()) return {};
  auto st = fs::write_file_atomic(path_, registry_.to_json(), 0600);
  if (!st) return st.error().context("save workload registry");
  return {};
}

}  // namespace twinbox::router
