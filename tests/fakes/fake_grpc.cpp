#include "fakes/fake_grpc.hpp"

#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>

#include "api/buildkit_calls.hpp"

namespace twinbox::fakes {
namespace {

// Reads an HTTP/1.1 head (up to the blank line) byte by byte, so nothing after it is consumed.
bool read_head(int fd, std::string& head) {
  char ch;
  while (head.size() < 8192) {
    if (::read(fd, &ch, 1) != 1) return false;
    head += ch;
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) return true;
  }
  return false;
}

// Feeds and drains one nghttp2 session over a blocking socket until `done` or the timeout.
bool pump(nghttp2_session* s, int fd, const std::function<bool()>& done, int timeout_ms,
          const std::atomic<bool>* stopping = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[16384];
  while (std::chrono::steady_clock::now() < deadline) {
    if (stopping && *stopping) return false;
    while (nghttp2_session_want_write(s)) {
      const uint8_t* data = nullptr;
      auto n = nghttp2_session_mem_send(s, &data);
      if (n <= 0) break;
      if (!write_all(fd, std::string_view(reinterpret_cast<const char*>(data), n))) return false;
    }
    if (done && done()) return true;
    if (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s)) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    if (nghttp2_session_mem_recv(s, reinterpret_cast<const uint8_t*>(buf), n) < 0) return false;
  }
  return done && done();
}

ssize_t read_from_string(nghttp2_session* s, int32_t sid, uint8_t* buf, size_t len, uint32_t* flags,
                         nghttp2_data_source* src, void*);

// One engine-side stream.
struct EngineStream {
  std::string path, buildid, body;
  std::string out;  // response body still to send
  bool trailers = true;
};

}  // namespace

// One accepted connection of a FakeGrpcEngine.
struct EngineConn {
  FakeGrpcEngine* engine = nullptr;
  nghttp2_session* s = nullptr;
  std::map<int32_t, EngineStream> streams;
  std::multimap<std::string, int32_t> held;  // ref -> Solve and Status streams of running builds

  void answer(int32_t sid, const std::string& payload = "") {
    auto& st = streams[sid];
    st.out = grpc_frame(payload);  // one message
    nghttp2_nv hdrs[] = {
        {(uint8_t*)":status", (uint8_t*)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)"content-type", (uint8_t*)"application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE}};
    nghttp2_data_provider prd{};
    prd.source.ptr = &st;
    prd.read_callback = &read_from_string;
    nghttp2_submit_response(s, sid, hdrs, 2, &prd);
  }

  void on_request(int32_t sid) {
    auto& st = streams[sid];
    SeenCall seen{st.path, st.buildid, "", ""};
    std::string message;
    if (st.body.size() >= 5) message = st.body.substr(5);
    auto call = api::buildkit::read_call(st.path, st.buildid, "", message);
    if (call) {
      seen.ref = call->ref;
      seen.platform = call->platform;
    }
    {
      std::lock_guard lock(engine->mu_);
      engine->calls_.push_back(seen);
    }
    if (call && (call->kind == api::buildkit::CallKind::ControlSolve ||
                 call->kind == api::buildkit::CallKind::ControlStatus)) {
      held.emplace(call->ref, sid);  // the build runs until its frontend's Solve
      return;
    }
    if (call && (call->kind == api::buildkit::CallKind::DiskUsage ||
                 call->kind == api::buildkit::CallKind::Prune)) {
      // A record (field 1) whose ID (field 1) names this engine.
      return answer(sid, pb_bytes(1, pb_bytes(1, "cache-" + engine->name_)));
    }
    answer(sid);
    if (call && call->kind == api::buildkit::CallKind::BridgeSolve) {
      auto [from, to] = held.equal_range(call->ref);
      for (auto it = from; it != to; ++it) answer(it->second);
      held.erase(from, to);
    }
  }
};

namespace {

ssize_t read_from_string(nghttp2_session* s, int32_t sid, uint8_t* buf, size_t len, uint32_t* flags,
                         nghttp2_data_source* src, void*) {
  auto* st = static_cast<EngineStream*>(src->ptr);
  size_t n = std::min(len, st->out.size());
  std::memcpy(buf, st->out.data(), n);
  st->out.erase(0, n);
  if (st->out.empty()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv trailer[] = {{(uint8_t*)"grpc-status", (uint8_t*)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
    nghttp2_submit_trailer(s, sid, trailer, 1);
  }
  return static_cast<ssize_t>(n);
}

}  // namespace

FakeGrpcEngine::FakeGrpcEngine(std::string name, std::string socket_path)
    : name_(std::move(name)), path_(std::move(socket_path)) {}
FakeGrpcEngine::~FakeGrpcEngine() { stop(); }

Status FakeGrpcEngine::start() {
  TRY_ASSIGN(listener_, listen_unix(path_, 0600));
  accept_thread_ = std::thread([this] {
    while (!stopping_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::lock_guard lock(mu_);
      conns_.emplace_back([this, c] { serve(Fd(c)); });
    }
  });
  return {};
}

void FakeGrpcEngine::stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& t : conns_) t.join();
  conns_.clear();
  ::unlink(path_.c_str());
}

std::vector<SeenCall> FakeGrpcEngine::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}
std::vector<std::string> FakeGrpcEngine::resets() const {
  std::lock_guard lock(mu_);
  return resets_;
}
std::vector<std::string> FakeGrpcEngine::other_requests() const {
  std::lock_guard lock(mu_);
  return other_heads_;
}
size_t FakeGrpcEngine::count(const std::string& path) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto& c : calls_) n += c.path == path;
  return n;
}

