// The Dispatcher's image work: docker pull through the host's content store (one fetch for both
// VMs, digest-verified, Docker-style progress), delivery of a stored image into the engine a
// container was routed to, and the platforms an image offers for routing a create.
#include <cstdio>
#include <set>

#include "api/dispatch.hpp"
#include "api/docker_json.hpp"
#include "api/engine_client.hpp"
#include "api/json_stream.hpp"
#include "image/auth_config.hpp"
#include "store/archive_io.hpp"
#include "store/docker_archive.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {

Json status_line(const std::string& status, const std::string& id = "") {
  Json j{{"status", status}};
  if (!id.empty()) j["id"] = id;
  return j;
}

std::string human_bytes(int64_t n) {
  char buf[32];
  if (n >= 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1fMB", static_cast<double>(n) / 1e6);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1fkB", static_cast<double>(n) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(n));
  }
  return buf;
}

Json progress_line(const image::PullProgress& p) {
  if (p.phase == image::PullPhase::Downloading) {
    int width = 50, done = p.total > 0 ? static_cast<int>(p.current * width / p.total) : 0;
    std::string bar = "[" + std::string(static_cast<size_t>(done), '=') + ">" +
                      std::string(static_cast<size_t>(std::max(0, width - done - 1)), ' ') + "]";
    return Json{{"status", "Downloading"},
                {"progressDetail", {{"current", p.current}, {"total", p.total}}},
                {"progress", bar + " " + human_bytes(p.current) + "/" + human_bytes(p.total)},
                {"id", p.id}};
  }
  const char* text =
      p.phase == image::PullPhase::Waiting ? "Pulling fs layer" : image::pull_phase_text(p.phase);
  return Json{{"status", text}, {"progressDetail", Json::object()}, {"id", p.id}};
}

// "fromImage" + "tag" as docker sends them: the tag may be a digest.
std::string pull_reference(const http::RequestHead& head) {
  std::string from = head.query_value("fromImage").value_or("");
  std::string tag = head.query_value("tag").value_or("");
  if (tag.empty() || from.find('@') != std::string::npos) return from;
  return from + (starts_with(tag, "sha256:") ? "@" : ":") + tag;
}

}  // namespace

std::string Dispatcher::api_version() const {
  std::vector<std::string> apis;
  for (const auto& s : backends_.statuses())
    if (s.state == BackendState::Running && !s.engine_api_version.empty())
      apis.push_back(s.engine_api_version);
  return router::common_api_version(apis);
}

router::RouteEnv Dispatcher::route_env() const {
  router::RouteEnv env = env_;
  env.backends = router::BackendStates{{}, false};  // a backend without a VM: not configured
  for (const auto& s : backends_.statuses()) {
    // Only "running" takes work; any other state carries its detail into the refusal.
    std::string state = backend_state_name(s.state);
    if (s.state != BackendState::Running && !s.detail.empty()) state += ": " + s.detail;
    env.backends.set(s.name, state);
  }
  return env;
}

Status Dispatcher::deliver(const std::string& backend, const pull::StoredImage& img) {
  auto* conn = backends_.connector(backend);
  if (!conn) return make_error(ErrorCode::Internal, "no connector for backend " + backend);
  std::vector<std::string> tags;
  if (!img.reference.tag.empty())
    if (auto t = store::docker_repo_tag(img.reference.familiar_name() + ":" + img.reference.tag))
      tags.push_back(*t);
  auto& store = images_->content();
  auto r = engine_upload(*conn, "POST", "/images/load?quiet=1", "application/x-tar",
                         [&](const std::function<Status(std::string_view)>& write) {
                           return store::write_docker_archive(store, img.manifest, tags, write);
                         });
  std::string what = "deliver " + img.reference.familiar() + " (" + img.platform + ", " +
                     img.manifest.str() + ") into the " + backend + " engine";
  if (!r) return r.error().context(what);
  // docker load answers 200 with a JSON stream; a failure is an errorDetail line in it.
  for (const auto& l : split(r->body, '\n')) {
    auto j = parse_json<Json>(l);
    if (auto e = json_string(j, "error"))
      return make_error(ErrorCode::Io, what + ": the engine said: " + *e);
  }
  if (r->status != 200)
    return make_error(ErrorCode::Io,
                      what + ": the engine answered " + std::to_string(r->status) + ": " + r->body);
  log::info("images", what + ": loaded");
  return {};
}

