// The Dispatcher's answers that involve more than one engine: local endpoints, fan-outs and
// the probe that finds an unknown container.
#include <unistd.h>

#include <algorithm>
#include <future>

#include "api/dispatch.hpp"
#include "api/docker_json.hpp"
#include "api/engine_client.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {

// The default backend (hv) first: it is the base of aggregated answers.
std::vector<BackendStatus> home_first(std::vector<BackendStatus> statuses,
                                      const std::string& home) {
  std::stable_partition(statuses.begin(), statuses.end(),
                        [&](const BackendStatus& s) { return s.name == home; });
  return statuses;
}

EngineReply ask(guest::GuestConnector* conn, const BackendStatus& s, const std::string& method,
                const std::string& target) {
  EngineReply reply{s.name, std::nullopt, "", true};
  if (s.state != BackendState::Running) {
    reply.error = std::string("not running (state: ") + backend_state_name(s.state) + ")";
    reply.asked = false;
    return reply;
  }
  if (!conn) {
    reply.error = "no connector";
    return reply;
  }
  auto r = engine_request(*conn, method, target);
  if (!r) {
    reply.error = r.error().message;
  } else if (r->status != 200) {
    auto msg = json_string(parse_json<Json>(r->body), "message");
    reply.error = "HTTP " + std::to_string(r->status) + ": " + msg.value_or(r->body);
  } else {
    reply.body = std::move(r->body);
  }
  return reply;
}

// Only the plain "all" listing is complete enough to reconcile the registry with.
bool is_complete_listing(const http::RequestHead& head) {
  auto all = head.query_value("all");
  if (!all || (*all != "1" && iequals(*all, "true") == false)) return false;
  for (const auto& q : head.parsed.query)
    if (q.name != "all" && q.name != "size") return false;
  return true;
}

}  // namespace

std::vector<EngineReply> Dispatcher::fan_out(const std::string& target, const std::string& method) {
  std::vector<std::future<EngineReply>> pending;
  for (const auto& s : home_first(backends_.statuses(), home())) {
    auto* conn = backends_.connector(s.name);
    pending.push_back(std::async(std::launch::async, ask, conn, s, method, target));
  }
  std::vector<EngineReply> replies;
  for (auto& p : pending) replies.push_back(p.get());
  return replies;
}

std::vector<EngineReply> Dispatcher::fan_out_constant(const std::string& target) {
  auto statuses = home_first(backends_.statuses(), home());
  std::vector<std::future<EngineReply>> pending;
  {
    std::lock_guard lock(constant_mu_);
    for (const auto& s : statuses) {
      auto it = constant_answers_.find(s.name);
      bool known = s.state == BackendState::Running && s.engine_run != 0 &&
                   it != constant_answers_.end() && it->second.engine_run == s.engine_run &&
                   it->second.target == target;
      pending.push_back(
          known
              ? std::async(std::launch::deferred,
                           [r = EngineReply{s.name, it->second.body, "", true}] { return r; })
              : std::async(std::launch::async, ask, backends_.connector(s.name), s, "GET", target));
    }
  }
  std::vector<EngineReply> replies;
  for (size_t i = 0; i < statuses.size(); ++i) {
    replies.push_back(pending[i].get());
    if (replies.back().body && statuses[i].engine_run != 0) {
      std::lock_guard lock(constant_mu_);
      constant_answers_[statuses[i].name] = {statuses[i].engine_run, target, *replies.back().body};
    }
  }
  return replies;
}

