// FakeEngine's built-in answers: a small, stateful imitation of dockerd 20.10's JSON API.
#include <atomic>
#include <nlohmann/json.hpp>

#include "fakes/fake_engine.hpp"
#include "util/strings.hpp"

namespace twinbox::fakes {

using nlohmann::json;

namespace {

FakeResponse json_answer(int status, const json& j, bool chunked = false) {
  FakeResponse r;
  r.status = status;
  r.body = j.dump();
  r.chunked = chunked;
  return r;
}

// Creation times increase across every fake engine, so merged lists have one true order.
int64_t next_created() {
  static std::atomic<int64_t> clock{1700000000};
  return ++clock;
}

FakeResponse no_such_container(const std::string& ref) {
  return json_answer(404, {{"message", "No such container: " + ref}});
}

}  // namespace

std::string FakeEngine::add_container(const std::string& name, int64_t created,
                                      const std::string& project) {
  std::lock_guard lock(mu_);
  std::string id = id_prefix_ + std::to_string(next_id_++);
  id += std::string(64 - id.size(), '0');
  json body = json::object();
  if (!project.empty()) body["Labels"] = {{"com.docker.compose.project", project}};
  containers_[id] = FakeContainer{id, name, created, body.dump(), true};
  return id;
}

std::string FakeEngine::find_id(const std::string& ref) const {
  if (containers_.count(ref)) return ref;
  for (const auto& [id, c] : containers_)
    if (c.name == ref || "/" + c.name == ref) return id;
  std::string hit;
  for (const auto& [id, c] : containers_) {
    if (id.rfind(ref, 0) != 0) continue;
    if (!hit.empty()) return "";
    hit = id;
  }
  return hit;
}

std::optional<FakeContainer> FakeEngine::container(const std::string& ref) const {
  std::lock_guard lock(mu_);
  auto id = find_id(ref);
  if (id.empty()) return std::nullopt;
  return containers_.at(id);
}

std::optional<FakeResponse> FakeEngine::builtin(const RecordedRequest& r) {
  const std::string& p = r.path;
  const std::string& m = r.method;
  if (p == "/_ping") return FakeResponse{200, "OK", "text/plain", false};
  if (m == "GET" && p == "/version")
    return json_answer(200,
                       {{"Version", "20.10.24-" + name_},
                        {"ApiVersion", "1.41"},
                        {"MinAPIVersion", "1.12"},
                        {"Os", "linux"},
                        {"Arch", "arm64"},
                        {"KernelVersion", "6.1.0-fake"},
                        {"Components", json::array({{{"Name", "Engine"},
                                                     {"Version", "20.10.24-" + name_},
                                                     {"Details", {{"ApiVersion", "1.41"}}}}})}});
  std::lock_guard lock(mu_);
  if (m == "GET" && p == "/info")
    return json_answer(200, {{"ID", "ID-" + name_},
                             {"Name", "guest-" + name_},
                             {"Containers", containers_.size()},
                             {"ContainersRunning", containers_.size()},
                             {"ContainersPaused", 0},
                             {"ContainersStopped", 0},
                             {"Images", 1},
                             {"OperatingSystem", "Debian GNU/Linux 12 (bookworm)"},
                             {"OSType", "linux"},
                             {"Architecture", "aarch64"},
                             {"ServerVersion", "20.10.24-" + name_},
                             {"Labels", json::array()},
                             {"Warnings", nullptr}});
  if (m == "GET" && p == "/containers/json") {
    json list = json::array();
    for (const auto& [id, c] : containers_) {
      auto body = json::parse(c.body, nullptr, false);
      json labels = body.is_object() && body.contains("Labels") ? body["Labels"] : json::object();
      list.push_back({{"Id", id},
                      {"Names", {"/" + c.name}},
                      {"Created", c.created},
                      {"Image", "img"},
                      {"State", c.running ? "running" : "created"},
                      {"Labels", labels}});
    }
    return json_answer(200, list, true);
  }
  if (m == "GET" && p == "/images/json")
    return json_answer(200, json::array({{{"Id", "sha256:" + name_},
                                          {"RepoTags", {name_ + ":latest"}},
                                          {"Created", name_ == "hv" ? 100 : 200}}}));
  if (m == "POST" && p == "/containers/create") {
    auto name = split(r.target.substr(r.target.find('?') + 1), '&');
    std::string n;
    for (const auto& kv : name)
      if (kv.rfind("name=", 0) == 0) n = url_decode(kv.substr(5));
    std::string id = id_prefix_ + std::to_string(next_id_++);
    id += std::string(64 - id.size(), '0');
    containers_[id] = FakeContainer{id, n, next_created(), r.body};
    return json_answer(201, {{"Id", id}, {"Warnings", json::array()}});
  }
  if (m == "POST" && p == "/images/create")
    return json_answer(200, {{"status", "Pulled on " + name_}}, true);
  if (m == "POST" && (p == "/images/load" || p == "/build"))
    return json_answer(
        200, {{"stream", name_ + " got " + std::to_string(r.body.size()) + " bytes"}}, true);
  auto segs = split(p, '/');  // "", "containers", ref, action
  if (segs.size() >= 3 && segs[1] == "containers") return container_action(r, segs);
  if (segs.size() == 4 && segs[1] == "exec" && segs[3] == "json") {
    auto it = execs_.find(segs[2]);
    if (it == execs_.end()) return json_answer(404, {{"message", "No such exec instance"}});
    return json_answer(200, {{"ID", it->first}, {"ContainerID", it->second}});
  }
  if (segs.size() == 4 && segs[1] == "exec" && segs[3] == "start")
    return FakeResponse{200, "", "application/json", false};  // detached
  return std::nullopt;
}

std::optional<FakeResponse> FakeEngine::container_action(const RecordedRequest& r,
                                                         const std::vector<std::string>& segs) {
  std::string id = find_id(segs[2]);
  if (id.empty()) return no_such_container(segs[2]);
  std::string action = segs.size() > 3 ? segs[3] : "";
  auto& c = containers_[id];
  if (r.method == "DELETE" && action.empty()) {
    containers_.erase(id);
    return FakeResponse{204, "", "", false};
  }
  if (r.method == "GET" && action == "json") {
    auto body = json::parse(c.body, nullptr, false);
    json labels = body.is_object() && body.contains("Labels") ? body["Labels"] : json::object();
    return json_answer(200, {{"Id", id},
                             {"Name", "/" + c.name},
                             {"State", {{"Running", c.running}, {"Restarting", false}}},
                             {"Config", {{"Labels", labels}}}});
  }
  if (r.method == "POST" && action == "exec") {
    std::string exec_id = "exec-" + name_ + "-" + std::to_string(next_id_++);
    execs_[exec_id] = id;
    return json_answer(201, {{"Id", exec_id}});
  }
  if (r.method == "POST" && action == "rename") {
    auto pos = r.target.find("name=");
    c.name = pos == std::string::npos ? "" : url_decode(r.target.substr(pos + 5));
    return FakeResponse{204, "", "", false};
  }
  if (r.method == "POST" && action == "wait") return json_answer(200, {{"StatusCode", 0}}, true);
  if (r.method == "POST" &&
      (action == "start" || action == "restart" || action == "stop" || action == "kill")) {
    c.running = action == "start" || action == "restart";
    return FakeResponse{204, "", "", false};
  }
  return std::nullopt;
}

}  // namespace twinbox::fakes
