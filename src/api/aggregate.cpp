#include "api/aggregate.hpp"

#include <algorithm>
#include <set>

#include "api/buildkit_calls.hpp"
#include "api/docker_json.hpp"
#include "platform/host_profile.hpp"
#include "router/route.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {

constexpr const char* kPlatformName = "twinbox dual-stack (hv + rosetta)";

// The reply bodies that parsed as JSON objects, in the order given.
std::vector<std::pair<std::string, Json>> parsed_objects(const std::vector<EngineReply>& replies) {
  std::vector<std::pair<std::string, Json>> out;
  for (const auto& r : replies) {
    if (!r.body) continue;
    auto j = parse_json<Json>(*r.body);
    if (!j.is_discarded() && j.is_object()) out.emplace_back(r.backend, std::move(j));
  }
  return out;
}

const EngineReply* reply_of(const std::vector<EngineReply>& replies, const std::string& name) {
  for (const auto& r : replies)
    if (r.backend == name) return &r;
  return nullptr;
}

// Strings of an array field, or none when absent/null/not an array.
std::vector<Json> array_field(const Json& j, const char* key) {
  std::vector<Json> out;
  auto it = j.find(key);
  if (it != j.end() && it->is_array())
    for (const auto& v : *it) out.push_back(v);
  return out;
}

std::string backend_warning(const BackendStatus& s, const EngineReply* reply) {
  if (s.state != BackendState::Running)
    return "WARNING: twinbox backend " + s.name +
           " is not running (state: " + backend_state_name(s.state) + ")" +
           (s.detail.empty() ? "" : ": " + s.detail) +
           "; its containers and images are not counted";
  if (reply && !reply->body)
    return "WARNING: twinbox backend " + s.name + " did not answer /info: " + reply->error;
  return "";
}

std::string none_if_empty(const std::string& s) { return s.empty() ? "none" : s; }

Json synthesized_info() {
  Json j;
  j["ID"] = "";
  j["OSType"] = "linux";
  j["Architecture"] = "aarch64";
  j["ServerVersion"] = "";
  j["Labels"] = Json::array();
  return j;
}

// "26.1.5 (API 1.45)", or "" before the engine answered.
std::string engine_text(const BackendStatus& s) {
  if (s.engine_api_version.empty()) return "";
  return s.engine_version + " (API " + s.engine_api_version + ")";
}

}  // namespace

std::string backend_label(const BackendStatus& s) {
  return "io.twinbox.backend." + s.name + "=state=" + backend_state_name(s.state) +
         " arch=" + s.vm_arch + " native=" + none_if_empty(s.native) +
         " translated=" + none_if_empty(s.translated) + " accelerator=" + s.accelerator +
         " translator=" + none_if_empty(s.translator) + " engine=" + none_if_empty(engine_text(s));
}

std::string host_profile_label(const platform::HostProfile& p) {
  return "io.twinbox.host-profile=" + p.name + " (" + p.accepted_text() + ")";
}

std::string builds_label(const platform::HostProfile& p) {
  std::string out =
      "io.twinbox.builds=BuildKit builds one platform per build, in the VM of that "
      "platform:";
  auto none = buildkit::backend_for_build("", p);
  if (none) out += " no platform -> " + none->backend;
  for (const char* platform : {"linux/arm64", "linux/amd64"})
    if (auto c = buildkit::backend_for_build(platform, p))
      out += ", " + std::string(platform) + " -> " + c->backend;
  return out;
}

