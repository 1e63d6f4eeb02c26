#include "api/api_server.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "api/dispatch.hpp"
#include "api/server.hpp"
#include "router/registry_store.hpp"
#include "store/content_store.hpp"
#include "util/log.hpp"

namespace twinbox::api {

struct ApiServer::Impl {
  Impl(ServerOptions o, BackendSet& b, std::unique_ptr<store::ContentStore> store)
      : backends(b),
        options(std::move(o)),
        registry(options.registry_path),
        content(std::move(store)),
        registry_client(options.registry),
        images(content ? std::make_unique<pull::ImageService>(*content, registry_client) : nullptr),
        dispatcher(b, registry,
                   DaemonIdentity{options.socket_path, options.daemon_version, options.host_gateway,
                                  options.shared_dirs, options.withheld_dirs, options.volumes_dir,
                                  options.orphans_ended},
                   &tracker, images.get(), options.route_env),
        server(options.socket_path, options.socket_mode, options.socket_gid, dispatcher, tracker) {}

  // Watches the backends; each time one becomes Running, its containers are reconciled into
  // the registry (ids, names, project labels). Runs until stop().
  void watch(BackendSet& backends) {
    std::map<std::string, BackendState> seen;
    std::unique_lock lock(mu);
    while (!stopping) {
      lock.unlock();
      for (const auto& s : backends.statuses()) {
        auto before = seen.count(s.name) ? seen[s.name] : BackendState::Stopped;
        seen[s.name] = s.state;
        if (s.state != BackendState::Running || before == BackendState::Running) continue;
        if (auto st = dispatcher.reconcile_backend(s.name); !st) {
          log::warn("api", st.error().message + " (will retry)");
          seen[s.name] = BackendState::Starting;
        }
      }
      lock.lock();
      cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; });
    }
  }

  BackendSet& backends;
  ServerOptions options;
  router::RegistryStore registry;
  std::unique_ptr<store::ContentStore> content;
  image::RegistryClient registry_client;
  std::unique_ptr<pull::ImageService> images;
  FdTracker tracker;
  Dispatcher dispatcher;
  Server server;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread watcher;
};

ApiServer::ApiServer(ServerOptions options, BackendSet& backends)
    : options_(std::move(options)), backends_(backends) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  std::unique_ptr<store::ContentStore> content;
  if (!options_.content_store_path.empty()) {
    auto opened = store::ContentStore::open(options_.content_store_path);
    if (!opened) return opened.error().context("open the content store");
    content = std::move(opened).value();
  }
  impl_ = std::make_unique<Impl>(options_, backends_, std::move(content));
  if (auto st = impl_->registry.load(); !st) {
    // A corrupt file was moved aside (engines are probed on misses); anything else is fatal.
    if (st.error().code != ErrorCode::InvalidArgument) return st.error();
    log::warn("api", st.error().message);
  }
  TRY(impl_->server.start());
  if (impl_->options.reconcile_on_running)
    impl_->watcher = std::thread([this] { impl_->watch(impl_->backends); });
  return {};
}

void ApiServer::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->watcher.joinable()) impl_->watcher.join();
  impl_->server.stop(impl_->options.shutdown_grace);
}

}  // namespace twinbox::api
