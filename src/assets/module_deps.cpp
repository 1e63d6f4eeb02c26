#include "assets/module_deps.hpp"

#include "util/strings.hpp"

namespace twinbox::assets {

std::string normalize_module_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c == '-') c = '_';
  return out;
}

std::string module_name_from_path(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto ko = base.find(".ko");
  if (ko != std::string_view::npos) base = base.substr(0, ko);
  return normalize_module_name(base);
}

Result<ModuleIndex> parse_modules_dep(std::string_view text) {
  ModuleIndex index;
  size_t line_no = 0;
  for (const std::string& raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return make_error(ErrorCode::InvalidArgument, "modules.dep line " + std::to_string(line_no) +
                                                        ": no 'path:' in '" + std::string(line) +
                                                        "'");
    ModuleInfo info;
    info.path = std::string(trim(line.substr(0, colon)));
    for (const std::string& dep : split(line.substr(colon + 1), ' ')) {
      std::string_view d = trim(dep);
      if (!d.empty()) info.deps.push_back(module_name_from_path(d));
    }
    index[module_name_from_path(info.path)] = std::move(info);
  }
  return index;
}

std::set<std::string> parse_modules_builtin(std::string_view text) {
  std::set<std::string> names;
  for (const std::string& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (!line.empty()) names.insert(module_name_from_path(line));
  }
  return names;
}

namespace {

// Depth-first post-order walk: a module is emitted after all of its dependencies.
class LoadOrder {
 public:
  LoadOrder(const ModuleIndex& index, const std::set<std::string>& builtin)
      : index_(index), builtin_(builtin) {}

  Status visit(const std::string& name, const std::string& needed_by) {
    if (done_.count(name) != 0) return {};
    auto it = index_.find(name);
    if (it == index_.end()) {
      if (builtin_.count(name) != 0) return {};
      std::string why = needed_by.empty() ? "" : " (needed by " + needed_by + ")";
      return make_error(ErrorCode::NotFound,
                        "module " + name + why + " is neither in modules.dep nor built in");
    }
    if (!active_.insert(name).second)
      return make_error(ErrorCode::Internal, "module dependency cycle through " + name +
                                                 " (needed by " + needed_by + ")");
    for (const std::string& dep : it->second.deps) TRY(visit(dep, name));
    active_.erase(name);
    done_.insert(name);
    order_.push_back(it->second.path);
    return {};
  }

  std::vector<std::string> take() { return std::move(order_); }

 private:
  const ModuleIndex& index_;
  const std::set<std::string>& builtin_;
  std::set<std::string> active_;
  std::set<std::string> done_;
  std::vector<std::string> order_;
};

}  // namespace

Result<std::vector<std::string>> resolve_load_order(const ModuleIndex& index,
                                                    const std::vector<std::string>& names,
                                                    const std::set<std::string>& builtin) {
  LoadOrder walk(index, builtin);
  for (const std::string& name : names) TRY(walk.visit(normalize_module_name(name), ""));
  return walk.take();
}

}  // namespace twinbox::assets