std::string aggregate_info(const std::vector<BackendStatus>& statuses,
                           const std::vector<EngineReply>& replies,
                           const platform::HostProfile& profile) {
  auto infos = parsed_objects(replies);
  Json out = infos.empty() ? synthesized_info() : infos.front().second;
  for (const char* key :
       {"Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images"}) {
    int64_t sum = 0;
    for (const auto& [name, j] : infos) sum += json_int(j, key).value_or(0);
    out[key] = sum;
  }
  std::string base_os = infos.empty() ? "" : json_string(out, "OperatingSystem").value_or("");
  out["Name"] = "twinbox";
  out["OperatingSystem"] =
      infos.empty() ? "twinbox dual-stack (no engine running)"
                    : "twinbox dual-stack (" + base_os + " on " + infos.front().first + ")";
  Json labels = Json::array();
  for (auto& l : array_field(out, "Labels")) labels.push_back(std::move(l));
  std::vector<std::string> no_aslr;
  for (const auto& s : statuses) {
    labels.push_back(backend_label(s));
    if (!s.aslr) no_aslr.push_back(s.name);
  }
  // Not under io.twinbox.backend.: clients count the backends by that prefix.
  if (!no_aslr.empty())
    labels.push_back("io.twinbox.guest-aslr=off in " + join(no_aslr, ", ") +
                     " (TCG: processes map where the last one did and reuse translated code; "
                     "twinboxd --guest-aslr turns it on)");
  labels.push_back(host_profile_label(profile));
  labels.push_back(builds_label(profile));
  out["Labels"] = std::move(labels);
  Json warnings = Json::array();
  for (auto& w : array_field(out, "Warnings")) warnings.push_back(std::move(w));
  for (const auto& s : statuses)
    if (auto w = backend_warning(s, reply_of(replies, s.name)); !w.empty()) warnings.push_back(w);
  out["Warnings"] = std::move(warnings);
  return dump_json(out);
}

std::string aggregate_version(const std::vector<BackendStatus>& statuses,
                              const std::vector<EngineReply>& replies,
                              const std::string& daemon_version, const std::string& api_version) {
  auto versions = parsed_objects(replies);
  Json out;
  if (!versions.empty()) {
    out = versions.front().second;
  } else {
    out["Version"] = "";
    out["MinAPIVersion"] = std::string(router::kMinApiVersion);
    out["Os"] = "linux";
    out["Arch"] = "arm64";
  }
  out["ApiVersion"] = api_version;
  out["Platform"] = Json{{"Name", kPlatformName}};
  Json details = Json::object();
  for (const auto& s : statuses)
    details[s.name] =
        std::string(backend_state_name(s.state)) + " (native " + none_if_empty(s.native) +
        (s.translated.empty() ? std::string()
                              : "; " + s.translated + " translated by " + s.translator) +
        (s.engine_api_version.empty() ? std::string() : "; Docker " + engine_text(s)) + ")";
  Json components = Json::array();
  for (auto& c : array_field(out, "Components")) components.push_back(std::move(c));
  components.push_back(
      Json{{"Name", "twinbox"}, {"Version", daemon_version}, {"Details", details}});
  out["Components"] = std::move(components);
  return dump_json(out);
}

std::string merge_lists(const std::vector<EngineReply>& replies, int64_t limit,
                        const std::function<void(Json&)>& each) {
  std::vector<Json> all;
  for (const auto& r : replies) {
    if (!r.body) continue;
    auto j = parse_json<Json>(*r.body);
    if (j.is_discarded() || !j.is_array()) continue;
    for (auto& item : j) all.push_back(std::move(item));
  }
  std::stable_sort(all.begin(), all.end(), [](const Json& a, const Json& b) {
    return json_int(a, "Created").value_or(0) > json_int(b, "Created").value_or(0);
  });
  if (limit > 0 && all.size() > static_cast<size_t>(limit)) all.resize(static_cast<size_t>(limit));
  Json out = Json::array();
  for (auto& item : all) {
    if (each) each(item);
    out.push_back(std::move(item));
  }
  return dump_json(out);
}

