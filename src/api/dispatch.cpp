#include "api/dispatch.hpp"

#include "api/docker_json.hpp"
#include "api/engine_client.hpp"
#include "api/proxy.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {

// Container configs are small; anything bigger is not a create body.
constexpr size_t kMaxCreateBody = 4u << 20;
// Bodies twinbox refuses are drained up to this size to keep the connection; beyond, it closes.
constexpr uint64_t kMaxDrain = 1u << 20;

router::RouteInput route_input(const http::RequestHead& head) {
  router::RouteInput in;
  in.method = head.method;
  in.path = head.path();
  in.api_version = head.api_version();
  for (const auto& q : head.parsed.query) in.query.emplace_back(q.name, q.value);
  in.session_uuid = head.headers.get("X-Docker-Expose-Session-Uuid").value_or("");
  return in;
}

// Reads and drops an unread request body so the connection can carry the next request.
bool drain_body(Stream& client, const http::RequestHead& head) {
  auto framing = http::request_framing(head);
  if (!framing) return false;
  if (framing->kind == http::BodyKind::Length && framing->length > kMaxDrain) return false;
  return read_body(client, *framing, kMaxDrain).has_value();
}

// GET /containers/{ref}/json
bool is_container_inspect(const http::RequestHead& head) {
  const std::string& p = head.path();
  return head.method == "GET" && starts_with(p, "/containers/") && p != "/containers/json" &&
         p.size() > 17 && p.compare(p.size() - 5, 5, "/json") == 0 &&
         p.find('/', 12) == p.size() - 5;
}

// POST /containers/{ref}/start or /restart
bool is_container_start(const http::RequestHead& head) {
  const std::string& p = head.path();
  if (head.method != "POST" || !starts_with(p, "/containers/")) return false;
  size_t slash = p.find('/', 12);
  if (slash == std::string::npos || slash == 12) return false;
  std::string_view action(p.c_str() + slash + 1);
  return action == "start" || action == "restart";
}

// GET /images/{name}/json (names contain slashes); not the /images/json listing.
bool is_image_inspect(const http::RequestHead& head) {
  const std::string& p = head.path();
  return head.method == "GET" && starts_with(p, "/images/") && p != "/images/json" &&
         p.size() > 13 && p.compare(p.size() - 5, 5, "/json") == 0;
}

bool has_body(const http::RequestHead& head) {
  auto framing = http::request_framing(head);
  return !framing || framing->kind != http::BodyKind::None;
}

}  // namespace

RequestOutcome Dispatcher::answer(Stream& client, const http::RequestHead& head,
                                  const LocalResponse& r, std::string backend, bool body_pending) {
  bool keep = http::wants_keep_alive(head) && (!body_pending || drain_body(client, head));
  auto bytes = response_bytes(r, head.method == "HEAD", !keep, identity_.version, api_version());
  if (!write_all(client.fd(), bytes)) keep = false;
  return RequestOutcome{r.status, std::move(backend), keep, ""};
}