std::pair<std::optional<std::vector<platform::Platform>>, std::string> Dispatcher::image_platforms(
    const std::string& image, bool explicit_platform) {
  if (image.empty()) return {std::nullopt, ""};
  if (images_)
    if (auto o = images_->offer_local(image)) return {o->platforms, o->source};
  // With an explicit platform the engines' single local platform would only turn a request
  // the registry can satisfy into a refusal; without one it is what the image is.
  if (explicit_platform) return {std::nullopt, ""};
  std::vector<platform::Platform> found;
  std::vector<std::string> where;
  for (const auto& r : fan_out("/images/" + image + "/json")) {
    if (!r.body) continue;
    auto text = image_inspect_platform(parse_json<Json>(*r.body));
    if (!text) continue;
    auto p = platform::parse_platform(*text);
    if (!p) continue;
    where.push_back(r.backend);
    if (std::find(found.begin(), found.end(), *p) == found.end()) found.push_back(*p);
  }
  if (found.empty()) return {std::nullopt, ""};
  return {found, "the " + join(where, " and ") + " engine" + (where.size() > 1 ? "s" : "")};
}

std::optional<pull::StoredImage> Dispatcher::ensure_image(const std::string& backend,
                                                          const std::string& image,
                                                          const std::string& platform_str) {
  if (!images_ || image.empty() || platform_str.empty()) return std::nullopt;
  auto want = platform::parse_platform(platform_str);
  auto ref = platform::parse_reference(image);
  if (!want || !ref) return std::nullopt;  // an image ID or a name the engine resolves itself
  auto stored = images_->stored(image, *want);
  if (!stored && images_->offer_local(image)) {
    // The store has this image for another platform: the user pulled it, so fetching the
    // variant this backend needs is what they asked for.
    if (auto offer = images_->offer_for_pull(image); offer && offer->registry) {
      stored = images_->pull(*offer, *want);
      if (!stored) log::warn("images", stored.error().message);
    }
  }
  if (!stored) return std::nullopt;
  auto* conn = backends_.connector(backend);
  if (!conn) return std::nullopt;
  // An engine that lacks the name gets it, and so does one whose image of that name is another
  // platform's (rosetta runs arm64 natively: a multi-arch name pulled there for amd64 must not
  // run an arm64 decision translated). An image of the decided platform built or loaded there
  // stays. A name@digest reference is looked up by image ID: a loaded image has no RepoDigests.
  std::string what = ref->digest.empty() ? image : stored->config.str();
  auto present = engine_request(*conn, "GET", "/images/" + what + "/json");
  bool other_platform = false;
  if (present && present->status == 200) {
    auto text = image_inspect_platform(parse_json<Json>(present->body));
    auto have = text ? platform::parse_platform(*text) : Result<platform::Platform>(Error{});
    if (have) {
      const platform::Platform& b = *want;
      // An image config without a variant matches on os and arch (containerd's rule).
      other_platform = have->os != b.os || have->arch != b.arch ||
                       (!have->variant.empty() && !b.variant.empty() && have->variant != b.variant);
    }
  }
  if ((present && present->status == 404) || other_platform) {
    if (auto st = deliver(backend, *stored); !st) {
      log::warn("images", st.error().message);
      return std::nullopt;
    }
  }
  return std::move(stored).value();
}

