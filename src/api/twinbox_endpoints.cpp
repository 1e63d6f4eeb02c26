// twinboxd's own endpoints under /twinbox/v1 (besides status and shutdown): route explain,
// compose project declarations, and the host content store (list, import, export, prune,
// prewarm). Errors use Docker's {"message": ...} form so every client prints them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "api/dispatch.hpp"
#include "api/docker_json.hpp"
#include "api/engine_client.hpp"
#include "api/json_stream.hpp"
#include "router/decision_json.hpp"
#include "store/archive_io.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {

constexpr size_t kMaxDeclareBody = 1u << 20;
// An uploaded archive (docker load, twinbox image import) is written to a temp file as it
// arrives; beyond this it is refused.
constexpr uint64_t kMaxUploadedArchive = uint64_t{16} << 30;

}  // namespace

std::optional<std::vector<platform::Platform>> Dispatcher::platforms_for_explain(
    const std::string& image, bool explicit_platform) {
  auto [local, source] = image_platforms(image, explicit_platform);
  if (local) return local;
  if (!images_) return std::nullopt;
  // A diagnostic may ask the registry: what the image offers there is what a pull would get.
  if (auto o = images_->offer_for_pull(image)) return o->platforms;
  return std::nullopt;
}

LocalResponse Dispatcher::route_explain(const http::RequestHead& head) {
  router::ExplainQuery q;
  q.image = head.query_value("image").value_or("");
  if (q.image.empty())
    return error_response(400,
                          "route explain: the image query parameter is required "
                          "(GET /twinbox/v1/route/explain?image=REF[&platform=P][&project=N])");
  if (auto p = head.query_value("platform"); p && !trim(*p).empty()) q.platform = *p;
  q.image_platforms = platforms_for_explain(q.image, q.platform.has_value());
  std::string project = head.query_value("project").value_or("");
  q.group = registry_.read(
      [&](const router::WorkloadRegistry& reg) { return router::project_group(reg, project); });
  auto e = router::explain(q, route_env());
  if (e.decision)
    e.decision->translator =
        translator_of(e.decision->backend, e.decision->execution, e.decision->translator);
  return json_response(router::explanation_status(e), router::explanation_to_json(e).dump());
}

LocalResponse Dispatcher::declare_project(const std::string& name, const std::string& body) {
  auto j = parse_json<Json>(body);
  if (j.is_discarded() || !j.is_object() || !j.contains("services") || !j["services"].is_array())
    return error_response(400, "declare project " + name +
                                   ": the body must be {\"services\": [{\"name\", \"image\", "
                                   "\"platform\"}, ...]}");
  router::RouteEnv env = route_env();
  if (j.value("mixed", false)) {
    if (!env.mixed_projects)
      return error_response(400, "declare project " + name +
                                     ": mixed-backend projects are experimental; start twinboxd "
                                     "with --experimental-mixed-projects to allow them");
  } else {
    env.mixed_projects = false;
  }
  std::vector<router::ServiceSpec> specs;
  std::vector<std::string> images;
  for (const auto& s : j["services"]) {
    router::ServiceSpec spec;
    spec.name = json_string(s, "name").value_or("");
    std::string image = json_string(s, "image").value_or("");
    std::string platform = json_string(s, "platform").value_or("");
    if (spec.name.empty())
      return error_response(400, "declare project " + name + ": a service without a name");
    if (!platform.empty()) spec.platform = platform;
    if (!image.empty()) spec.image_platforms = platforms_for_explain(image, !platform.empty());
    specs.push_back(std::move(spec));
    images.push_back(image);
  }
  auto decision = router::decide_project(name, specs, env);
  if (!decision) return error_response(decision.error().context("project " + name));
  // A project whose containers already run elsewhere cannot move under them.
  std::optional<Error> conflict;
  auto st = registry_.update([&](router::WorkloadRegistry& reg) {
    auto now = reg.project_placement(name);
    if (now && now->containers > 0 && decision->backend != "mixed" &&
        now->backend != decision->backend) {
      conflict =
          Error{ErrorCode::Conflict, "project " + name + " has " + std::to_string(now->containers) +
                                         " container(s) on " + now->backend + " but now needs " +
                                         decision->backend + " (" + decision->reason +
                                         "); remove them first: `twinbox compose down`"};
      return false;
    }
    if (decision->backend == "mixed") return reg.forget_project(name);
    reg.declare_project({name, decision->backend, decision->reason});
    return true;
  });
  if (conflict) return error_response(*conflict);
  if (!st) return error_response(st.error());
  Json out{{"project", name},
           {"backend", decision->backend},
           {"reason", decision->reason},
           {"services", Json::array()}};
  for (size_t i = 0; i < decision->services.size(); ++i) {
    const auto& sp = decision->services[i];
    out["services"].push_back({{"name", sp.service},
                               {"image", i < images.size() ? images[i] : ""},
                               {"platform", sp.decision.platform},
                               {"backend", sp.decision.backend},
                               {"reason", sp.decision.reason}});
  }
  log::info("api",
            "project " + name + " declared on " + decision->backend + ": " + decision->reason);
  return json_response(200, dump_json(out));
}

