// Networks and volumes live in both VMs: creates and removals go to every running backend,
// listings are merged by name (hv first). A compose project's network thus exists wherever its
// containers land, even when the project is placed by its first container after the network.
#include "api/dispatch.hpp"
#include "api/docker_json.hpp"
#include "api/engine_client.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {
constexpr size_t kMaxReplicatedBody = 1u << 20;

struct Reply {
  std::string backend;
  Result<EngineResponse> r;
};

bool ok(const Reply& x) { return x.r && x.r->status >= 200 && x.r->status < 300; }
}  // namespace

RequestOutcome Dispatcher::serve_replicate(Stream& client, const http::RequestHead& head,
                                           router::Decision d, std::optional<std::string> body) {
  if (!body) {
    auto framing = http::request_framing(head);
    auto b = framing ? read_body(client, *framing, kMaxReplicatedBody)
                     : Result<std::string>(framing.error());
    if (!b) return answer(client, head, error_response(b.error()), "-", false);
    body = std::move(b).value();
  }
  std::string target = head.target;  // version prefix and query kept
  std::vector<std::string> running;
  for (const auto& s : backends_.statuses())
    if (s.state == BackendState::Running) running.push_back(s.name);
  if (running.empty())
    return answer(client, head,
                  error_response(503, "no backend is running (" + d.reason +
                                          "); retry when `twinbox status` shows one"),
                  "-", false);
  // A removal by ID: each VM has its own ID for the same name, so remove by name everywhere.
  if (head.method == "DELETE") {
    auto segs = split(head.path().substr(1), '/');
    if (segs[0] == "volumes") {
      // In use on any backend: refused before any engine removes it (see volume_in_use).
      Json filter = {{"volume", Json::array({segs[1]})}};
      auto users = fan_out(
          versioned(head, "/containers/json?all=1&filters=" + url_encode(dump_json(filter))));
      if (auto busy = volume_in_use(segs[1], users))
        return answer(client, head, error_response(*busy), "hv+rosetta", false);
    }
    for (const auto& r : fan_out(versioned(head, "/" + segs[0] + "/" + url_encode(segs[1]))))
      if (r.body)
        if (auto name = json_string(parse_json<Json>(*r.body), "Name")) {
          target = versioned(head, "/" + segs[0] + "/" + url_encode(*name)) +
                   (head.parsed.raw_query.empty() ? "" : "?" + head.parsed.raw_query);
          break;
        }
  }
  std::vector<Reply> replies;
  for (const auto& b : running) {
    auto* conn = backends_.connector(b);
    if (!conn) continue;
    if (body && !body->empty()) {
      replies.push_back(
          {b, engine_upload(
                  *conn, head.method, target, "application/json",
                  [&](const std::function<Status(std::string_view)>& w) { return w(*body); },
                  std::chrono::seconds(60))});
    } else {
      replies.push_back({b, engine_request(*conn, head.method, target)});
    }
  }
  const Reply* chosen = nullptr;
  for (const auto& r : replies)
    if (ok(r) && (!chosen || r.backend == home())) chosen = &r;
  std::vector<std::string> failures;
  for (const auto& r : replies)
    if (!ok(r))
      failures.push_back(
          r.backend + ": " +
          (r.r ? std::to_string(r.r->status) + " " + r.r->body : r.r.error().message));
  if (!chosen) {
    // Nobody succeeded: the engines' own answer (hv's first) says why.
    for (const auto& r : replies)
      if (r.r) {
        chosen = &r;
        break;
      }
    if (!chosen) return answer(client, head, error_response(503, join(failures, "; ")), "-", false);
  } else if (!failures.empty()) {
    log::warn("api", head.method + " " + head.path() + " failed on " + join(failures, "; "));
  }
  LocalResponse resp{chosen->r->status, "application/json", chosen->r->body, {}};
  if (auto ct = chosen->r->headers.get("Content-Type")) resp.content_type = std::string(*ct);
  std::vector<std::string> where;
  for (const auto& r : replies) where.push_back(r.backend);
  return answer(client, head, resp, join(where, "+"), false);
}