namespace {

// The object answers of the engines that answered, hv's first.
std::vector<Json> object_bodies(const std::vector<EngineReply>& replies) {
  std::vector<Json> out;
  for (const auto& r : replies) {
    if (!r.body) continue;
    auto j = parse_json<Json>(*r.body);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// The engines' objects as one: integers summed, lists joined (an item joins when `joins` says
// so, given the list so far), anything else as the first engine that has it says.
Json sum_objects(
    const std::vector<EngineReply>& replies,
    const std::function<bool(const std::string& key, const Json& list, const Json& item)>& joins) {
  Json out = Json::object();
  for (const auto& j : object_bodies(replies)) {
    for (const auto& [key, v] : j.items()) {
      Json& slot = out[key];
      if (v.is_number_integer()) {
        slot = (slot.is_number_integer() ? slot.get<int64_t>() : 0) + v.get<int64_t>();
      } else if (v.is_array()) {
        if (!slot.is_array()) slot = Json::array();
        for (const auto& item : v)
          if (joins(key, slot, item)) slot.push_back(item);
      } else if (slot.is_null()) {
        slot = v;  // null (nothing deleted there) stays null unless another engine had some
      }
    }
  }
  return out;
}

}  // namespace

std::string merge_prune(const std::vector<EngineReply>& replies) {
  return dump_json(sum_objects(replies, [](const std::string&, const Json& list, const Json& item) {
    return std::find(list.begin(), list.end(), item) == list.end();
  }));
}

std::string merge_system_df(const std::vector<EngineReply>& replies) {
  return dump_json(
      sum_objects(replies, [](const std::string& key, const Json& list, const Json& item) {
        if (key != "Volumes") return true;
        auto name = json_string(item, "Name");
        return std::none_of(list.begin(), list.end(),
                            [&](const Json& v) { return json_string(v, "Name") == name; });
      }));
}

namespace {
void add_repo_digests(Json& image, const RepoDigests& known) {
  auto id = json_string(image, "Id");
  if (!id) return;
  auto found = known.find(*id);
  if (found == known.end()) return;
  Json& list = image["RepoDigests"];
  if (!list.is_array()) list = Json::array();
  for (const auto& entry : found->second)
    if (std::find(list.begin(), list.end(), entry) == list.end()) list.push_back(entry);
}
}  // namespace

std::string with_repo_digests(const std::string& body, const RepoDigests& known) {
  auto j = parse_json<Json>(body);
  if (j.is_discarded() || known.empty()) return body;
  if (j.is_array()) {
    for (auto& image : j)
      if (image.is_object()) add_repo_digests(image, known);
  } else if (j.is_object()) {
    add_repo_digests(j, known);
  } else {
    return body;
  }
  return dump_json(j);
}

std::optional<std::vector<router::ContainerRecord>> containers_of_listing(const std::string& body) {
  auto j = parse_json<Json>(body);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  std::vector<router::ContainerRecord> out;
  for (const auto& c : j) {
    auto id = json_string(c, "Id");
    if (!id) continue;
    std::string name;
    // Names lists the container's name and its link aliases ("/web/db"): take the plain one.
    for (const auto& n : array_field(c, "Names")) {
      if (!n.is_string()) continue;
      std::string s = std::string(router::strip_name_slash(n.get<std::string>()));
      if (s.find('/') == std::string::npos) {
        name = s;
        break;
      }
    }
    std::string project;
    if (auto labels = c.find("Labels"); labels != c.end() && labels->is_object())
      project = json_string(*labels, "com.docker.compose.project").value_or("");
    out.push_back({*id, "", name, project});
  }
  return out;
}

std::string status_document(const std::vector<BackendStatus>& statuses, const DaemonInfo& d) {
  Json backends = Json::array();
  for (const auto& s : statuses) {
    backends.push_back(Json{{"name", s.name},
                            {"state", backend_state_name(s.state)},
                            {"vm_arch", s.vm_arch},
                            {"native", s.native},
                            {"translated", s.translated},
                            {"accelerator", s.accelerator},
                            {"translator", s.translator},
                            {"libvirt_uri", s.libvirt_uri},
                            {"detail", s.detail},
                            {"boot_seconds", s.boot_seconds},
                            {"engine_version", s.engine_version},
                            {"engine_api_version", s.engine_api_version},
                            {"restarting", s.restarting}});
  }
  Json daemon{{"pid", d.pid},
              {"socket", d.socket_path},
              {"version", d.version},
              {"api_version", d.api_version},
              {"registry", d.registry_path},
              {"orphans_ended", d.orphans_ended}};
  Json workloads{{"containers", d.containers}, {"execs", d.execs}};
  return dump_json(Json{{"daemon", daemon}, {"backends", backends}, {"workloads", workloads}});
}

std::optional<Error> volume_in_use(const std::string& name,
                                   const std::vector<EngineReply>& listings) {
  std::vector<std::string> ids, where;
  for (const auto& r : listings) {
    auto users = r.body ? containers_of_listing(*r.body) : std::nullopt;
    if (!users || users->empty()) continue;
    for (const auto& c : *users) ids.push_back(c.id);
    where.push_back(r.backend);
  }
  if (ids.empty()) return std::nullopt;
  return Error{ErrorCode::Conflict, "remove " + name + ": volume is in use - [" + join(ids, ", ") +
                                        "] (on " + join(where, ", ") + ")"};
}

std::optional<Error> network_split(const std::string& network, const std::string& container,
                                   const std::string& backend,
                                   const std::vector<EngineReply>& listings) {
  if (network == "bridge" || network == "host" || network == "none") return std::nullopt;
  std::vector<std::string> names, where;
  for (const auto& r : listings) {
    if (r.backend == backend || !r.body) continue;
    auto members = containers_of_listing(*r.body);
    if (!members || members->empty()) continue;
    for (const auto& c : *members) names.push_back(c.name.empty() ? c.id.substr(0, 12) : c.name);
    where.push_back(r.backend);
  }
  if (names.empty()) return std::nullopt;
  std::string others = join(where, ", ");
  return Error{ErrorCode::InvalidArgument,
               "cannot connect container " + container + " (on " + backend + ") to network " +
                   network + ": its members " + join(names, ", ") + " run on " + others +
                   ", a separate VM whose bridge for " + network + " the " + backend +
                   " VM does not share, so " + container +
                   " could not reach them (twinbox's two VMs share no container network); "
                   "create the container on " +
                   others +
                   " with them, or connect it to a network "
                   "whose members run on " +
                   backend};
}

Result<Filters> parse_filters(std::string_view json) {
  Filters out;
  if (trim(json).empty()) return out;
  auto j = parse_json<Json>(json);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::InvalidArgument,
                      "invalid filter: the filters parameter is not a JSON object");
  for (const auto& [key, terms] : j.items()) {
    auto& list = out[key];
    if (terms.is_array()) {
      for (const auto& t : terms)
        if (t.is_string()) list.push_back(t.get<std::string>());
    } else if (terms.is_object()) {
      for (const auto& [t, on] : terms.items())
        if (on.is_boolean() && on.get<bool>()) list.push_back(t);
    } else {
      return make_error(ErrorCode::InvalidArgument, "invalid filter '" + key + "'");
    }
  }
  return out;
}

bool labels_match(const Json& labels, const Filters& filters) {
  auto has = [&](const std::string& term) {
    size_t eq = term.find('=');
    std::string key = term.substr(0, eq);
    if (!labels.is_object() || !labels.contains(key)) return false;
    return eq == std::string::npos || json_string(labels, key) == term.substr(eq + 1);
  };
  if (auto it = filters.find("label"); it != filters.end())
    if (!std::all_of(it->second.begin(), it->second.end(), has)) return false;
  if (auto it = filters.find("label!"); it != filters.end())
    if (std::any_of(it->second.begin(), it->second.end(), has)) return false;
  return true;
}

std::vector<VolumeToPrune> plan_volume_prune(const std::vector<EngineReply>& unused,
                                             const std::vector<EngineReply>& used,
                                             const Filters& filters, bool all) {
  auto volumes_of = [](const EngineReply& r) {
    Json j = r.body ? parse_json<Json>(*r.body) : Json();
    return j.is_object() && j.contains("Volumes") && j["Volumes"].is_array() ? j["Volumes"]
                                                                             : Json::array();
  };
  std::set<std::string> in_use;
  for (const auto& r : used)
    for (const auto& v : volumes_of(r)) in_use.insert(json_string(v, "Name").value_or(""));
  std::vector<VolumeToPrune> out;
  for (const auto& r : unused)
    for (const auto& v : volumes_of(r)) {
      std::string name = json_string(v, "Name").value_or("");
      const Json labels = v.contains("Labels") ? v["Labels"] : Json();
      bool anonymous = labels.is_object() && labels.contains("com.docker.volume.anonymous");
      if (name.empty() || in_use.count(name) || (!all && !anonymous) ||
          !labels_match(labels, filters))
        continue;
      auto known = std::find_if(out.begin(), out.end(),
                                [&](const VolumeToPrune& p) { return p.name == name; });
      if (known == out.end()) known = out.insert(out.end(), VolumeToPrune{name, {}});
      known->backends.push_back(r.backend);
    }
  return out;
}

}  // namespace twinbox::api
