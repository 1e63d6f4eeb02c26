#pragma once
// The run decision: where one container (or a pull/build of one image) runs, from the explicit
// platform, the platforms the image offers, which backends are up, the translator configuration,
// the host profile and the group it belongs to (compose project, pod). Pure and table-tested:
// the api looks the inputs up (image index, backend states, registry) and calls decide_run().
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/host_profile.hpp"
#include "platform/platform.hpp"
#include "router/platform_route.hpp"
#include "util/result.hpp"

namespace twinbox::router {

// The io.twinbox.translator values. A translated decision names the profile's translator with
// the flags of its binfmt rule (platform::translator_label); the daemon replaces the flags with
// those the guest reports once it is up. The rosetta stand-in is qemu-x86_64 registered with
// P (preserve argv[0]), O (open by the kernel), C (credentials) and F (fix the binary).
inline constexpr std::string_view kTranslatorNone = "none";
inline constexpr std::string_view kTranslatorRosetta = "qemu-x86_64 (binfmt POCF)";
// The fallback translator for amd64 inside hv (twinboxd --no-rosetta --hv-fallback-translator
// qemu-x86_64 registers the same binfmt rule in hv; not configured by default).
inline constexpr std::string_view kTranslatorHvFallback = "qemu-x86_64 (binfmt POCF, hv fallback)";
// io.twinbox.execution: how the container's platform runs on its backend.
inline constexpr std::string_view kExecutionNative = "native";
inline constexpr std::string_view kExecutionTranslated = "translated";

struct TranslatorConfig {
  // Backends of the profile this twinboxd does not run (twinboxd --no-rosetta): what they would
  // translate goes to the fallback translator, or is refused (503).
  std::vector<std::string> disabled;
  // The label of a translator registered in the profile's default backend for what a disabled
  // backend translates ("" = none): twinboxd --no-rosetta --hv-fallback-translator qemu-x86_64.
  std::string fallback;
  bool enabled(std::string_view backend) const;
};

// Backend states as api::backend_state_name spells them: "running", "starting", "stopping",
// "stopped", "failed"; "" means the backend is not configured. Only "running" takes work.
struct BackendStates {
  std::map<std::string, std::string, std::less<>> state;  // by backend name
  // A backend `state` does not list: "running" when true (placement only, tests), else "".
  bool unlisted_running = true;
  const std::string& of(std::string_view backend) const;
  BackendStates& set(std::string backend, std::string s) {
    state[std::move(backend)] = std::move(s);
    return *this;
  }
};

// Everything about the daemon a decision depends on.
struct RouteEnv {
  const platform::HostProfile* profile = nullptr;  // nullptr: platform::default_profile()
  TranslatorConfig translator;
  BackendStates backends;
  bool mixed_projects = false;  // experimental: containers of one project decided one by one
  const platform::HostProfile& host() const;
};

// Who placed a compose project on its backend.
enum class PlacementSource { Declared, FirstContainer };

// Where a compose project runs, once it has a place. From the registry's project summary:
// declared -> Declared; else the backend its first container took (FirstContainer). A project
// whose containers already span backends (mixed mode) has no placement: pass nullopt.
struct ProjectPlacement {
  std::string name;     // com.docker.compose.project
  std::string backend;  // "hv" or "rosetta"
  PlacementSource source = PlacementSource::Declared;
  std::string decided_by;  // FirstContainer: "container web" (the registry's wording)
};

// A container this one shares a namespace or volumes with.
struct PodPeer {
  std::string name;      // as referenced: "db"
  std::string backend;   // where the peer runs
  std::string relation;  // "network_mode container:db", "volumes_from db", "links db", ...
};

struct GroupContext {
  std::string project_name;  // com.docker.compose.project, "" when none
  // The project's placement once it has one: declared, or the backend its first container took.
  std::optional<ProjectPlacement> project;
  std::vector<PodPeer> pod_peers;
};

struct RunRequest {
  std::string name;  // the container or service, for messages ("" when unknown)
  std::optional<std::string> query_platform;  // ?platform= (wins over the body)
  std::optional<std::string> body_platform;   // the create body's platform field
  // The platforms the image offers (index entries, or the local image's config); nullopt when
  // unknown (not pulled, registry unreachable).
  std::optional<std::vector<platform::Platform>> image_platforms;
  GroupContext group;
};

struct RunDecision {
  std::string backend;     // "hv" or "rosetta"
  std::string translator;  // kTranslatorNone, kTranslatorRosetta or the hv fallback's name
  std::string platform;    // normalized platform that runs: "linux/amd64"
  std::string reason;      // one human line, always naming the host profile
  std::string execution = std::string(kExecutionNative);  // or kExecutionTranslated
};

// The decision for one container. Errors (HTTP status via error_code_http_status):
//  InvalidArgument (400) - a platform string that does not parse, or one the host profile
//                          cannot run (the message lists the accepted platforms);
//  NotFound (404)        - the image offers no platform wanted/runnable (lists what it offers);
//  Conflict (409)        - the project's or the pod peers' backend cannot run this container;
//  Unavailable (503)     - the chosen backend is not running, or amd64 with rosetta disabled and
//                          no fallback translator.
Result<RunDecision> decide_run(const RunRequest& req, const RouteEnv& env);

// decide_run() without the group rules and backend states, on `backend` ("hv"/"rosetta"):
// how the container runs there (a multi-arch image on rosetta runs its amd64 variant).
// Conflict "NEEDS does not run on BACKEND" when it runs elsewhere only; the container's own
// errors (bad platform, nothing runnable, translator disabled) as decide_run() gives them.
Result<RunDecision> decide_on_backend(const RunRequest& req, const RouteEnv& env,
                                      std::string_view backend);

// "--platform linux/amd64" or "platform linux/amd64 in the request body" or "" (no platform):
// the explicit platform of a request, query first.
std::optional<std::string> explicit_platform(const RunRequest& req);

// "linux/amd64, linux/arm64" or "unknown" for messages; BuildKit attestation entries
// (unknown/unknown) are left out.
std::string platforms_text(const std::optional<std::vector<platform::Platform>>& ps);

// Parses "linux/amd64, arm64" (comma or space separated) with platform::parse_platform's
// containerd normalization; "unknown" gives nullopt. InvalidArgument naming the bad entry.
Result<std::optional<std::vector<platform::Platform>>> parse_platform_list(std::string_view s);

}  // namespace twinbox::router
