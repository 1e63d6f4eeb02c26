#include "router/run_decision.hpp"

#include "router/platform_route.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

using platform::HostProfile;
using platform::Platform;

namespace {

struct Placement {
  std::string backend;
  std::string translator;
  std::string why;  // "linux/amd64 runs on rosetta (translated by qemu-x86_64, host profile ...)"
};

// Where `p` really runs, given how the profile says `r.backend` runs it, under the translator
// config: natively where it is; translated on rosetta while rosetta is enabled, else in hv
// through the fallback translator, else a clear 503.
Result<Placement> place(const Platform& p, const platform::Runs& r, const RouteEnv& env) {
  const HostProfile& prof = env.host();
  std::string runs = platform::runs_reason(p, r, prof.name);
  if (r.execution == platform::Execution::Native)
    return Placement{r.backend, std::string(kTranslatorNone), runs};
  std::string label = platform::translator_label(r.translator->name, r.translator->flags);
  if (env.translator.enabled(r.backend)) return Placement{r.backend, label, runs};
  const std::string& home = prof.default_backend();
  if (!env.translator.fallback.empty())
    return Placement{home, env.translator.fallback,
                     p.to_string() + " runs in " + home + " through the fallback translator " +
                         env.translator.fallback + " because " + r.backend +
                         " is disabled (host profile " + prof.name + ")"};
  return make_error(ErrorCode::Unavailable,
                    p.to_string() + " needs the " + r.backend +
                        " translator: translator disabled and no fallback translator configured "
                        "(host profile " +
                        prof.name + "); enable " + r.backend +
                        " or configure a fallback translator for " + home +
                        " in the twinbox configuration");
}

// Marks a decision that exists but not on the backend a group requires; callers reword it.
constexpr std::string_view kWrongBackend = "wrong-backend:";

Error wrong_backend(const std::string& needs) {
  return make_error(ErrorCode::Conflict, std::string(kWrongBackend) + needs);
}

bool is_wrong_backend(const Error& e) {
  return e.code == ErrorCode::Conflict && starts_with(e.message, kWrongBackend);
}

// What the container needs, in words, once it could not join a backend: "its image offers only
// linux/amd64" / "--platform linux/amd64 requested".
std::string needs_text(const RunRequest& req) {
  if (auto ep = explicit_platform(req)) return *ep;
  return "its image offers only " + platforms_text(req.image_platforms);
}

RunDecision decided(const Platform& p, const Placement& pl, std::string reason) {
  bool native = pl.translator == kTranslatorNone;
  return RunDecision{pl.backend, pl.translator, p.to_string(), std::move(reason),
                     std::string(native ? kExecutionNative : kExecutionTranslated)};
}

// The decision on `target` ("" = anywhere). A group's backend is asked first whether it runs
// the container (natively or translated: rosetta takes an arm64-only pod member); otherwise the
// container goes where it would go alone, which must be the target (the hv fallback translator
// lands amd64 in hv). Errors other than wrong_backend are the container's own (it cannot run
// anywhere).
Result<RunDecision> decide_core(const RunRequest& req, const RouteEnv& env,
                                const std::string& target) {
  const HostProfile& prof = env.host();
  auto requested = requested_platform(req.query_platform, req.body_platform);
  std::optional<std::string> on;
  if (!target.empty() && prof.support(target)) on = target;
  // The choice on the target, kept when its placement really lands there.
  auto on_target =
      [&](const std::optional<platform::IndexChoice>& here) -> std::optional<Placement> {
    if (!here) return std::nullopt;
    auto pl = place(here->platform, here->runs, env);
    if (!pl || pl->backend != target) return std::nullopt;
    return *pl;
  };

  if (requested) {
    const std::string& origin = requested->origin;
    auto parsed = platform::parse_platform(requested->platform);
    if (!parsed)
      return make_error(ErrorCode::InvalidArgument, origin + ": " + parsed.error().message +
                                                        " (host profile " + prof.name + " runs " +
                                                        prof.accepted_text() + ")");
    Platform want = *parsed;
    auto strict = prof.backend_for(want);
    platform::IndexChoice alone;  // where it runs when nothing ties it to a backend
    std::optional<platform::IndexChoice> here;
    std::string offered;
    if (req.image_platforms) {
      bool runnable = false;
      for (const auto& c : platform::compatible_platforms(want))
        if (prof.backend_for(c).backend) runnable = true;
      if (!runnable) return make_error(ErrorCode::InvalidArgument, origin + ": " + strict.reason);
      auto pick = prof.select_from_index(*req.image_platforms, want);
      if (!pick) return pick.error().context(origin);
      alone = *pick;
      if (on) here = prof.select_on(*on, *req.image_platforms, want);
      offered = ", the image offers " + platforms_text(req.image_platforms);
    } else {
      if (!strict.backend)
        return make_error(ErrorCode::InvalidArgument, origin + ": " + strict.reason);
      Platform n = platform::normalize(want);
      alone = platform::IndexChoice{0, *strict.backend, n, strict.reason, *strict.runs};
      if (on)
        if (auto m = prof.runs_on(*on, n); m.backend)
          here = platform::IndexChoice{0, *on, n, m.reason, *m.runs};
      offered = " (the image's platforms are unknown)";
    }
    if (auto pl = on_target(here))
      return decided(here->platform, *pl, origin + offered + ": " + pl->why);
    auto placed = place(alone.platform, alone.runs, env);
    if (!placed) return placed.error().context(origin);
    if (!target.empty() && placed->backend != target) return wrong_backend(origin);
    return decided(alone.platform, *placed, origin + offered + ": " + placed->why);
  }

  if (!req.image_platforms) {
    // The engine picks its own native platform: the target's, or the default backend's.
    if (!target.empty() && !on) return wrong_backend(needs_text(req));
    const platform::BackendSupport* b =
        on ? prof.support(*on) : (prof.backends.empty() ? nullptr : &prof.backends.front());
    if (!b || b->native.empty()) return wrong_backend(needs_text(req));
    RunDecision d;
    d.backend = b->name;
    d.translator = std::string(kTranslatorNone);
    d.platform = b->native.front().to_string();
    d.reason = "no platform requested and the image's platforms are unknown: " + d.backend +
               (on ? " runs the engine's native " + d.platform : ", the default backend") +
               " (host profile " + prof.name + ")";
    return d;
  }

  std::string offered =
      "no platform requested, the image offers " + platforms_text(req.image_platforms) + ": ";
  if (on) {
    auto here = prof.select_on(*on, *req.image_platforms, std::nullopt);
    if (auto pl = on_target(here)) return decided(here->platform, *pl, offered + pl->why);
  }
  auto pick = prof.select_from_index(*req.image_platforms, std::nullopt);
  if (!pick) return pick.error();
  TRY_ASSIGN(Placement pl, place(pick->platform, pick->runs, env));
  if (!target.empty() && pl.backend != target) return wrong_backend(needs_text(req));
  return decided(pick->platform, pl, offered + pl.why);
}

std::string placement_text(const ProjectPlacement& p) {
  if (p.source == PlacementSource::Declared) return "declared";
  return "decided by its first " + (p.decided_by.empty() ? std::string("container") : p.decided_by);
}

std::string container_text(const RunRequest& req) {
  return req.name.empty() ? "this container" : "container " + req.name;
}

}  // namespace

