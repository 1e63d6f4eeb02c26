#pragma once
// BuildKit's control API through twinboxd. `POST /grpc` upgrades the client's connection to
// HTTP/2 carrying gRPC calls; twinboxd ends that connection itself (an nghttp2 server session)
// and relays each call as its own stream to the engine its build runs in (an nghttp2 client
// session per engine over that engine's own `POST /grpc` upgrade). What a call is for is read
// from its path, its `buildid` header and its first message (buildkit_calls.hpp).
//
// A build's calls and its `POST /session` go to one engine, chosen by the build's platform.
// buildx sends a build's Control/Solve before the platform, which only its frontend's first
// LLBBridge/Solve carries: such a build starts provisionally in the home engine (hv), and when
// that Solve names a platform another engine builds, the build's Solve and Status calls are
// replayed there (nothing has run yet: the frontend had only pinged) and the rest follows. The
// session waits in the SessionRendezvous until the placement is final.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/session_rendezvous.hpp"
#include "api/stream.hpp"
#include "router/platform_route.hpp"
#include "util/result.hpp"

namespace twinbox::api {

struct GrpcProxyEnv {
  // An engine's /grpc, upgraded: the stream speaks HTTP/2 from its first unread byte.
  // Unavailable when the backend is not running.
  std::function<Result<std::unique_ptr<Stream>>(const std::string& backend)> open_engine;
  // The backend for a build's platform option ("" = none); an error is the call's answer.
  std::function<Result<router::PlatformChoice>(const std::string& platform)> build_backend;
  // Where engine-wide calls go (ListWorkers, Info, disk usage, history).
  std::function<std::string()> workers_backend;
  // The running backends, asked together for disk usage and prune (buildx du / prune).
  std::function<std::vector<std::string>()> running;
  std::string home;  // where a build without a platform starts
  SessionRendezvous* sessions = nullptr;
  FdTracker* tracker = nullptr;
};

// Serves one client connection whose `POST /grpc` head was read: answers 101 and relays HTTP/2
// until the client closes it (or the server stops). Returns how it ended.
Status serve_grpc(Stream& client, const GrpcProxyEnv& env);

// Opens `POST /grpc` on an engine connection and reads the 101 (the HTTP/1.1 part of the
// upgrade); the bytes after it stay in the stream's buffer.
Result<std::unique_ptr<Stream>> upgrade_engine_grpc(Fd engine);

}  // namespace twinbox::api
