// FakeEngine's server side: accepting, reading requests, writing answers, hijack and streams.
#include "fakes/fake_engine.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "api/http_body.hpp"

namespace twinbox::fakes {

using api::http::RequestHead;

FakeEngine::FakeEngine(std::string name, std::string socket_path, std::string id_prefix)
    : name_(std::move(name)), path_(std::move(socket_path)), id_prefix_(std::move(id_prefix)) {}

FakeEngine::~FakeEngine() { stop(); }

Status FakeEngine::start() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return make_error(ErrorCode::Io, "pipe");
  wake_read_.reset(p[0]);
  wake_write_.reset(p[1]);
  TRY_ASSIGN(listener_, listen_unix(path_, 0600));
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void FakeEngine::stop() {
  if (!acceptor_.joinable() || stopping_.exchange(true)) return;
  (void)!::write(wake_write_.get(), "x", 1);
  release_stream();
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : conns_) t.join();
  conns_.clear();
  ::unlink(path_.c_str());
}

void FakeEngine::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::lock_guard lock(mu_);
    open_fds_.push_back(c);
    ++accepted_;
    conns_.emplace_back([this, c] { serve(Fd(c)); });
  }
}

void FakeEngine::serve(Fd fd) {
  api::Stream s(std::move(fd));
  struct Untrack {
    FakeEngine* e;
    int fd;
    ~Untrack() {
      std::lock_guard lock(e->mu_);
      std::erase(e->open_fds_, fd);
    }
  } untrack{this, s.fd()};
  for (size_t served = 0;; ++served) {
    s.set_cancel_fd(wake_read_.get());
    auto h = api::read_request_head(s);
    s.set_cancel_fd(-1);
    if (h.state != api::HeadRead<RequestHead>::State::Ok) return;
    auto framing = api::http::request_framing(h.head);
    if (!framing) return;
    auto body = api::read_body(s, *framing, 64u << 20);
    if (!body) return;
    if (served > 0 && drop_reused_.exchange(false)) return;
    if (!handle(s, h.head, std::move(body).value())) return;
  }
}

namespace {

void respond(int fd, const FakeResponse& r, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    api::http::reason_phrase(r.status) + "\r\nApi-Version: 1.41\r\n";
  bool has_body = r.status != 204 && r.status != 304;
  if (has_body) out += "Content-Type: " + r.content_type + "\r\n";
  if (has_body && r.chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    if (!head_only) {
      // Two chunks with an extension, to exercise the decoder on the way.
      size_t half = r.body.size() / 2;
      auto chunk = [](std::string_view s) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx", s.size());
        return std::string(size) + ";fake=1\r\n" + std::string(s) + "\r\n";
      };
      if (half) out += chunk(std::string_view(r.body).substr(0, half));
      if (r.body.size() - half) out += chunk(std::string_view(r.body).substr(half));
      out += "0\r\n\r\n";
    }
  } else if (has_body) {
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
    if (!head_only) out += r.body;
  } else {
    out += "\r\n";
  }
  (void)write_all(fd, out);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

bool FakeEngine::handle(api::Stream& s, const RequestHead& head, std::string body) {
  RecordedRequest r{head.method, head.target, head.path(), head.headers, std::move(body)};
  std::optional<FakeResponse> scripted;
  {
    std::lock_guard lock(mu_);
    log_.push_back(r);
    auto it = scripted_.find({r.method, r.path});
    if (it != scripted_.end()) scripted = it->second;
  }
  if (scripted) {
    respond(s.fd(), *scripted, r.method == "HEAD");
    return true;
  }
  bool exec_start = r.method == "POST" && r.path.rfind("/exec/", 0) == 0 &&
                    ends_with(r.path, "/start") &&
                    r.body.find("\"Detach\":true") == std::string::npos;
  if ((r.method == "POST" && ends_with(r.path, "/attach")) || exec_start) {
    hijack(s, head);
    return false;
  }
  if (r.method == "GET" && ends_with(r.path, "/logs") && head.query_value("follow") == "1") {
    stream_logs(s.fd());
    return true;
  }
  auto answer = builtin(r);
  respond(s.fd(), answer.value_or(FakeResponse{404, R"({"message":"page not found"})"}),
          r.method == "HEAD");
  return true;
}

void FakeEngine::hijack(api::Stream& s, const RequestHead& head) {
  bool upgrade = head.headers.has_token("Upgrade", "tcp");
  std::string h =
      upgrade ? "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream"
                "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
              : "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n";
  if (!write_all(s.fd(), h + "hello from " + name_ + "\n")) return;
  if (!s.buffer().empty() && !write_all(s.fd(), s.buffer())) return;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(s.fd(), buf, sizeof buf);
    if (n <= 0) break;
    if (!write_all(s.fd(), std::string_view(buf, static_cast<size_t>(n)))) return;
  }
  // The client closed its side (stdin ended): the output goes on, then ends.
  (void)write_all(s.fd(), "bye\n");
  ::shutdown(s.fd(), SHUT_WR);
}

void FakeEngine::stream_logs(int fd) {
  (void)write_all(fd,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked"
                  "\r\n\r\n7\r\nline 1\n\r\n");
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return released_ || stopping_.load(); });
  }
  (void)write_all(fd, "7\r\nline 2\n\r\n0\r\n\r\n");
}

void FakeEngine::release_stream() {
  std::lock_guard lock(mu_);
  released_ = true;
  cv_.notify_all();
}

void FakeEngine::on(const std::string& method, const std::string& path, FakeResponse r) {
  std::lock_guard lock(mu_);
  scripted_[{method, path}] = std::move(r);
}

std::vector<RecordedRequest> FakeEngine::requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

size_t FakeEngine::count(const std::string& method, const std::string& path) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& r : log_) n += r.method == method && r.path == path;
  return n;
}

}  // namespace twinbox::fakes