Result<RunDecision> decide_on_backend(const RunRequest& req, const RouteEnv& env,
                                      std::string_view backend) {
  auto d = decide_core(req, env, std::string(backend));
  if (!d && is_wrong_backend(d.error()))
    return make_error(ErrorCode::Conflict, d.error().message.substr(kWrongBackend.size()) +
                                               ", which does not run on " + std::string(backend) +
                                               " (host profile " + env.host().name + ")");
  return d;
}

const std::string& BackendStates::of(std::string_view backend) const {
  static const std::string kNone, kRunning = "running";
  if (auto it = state.find(backend); it != state.end()) return it->second;
  return unlisted_running ? kRunning : kNone;
}

bool TranslatorConfig::enabled(std::string_view backend) const {
  for (const auto& d : disabled)
    if (d == backend) return false;
  return true;
}

const platform::HostProfile& RouteEnv::host() const {
  return profile ? *profile : platform::default_profile();
}

std::optional<std::string> explicit_platform(const RunRequest& req) {
  auto r = requested_platform(req.query_platform, req.body_platform);
  if (!r) return std::nullopt;
  return r->origin;
}

std::string platforms_text(const std::optional<std::vector<platform::Platform>>& ps) {
  if (!ps) return "unknown";
  std::vector<std::string> names;
  for (const auto& p : *ps) {
    // BuildKit's attestation manifests sit in indexes as unknown/unknown: not a platform.
    if (p.os == "unknown") continue;
    names.push_back(platform::normalize(p).to_string());
  }
  return names.empty() ? "nothing" : join(names, ", ");
}