LocalResponse Dispatcher::list_response(const http::RequestHead& head, bool containers) {
  std::string pq = head.path() + (head.parsed.raw_query.empty() ? "" : "?" + head.parsed.raw_query);
  // Records written while the engines answer are newer than their listing.
  uint64_t listed_at =
      registry_.read([](const router::WorkloadRegistry& reg) { return reg.mark(); });
  uint64_t ports_at = ports_.mark();
  auto replies = fan_out(versioned(head, pq));
  std::vector<std::string> failures, broken;
  for (const auto& r : replies) {
    if (r.body) continue;
    failures.push_back(r.backend + ": " + r.error);
    if (r.asked) broken.push_back(failures.back());  // running, yet it did not answer
  }
  if (failures.size() == replies.size())
    return error_response(503, std::string("no engine could list ") +
                                   (containers ? "containers" : "images") + " (" +
                                   join(failures, "; ") + "); check `twinbox status`");
  if (!broken.empty())
    log::warn("api", "GET " + head.path() + " answered without " + join(broken, "; "));
  if (containers && is_complete_listing(head)) {
    auto st = registry_.update([&](router::WorkloadRegistry& reg) {
      bool changed = false;
      for (const auto& r : replies) {
        auto live = r.body ? containers_of_listing(*r.body) : std::nullopt;
        if (live) changed = reg.reconcile_backend(r.backend, *live, listed_at) || changed;
      }
      return changed;
    });
    if (!st) log::warn("api", st.error().message);
    for (const auto& r : replies) {
      auto live = r.body ? containers_of_listing(*r.body) : std::nullopt;
      if (!live) continue;
      std::vector<std::string> ids;
      for (const auto& c : *live) ids.push_back(c.id);
      ports_.forget_missing(r.backend, ids, ports_at);
    }
  }
  int64_t limit = 0;
  if (auto l = head.query_value("limit")) limit = std::atoll(l->c_str());
  std::string merged = merge_lists(
      replies, limit, containers ? show_host_ports_in_listing : std::function<void(Json&)>{});
  if (!containers) merged = with_repo_digests(merged, known_repo_digests());
  return json_response(200, merged);
}

LocalResponse Dispatcher::fanned_answer(const http::RequestHead& head, router::LocalHandler what) {
  bool prune = what == router::LocalHandler::Prune;
  std::string pq = head.path() + (head.parsed.raw_query.empty() ? "" : "?" + head.parsed.raw_query);
  auto replies = fan_out(versioned(head, pq), prune ? "POST" : "GET");
  std::vector<std::string> failures;
  for (const auto& r : replies)
    if (!r.body && r.asked) failures.push_back(r.backend + ": " + r.error);
  bool any = std::any_of(replies.begin(), replies.end(), [](const auto& r) { return r.body; });
  std::string what_name = (prune ? "POST " : "GET ") + head.path();
  if (!any)
    return error_response(failures.empty() ? 503 : 500,
                          what_name + " failed on every engine (" +
                              (failures.empty() ? "none is running" : join(failures, "; ")) +
                              "); check `twinbox status`");
  if (!failures.empty()) log::warn("api", what_name + " answered without " + join(failures, "; "));
  if (!prune) return json_response(200, merge_system_df(replies));
  std::string merged = merge_prune(replies);
  // Pruned containers are gone: out of the registry, their ports freed.
  auto deleted = parse_json<Json>(merged);
  auto ids = deleted.is_object() ? deleted.find("ContainersDeleted") : deleted.end();
  if (ids != deleted.end() && ids->is_array()) {
    for (const auto& id : *ids) {
      if (!id.is_string()) continue;
      auto st = registry_.update([&](router::WorkloadRegistry& reg) {
        return reg.forget_container(id.get<std::string>());
      });
      if (!st) log::warn("api", st.error().message);
      ports_.release(id.get<std::string>());
    }
  }
  return json_response(200, merged);
}

RepoDigests Dispatcher::known_repo_digests() const {
  RepoDigests out;
  if (!images_) return out;
  auto records = images_->content().list();
  if (!records) {
    log::warn("api", "RepoDigests left out: " + records.error().message);
    return out;
  }
  for (const auto& rec : *records) {
    auto ref = platform::parse_reference(rec.reference);
    if (!ref) continue;
    std::string entry = ref->familiar_name() + "@" + rec.descriptor.digest.str();
    for (const auto& p : rec.platforms) out[p.config.str()].push_back(entry);
  }
  return out;
}

