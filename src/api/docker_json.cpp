#include "api/docker_json.hpp"

#include <algorithm>
#include <cstdlib>

#include "router/workload_registry.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"
#include "vm/shares.hpp"

namespace twinbox::api {

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string error_body(std::string_view message) {
  Json j;
  j["message"] = std::string(message);
  return dump_json(j) + "\n";
}

std::optional<std::string> json_string(const Json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<int64_t> json_int(const Json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<std::string> create_body_platform(std::string_view body) {
  auto j = parse_json<Json>(body);
  if (j.is_discarded()) return std::nullopt;
  if (auto p = json_string(j, "platform")) return p;
  return json_string(j, "Platform");
}

namespace {

// A create body as an object ("" is {}); InvalidArgument otherwise.
Result<Json> create_body_object(std::string_view body) {
  auto j = parse_json<Json>(body.empty() ? std::string_view("{}") : body);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::InvalidArgument,
                      "container create: the request body is not a JSON object");
  return j;
}

}  // namespace

Result<std::string> add_create_labels(std::string_view body, const Labels& labels) {
  TRY_ASSIGN(Json j, create_body_object(body));
  auto it = j.find("Labels");
  if (it == j.end() || it->is_null()) {
    j["Labels"] = Json::object();
  } else if (!it->is_object()) {
    return make_error(ErrorCode::InvalidArgument,
                      "container create: \"Labels\" must be an object of strings");
  }
  for (const auto& [k, v] : labels) j["Labels"][k] = v;
  return dump_json(j);
}

Result<std::string> add_extra_host(std::string_view body, std::string_view name,
                                   std::string_view ip) {
  TRY_ASSIGN(Json j, create_body_object(body));
  auto hc = j.find("HostConfig");
  if (hc == j.end() || hc->is_null()) {
    j["HostConfig"] = Json::object();
  } else if (!hc->is_object()) {
    return make_error(ErrorCode::InvalidArgument,
                      "container create: \"HostConfig\" must be an object");
  }
  Json& host_config = j["HostConfig"];
  auto eh = host_config.find("ExtraHosts");
  if (eh == host_config.end() || eh->is_null()) {
    host_config["ExtraHosts"] = Json::array();
  } else if (!eh->is_array()) {
    return make_error(ErrorCode::InvalidArgument,
                      "container create: \"HostConfig.ExtraHosts\" must be an array of "
                      "\"host:ip\" strings");
  }
  Json& hosts = host_config["ExtraHosts"];
  for (const auto& h : hosts) {
    if (!h.is_string()) continue;
    std::string_view s = h.get_ref<const std::string&>();
    if (s.size() > name.size() && s.substr(0, name.size()) == name &&
        (s[name.size()] == ':' || s[name.size()] == '='))
      return std::string(body);
  }
  hosts.push_back(std::string(name) + ":" + std::string(ip));
  return dump_json(j);
}

Labels routing_labels(std::string_view backend, std::string_view execution,
                      std::string_view translator, std::string_view platform,
                      std::string_view reason) {
  return {
      {"io.twinbox.backend", std::string(backend)},
      {"io.twinbox.execution", std::string(execution.empty() ? "native" : execution)},
      {"io.twinbox.translator", std::string(translator.empty() ? "none" : translator)},
      {"io.twinbox.platform", std::string(platform)},
      {"io.twinbox.route.reason", std::string(reason)},
  };
}

namespace {

const Json* object_field(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace

Result<CreateFacts> parse_create_facts(std::string_view body) {
  auto j = parse_json<Json>(body.empty() ? std::string_view("{}") : body);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::InvalidArgument,
                      "container create: the request body is not a JSON object");
  CreateFacts f;
  f.image = json_string(j, "Image").value_or("");
  f.platform = create_body_platform(body);
  if (const Json* labels = object_field(j, "Labels")) {
    f.project = json_string(*labels, "com.docker.compose.project").value_or("");
    f.service = json_string(*labels, "com.docker.compose.service").value_or("");
  }
  const Json* hc = object_field(j, "HostConfig");
  if (!hc) return f;
  if (auto pb = hc->find("PortBindings"); pb != hc->end()) {
    auto plain = parse_json<nlohmann::json>(pb->dump());
    auto reqs = router::parse_port_bindings(plain);
    if (!reqs) return reqs.error().context("container create: HostConfig.PortBindings");
    f.ports = std::move(reqs).value();
  }
  if (auto binds = hc->find("Binds"); binds != hc->end() && binds->is_array())
    for (const auto& b : *binds) {
      if (!b.is_string()) continue;
      std::string spec = b.get<std::string>();
      std::string src = spec.substr(0, spec.find(':'));
      if (!src.empty() && src.front() == '/') f.binds.push_back(BindSource{src, false});
    }
  if (auto mounts = hc->find("Mounts"); mounts != hc->end() && mounts->is_array())
    for (const auto& m : *mounts) {
      if (!m.is_object() || json_string(m, "Type").value_or("") != "bind") continue;
      f.binds.push_back(BindSource{json_string(m, "Source").value_or(""), true});
    }
  return f;
}

bool is_vm_path(std::string_view normal_path) {
  for (std::string_view vm : {"/proc", "/sys", "/dev", "/var/run/docker.sock", "/run/docker.sock",
                              "/lib/modules", "/usr/lib/modules", "/etc/localtime"})
    if (vm::path_within(normal_path, vm)) return true;
  return false;
}

Status check_bind_sources(const std::vector<BindSource>& binds,
                          const std::vector<std::string>& shared,
                          const std::vector<std::string>& withheld,
                          const std::function<std::string(const std::string&)>& resolve) {
  auto shared_text = [&] { return shared.empty() ? std::string("none") : join(shared, ", "); };
  auto in_shares = [&](const std::string& p) {
    return std::any_of(shared.begin(), shared.end(),
                       [&](const std::string& s) { return vm::path_within(p, s); });
  };
  for (const auto& b : binds) {
    std::string p = vm::lexical_normal(b.path);
    if (p.empty())
      return make_error(ErrorCode::InvalidArgument,
                        "invalid mount config for type \"bind\": invalid mount path: '" + b.path +
                            "' mount path must be absolute");
    if (is_vm_path(p)) continue;
    std::string fix = "share it with `twinboxd --share " + p +
                      "` (or a directory above it), or move the files under a shared directory";
    if (!in_shares(p))
      return make_error(
          ErrorCode::InvalidArgument,
          "Mounts denied: the path " + b.path +
              " is not shared from the host into twinbox's VMs (shared: " + shared_text() +
              "), so the container would see an empty directory "
              "of the VM instead of your files; " +
              fix);
    std::string real = resolve(p);
    if (!real.empty() && !is_vm_path(real) && !in_shares(real))
      return make_error(ErrorCode::InvalidArgument,
                        "Mounts denied: the path " + b.path + " leads to " + real +
                            ", which is not shared from the host into twinbox's VMs (shared: " +
                            shared_text() + "); share " + real +
                            " with `twinboxd --share`, or mount a path that stays in a shared "
                            "directory");
    for (const auto& w : withheld)
      if (vm::path_within(p, w) || (!real.empty() && vm::path_within(real, w)))
        return make_error(ErrorCode::InvalidArgument,
                          "Mounts denied: the path " + b.path + " is inside " + w +
                              ", twinbox's own state (the VMs' disks, the API socket, the "
                              "workload registry, the volumes' data), which containers may not "
                              "mount: a write there could corrupt the running VMs; use a named "
                              "volume, or a directory outside " +
                              w);
  }
  return {};
}

Result<std::string> rewrite_port_bindings(std::string_view body,
                                          const std::vector<router::PortReservation>& held) {
  auto j = parse_json<Json>(body);
  if (j.is_discarded() || !j.is_object() || !object_field(j, "HostConfig"))
    return make_error(ErrorCode::InvalidArgument, "container create: no HostConfig to rewrite");
  Json bindings = Json::object();
  for (const auto& r : held) {
    std::string key = std::to_string(r.request.container_port) + "/" + r.request.proto;
    if (!bindings.contains(key)) bindings[key] = Json::array();
    bindings[key].push_back({{"HostIp", ""}, {"HostPort", std::to_string(r.request.host_port)}});
  }
  j["HostConfig"]["PortBindings"] = bindings;
  return dump_json(j);
}

std::string published_label(const std::vector<router::PortReservation>& held) {
  std::vector<std::string> parts;
  for (const auto& r : held)
    parts.push_back(r.request.proto + ":" + r.request.host_ip + ":" +
                    std::to_string(r.request.host_port) + ":" +
                    std::to_string(r.request.container_port));
  return join(parts, ",");
}

std::vector<router::PortRequest> parse_published_label(std::string_view label) {
  std::vector<router::PortRequest> out;
  for (const auto& entry : split(label, ',')) {
    // proto:ip:host:container; an IPv6 ip has colons, so split from both ends.
    size_t first = entry.find(':'), last = entry.rfind(':');
    if (first == std::string::npos || last == first) continue;
    size_t mid = entry.rfind(':', last - 1);
    if (mid == std::string::npos || mid <= first) continue;
    router::PortRequest r;
    r.proto = entry.substr(0, first);
    r.host_ip = entry.substr(first + 1, mid - first - 1);
    r.host_port = std::atoi(entry.substr(mid + 1, last - mid - 1).c_str());
    r.container_port = std::atoi(entry.substr(last + 1).c_str());
    if (r.host_port <= 0 || r.container_port <= 0 || r.host_ip.empty()) continue;
    out.push_back(r);
  }
  return out;
}

std::string asked_ports_label(std::string_view create_body) {
  auto j = parse_json<Json>(create_body);
  const Json* hc = j.is_object() ? object_field(j, "HostConfig") : nullptr;
  auto it = hc ? hc->find("PortBindings") : Json::const_iterator{};
  if (!hc || it == hc->end() || !it->is_object()) return "{}";
  return dump_json(*it);
}

namespace {

// The published ports a container's labels record, and the bindings it asked for.
std::vector<router::PortRequest> published_of(const Json& labels) {
  auto label = labels.is_object() ? json_string(labels, kPublishedLabel) : std::nullopt;
  return label ? parse_published_label(*label) : std::vector<router::PortRequest>{};
}

std::string port_key(const router::PortRequest& r) {
  return std::to_string(r.container_port) + "/" + r.proto;
}

}  // namespace

void show_host_ports_in_inspect(Json& inspect) {
  if (!inspect.is_object()) return;
  const Json* config = object_field(inspect, "Config");
  const Json* labels = config ? object_field(*config, "Labels") : nullptr;
  if (!labels) return;
  if (auto asked = json_string(*labels, kAskedPortsLabel)) {
    auto bindings = parse_json<Json>(*asked);
    auto hc = inspect.find("HostConfig");
    if (bindings.is_object() && hc != inspect.end() && hc->is_object())
      (*hc)["PortBindings"] = std::move(bindings);
  }
  auto published = published_of(*labels);
  auto ns = inspect.find("NetworkSettings");
  if (published.empty() || ns == inspect.end() || !ns->is_object()) return;
  auto ports = ns->find("Ports");
  if (ports == ns->end() || !ports->is_object()) return;
  for (auto& [key, bound] : ports->items()) {
    if (!bound.is_array() || bound.empty()) continue;  // exposed only, or not running
    Json shown = Json::array();
    for (const auto& r : published)
      if (port_key(r) == key)
        shown.push_back({{"HostIp", r.host_ip}, {"HostPort", std::to_string(r.host_port)}});
    if (!shown.empty()) bound = std::move(shown);
  }
}

void show_host_ports_in_listing(Json& container) {
  if (!container.is_object()) return;
  const Json* labels = object_field(container, "Labels");
  auto ports = container.find("Ports");
  if (!labels || ports == container.end() || !ports->is_array()) return;
  auto published = published_of(*labels);
  if (published.empty()) return;
  auto matches = [](const Json& p, const router::PortRequest& r) {
    return json_int(p, "PrivatePort").value_or(-1) == r.container_port &&
           json_int(p, "PublicPort").value_or(-1) == r.host_port &&
           json_string(p, "Type").value_or("") == r.proto;
  };
  Json shown = Json::array();
  for (const auto& p : *ports)
    if (std::none_of(published.begin(), published.end(),
                     [&](const auto& r) { return matches(p, r); }))
      shown.push_back(p);
  // One entry per forward the guest really bound (a stopped container lists none).
  for (const auto& r : published)
    if (std::any_of(ports->begin(), ports->end(), [&](const Json& p) { return matches(p, r); }))
      shown.push_back({{"IP", r.host_ip},
                       {"PrivatePort", r.container_port},
                       {"PublicPort", r.host_port},
                       {"Type", r.proto}});
  *ports = std::move(shown);
}

std::optional<std::string> image_inspect_platform(const Json& inspect) {
  auto arch = json_string(inspect, "Architecture");
  if (!arch || arch->empty()) return std::nullopt;
  std::string variant = json_string(inspect, "Variant").value_or("");
  return json_string(inspect, "Os").value_or("linux") + "/" + *arch +
         (variant.empty() ? "" : "/" + variant);
}

}  // namespace twinbox::api