Result<std::optional<std::vector<platform::Platform>>> parse_platform_list(std::string_view s) {
  std::string text(trim(s));
  if (to_lower(text) == "unknown") return std::optional<std::vector<platform::Platform>>();
  for (char& c : text)
    if (c == ',') c = ' ';
  std::vector<platform::Platform> out;
  for (const auto& word : split(text, ' ')) {
    if (trim(word).empty()) continue;
    TRY_ASSIGN(auto p, platform::parse_platform(word));
    out.push_back(p);
  }
  return std::optional<std::vector<platform::Platform>>(std::move(out));
}

Result<RunDecision> decide_run(const RunRequest& req, const RouteEnv& env) {
  const HostProfile& prof = env.host();
  // The backend the group requires, and why, in words for the reason and for conflicts.
  std::string target, joins;
  const PodPeer* pod_peer = nullptr;
  for (const auto& peer : req.group.pod_peers) {
    if (!target.empty() && peer.backend != target)
      return make_error(ErrorCode::Conflict,
                        container_text(req) + " shares a pod with " + pod_peer->name + " (" +
                            pod_peer->relation + ") on " + pod_peer->backend + " and with " +
                            peer.name + " (" + peer.relation + ") on " + peer.backend +
                            ": a pod never spans backends (host profile " + prof.name +
                            "); recreate one of them on the other's backend");
    if (target.empty()) {
      target = peer.backend;
      pod_peer = &peer;
    }
  }
  const auto& project = req.group.project;
  const std::string& pname =
      project && !project->name.empty() ? project->name : req.group.project_name;
  bool follow_project = project && !env.mixed_projects;
  if (follow_project && !target.empty() && project->backend != target)
    return make_error(ErrorCode::Conflict,
                      container_text(req) + " joins pod peer " + pod_peer->name + " (" +
                          pod_peer->relation + ") on " + pod_peer->backend + " but project " +
                          pname + " is on " + project->backend + " (" + placement_text(*project) +
                          "); a pod never spans backends (host profile " + prof.name + ")");
  if (pod_peer) {
    joins = "; joins pod peer " + pod_peer->name + " (" + pod_peer->relation + ") on " + target;
  } else if (follow_project) {
    target = project->backend;
    joins = "; joins project " + pname + " on " + target + " (" + placement_text(*project) + ")";
  } else if (project) {
    joins = "; project " + pname + " is on " + project->backend +
            ", but mixed-backend projects (experimental) decide each container";
  } else if (!pname.empty()) {
    joins = "; first container of project " + pname + ": places the project";
  }

  auto d = decide_core(req, env, target);
  if (!d) {
    if (!is_wrong_backend(d.error())) return d.error();
    std::string needs = d.error().message.substr(kWrongBackend.size());
    if (pod_peer)
      return make_error(ErrorCode::Conflict,
                        container_text(req) + " cannot join pod peer " + pod_peer->name + " (" +
                            pod_peer->relation + ") on " + target + ": " + needs +
                            ", which does not run there (host profile " + prof.name +
                            "); a pod never spans backends: run both on one platform");
    std::string service = req.name.empty() ? "this service" : "service " + req.name;
    return make_error(
        ErrorCode::Conflict,
        service + " cannot join compose project " + pname + " on " + project->backend + " (" +
            placement_text(*project) + "): " + needs + ", which does not run on " +
            project->backend + " (host profile " + prof.name +
            (project->source == PlacementSource::Declared
                 ? "); re-declare the project from the compose file that has this service: "
                 : "); declare the project first: ") +
            "`twinbox compose -f FILE up`, or remove it with `docker-compose down`");
  }
  d->reason += joins;

  const std::string& state = env.backends.of(d->backend);
  if (state.empty())
    return make_error(
        ErrorCode::Unavailable,
        "backend " + d->backend + " is not configured in this twinboxd; " + d->reason);
  if (state != "running")
    return make_error(ErrorCode::Unavailable,
                      "backend " + d->backend + " is not running (state: " + state + "); " +
                          d->reason + "; retry when `twinbox status` shows it running");
  return d;
}

}  // namespace twinbox::router
