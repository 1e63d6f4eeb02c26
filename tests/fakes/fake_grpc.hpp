#pragma once
// BuildKit's gRPC over HTTP/2 for unit_io tests, both ends built on nghttp2:
// - FakeGrpcEngine: an engine's `POST /grpc` (101, then an HTTP/2 server). It records every call
//   (path, build id header, the ref a Solve or Status names) and every stream twinboxd resets,
//   answers each call with one empty message and grpc-status 0, except Control/Solve and
//   Control/Status, held until an LLBBridge/Solve of the same build arrives (it "ran" then),
//   and DiskUsage and Prune, answered with one record whose ID is "cache-<engine name>".
// - GrpcTestClient: a client's `POST /grpc` upgrade to twinboxd and gRPC calls on it, or raw
//   recorded client bytes written as they are.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::fakes {

struct SeenCall {
  std::string path;
  std::string buildid;  // the buildkit-controlapi-buildid header
  std::string ref;      // Control/Solve and Control/Status: the Ref field
  std::string platform;
};

class FakeGrpcEngine {
 public:
  FakeGrpcEngine(std::string name, std::string socket_path);
  ~FakeGrpcEngine();
  Status start();
  void stop();
  const std::string& socket_path() const { return path_; }

  std::vector<SeenCall> calls() const;
  std::vector<std::string> resets() const;  // paths of the streams twinboxd reset
  size_t count(const std::string& path) const;
  // Request lines of the connections that were not `POST /grpc` (a forwarded /session).
  std::vector<std::string> other_requests() const;

 private:
  friend struct EngineConn;
  void serve(Fd conn);

  std::string name_, path_;
  Fd listener_;
  std::thread accept_thread_;
  std::vector<std::thread> conns_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<SeenCall> calls_;
  std::vector<std::string> resets_;
  std::vector<std::string> other_heads_;
};

struct CallResult {
  std::map<std::string, std::string> headers;  // response headers and trailers
  std::string data;                            // the response body (gRPC framed)
  bool closed = false;
  uint32_t reset = 0;  // the RST_STREAM code, 0 when the stream ended normally
};

class GrpcTestClient {
 public:
  ~GrpcTestClient();
  // Connects to twinboxd's socket and upgrades `POST /v1.45/grpc`.
  static Result<std::unique_ptr<GrpcTestClient>> connect(const std::string& socket);
  // A unary call: `message` framed, END_STREAM. Returns the stream id.
  int32_t call(const std::string& path, const std::vector<std::pair<std::string, std::string>>& md,
               const std::string& message);
  // Runs the connection until `done` or `timeout_ms` passed.
  bool run_until(const std::function<bool()>& done, int timeout_ms);
  CallResult& result(int32_t stream) { return results_[stream]; }

 private:
  struct Session;
  Fd fd_;
  std::unique_ptr<Session> s_;
  std::map<int32_t, CallResult> results_;
  std::vector<std::unique_ptr<std::string>> bodies_;  // request bodies nghttp2 reads from
};

// Writes `bytes` (a recorded client's HTTP/2 bytes, preface first) on a `POST /grpc` upgraded
// connection to twinboxd, then reads and drops what comes back for `read_ms`.
Status replay_client_bytes(const std::string& socket, const std::string& bytes, int read_ms);

// A framed gRPC message and a minimal protobuf writer, for building requests.
std::string grpc_frame(const std::string& message);
std::string pb_bytes(uint32_t field, const std::string& bytes);
std::string pb_map_entry(uint32_t field, const std::string& key, const std::string& value);

}  // namespace twinbox::fakes
