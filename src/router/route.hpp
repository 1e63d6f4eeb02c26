#pragma once
// The routing decision, pure and table-testable: one Docker API request (method, path, query,
// platform from the body) plus the workload registry in, one Decision out. The api module
// executes decisions; nothing here touches a socket.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "router/groups.hpp"
#include "router/platform_route.hpp"
#include "router/run_decision.hpp"
#include "router/workload_registry.hpp"
#include "util/result.hpp"

namespace twinbox::router {

// The API version twinbox speaks before any engine said its own (Debian 12's dockerd 20.10), the
// newest it speaks whatever its engines do (Debian 13's dockerd 26), and the oldest it accepts.
// Once engines answered, twinboxd speaks the lowest of their versions (common_api_version).
inline constexpr std::string_view kApiVersion = "1.41";
inline constexpr std::string_view kMaxApiVersion = "1.45";
inline constexpr std::string_view kMinApiVersion = "1.12";

// "1.41" -> 1041; -1 when malformed.
int api_version_number(std::string_view v);
// The API version every engine of `engine_versions` speaks: the lowest well-formed one, at most
// kMaxApiVersion; kApiVersion when none is known.
std::string common_api_version(const std::vector<std::string>& engine_versions);

// Endpoints twinboxd answers itself (some by asking both engines).
enum class LocalHandler {
  Ping,
  Version,
  Info,
  ListContainers,
  ListImages,
  Status,
  Shutdown,
  Twinbox,       // the rest of /twinbox/v1: route explain, projects, the content store
  ListNetworks,  // GET /networks: both engines, one entry per name
  ListVolumes,   // GET /volumes: both engines, one entry per name
  Auth,          // POST /auth (docker login): checked against the registry from the host
  Prune,         // POST /{containers,images,networks,volumes,build}/prune: every engine, summed
  SystemDf,      // GET /system/df: both engines, one answer
  Events,        // GET /events: both engines' streams merged in time order
  BuildKit,      // POST /grpc: BuildKit's HTTP/2 control API, each call to its build's engine
};
const char* local_handler_name(LocalHandler h);

// What to record once the backend answered with a 2xx.
enum class FollowUp {
  None,
  RecordContainer,  // POST /containers/create: the response's Id, named by `name`
  RecordExec,       // POST /containers/{id}/exec: the response's Id
  RenameContainer,  // POST /containers/{id}/rename?name=new
  ForgetContainer,  // DELETE /containers/{id}
};

// What the api looked up for a POST /containers/create before deciding (the body, the image's
// platforms from the content store or the engines). Absent: decided on the platform alone.
struct CreateInput {
  std::string image;
  std::optional<std::vector<platform::Platform>> image_platforms;  // nullopt: unknown
  std::string image_platforms_source;  // "content store", "engine rosetta", ...
  std::string project;                 // com.docker.compose.project
  std::string service;                 // com.docker.compose.service
  std::vector<PodRef> pod_refs;
};

struct RouteInput {
  std::string method;
  std::string path;         // version prefix removed, percent-decoded
  std::string api_version;  // "" when the client sent none
  std::string api_max;      // the newest version twinboxd speaks now; "" means kApiVersion
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::optional<std::string> body_platform;                // "platform" field of a create body
  std::string session_uuid;  // X-Docker-Expose-Session-Uuid header, "" when absent
  // POST /networks/{id}/connect|disconnect: the body's "Container" (read first by the api).
  std::optional<std::string> body_container;
  std::optional<CreateInput> create;
  RouteEnv env;  // profile, translator config, backend states, experimental switches
  std::optional<std::string> query_value(std::string_view name) const;
};

struct Decision {
  enum class Kind {
    Local,    // answered by twinboxd: `local`
    Backend,  // forwarded to `backend`
    Probe,    // container/exec unknown: ask every running engine for `probe_path`, then forward
    Error,    // answered with `error`
    // Sent to every running backend (networks and volumes exist in both VMs, so a container
    // finds them wherever it lands); the answer is hv's, or the first success.
    Replicate,
  };
  Kind kind = Kind::Error;
  LocalHandler local = LocalHandler::Ping;
  std::string backend;
  // Retry here when `backend` answers 404 and the request has no body (images by name).
  std::string fallback_backend;
  std::string probe_path;  // Probe: "/containers/{ref}/json" or "/exec/{id}/json"
  bool probe_exec = false;
  Error error;
  std::string reason;  // one human line, logged and shown in labels

  FollowUp follow_up = FollowUp::None;
  std::string container_id;  // the resolved id the request is about ("" if not unique/known)
  std::string name;          // RecordContainer: the name query; RenameContainer: the new name
  std::optional<PlatformChoice> platform;  // create/pull/build: the platform that chose
  std::string translator;                  // create: the translator the decision names
  std::string execution;                   // create: "native" or "translated"
  std::string project;                     // create: its compose project ("" when none)

  // True for endpoints that may switch the connection to a raw stream (attach, exec start).
  bool hijack_endpoint = false;

  // BuildKit: `POST /session` arrives before the build that uses it and says nothing about the
  // platform. The session waits for the build naming it (`POST /build?session=ID`) and follows
  // it to its backend; `backend` is only the default when no build claims it in time.
  std::string session_wait;   // /session: the session id (X-Docker-Expose-Session-Uuid)
  std::string session_claim;  // /build: the session id it names
};

// True when decide() needs `body_platform`: the caller reads the (small) body first.
bool needs_body_platform(std::string_view method, std::string_view path);
// True when decide() needs `body_container` (network connect/disconnect).
bool needs_body_container(std::string_view method, std::string_view path);

Decision decide(const RouteInput& in, const WorkloadRegistry& registry);

// What a container of compose project `project` is routed with: the project's placement when it
// is declared or has a container (none for a mixed project). Pod peers are left to the caller.
GroupContext project_group(const WorkloadRegistry& registry, const std::string& project);

}  // namespace twinbox::router