LocalResponse Dispatcher::list_projects() {
  Json out = Json::array();
  registry_.read([&](const router::WorkloadRegistry& reg) {
    for (const auto& [name, p] : reg.projects())
      out.push_back({{"project", name},
                     {"backend", p.mixed ? "mixed" : p.backend},
                     {"reason", p.declared ? p.reason : "decided by its first " + p.decided_by},
                     {"declared", p.declared},
                     {"containers", p.containers}});
    return 0;
  });
  return json_response(200, dump_json(out));
}

LocalResponse Dispatcher::list_store() {
  if (!images_) return error_response(503, "this twinboxd has no content store");
  auto list = images_->content().list();
  if (!list) return error_response(list.error().context("list the content store"));
  Json out = Json::array();
  for (const auto& rec : *list) {
    Json platforms = Json::array();
    int64_t size = 0;
    for (const auto& p : rec.platforms) {
      platforms.push_back({{"platform", p.platform},
                           {"manifest", p.manifest.str()},
                           {"complete", true},
                           {"size", p.size}});
      size += p.size;
    }
    out.push_back({{"reference", rec.reference},
                   {"digest", rec.descriptor.digest.str()},
                   {"media_type", rec.descriptor.media_type},
                   {"platforms", platforms},
                   {"size", size}});
  }
  return json_response(200, dump_json(out));
}

// Both engines' images with the backend that holds each and its platform: what `docker images`
// cannot show (its table has no column for them). One inspect per image, on its own engine.
LocalResponse Dispatcher::engine_images() {
  Json out = Json::array();
  for (const auto& r : fan_out("/images/json")) {
    if (!r.body) continue;
    auto* conn = backends_.connector(r.backend);
    for (const auto& img : parse_json<Json>(*r.body)) {
      std::string id = json_string(img, "Id").value_or("");
      if (id.empty() || !conn) continue;
      std::string platform = "unknown";
      if (auto ins = engine_request(*conn, "GET", "/images/" + id + "/json");
          ins && ins->status == 200)
        platform = image_inspect_platform(parse_json<Json>(ins->body)).value_or(platform);
      Json tags =
          img.contains("RepoTags") && img["RepoTags"].is_array() ? img["RepoTags"] : Json::array();
      out.push_back({{"backend", r.backend},
                     {"id", id},
                     {"repo_tags", tags},
                     {"platform", platform},
                     {"size", json_int(img, "Size").value_or(0)},
                     {"created", json_int(img, "Created").value_or(0)}});
    }
  }
  return json_response(200, dump_json(out));
}

Result<store::ImportResult> Dispatcher::import_upload(Stream& client, const http::RequestHead& head,
                                                      const std::string& name) {
  TRY_ASSIGN(http::Framing framing, http::request_framing(head));
  // The archive goes to a private temp file inside the store's directory, then is read
  // defensively by the store (paths, links, devices, sizes).
  std::string tmp = images_->content().root() + "/import-XXXXXX";
  int raw = ::mkstemp(tmp.data());
  if (raw < 0) return make_error(ErrorCode::Io, "cannot create a temp file in the content store");
  Fd fd(raw);
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{tmp};
  if (auto st = save_body(client, fd.get(), framing, kMaxUploadedArchive); !st)
    return st.error().context("receive the archive");
  store::ImportOptions opts;
  opts.name = name;
  return store::import_archive(images_->content(), tmp, opts);
}

