// POST /grpc: BuildKit's control API, relayed call by call (grpc_proxy.hpp).
#include <algorithm>

#include "api/buildkit_calls.hpp"
#include "api/dispatch.hpp"
#include "api/grpc_proxy.hpp"
#include "util/log.hpp"

namespace twinbox::api {

std::vector<std::string> Dispatcher::running_backends() const {
  std::vector<std::string> out;
  for (const auto& s : backends_.statuses())
    if (s.state == BackendState::Running && backends_.connector(s.name)) out.push_back(s.name);
  std::stable_partition(out.begin(), out.end(), [&](const std::string& b) { return b == home(); });
  return out;
}

RequestOutcome Dispatcher::serve_buildkit(Stream& client, const http::RequestHead& head) {
  auto host = route_env().host();
  GrpcProxyEnv env;
  env.home = home();
  env.sessions = &sessions_;
  env.tracker = tracker_;
  env.open_engine = [this](const std::string& backend) -> Result<std::unique_ptr<Stream>> {
    if (auto e = unavailable(backend, "a BuildKit build runs there")) return *e;
    auto* conn = backends_.connector(backend);
    if (!conn) return make_error(ErrorCode::Internal, "no connector for backend " + backend);
    TRY_ASSIGN(Fd fd, conn->connect());
    return upgrade_engine_grpc(std::move(fd));
  };
  env.build_backend = [host](const std::string& platform) {
    return buildkit::backend_for_build(platform, host);
  };
  env.workers_backend = [this, host]() {
    // The engine whose workers list both platforms the dual stack builds.
    auto amd64 = buildkit::backend_for_build("linux/amd64", host);
    auto running = running_backends();
    if (amd64 && std::count(running.begin(), running.end(), amd64->backend)) return amd64->backend;
    return home();
  };
  env.running = [this]() { return running_backends(); };
  auto st = serve_grpc(client, env);
  if (!st) log::warn("api", "BuildKit connection ended: " + st.error().message);
  RequestOutcome out;
  out.status = 101;
  out.backend = "hv+rosetta";
  out.keep_alive = false;
  return out;
}

}  // namespace twinbox::api