Status Dispatcher::reconcile_backend(const std::string& backend) {
  auto* conn = backends_.connector(backend);
  if (!conn) return make_error(ErrorCode::NotFound, "no backend " + backend);
  uint64_t listed_at =
      registry_.read([](const router::WorkloadRegistry& reg) { return reg.mark(); });
  uint64_t ports_at = ports_.mark();
  auto r = engine_request(*conn, "GET", "/containers/json?all=1");
  if (!r) return r.error().context("reconcile " + backend);
  auto live = r->status == 200 ? containers_of_listing(r->body) : std::nullopt;
  if (!live)
    return make_error(ErrorCode::Io, "reconcile " + backend + ": engine answered " +
                                         std::to_string(r->status) + " to the container listing");
  size_t n = live->size();
  TRY(registry_.update([&](router::WorkloadRegistry& reg) {
    return reg.reconcile_backend(backend, *live, listed_at);
  }));
  // Published ports: the VM may be new (its forwards gone); re-apply them from the labels.
  std::vector<std::string> ids;
  for (const auto& c : parse_json<Json>(r->body)) {
    auto id = json_string(c, "Id");
    if (!id) continue;
    ids.push_back(*id);
    auto labels = c.find("Labels");
    if (labels == c.end() || !labels->is_object()) continue;
    auto published = json_string(*labels, kPublishedLabel);
    std::string state = json_string(c, "State").value_or("");
    bool running = state == "running" || state == "paused" || state == "restarting";
    if (published)
      ports_.restore(backend, *id, id->substr(0, 12), parse_published_label(*published), running);
  }
  ports_.forget_missing(backend, ids, ports_at);
  log::info("api",
            "registry reconciled with " + backend + ": " + std::to_string(n) + " container(s)");
  return {};
}

RequestOutcome Dispatcher::serve_local(Stream& client, const http::RequestHead& head,
                                       const router::Decision& d, bool body_pending) {
  using router::LocalHandler;
  switch (d.local) {
    case LocalHandler::Ping:
      return answer(client, head, ping_response(), "local", body_pending);
    case LocalHandler::Version:
      return answer(
          client, head,
          json_response(200, aggregate_version(backends_.statuses(),
                                               fan_out_constant(versioned(head, "/version")),
                                               identity_.version, api_version())),
          "hv+rosetta", body_pending);
    case LocalHandler::Info:
      return answer(
          client, head,
          json_response(200, aggregate_info(home_first(backends_.statuses(), home()),
                                            fan_out(versioned(head, "/info")), env_.host())),
          "hv+rosetta", body_pending);
    case LocalHandler::ListContainers:
    case LocalHandler::ListImages:
      return answer(client, head, list_response(head, d.local == LocalHandler::ListContainers),
                    "hv+rosetta", body_pending);
    case LocalHandler::Status: {
      DaemonInfo info{static_cast<int64_t>(::getpid()),
                      identity_.socket_path,
                      identity_.version,
                      registry_.path(),
                      0,
                      0,
                      api_version(),
                      identity_.orphans_ended};
      registry_.read([&](const router::WorkloadRegistry& reg) {
        info.containers = reg.containers().size();
        info.execs = reg.exec_count();
        return 0;
      });
      return answer(client, head, json_response(200, status_document(backends_.statuses(), info)),
                    "local", body_pending);
    }
    case LocalHandler::ListNetworks:
    case LocalHandler::ListVolumes:
      return answer(client, head, merged_list(head, d.local == LocalHandler::ListNetworks),
                    "hv+rosetta", body_pending);
    case LocalHandler::Prune:
      if (head.path() == "/volumes/prune" && !identity_.volumes_dir.empty())
        return answer(client, head, prune_global_volumes(head), "hv+rosetta", body_pending);
      [[fallthrough]];
    case LocalHandler::SystemDf:
      return answer(client, head, fanned_answer(head, d.local), "hv+rosetta", body_pending);
    case LocalHandler::Events:
      return serve_events(client, head, body_pending);
    case LocalHandler::BuildKit:
      return serve_buildkit(client, head);
    case LocalHandler::Twinbox:
      return serve_twinbox(client, head, body_pending);
    case LocalHandler::Auth:
      return serve_auth(client, head, body_pending);
    case LocalHandler::Shutdown: {
      std::string keep = head.query_value("keep_vms").value_or("");
      bool keep_vms = keep == "1" || keep == "true";
      backends_.request_shutdown(keep_vms);
      return answer(client, head,
                    json_response(202, error_body(keep_vms ? "twinboxd is shutting down; the "
                                                             "utility VMs keep running"
                                                           : "twinboxd is shutting down")),
                    "local", body_pending);
    }
  }
  return answer(client, head, error_response(500, "unknown local handler"), "local", body_pending);
}