std::optional<Error> Dispatcher::check_network_connect(const http::RequestHead& head,
                                                       const router::Decision& d,
                                                       const std::string& container) {
  auto segs = split(head.path().substr(1), '/');
  if (segs.size() != 3 || segs[2] != "connect") return std::nullopt;
  auto* conn = backends_.connector(d.backend);
  if (!conn) return std::nullopt;
  // By name: each VM has its own ID for the network. An engine that does not know it says so.
  auto net = engine_request(*conn, "GET", versioned(head, "/networks/" + segs[1]));
  if (!net || net->status != 200) return std::nullopt;
  auto name = json_string(parse_json<Json>(net->body), "Name");
  if (!name) return std::nullopt;
  Json filter = {{"network", Json::array({*name})}};
  auto members =
      fan_out(versioned(head, "/containers/json?all=1&filters=" + url_encode(dump_json(filter))));
  return network_split(*name, container, d.backend, members);
}

LocalResponse Dispatcher::merged_list(const http::RequestHead& head, bool networks) {
  std::string pq = head.path() + (head.parsed.raw_query.empty() ? "" : "?" + head.parsed.raw_query);
  Json out =
      networks ? Json::array() : Json{{"Volumes", Json::array()}, {"Warnings", Json::array()}};
  std::set<std::string> seen;
  bool any = false;
  std::vector<std::string> failures;
  for (const auto& r : fan_out(versioned(head, pq))) {
    if (!r.body) {
      failures.push_back(r.backend + ": " + r.error);
      continue;
    }
    any = true;
    auto j = parse_json<Json>(*r.body);
    const Json& items =
        networks ? j : (j.is_object() && j.contains("Volumes") ? j["Volumes"] : Json());
    for (const auto& it : items.is_array() ? items : Json::array()) {
      std::string name = json_string(it, "Name").value_or("");
      if (!seen.insert(name).second) continue;
      (networks ? out : out["Volumes"]).push_back(it);
    }
    if (!networks && j.is_object() && j.contains("Warnings") && j["Warnings"].is_array())
      for (const auto& w : j["Warnings"]) out["Warnings"].push_back(w);
  }
  if (!any)
    return error_response(503, "no engine could list " +
                                   std::string(networks ? "networks" : "volumes") + " (" +
                                   join(failures, "; ") + ")");
  return json_response(200, dump_json(out));
}

LocalResponse Dispatcher::prune_global_volumes(const http::RequestHead& head) {
  auto filters = parse_filters(head.query_value("filters").value_or(""));
  if (!filters) return error_response(filters.error());
  bool all = false;
  if (auto a = filters->find("all"); a != filters->end())
    all = std::any_of(a->second.begin(), a->second.end(),
                      [](const std::string& v) { return v == "true" || v == "1"; });
  // Before API 1.42 a volume prune took named volumes too.
  int v = router::api_version_number(head.parsed.api_version);
  if (v > 0 && v < router::api_version_number("1.42")) all = true;
  auto listing = [&](const char* dangling) {
    Json f = {{"dangling", Json::array({dangling})}};
    return fan_out(versioned(head, "/volumes?filters=" + url_encode(dump_json(f))));
  };
  auto unused = listing("true");
  auto used = listing("false");
  // Pruning blind could delete what an unlisted engine's containers use: all or nothing.
  for (const auto* side : {&unused, &used})
    for (const auto& r : *side)
      if (r.asked && !r.body)
        return error_response(503, "volume prune: " + r.backend + " did not list its volumes (" +
                                       r.error +
                                       "); nothing was removed; retry when `twinbox status` "
                                       "shows it running");
  Json deleted = Json::array();
  uint64_t reclaimed = 0;
  for (const auto& p : plan_volume_prune(unused, used, *filters, all)) {
    uint64_t bytes = fs::tree_bytes(identity_.volumes_dir + "/" + p.name);
    bool removed = false;
    for (const auto& b : p.backends) {
      auto* conn = backends_.connector(b);
      auto r =
          conn ? engine_request(*conn, "DELETE", versioned(head, "/volumes/" + url_encode(p.name)))
               : Result<EngineResponse>(make_error(ErrorCode::Unavailable, "not running"));
      if (r && r->status / 100 == 2) {
        removed = true;
      } else {
        log::warn("api", "volume prune: " + p.name + " on " + b + ": " +
                             (r ? std::to_string(r->status) + " " + r->body : r.error().message));
      }
    }
    if (removed) {
      deleted.push_back(p.name);
      reclaimed += bytes;
    }
  }
  return json_response(200,
                       dump_json(Json{{"VolumesDeleted", deleted}, {"SpaceReclaimed", reclaimed}}));
}

}  // namespace twinbox::api