void FakeGrpcEngine::serve(Fd fd) {
  std::string head;
  if (!read_head(fd.get(), head)) return;
  if (head.find("POST /grpc") == std::string::npos) {  // /session: recorded, then closed
    std::lock_guard lock(mu_);
    other_heads_.push_back(head.substr(0, head.find("\r\n")));
    return;
  }
  if (!write_all(fd.get(),
                 "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                 "Upgrade: h2c\r\n\r\n"))
    return;
  EngineConn conn;
  conn.engine = this;
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(
      cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
              const uint8_t* v, size_t vl, uint8_t, void* p) {
        auto& st = static_cast<EngineConn*>(p)->streams[f->hd.stream_id];
        std::string name(reinterpret_cast<const char*>(n), nl);
        std::string value(reinterpret_cast<const char*>(v), vl);
        if (name == ":path") st.path = value;
        if (name == api::buildkit::kBuildIdHeader) st.buildid = value;
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      cbs, [](nghttp2_session*, uint8_t, int32_t sid, const uint8_t* d, size_t len, void* p) {
        static_cast<EngineConn*>(p)->streams[sid].body.append(reinterpret_cast<const char*>(d),
                                                              len);
        return 0;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      cbs, [](nghttp2_session*, const nghttp2_frame* f, void* p) {
        if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
            (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
          static_cast<EngineConn*>(p)->on_request(f->hd.stream_id);
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      cbs, [](nghttp2_session*, int32_t sid, uint32_t code, void* p) {
        auto* c = static_cast<EngineConn*>(p);
        if (code != NGHTTP2_NO_ERROR) {
          std::lock_guard lock(c->engine->mu_);
          c->engine->resets_.push_back(c->streams[sid].path);
        }
        return 0;
      });
  nghttp2_session_server_new(&conn.s, cbs, &conn);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_submit_settings(conn.s, NGHTTP2_FLAG_NONE, nullptr, 0);
  pump(conn.s, fd.get(), nullptr, 60000, &stopping_);
  nghttp2_session_del(conn.s);
}

struct GrpcTestClient::Session {
  nghttp2_session* s = nullptr;
  GrpcTestClient* owner = nullptr;
  ~Session() {
    if (s) nghttp2_session_del(s);
  }
};

GrpcTestClient::~GrpcTestClient() = default;

Result<std::unique_ptr<GrpcTestClient>> GrpcTestClient::connect(const std::string& socket) {
  auto c = std::unique_ptr<GrpcTestClient>(new GrpcTestClient());
  TRY_ASSIGN(c->fd_, connect_unix(socket));
  TRY(write_all(c->fd_.get(),
                "POST /v1.41/grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                "Upgrade: h2c\r\n\r\n"));
  std::string head;
  if (!read_head(c->fd_.get(), head) || head.rfind("HTTP/1.1 101", 0) != 0)
    return make_error(ErrorCode::Unavailable, "no 101 from twinboxd: " + head);
  c->s_ = std::make_unique<Session>();
  c->s_->owner = c.get();
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(
      cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
              const uint8_t* v, size_t vl, uint8_t, void* p) {
        auto* s = static_cast<Session*>(p);
        s->owner->results_[f->hd.stream_id].headers[std::string((const char*)n, nl)] =
            std::string((const char*)v, vl);
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      cbs, [](nghttp2_session*, uint8_t, int32_t sid, const uint8_t* d, size_t len, void* p) {
        static_cast<Session*>(p)->owner->results_[sid].data.append((const char*)d, len);
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      cbs, [](nghttp2_session*, int32_t sid, uint32_t code, void* p) {
        auto& r = static_cast<Session*>(p)->owner->results_[sid];
        r.closed = true;
        r.reset = code;
        return 0;
      });
  nghttp2_session_client_new(&c->s_->s, cbs, c->s_.get());
  nghttp2_session_callbacks_del(cbs);
  nghttp2_submit_settings(c->s_->s, NGHTTP2_FLAG_NONE, nullptr, 0);
  return c;
}

int32_t GrpcTestClient::call(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& md,
                             const std::string& message) {
  std::vector<std::pair<std::string, std::string>> h = {{":method", "POST"},
                                                        {":scheme", "http"},
                                                        {":path", path},
                                                        {":authority", "localhost"},
                                                        {"content-type", "application/grpc"},
                                                        {"te", "trailers"}};
  h.insert(h.end(), md.begin(), md.end());
  std::vector<nghttp2_nv> nv;
  for (auto& [k, v] : h)
    nv.push_back(
        {(uint8_t*)k.data(), (uint8_t*)v.data(), k.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  auto body = std::make_unique<std::string>(grpc_frame(message));
  nghttp2_data_provider prd{};
  prd.source.ptr = body.get();
  prd.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                         nghttp2_data_source* src, void*) -> ssize_t {
    auto* b = static_cast<std::string*>(src->ptr);
    size_t n = std::min(len, b->size());
    std::memcpy(buf, b->data(), n);
    b->erase(0, n);
    if (b->empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  };
  int32_t sid = nghttp2_submit_request(s_->s, nullptr, nv.data(), nv.size(), &prd, nullptr);
  bodies_.push_back(std::move(body));
  return sid;
}

bool GrpcTestClient::run_until(const std::function<bool()>& done, int timeout_ms) {
  return pump(s_->s, fd_.get(), done, timeout_ms);
}

Status replay_client_bytes(const std::string& socket, const std::string& bytes, int read_ms) {
  TRY_ASSIGN(Fd fd, connect_unix(socket));
  TRY(write_all(fd.get(),
                "POST /v1.41/grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                "Upgrade: h2c\r\n\r\n"));
  std::string head;
  if (!read_head(fd.get(), head) || head.rfind("HTTP/1.1 101", 0) != 0)
    return make_error(ErrorCode::Unavailable, "no 101 from twinboxd: " + head);
  TRY(write_all(fd.get(), bytes));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(read_ms);
  char buf[16384];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (::read(fd.get(), buf, sizeof buf) <= 0) break;
  }
  return {};
}

std::string grpc_frame(const std::string& message) { return api::buildkit::grpc_frame(message); }
std::string pb_bytes(uint32_t field, const std::string& bytes) {
  return api::buildkit::protobuf_field(field, bytes);
}
std::string pb_map_entry(uint32_t field, const std::string& key, const std::string& value) {
  return pb_bytes(field, pb_bytes(1, key) + pb_bytes(2, value));
}

}  // namespace twinbox::fakes
