#pragma once
// A fake guest Docker engine on a unix socket: enough of dockerd 20.10's API for the proxy and
// router tests. It records every request, keeps a small container/exec table, answers canned or
// scripted responses, hijacks attach/exec-start (echoes stdin, then says "bye" after the client
// half-closes), streams logs in chunks on demand, and speaks chunked request bodies.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http.hpp"
#include "api/stream.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::fakes {

struct RecordedRequest {
  std::string method;
  std::string target;  // as received (version prefix included)
  std::string path;    // without the version prefix
  api::http::Headers headers;
  std::string body;  // decoded
};

struct FakeResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool chunked = false;
};

struct FakeContainer {
  std::string id;
  std::string name;
  int64_t created = 0;
  std::string body;      // the create body as received
  bool running = false;  // created: no; start/restart: yes; stop/kill: no
};

class FakeEngine {
 public:
  // Container ids are `id_prefix` followed by a counter, padded to 64 characters.
  FakeEngine(std::string name, std::string socket_path, std::string id_prefix);
  ~FakeEngine();
  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  Status start();
  void stop();
  const std::string& socket_path() const { return path_; }

  // Overrides the built-in answer for `method` + version-less `path`.
  void on(const std::string& method, const std::string& path, FakeResponse r);
  // A container created behind twinbox's back (as after a daemon restart); it runs.
  std::string add_container(const std::string& name, int64_t created = 1700000000,
                            const std::string& project = "");
  std::optional<FakeContainer> container(const std::string& ref) const;

  std::vector<RecordedRequest> requests() const;
  size_t count(const std::string& method, const std::string& path) const;

  // How many connections it accepted.
  size_t connections() const { return accepted_; }
  // The next request that arrives on a connection which already carried one is read and
  // dropped with its connection, unanswered: an engine closing a kept connection just as a
  // request goes out on it.
  void drop_next_reused() { drop_reused_ = true; }

  // logs?follow=1 sends a first chunk, then waits for release_stream() before the last one.
  void release_stream();

 private:
  void accept_loop();
  void serve(Fd fd);
  // Returns false when the connection must close (hijacked or close-delimited).
  bool handle(api::Stream& s, const api::http::RequestHead& head, std::string body);
  std::optional<FakeResponse> builtin(const RecordedRequest& r);
  std::optional<FakeResponse> container_action(const RecordedRequest& r,
                                               const std::vector<std::string>& segs);
  void hijack(api::Stream& s, const api::http::RequestHead& head);
  void stream_logs(int fd);
  std::string find_id(const std::string& ref) const;  // "" when unknown

  std::string name_, path_, id_prefix_;
  Fd listener_, wake_read_, wake_write_;
  std::thread acceptor_;
  std::vector<std::thread> conns_;
  std::vector<int> open_fds_;  // shut down on stop() so no connection thread blocks forever
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> accepted_{0};
  std::atomic<bool> drop_reused_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<RecordedRequest> log_;
  std::map<std::pair<std::string, std::string>, FakeResponse> scripted_;
  std::map<std::string, FakeContainer> containers_;
  std::map<std::string, std::string> execs_;  // exec id -> container id
  int next_id_ = 1;
};

}  // namespace twinbox::fakes