RequestOutcome Dispatcher::serve(Stream& client, const http::RequestHead& head) {
  auto framing = http::request_framing(head);
  if (!framing) return answer(client, head, error_response(framing.error()), "-", false);
  bool body_pending = framing->kind != http::BodyKind::None;
  router::RouteInput in = route_input(head);
  std::optional<std::string> body;
  if (router::needs_body_platform(head.method, head.path())) {
    auto b = read_body(client, *framing, kMaxCreateBody);
    if (!b) {
      auto e = b.error().context("container create: read the request body");
      return answer(client, head, error_response(400, e.message), "-", false);
    }
    body = std::move(b).value();
    body_pending = false;
    in.body_platform = create_body_platform(*body);
    auto facts = parse_create_facts(*body);
    if (!facts) return answer(client, head, error_response(facts.error()), "-", false);
    router::CreateInput ci;
    ci.image = facts->image;
    bool explicit_platform = (in.query_value("platform") && !in.query_value("platform")->empty()) ||
                             (in.body_platform && !in.body_platform->empty());
    std::tie(ci.image_platforms, ci.image_platforms_source) =
        image_platforms(facts->image, explicit_platform);
    ci.project = facts->project;
    ci.service = facts->service;
    ci.pod_refs = router::pod_refs_from_create_body(parse_json<nlohmann::json>(*body));
    if (auto e = learn_pod_peers(head, ci.pod_refs))
      return answer(client, head, error_response(*e), "-", false);
    in.create = std::move(ci);
  }
  if (router::needs_body_container(head.method, head.path())) {
    auto b = read_body(client, *framing, kMaxCreateBody);
    if (!b) return answer(client, head, error_response(400, b.error().message), "-", false);
    body = std::move(b).value();
    body_pending = false;
    in.body_container = json_string(parse_json<Json>(*body), "Container");
  }
  in.env = route_env();
  in.api_max = api_version();
  auto d = registry_.read([&](const router::WorkloadRegistry& reg) { return decide(in, reg); });
  if (d.kind == router::Decision::Kind::Probe) d = resolve_probe(head, std::move(d));
  if (!d.session_wait.empty()) {
    // The CLI sends the build right after opening the session; a minute covers a slow client.
    if (auto b = sessions_.await(d.session_wait, std::chrono::seconds(60))) {
      d.backend = *b;
      d.reason = "BuildKit session " + d.session_wait + " follows its build to " + *b;
    } else {
      d.reason = "BuildKit session " + d.session_wait + ": no build named it within 60 s; hv";
    }
  }
  if (!d.session_claim.empty()) sessions_.claim(d.session_claim, d.backend);
  if (images_ && d.kind == router::Decision::Kind::Backend && head.method == "POST" &&
      head.path() == "/images/create" && head.query_value("fromImage") &&
      !head.query_value("fromSrc")) {
    auto out = serve_pull(client, head, body_pending);
    if (out.reason.empty()) out.reason = d.reason;
    return out;
  }
  if (images_ && d.kind == router::Decision::Kind::Backend && head.method == "POST" &&
      head.path() == "/images/load")
    return serve_load(client, head);
  std::string reason = d.kind == router::Decision::Kind::Local ? "" : d.reason;
  RequestOutcome out;
  switch (d.kind) {
    case router::Decision::Kind::Error:
      out = answer(client, head, error_response(d.error), "-", body_pending);
      break;
    case router::Decision::Kind::Local:
      out = serve_local(client, head, d, body_pending);
      break;
    case router::Decision::Kind::Replicate:
      out = serve_replicate(client, head, d, std::move(body));
      break;
    default:
      if (in.body_container)
        if (auto e = check_network_connect(head, d, *in.body_container)) {
          out = answer(client, head, error_response(*e), d.backend, false);
          break;
        }
      out = forward(client, head, std::move(d), std::move(body));
  }
  out.reason = std::move(reason);
  return out;
}

std::optional<BackendStatus> Dispatcher::status_of(const std::string& name) const {
  for (auto& s : backends_.statuses())
    if (s.name == name) return s;
  return std::nullopt;
}

std::string Dispatcher::translator_of(const std::string& backend, const std::string& execution,
                                      const std::string& decided) const {
  if (execution != router::kExecutionTranslated) return std::string(router::kTranslatorNone);
  auto s = status_of(backend);
  if (s && !s->translator.empty() && s->translator != router::kTranslatorNone) return s->translator;
  return decided;
}

std::optional<Error> Dispatcher::unavailable(const std::string& backend,
                                             const std::string& reason) const {
  auto s = status_of(backend);
  if (!s)
    return Error{ErrorCode::Unavailable,
                 "backend " + backend +
                     " is not configured in this twinboxd; this request needs "
                     "it (" +
                     reason + "); enable it in the twinbox configuration"};
  if (s->state == BackendState::Running) return std::nullopt;
  return Error{ErrorCode::Unavailable,
               "backend " + backend + " is not running (state: " + backend_state_name(s->state) +
                   ")" + (s->detail.empty() ? "" : ": " + s->detail) + "; this request needs it (" +
                   reason + "); retry when `twinbox status` shows it running"};
}

Result<std::string> Dispatcher::prepare_create_body(const router::Decision& d,
                                                    const std::string& body,
                                                    const std::string& pending_id) {
  std::string platform = d.platform ? d.platform->platform : "";
  Labels labels =
      routing_labels(d.backend, d.execution, translator_of(d.backend, d.execution, d.translator),
                     platform, d.reason);
  TRY_ASSIGN(CreateFacts facts, parse_create_facts(body));
  // Before anything is made: a bind source the VMs do not share would be an empty directory.
  if (identity_.shared_dirs)
    TRY(check_bind_sources(facts.binds, *identity_.shared_dirs, identity_.withheld_dirs,
                           fs::real_path));
  std::string out = body;
  // The image from the content store, delivered if the engine lacks it; the container keeps
  // the digest it was created from (a moved tag cannot change what it runs).
  if (auto stored = ensure_image(d.backend, facts.image, platform)) {
    labels.emplace_back("io.twinbox.image.digest", stored->pinned());
    if (!stored->reference.digest.empty()) {
      // The engine cannot resolve name@digest for a loaded image: give it the image ID.
      auto j = parse_json<Json>(out);
      j["Image"] = stored->config.str();
      out = dump_json(j);
    }
  }
  if (!facts.ports.empty()) {
    TRY_ASSIGN(auto held,
               ports_.publish(d.backend, pending_id, d.name, facts.ports,
                              [&](const router::PortHolder& h) { return holder_state(h); }));
    auto rewritten = rewrite_port_bindings(out, held);
    if (!rewritten) {
      ports_.release(pending_id);
      return rewritten.error();
    }
    out = std::move(rewritten).value();
    labels.emplace_back(std::string(kPublishedLabel), published_label(held));
    labels.emplace_back(std::string(kAskedPortsLabel), asked_ports_label(body));
  }
  if (!identity_.host_gateway.empty()) {
    auto with_host = add_extra_host(out, "host.docker.internal", identity_.host_gateway);
    if (!with_host) {
      ports_.release(pending_id);
      return with_host.error();
    }
    out = std::move(with_host).value();
  }
  auto labelled = add_create_labels(out, labels);
  if (!labelled) ports_.release(pending_id);
  return labelled;
}