namespace {
// The Id and name a probe answer names: containers say Id/Name, exec instances ID/ContainerID.
struct ProbeHit {
  std::string backend;
  std::string id;
  std::string name_or_container;
  std::string project;  // containers: the compose project label
};
}  // namespace

std::optional<Error> Dispatcher::learn_pod_peers(const http::RequestHead& head,
                                                 const std::vector<router::PodRef>& refs) {
  for (const auto& r : refs) {
    auto known = registry_.read(
        [&](const router::WorkloadRegistry& reg) { return reg.find_container(r.container); });
    if (known || known.error().code != ErrorCode::NotFound) continue;
    router::Decision probe;
    probe.kind = router::Decision::Kind::Probe;
    probe.probe_path = "/containers/" + url_encode(r.container) + "/json";
    probe.reason = r.relation + ": not in the workload registry";
    auto found = resolve_probe(head, std::move(probe));
    if (found.kind == router::Decision::Kind::Error) return found.error;
    if (!found.container_id.empty()) continue;  // learnt: the router finds it now
    std::string missing = "No such container: " + r.container;
    if (starts_with(r.relation, "links"))
      return Error{ErrorCode::InvalidArgument,
                   "could not get container for " + r.container + ": " + missing};
    return Error{ErrorCode::NotFound, missing};
  }
  return std::nullopt;
}

router::Decision Dispatcher::resolve_probe(const http::RequestHead& head, router::Decision d) {
  std::vector<ProbeHit> hits;
  std::vector<std::string> running;
  for (const auto& s : home_first(backends_.statuses(), home()))
    if (s.state == BackendState::Running) running.push_back(s.name);
  for (const auto& r : fan_out(versioned(head, d.probe_path))) {
    if (!r.body) continue;
    auto j = parse_json<Json>(*r.body);
    auto id = json_string(j, d.probe_exec ? "ID" : "Id");
    auto other = json_string(j, d.probe_exec ? "ContainerID" : "Name");
    std::string project;
    if (auto cfg = j.find("Config"); !d.probe_exec && cfg != j.end() && cfg->is_object())
      if (auto labels = cfg->find("Labels"); labels != cfg->end() && labels->is_object())
        project = json_string(*labels, "com.docker.compose.project").value_or("");
    if (id) hits.push_back({r.backend, *id, other.value_or(""), project});
  }
  d.kind = router::Decision::Kind::Backend;
  if (hits.empty()) {
    bool home_up = std::find(running.begin(), running.end(), home()) != running.end();
    d.backend = home_up || running.empty() ? home() : running.front();
    d.reason += "; no engine knows it, " + d.backend + " answers";
    return d;
  }
  if (hits.size() > 1) {
    std::vector<std::string> where;
    for (const auto& h : hits) where.push_back(h.id.substr(0, 12) + " on " + h.backend);
    d.kind = router::Decision::Kind::Error;
    auto segs = split(d.probe_path, '/');  // "", "containers"|"exec", ref, "json"
    d.error = Error{ErrorCode::Conflict, segs[1] + " reference \"" + url_decode(segs[2]) +
                                             "\" is ambiguous: it matches " + join(where, ", ") +
                                             "; use a full ID or the name"};
    return d;
  }
  const ProbeHit& hit = hits.front();
  d.backend = hit.backend;
  d.reason += "; found on " + hit.backend;
  if (!d.probe_exec) d.container_id = hit.id;
  auto st = registry_.update([&](router::WorkloadRegistry& reg) {
    if (d.probe_exec)
      reg.record_exec(hit.id, hit.backend, hit.name_or_container);
    else
      reg.record_container({hit.id, hit.backend, hit.name_or_container, hit.project});
    return true;
  });
  if (!st) log::warn("api", st.error().message);
  return d;
}

}  // namespace twinbox::api
