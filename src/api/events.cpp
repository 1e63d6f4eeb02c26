// GET /events: both engines' event streams as one, in time order (api/event_merge.hpp). Each
// running engine is asked with the client's query (since, until, filters) on a thread of its
// own; this thread writes the merged stream to the client and notices when it goes away.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/dispatch.hpp"
#include "api/engine_client.hpp"
#include "api/event_merge.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::api {

namespace {

constexpr int64_t kHoldNs = 300'000'000;  // how long a live event may wait for the other engine

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The client hung up (a `docker events` ended with Ctrl-C): readable with nothing to read.
bool client_gone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  EventMerger merger;
  int heads = 0;                          // engines that answered (or failed) their head
  std::optional<EngineResponse> refusal;  // the first non-200 answer, hv's first
  explicit Shared(const std::vector<std::string>& names) : merger(names) {}
};

}  // namespace

RequestOutcome Dispatcher::serve_events(Stream& client, const http::RequestHead& head,
                                        bool body_pending) {
  std::vector<std::string> running = running_backends();
  if (running.empty())
    return answer(client, head,
                  error_response(503,
                                 "no engine is running to send events; retry when "
                                 "`twinbox status` shows one"),
                  "-", body_pending);
  std::string target = versioned(
      head, head.path() + (head.parsed.raw_query.empty() ? "" : "?" + head.parsed.raw_query));
  int cancel[2];
  if (::pipe(cancel) != 0)
    return answer(client, head, error_response(500, "events: no pipe"), "-", body_pending);
  Fd cancel_read(cancel[0]), cancel_write(cancel[1]);
  Shared shared(running);
  std::vector<std::thread> threads;
  for (const auto& b : running) {
    threads.emplace_back([&, b] {
      auto* conn = backends_.connector(b);
      bool headed = false;
      auto st = engine_stream(
          *conn, target, cancel_read.get(),
          [&](const EngineResponse& r) {
            std::lock_guard lock(shared.mu);
            headed = true;
            ++shared.heads;
            if (r.status != 200 && !shared.refusal) shared.refusal = r;
            shared.cv.notify_all();
          },
          [&](std::string_view bytes) {
            std::lock_guard lock(shared.mu);
            shared.merger.feed(b, bytes, now_ns());
            shared.cv.notify_all();
            return true;
          });
      if (!st && st.error().code != ErrorCode::Unavailable)
        log::warn("api", "events from " + b + ": " + st.error().message);
      std::lock_guard lock(shared.mu);
      if (!headed) ++shared.heads;
      shared.merger.close(b);
      shared.cv.notify_all();
    });
  }
  auto stop = [&] {
    (void)!::write(cancel_write.get(), "x", 1);
    for (auto& t : threads) t.join();
  };
  // The answer's head once every engine answered its own: a refused query (a bad filter) is
  // the engine's own answer, as from one dockerd.
  {
    std::unique_lock lock(shared.mu);
    shared.cv.wait(lock, [&] { return shared.heads == static_cast<int>(running.size()); });
  }
  if (shared.refusal) {
    stop();
    LocalResponse r{shared.refusal->status, "application/json", shared.refusal->body, {}};
    return answer(client, head, r, join(running, "+"), body_pending);
  }
  http::ResponseHead rh;
  rh.status = 200;
  rh.headers.add("Api-Version", api_version());
  rh.headers.add("Content-Type", "application/json");
  rh.headers.add("Docker-Experimental", "false");
  rh.headers.add("Ostype", "linux");
  rh.headers.add("Server", "twinbox/" + identity_.version + " (linux)");
  rh.headers.add("Transfer-Encoding", "chunked");
  rh.headers.add("Connection", "close");
  bool ok = write_all(client.fd(), http::serialize(rh)).has_value();
  while (ok) {
    std::vector<std::string> lines;
    bool finished = false;
    {
      std::unique_lock lock(shared.mu);
      shared.cv.wait_for(lock, std::chrono::milliseconds(100));
      lines = shared.merger.ready(now_ns(), kHoldNs);
      finished = shared.merger.finished();
    }
    for (const auto& l : lines)
      if (!write_all(client.fd(), http::chunk_frame(l))) ok = false;
    if (finished) {
      if (ok) (void)write_all(client.fd(), "0\r\n\r\n");
      break;
    }
    if (client_gone(client.fd())) ok = false;
  }
  stop();
  if (shared.merger.dropped())
    log::warn("api",
              "events: " + std::to_string(shared.merger.dropped()) + " over-long line(s) dropped");
  return RequestOutcome{200, join(running, "+"), false, ""};
}

}  // namespace twinbox::api