std::optional<Error> Dispatcher::name_held_elsewhere(const router::Decision& d) {
  using router::FollowUp;
  if (d.name.empty() ||
      (d.follow_up != FollowUp::RecordContainer && d.follow_up != FollowUp::RenameContainer))
    return std::nullopt;
  auto holder = registry_.read(
      [&](const router::WorkloadRegistry& reg) { return reg.holder_of_name(d.name); });
  // On the same backend the engine answers itself, in its own words.
  if (!holder || holder->backend == d.backend || holder->id == d.container_id) return std::nullopt;
  if (!container_exists(holder->backend, holder->id)) {
    // Gone without the registry hearing of it (--rm, or removed behind twinbox's back).
    auto st = registry_.update(
        [&](router::WorkloadRegistry& reg) { return reg.forget_container(holder->id); });
    if (!st) log::warn("api", st.error().message);
    ports_.release(holder->id);
    return std::nullopt;
  }
  std::string name = "/" + std::string(router::strip_name_slash(d.name));
  return Error{
      ErrorCode::Conflict,
      "Conflict. The container name \"" + name + "\" is already in use by container \"" +
          holder->id + "\" (on " + holder->backend +
          "). You have to remove (or rename) that container to be able to reuse that name."};
}

bool Dispatcher::container_exists(const std::string& backend, const std::string& id) {
  auto* conn = backends_.connector(backend);
  if (!conn) return false;
  auto r = engine_request(*conn, "GET", "/containers/" + url_encode(id) + "/json");
  return !r || r->status != 404;  // unsure (engine unreachable) counts as alive
}

HolderState Dispatcher::holder_state(const router::PortHolder& holder) {
  auto* conn = backends_.connector(holder.backend);
  if (!conn) return HolderState::Running;
  auto r = engine_request(*conn, "GET", "/containers/" + url_encode(holder.container_id) + "/json");
  if (!r || (r->status != 200 && r->status != 404)) return HolderState::Running;
  if (r->status == 404) return HolderState::Gone;
  auto j = parse_json<Json>(r->body);
  auto state = j.is_object() ? j.find("State") : j.end();
  if (state == j.end() || !state->is_object()) return HolderState::Running;
  auto flag = [&](const char* key) {
    auto it = state->find(key);
    return it != state->end() && it->is_boolean() && it->get<bool>();
  };
  return flag("Running") || flag("Restarting") ? HolderState::Running : HolderState::Stopped;
}

