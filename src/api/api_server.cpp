#include "api/api_server.hpp"

#include "api/dispatch.hpp"
#include "api/server.hpp"
#include "router/registry_store.hpp"
#include "util/log.hpp"

namespace twinbox::api {

struct ApiServer::Impl {
  Impl(ServerOptions o, BackendSet& backends)
      : options(std::move(o)),
        registry(options.registry_path),
        dispatcher(backends, registry, DaemonIdentity{options.socket_path, options.daemon_version},
                   &tracker),
        server(options.socket_path, options.socket_mode, dispatcher, tracker) {}

  ServerOptions options;
  router::RegistryStore registry;
  FdTracker tracker;
  Dispatcher dispatcher;
  Server server;
};

ApiServer::ApiServer(ServerOptions options, BackendSet& backends)
    : impl_(std::make_unique<Impl>(std::move(options), backends)) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  if (auto st = impl_->registry.load(); !st) {
    // A corrupt file was moved aside (engines are probed on misses); anything else is fatal.
    if (st.error().code != ErrorCode::InvalidArgument) return st.error();
    log::warn("api", st.error().message);
  }
  return impl_->server.start();
}

void ApiServer::stop() { impl_->server.stop(impl_->options.shutdown_grace); }

}  // namespace twinbox::api
