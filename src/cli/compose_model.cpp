#include "cli/compose_model.hpp"

#include "util/json.hpp"
#include "util/strings.hpp"

namespace twinbox::cli {

using json = nlohmann::json;

namespace {

// Options that take a value, in their short and long spellings, with `--opt=value` accepted too.
bool take_value(const std::vector<std::string>& args, size_t& i, std::string_view shrt,
                std::string_view lng, std::string* out, Status* err) {
  const std::string& a = args[i];
  if ((!shrt.empty() && a == shrt) || a == lng) {
    if (i + 1 >= args.size()) {
      *err = make_error(ErrorCode::InvalidArgument, std::string(lng) + " needs a value");
      return true;
    }
    *out = args[++i];
    return true;
  }
  std::string prefix = std::string(lng) + "=";
  if (starts_with(a, prefix)) {
    *out = a.substr(prefix.size());
    return true;
  }
  return false;
}

std::string basename_of(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

std::string string_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return std::string(trim(it->get<std::string>()));
}

}  // namespace

Result<ComposeArgs> parse_compose_args(const std::vector<std::string>& args) {
  ComposeArgs a;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--mixed") {
      a.mixed = true;
      continue;
    }
    std::string v;
    Status err;
    if (take_value(args, i, "-f", "--file", &v, &err)) {
      if (!err) return err.error();
      if (v == "-")
        return make_error(ErrorCode::InvalidArgument,
                          "-f - (compose file on stdin) is not supported: twinbox reads the file "
                          "before docker-compose does; save it to a file and pass -f FILE");
      a.files.push_back(v);
    } else if (take_value(args, i, "-p", "--project-name", &v, &err)) {
      if (!err) return err.error();
      a.project_name = v;
    } else if (take_value(args, i, "", "--project-directory", &v, &err)) {
      if (!err) return err.error();
      a.project_directory = v;
    } else if (take_value(args, i, "", "--env-file", &v, &err)) {
      if (!err) return err.error();
      a.env_file = v;
    } else if (take_value(args, i, "", "--profile", &v, &err)) {
      if (!err) return err.error();
      a.profiles.push_back(v);
    } else {
      break;
    }
  }
  a.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (compose_command(a).empty())
    return make_error(ErrorCode::InvalidArgument,
                      "no docker-compose command given (for example: twinbox compose up -d)");
  return a;
}

std::string compose_command(const ComposeArgs& a) {
  for (const auto& r : a.rest)
    if (!starts_with(r, "-")) return r;
  return "";
}

std::vector<std::string> compose_global_argv(const ComposeArgs& a, const std::string& project) {
  std::vector<std::string> out;
  for (const auto& f : a.files) {
    out.push_back("-f");
    out.push_back(f);
  }
  out.push_back("-p");
  out.push_back(project);
  if (!a.project_directory.empty()) {
    out.push_back("--project-directory");
    out.push_back(a.project_directory);
  }
  if (!a.env_file.empty()) {
    out.push_back("--env-file");
    out.push_back(a.env_file);
  }
  for (const auto& p : a.profiles) {
    out.push_back("--profile");
    out.push_back(p);
  }
  return out;
}

std::string normalize_project_name(std::string_view name) {
  std::string out;
  for (char c : to_lower(name)) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') out += c;
  }
  return out;
}

std::string compose_project_name(const std::string& explicit_name, const std::string& env_name,
                                 const std::string& project_dir) {
  // Like compose, the first non-empty source wins even if normalizing empties it.
  if (!explicit_name.empty()) return normalize_project_name(explicit_name);
  if (!env_name.empty()) return normalize_project_name(env_name);
  std::string base = basename_of(project_dir);
  if (!base.empty() && base != "/") return normalize_project_name(base);
  return "default";
}

std::string env_file_value(std::string_view text, std::string_view key) {
  std::string found;
  for (const auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (starts_with(line, "export ")) line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string_view::npos || trim(line.substr(0, eq)) != key) continue;
    std::string_view v = trim(line.substr(eq + 1));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    } else if (auto hash = v.find(" #"); hash != std::string_view::npos) {
      v = trim(v.substr(0, hash));  // an unquoted value ends at an inline comment
    }
    found = std::string(v);  // the last assignment wins, as in python-dotenv
  }
  return found;
}

Result<std::vector<ComposeService>> compose_services(std::string_view config_json,
                                                     const std::string& project,
                                                     const std::string& default_platform) {
  auto j = parse_json<json>(config_json);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::InvalidArgument,
                      "the output of docker-compose config is not a JSON/YAML mapping");
  auto sit = j.find("services");
  if (sit == j.end() || !sit->is_object() || sit->empty())
    return make_error(ErrorCode::InvalidArgument, "the compose file defines no services");
  // compose strips leading '_' and '-' from the project when it names a built image.
  std::string image_prefix =
      project.substr(std::min(project.find_first_not_of("_-"), project.size()));
  std::vector<ComposeService> out;
  for (const auto& [name, svc] : sit->items()) {
    if (!svc.is_object())
      return make_error(ErrorCode::InvalidArgument, "service '" + name + "' is not a mapping");
    ComposeService s;
    s.name = name;
    s.image = string_field(svc, "image");
    auto build = svc.find("build");
    bool has_build = build != svc.end() && !build->is_null();
    if (s.image.empty()) {
      if (!has_build)
        return make_error(ErrorCode::InvalidArgument,
                          "service '" + name + "' has neither image nor build");
      s.image = image_prefix + "_" + name;
      s.built = true;
    } else {
      s.built = has_build;
    }
    s.platform = string_field(svc, "platform");
    if (s.platform.empty() && has_build && build->is_object())
      s.platform = string_field(*build, "platform");
    if (s.platform.empty()) s.platform = std::string(trim(default_platform));
    out.push_back(std::move(s));
  }
  return out;
}

json declare_request(const std::vector<ComposeService>& services, bool mixed) {
  json list = json::array();
  for (const auto& s : services)
    list.push_back({{"name", s.name}, {"image", s.image}, {"platform", s.platform}});
  return {{"services", std::move(list)}, {"mixed", mixed}};
}

std::string describe_declaration(const json& answer) {
  std::string out = "project " + answer.value("project", std::string("?")) + " \u2192 " +
                    answer.value("backend", std::string("?"));
  std::string reason = answer.value("reason", std::string());
  if (!reason.empty()) out += " (" + reason + ")";
  return out;
}

std::string daemon_message(int status, std::string_view body) {
  auto j = parse_json<json>(body);
  if (j.is_object()) {
    auto it = j.find("message");
    if (it != j.end() && it->is_string() && !it->get<std::string>().empty())
      return it->get<std::string>();
  }
  std::string_view t = trim(body);
  if (!t.empty()) return std::string(t.substr(0, 2000));
  return "HTTP " + std::to_string(status);
}

}  // namespace twinbox::cli
