#pragma once
// The unix-socket HTTP server: one thread per client connection, HTTP keep-alive, and a stop()
// that closes the listener, ends idle connections at once, gives in-flight requests (streams
// included) a grace period, then cuts what is left.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/dispatch.hpp"
#include "api/stream.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::api {

class Server {
 public:
  Server(std::string socket_path, unsigned mode, int gid, Dispatcher& dispatcher,
         FdTracker& tracker)
      : path_(std::move(socket_path)),
        mode_(mode),
        gid_(gid),
        dispatcher_(dispatcher),
        tracker_(tracker) {}
  ~Server() { stop(std::chrono::milliseconds(0)); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens (replacing a stale socket file) and accepts on a background thread.
  Status start();
  // Idempotent. Returns when every connection thread has ended.
  void stop(std::chrono::milliseconds grace);

 private:
  struct Conn {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void serve_connection(Fd fd, Conn* conn);
  void reap(bool all);

  std::string path_;
  unsigned mode_;
  int gid_;  // the socket's group; -1: the daemon's own
  Dispatcher& dispatcher_;
  FdTracker& tracker_;
  Fd listener_;
  Fd wake_read_, wake_write_;  // a byte written on stop wakes every waiter
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::unique_ptr<Conn>> conns_;
  size_t live_ = 0;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

}  // namespace twinbox::api