LocalResponse Dispatcher::import_into_store(Stream& client, const http::RequestHead& head) {
  if (!images_) return error_response(503, "this twinboxd has no content store");
  auto result = import_upload(client, head, head.query_value("name").value_or(""));
  if (!result) return error_response(result.error().context("import"));
  Json refs = Json::array();
  std::vector<std::string> names;
  for (const auto& img : result->images) {
    refs.push_back(img.reference);
    names.push_back(img.reference);
  }
  int64_t blobs = 0, bytes = 0;
  if (auto all = images_->content().reachable_blobs(names))
    for (const auto& b : *all) {
      ++blobs;
      bytes += b.size;
    }
  log::info("images", "imported " + result->format + ": " + refs.dump());
  return json_response(
      200,
      dump_json(Json{
          {"format", result->format}, {"references", refs}, {"blobs", blobs}, {"bytes", bytes}}));
}

RequestOutcome Dispatcher::export_from_store(Stream& client, const http::RequestHead& head,
                                             bool body_pending) {
  if (!images_)
    return answer(client, head, error_response(503, "this twinboxd has no content store"), "local",
                  body_pending);
  std::vector<std::string> refs;
  for (const auto& q : head.parsed.query)
    if (q.name == "reference") refs.push_back(q.value);
  if (refs.empty())
    return answer(client, head,
                  error_response(400, "export: name at least one reference (?reference=REF)"),
                  "local", body_pending);
  std::string tmp = images_->content().root() + "/export-" + std::to_string(::getpid()) + "-" +
                    std::to_string(next_pending_++) + ".tar";
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{tmp};
  if (auto st = store::export_archive(images_->content(), refs, tmp); !st)
    return answer(client, head, error_response(st.error().context("export")), "local",
                  body_pending);
  Fd fd(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat sb {};
  if (!fd.valid() || ::fstat(fd.get(), &sb) != 0)
    return answer(client, head, error_response(500, "export: cannot read the archive back"),
                  "local", body_pending);
  std::string head_bytes =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nServer: twinboxd/" +
      identity_.version + "\r\nContent-Length: " + std::to_string(sb.st_size) + "\r\n\r\n";
  bool ok = write_all(client.fd(), head_bytes).has_value();
  char buf[1 << 16];
  for (ssize_t n; ok && (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
    ok = write_all(client.fd(), std::string_view(buf, static_cast<size_t>(n))).has_value();
  return RequestOutcome{200, "local", ok && !body_pending && http::wants_keep_alive(head), ""};
}

RequestOutcome Dispatcher::prewarm(Stream& client, const http::RequestHead& head,
                                   const std::string& body) {
  auto j = parse_json<Json>(body);
  if (!images_ || j.is_discarded() || !j.contains("references") || !j["references"].is_array())
    return answer(client, head,
                  error_response(images_ ? 400 : 503,
                                 images_ ? "prewarm: the body must be {\"references\": [...]}"
                                         : "this twinboxd has no content store"),
                  "local", false);
  JsonStream out(client, "\n");
  if (auto st = out.begin(identity_.version); !st) return RequestOutcome{200, "local", false, ""};
  auto line = [&](const Json& l) { out.line(l); };
  // Every platform a backend runs natively or translated that the image offers: after a
  // prewarm both VMs can be fed without a registry.
  std::vector<platform::Platform> wanted;
  for (const char* p : {"linux/arm64", "linux/amd64"})
    wanted.push_back(*platform::parse_platform(p));
  for (const auto& r : j["references"]) {
    std::string ref = r.is_string() ? r.get<std::string>() : "";
    auto offer = images_->offer_for_pull(ref);
    if (!offer) {
      line({{"reference", ref}, {"status", "error"}, {"message", offer.error().message}});
      continue;
    }
    Json got = Json::array();
    std::string failure;
    for (const auto& want : wanted) {
      bool offered = false;
      for (const auto& p : offer->platforms) offered = offered || platform::matches(want, p);
      if (!offered) continue;
      auto s = images_->pull(*offer, want);
      if (s)
        got.push_back(s->platform);
      else
        failure = s.error().message;
    }
    if (got.empty() && failure.empty())
      failure = "offers none of linux/arm64, linux/amd64 (it has: " +
                router::platforms_text(offer->platforms) + ")";
    if (!failure.empty())
      line({{"reference", ref}, {"status", "error"}, {"message", failure}});
    else
      line({{"reference", ref}, {"status", "pulled"}, {"platforms", got}});
  }
  return RequestOutcome{200, "local", out.end() && http::wants_keep_alive(head), ""};
}

RequestOutcome Dispatcher::serve_twinbox(Stream& client, const http::RequestHead& head,
                                         bool body_pending) {
  const std::string& p = head.path();
  const std::string& m = head.method;
  auto small_body = [&]() -> Result<std::string> {
    auto framing = http::request_framing(head);
    if (!framing) return framing.error();
    body_pending = false;
    return read_body(client, *framing, kMaxDeclareBody);
  };
  if (m == "GET" && p == "/twinbox/v1/route/explain")
    return answer(client, head, route_explain(head), "local", body_pending);
  if (p == "/twinbox/v1/projects" && m == "GET")
    return answer(client, head, list_projects(), "local", body_pending);
  if (starts_with(p, "/twinbox/v1/projects/") && p.size() > 21) {
    std::string name = p.substr(21);
    if (m == "POST") {
      auto body = small_body();
      if (!body) return answer(client, head, error_response(body.error()), "local", false);
      return answer(client, head, declare_project(name, *body), "local", false);
    }
    if (m == "DELETE") {
      bool gone = false;
      auto st = registry_.update([&](router::WorkloadRegistry& reg) {
        gone = reg.forget_project(name);
        return gone;
      });
      LocalResponse r = !st    ? error_response(st.error())
                        : gone ? LocalResponse{204, "", "", {}}
                               : error_response(404, "project " + name + " is not declared");
      return answer(client, head, r, "local", body_pending);
    }
  }
  if (p == "/twinbox/v1/engine-images" && m == "GET")
    return answer(client, head, engine_images(), "local", body_pending);
  if (p == "/twinbox/v1/images" && m == "GET")
    return answer(client, head, list_store(), "local", body_pending);
  if (p == "/twinbox/v1/images" && m == "DELETE") {
    if (!images_)
      return answer(client, head, error_response(503, "this twinboxd has no content store"),
                    "local", body_pending);
    auto ref = head.query_value("reference").value_or("");
    auto st = images_->content().remove_reference(ref);
    LocalResponse r = st ? LocalResponse{204, "", "", {}}
                         : error_response(st.error().context("remove " + ref + " from the store"));
    return answer(client, head, r, "local", body_pending);
  }
  if (p == "/twinbox/v1/images/import" && m == "POST") {
    auto r = import_into_store(client, head);
    return answer(client, head, r, "local", false);
  }
  if (p == "/twinbox/v1/images/export" && m == "GET")
    return export_from_store(client, head, body_pending);
  if (p == "/twinbox/v1/images/prune" && m == "POST") {
    if (!images_)
      return answer(client, head, error_response(503, "this twinboxd has no content store"),
                    "local", body_pending);
    auto gc = images_->content().gc();
    LocalResponse r = gc ? json_response(200, dump_json(Json{{"blobs_removed", gc->blobs_removed},
                                                             {"bytes_freed", gc->bytes_freed}}))
                         : error_response(gc.error().context("prune the content store"));
    return answer(client, head, r, "local", body_pending);
  }
  if (p == "/twinbox/v1/images/prewarm" && m == "POST") {
    auto body = small_body();
    if (!body) return answer(client, head, error_response(body.error()), "local", false);
    return prewarm(client, head, *body);
  }
  return answer(client, head,
                error_response(404, "unknown twinbox endpoint " + m + " " + p +
                                        " (see docs/internals.md for /twinbox/v1)"),
                "local", body_pending);
}

}  // namespace twinbox::api
