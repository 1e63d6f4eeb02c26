// Compose models: the `docker-compose config` JSON the CLI reads, a project declaration's body
// as twinboxd reads it (POST /twinbox/v1/projects/{name}), and the project decision over them.
#include <nlohmann/json.hpp>

#include "cli/compose_model.hpp"
#include "fuzz_input.hpp"
#include "platform/platform.hpp"
#include "router/groups.hpp"
#include "util/json.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::fields(fuzz::as_text(data, size), 2);
  std::vector<router::ServiceSpec> specs;
  if (auto services = cli::compose_services(parts[0], "fuzz", std::string(parts.back()))) {
    auto body = cli::declare_request(*services, false);
    for (const auto& s : body["services"]) {
      router::ServiceSpec spec;
      spec.name = s.value("name", "");
      std::string p = s.value("platform", "");
      if (!p.empty()) spec.platform = p;
      specs.push_back(std::move(spec));
    }
  }
  // A declaration body as the daemon reads it: services with name, platform and the platforms
  // their images offer ("image_platforms": ["linux/amd64", ...]).
  auto j = parse_json<nlohmann::json>(parts[0]);
  if (j.is_object() && j.contains("services") && j["services"].is_array()) {
    for (const auto& s : j["services"]) {
      if (!s.is_object()) continue;
      router::ServiceSpec spec;
      if (auto n = s.find("name"); n != s.end() && n->is_string()) spec.name = *n;
      if (auto p = s.find("platform"); p != s.end() && p->is_string()) spec.platform = *p;
      if (auto ip = s.find("image_platforms"); ip != s.end() && ip->is_array()) {
        std::vector<platform::Platform> offered;
        for (const auto& e : *ip) {
          if (!e.is_string()) continue;
          if (auto pl = platform::parse_platform(e.get<std::string>())) offered.push_back(*pl);
        }
        spec.image_platforms = std::move(offered);
      }
      specs.push_back(std::move(spec));
    }
  }
  router::RouteEnv env;
  (void)router::decide_project("fuzz", specs, env);
  env.mixed_projects = true;
  (void)router::decide_project("fuzz", specs, env);
  (void)cli::env_file_value(parts[0], parts.back());
  (void)cli::normalize_project_name(parts[0]);
  (void)cli::daemon_message(400, parts[0]);
  return 0;
}