RequestOutcome Dispatcher::serve_pull(Stream& client, const http::RequestHead& head,
                                      bool body_pending) {
  std::string reference = pull_reference(head);
  // The docker client's credentials (from its own docker login) replace twinboxd's for this pull.
  image::PullCredentials creds;
  if (auto header = head.headers.get("X-Registry-Auth")) {
    auto parsed = image::parse_registry_auth_header(*header);
    if (!parsed) return answer(client, head, error_response(parsed.error()), "-", body_pending);
    if (*parsed) creds = (*parsed)->credentials;
  }
  auto offer = images_->offer_for_pull(reference, creds);
  if (!offer) {
    Error e = offer.error();
    if (e.code == ErrorCode::InvalidArgument || e.code == ErrorCode::NotFound)
      return answer(client, head, error_response(e), "-", body_pending);
    return answer(client, head, error_response(e), "registry", body_pending);
  }
  router::RunRequest req;
  req.query_platform = head.query_value("platform");
  if (req.query_platform && trim(*req.query_platform).empty()) req.query_platform.reset();
  req.image_platforms = offer->platforms;
  auto run = router::decide_run(req, route_env());
  if (!run) return answer(client, head, error_response(run.error()), "-", body_pending);
  auto want = platform::parse_platform(run->platform);
  if (!want) return answer(client, head, error_response(want.error()), "-", body_pending);
  if (body_pending && !drain_pull_body(client, head))
    return RequestOutcome{400, "-", false, run->reason};

  JsonStream out(client);
  if (auto st = out.begin(identity_.version); !st)
    return RequestOutcome{200, run->backend, false, ""};
  const auto& ref = offer->reference;
  out.line(
      status_line("Pulling from " + ref.familiar_name(), ref.tag.empty() ? ref.digest : ref.tag));
  out.line(
      status_line("twinbox: " + run->platform + " for " + run->backend + " (" + run->reason + ")"));
  if (!offer->note.empty()) out.line(status_line("twinbox: " + offer->note));
  auto stored = images_->pull(
      *offer, *want, [&](const image::PullProgress& p) { out.line(progress_line(p)); }, creds);
  Status st = stored ? deliver(run->backend, *stored) : Status(stored.error());
  if (!st) {
    out.error(st.error().context("pull " + ref.familiar() + " for " + run->backend).message);
    out.end();
    return RequestOutcome{200, run->backend, false, run->reason};
  }
  std::string top = offer->registry ? offer->registry->digest.str() : stored->manifest.str();
  out.line(status_line("Digest: " + top));
  out.line(status_line("twinbox: pinned " + stored->pinned() + " (" + stored->platform + ")"));
  out.line(status_line(std::string(stored->fetched ? "Status: Downloaded newer image for "
                                                   : "Status: Image is up to date for ") +
                       ref.familiar()));
  bool keep = out.end() && http::wants_keep_alive(head);
  return RequestOutcome{200, run->backend, keep, run->reason};
}

// docker load: the archive (docker-archive or OCI archive) goes into the host content store, read
// defensively, then each image's platforms are routed like a create and delivered into the engine
// that can run them: an amd64 image lands in rosetta, not in whichever engine got the upload.
RequestOutcome Dispatcher::serve_load(Stream& client, const http::RequestHead& head) {
  auto imported = import_upload(client, head, "");
  if (!imported) {
    Error e = imported.error().context("docker load");
    if (e.code == ErrorCode::InvalidArgument && e.message.find("name") != std::string::npos)
      e.message += "; tag the image before `docker save`, or use `twinbox image import --name`";
    return answer(client, head, error_response(e), "-", false);
  }
  JsonStream out(client);
  if (auto st = out.begin(identity_.version); !st) return RequestOutcome{200, "-", false, ""};
  auto stream = [&](const std::string& text) { out.line(Json{{"stream", text + "\n"}}); };
  auto fail = [&](const Error& e, const std::string& backend) {
    out.error(e.message);
    out.end();
    return RequestOutcome{200, backend, false, ""};
  };
  std::set<std::string> used;
  for (const auto& img : imported->images) {
    auto ref = platform::parse_reference(img.reference);
    auto platforms = images_->stored_all(img.reference);
    if (!ref || !platforms || platforms->empty())
      return fail(Error{ErrorCode::InvalidArgument,
                        "docker load: " + img.reference + ": no complete image in the archive"},
                  "-");
    for (const auto& stored : *platforms) {
      auto want = platform::parse_platform(stored.platform);
      router::RunRequest req;
      if (want) req.image_platforms = std::vector<platform::Platform>{*want};
      auto run =
          want ? router::decide_run(req, route_env()) : Result<router::RunDecision>(want.error());
      // Like dockerd, a load takes an image nobody can run; it waits in the default backend.
      std::string backend = run ? run->backend : home();
      std::string why = run ? run->reason : "no backend runs it: " + run.error().message;
      if (auto st = deliver(backend, stored); !st)
        return fail(st.error().context("docker load " + ref->familiar()), backend);
      used.insert(backend);
      stream("twinbox: " + stored.platform + " loaded into " + backend + " (" + why + ")");
    }
    stream("Loaded image: " + ref->familiar());
  }
  bool keep = out.end() && http::wants_keep_alive(head);
  return RequestOutcome{200, join(std::vector<std::string>(used.begin(), used.end()), "+"), keep,
                        "docker load into the content store, each platform to its backend"};
}

bool Dispatcher::drain_pull_body(Stream& client, const http::RequestHead& head) {
  auto framing = http::request_framing(head);
  if (!framing) return false;
  return read_body(client, *framing, 1u << 20).has_value();
}

}  // namespace twinbox::api