RequestOutcome Dispatcher::forward(Stream& client, const http::RequestHead& head,
                                   router::Decision d, std::optional<std::string> body) {
  bool body_pending = !body && has_body(head);
  std::string fallback = body_pending ? "" : d.fallback_backend;
  bool fallback_up = !fallback.empty() && !unavailable(fallback, d.reason);
  if (fallback_up && unavailable(d.backend, d.reason)) d.backend = std::exchange(fallback, "");
  if (auto e = unavailable(d.backend, d.reason))
    return answer(client, head, error_response(*e), d.backend, body_pending);
  ProxyOptions opts;
  opts.hijack_endpoint = d.hijack_endpoint;
  opts.tracker = tracker_;
  opts.intercept_404 = fallback_up && !fallback.empty();
  std::string pending;
  if (images_ && is_image_inspect(head)) {
    opts.on_answer = [this](int status, std::string& answer) {
      if (status == 200) answer = with_repo_digests(answer, known_repo_digests());
    };
  } else if (is_container_inspect(head)) {
    opts.on_answer = [](int status, std::string& answer) {
      // Only containers with published ports have anything to show differently.
      if (status != 200 || answer.find(kPublishedLabel) == std::string::npos) return;
      auto j = parse_json<Json>(answer);
      if (j.is_discarded()) return;
      show_host_ports_in_inspect(j);
      answer = dump_json(j);
    };
  } else if (d.follow_up != router::FollowUp::None) {
    opts.on_answer = [&](int status, const std::string& answer) {
      apply_follow_up(head, d, status, answer);
      if (pending.empty()) return;
      auto id = json_string(parse_json<Json>(answer), "Id");
      if (status >= 200 && status < 300 && id) {
        ports_.adopt(pending, *id);
      } else {
        ports_.release(pending);
      }
      pending.clear();
    };
  }
  if (auto taken = name_held_elsewhere(d))
    return answer(client, head, error_response(*taken), d.backend, body_pending);
  if (!d.container_id.empty() && is_container_start(head)) {
    // Ports it yielded while stopped (or never held): taken back before the engine starts it.
    auto claimed =
        ports_.claim(d.container_id, [&](const router::PortHolder& h) { return holder_state(h); });
    if (!claimed)
      return answer(client, head, error_response(claimed.error()), d.backend, body_pending);
  }
  if (body && d.follow_up == router::FollowUp::RecordContainer) {
    pending = "pending-" + std::to_string(next_pending_++);
    auto rewritten = prepare_create_body(d, *body, pending);
    if (!rewritten)
      return answer(client, head, error_response(rewritten.error()), d.backend, false);
    opts.replaced_body = std::move(rewritten).value();
  } else if (body) {
    opts.replaced_body = std::move(body);
  }
  std::string label = d.backend;
  ProxyResult r = proxy_to(client, head, d.backend, opts);
  if (!pending.empty()) ports_.release(pending);  // no answer reached on_answer
  if (r.intercepted) {
    d.backend = fallback;
    label += "->" + fallback;
    opts.intercept_404 = false;
    r = proxy_to(client, head, d.backend, opts);
  }
  if (!r.answered) {
    Error e = r.error.value_or(Error{ErrorCode::Internal, "no answer"});
    e = e.context("backend " + d.backend + " (" + d.reason + ")");
    e.message += "; check `twinbox status`";
    return answer(client, head, error_response(e), label, body_pending && !r.request_body_done);
  }
  if (r.error) log::warn("api", head.method + " " + head.path() + ": " + r.error->message);
  if (d.follow_up == router::FollowUp::None) forget_if_stale(head, d, r.status);
  return RequestOutcome{r.status, label, r.keep_alive, ""};
}

void Dispatcher::apply_follow_up(const http::RequestHead& head, const router::Decision& d,
                                 int status, const std::string& answer) {
  using router::FollowUp;
  if (status < 200 || status >= 300) return;
  auto id = json_string(parse_json<Json>(answer), "Id");
  auto st = registry_.update([&](router::WorkloadRegistry& reg) {
    switch (d.follow_up) {
      case FollowUp::RecordContainer:
        if (id) reg.record_container({*id, d.backend, d.name, d.project});
        return id.has_value();
      case FollowUp::RecordExec:
        if (id) reg.record_exec(*id, d.backend, d.container_id);
        return id.has_value();
      case FollowUp::RenameContainer:
        return !d.container_id.empty() && reg.rename_container(d.container_id, d.name).has_value();
      case FollowUp::ForgetContainer:
        return !d.container_id.empty() && reg.forget_container(d.container_id);
      case FollowUp::None:
        return false;
    }
    return false;
  });
  if (!st)
    log::warn("api", st.error().message + " (after " + head.method + " " + head.path() + ")");
  if (d.follow_up == FollowUp::ForgetContainer && !d.container_id.empty())
    ports_.release(d.container_id);
}

// A registry entry whose engine no longer knows it (auto-removed with --rm): forget it.
void Dispatcher::forget_if_stale(const http::RequestHead& head, const router::Decision& d,
                                 int status) {
  if (status != 404 || d.container_id.empty() || !is_container_inspect(head)) return;
  auto st = registry_.update(
      [&](router::WorkloadRegistry& reg) { return reg.forget_container(d.container_id); });
  if (!st) log::warn("api", st.error().message);
  ports_.release(d.container_id);
}

ProxyResult Dispatcher::proxy_to(Stream& client, const http::RequestHead& head,
                                 const std::string& backend, const ProxyOptions& opts) {
  auto* conn = backends_.connector(backend);
  if (conn) return proxy_request(client, head, *conn, opts);
  ProxyResult r;
  r.error = Error{ErrorCode::Internal, "twinboxd has no connector for backend " + backend};
  return r;
}

std::string Dispatcher::versioned(const http::RequestHead& head,
                                  const std::string& path_and_query) const {
  if (head.api_version().empty()) return path_and_query;
  return "/v" + head.api_version() + path_and_query;
}

}  // namespace twinbox::api
