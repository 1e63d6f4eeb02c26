#include "api/grpc_proxy.hpp"

#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <vector>

#include "api/buildkit_calls.hpp"
#include "util/log.hpp"

namespace twinbox::api {
namespace {

using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kMaxRoutingMessage = 16u << 20;  // a Solve's LLB definition, at most
constexpr int32_t kStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;
constexpr size_t kMaxOutBuffer = 256u << 10;    // stop packing frames while this much waits
constexpr size_t kMaxLegAnswer = 64u << 20;     // one engine's disk usage answer, at most
constexpr size_t kMaxPendingBytes = 64u << 20;  // read ahead of routing, all calls together
constexpr auto kPendingLimit = std::chrono::seconds(10);  // a frontend's Ping waits 15 s
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;

std::string header_value(const Headers& h, std::string_view name) {
  for (auto& [k, v] : h)
    if (k == name) return v;
  return "";
}

std::vector<nghttp2_nv> to_nv(const Headers& h) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(h.size());
  for (auto& [k, v] : h)
    nv.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(k.data())),
                            reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), k.size(),
                            v.size(), NGHTTP2_NV_FLAG_NONE});
  return nv;
}

struct Upstream;

struct SessionCallbacks {
  nghttp2_on_begin_headers_callback begin_headers;  // may be null
  nghttp2_on_header_callback header;
  nghttp2_on_frame_recv_callback frame_recv;
  nghttp2_on_data_chunk_recv_callback data;
  nghttp2_on_stream_close_callback close;
};

// One side of the relay: a server (toward the client) or client (toward an engine) session whose
// windows are given back by hand (nghttp2_session_consume) as relayed bytes leave, with its
// SETTINGS submitted and its connection window opened.
Result<nghttp2_session*> new_session(bool server, const SessionCallbacks& cb, void* self,
                                     std::initializer_list<nghttp2_settings_entry> settings) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  if (cb.begin_headers)
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb.begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, cb.header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb.frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb.data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb.close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_session* s = nullptr;
  int rv = server ? nghttp2_session_server_new2(&s, cbs, self, opt)
                  : nghttp2_session_client_new2(&s, cbs, self, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0)
    return make_error(ErrorCode::Internal, std::string("nghttp2 session: ") + nghttp2_strerror(rv));
  std::vector<nghttp2_settings_entry> iv(settings);
  nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv.data(), iv.size());
  nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  return s;
}

// One gRPC call: a client stream and, once routed, a stream on one engine's connection.
struct Call {
  int32_t cid = 0;
  Headers req_headers;
  std::string path;
  bool headers_done = false;

  // Request bytes. While `keep` (calls a moved build replays), everything stays; otherwise
  // bytes sent upstream are dropped. `consumed` counts bytes whose window was given back.
  std::string req;
  size_t sent = 0;
  size_t consumed = 0;
  size_t read_ahead = 0;  // bytes consumed before routing, counted in Relay::pending_bytes_
  bool keep = false;
  bool req_end = false;
  bool req_deferred = false;

  bool routed = false;
  bool failed = false;  // answered by twinboxd with a gRPC error
  Clock::time_point since = Clock::now();
  buildkit::BuildCall facts;
  bool classified = false;

  Upstream* up = nullptr;
  int32_t uid = -1;

  // Fan-out (disk usage, prune): the parent's legs, one per engine, under ids below zero; a
  // leg's answer is merged into its parent's, never sent to the client by itself.
  std::vector<int32_t> legs;
  int32_t parent = 0;

  Headers resp_headers;
  Headers resp_trailers;
  bool resp_headers_seen = false;
  bool resp_submitted = false;
  bool resp_end = false;
  bool resp_deferred = false;
  std::string resp;
  size_t resp_unconsumed = 0;  // bytes of `resp` the current engine stream waits to have back
};

struct Upstream {
  std::string backend;
  std::unique_ptr<Stream> stream;
  nghttp2_session* session = nullptr;
  std::string out;
  std::map<int32_t, int32_t> calls;  // engine stream -> client stream
  bool dead = false;
  ~Upstream() {
    if (session) nghttp2_session_del(session);
  }
};

struct Build {
  std::string backend;
  bool provisional = false;
  std::string session;
  std::string reason;  // why that engine, for the client's progress output
};

class Relay {
 public:
  Relay(Stream& client, const GrpcProxyEnv& env) : client_(client), env_(env) {}
  ~Relay() {
    for (auto& [_, u] : ups_)
      if (!u->dead && env_.tracker) env_.tracker->remove(u->stream->fd());
    ups_.clear();
    if (server_) nghttp2_session_del(server_);
  }
  Status run();

 private:
  // nghttp2 callbacks (server side: the client's connection).
  static int s_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* self);
  static int s_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                      const uint8_t* v, size_t vl, uint8_t, void* self);
  static int s_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* self);
  static int s_data(nghttp2_session*, uint8_t, int32_t sid, const uint8_t* d, size_t len,
                    void* self);
  static int s_close(nghttp2_session*, int32_t sid, uint32_t code, void* self);
  static ssize_t s_read_resp(nghttp2_session*, int32_t sid, uint8_t* buf, size_t len,
                             uint32_t* flags, nghttp2_data_source* src, void* self);
  // Client side: one engine's connection.
  static int u_header(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                      const uint8_t* v, size_t vl, uint8_t, void* self);
  static int u_frame_recv(nghttp2_session* s, const nghttp2_frame* f, void* self);
  static int u_data(nghttp2_session* s, uint8_t, int32_t sid, const uint8_t* d, size_t len,
                    void* self);
  static int u_close(nghttp2_session* s, int32_t sid, uint32_t code, void* self);
  static ssize_t u_read_req(nghttp2_session* s, int32_t sid, uint8_t* buf, size_t len,
                            uint32_t* flags, nghttp2_data_source* src, void* self);

  Call* call(int32_t cid) {
    auto it = calls_.find(cid);
    return it == calls_.end() ? nullptr : it->second.get();
  }
  Upstream* upstream_of(nghttp2_session* s) {
    for (auto& [_, u] : ups_)
      if (u->session == s) return u.get();
    return nullptr;
  }
  Call* call_of(Upstream* u, int32_t uid) {
    if (!u) return nullptr;
    auto it = u->calls.find(uid);
    return it == u->calls.end() ? nullptr : call(it->second);
  }

  void try_route(Call& c);
  void fan_out(Call& c);
  // A leg answered, sent data or ended: its parent's answer moves on.
  void leg_progress(Call& leg);
  void drop_legs(Call& c);
  // A build's progress stream starts with a step that says which engine builds and why.
  void note_placement(Call& c);
  // A build's placement is final: its held session may go there.
  void settle(const std::string& ref);
  void route_pending();
  void send_to(Call& c, const std::string& backend, const std::string& why);
  void move_build(const std::string& ref, Build& b, const std::string& to);
  void fail(Call& c, int grpc_status, const std::string& message);
  void submit_response(Call& c);
  Result<Upstream*> upstream(const std::string& backend);
  void lose_upstream(Upstream& u, const std::string& why);
  void resume_response(Call& c) {
    if (c.resp_submitted && c.resp_deferred) {
      c.resp_deferred = false;
      nghttp2_session_resume_data(server_, c.cid);
    }
  }
  void resume_request(Call& c) {
    if (c.up && c.uid > 0 && c.req_deferred) {
      c.req_deferred = false;
      nghttp2_session_resume_data(c.up->session, c.uid);
    }
  }
  Status flush(nghttp2_session* s, int fd, std::string& out);

  Stream& client_;
  const GrpcProxyEnv& env_;
  nghttp2_session* server_ = nullptr;
  std::string out_;
  std::map<int32_t, std::unique_ptr<Call>> calls_;
  std::map<std::string, std::unique_ptr<Upstream>> ups_;
  std::map<std::string, Build> builds_;  // by ref
  int32_t next_leg_ = -1;
  size_t pending_bytes_ = 0;
  void release_read_ahead(Call& c) {
    pending_bytes_ -= std::min(pending_bytes_, c.read_ahead);
    c.read_ahead = 0;
  }
};

Relay* self_of(void* p) { return static_cast<Relay*>(p); }

int Relay::s_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* p) {
  auto* r = self_of(p);
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto c = std::make_unique<Call>();
  c->cid = f->hd.stream_id;
  r->calls_[c->cid] = std::move(c);
  return 0;
}

int Relay::s_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                    const uint8_t* v, size_t vl, uint8_t, void* p) {
  auto* r = self_of(p);
  Call* c = r->call(f->hd.stream_id);
  if (!c || c->headers_done) return 0;  // request trailers: gRPC clients send none
  c->req_headers.emplace_back(std::string(reinterpret_cast<const char*>(n), nl),
                              std::string(reinterpret_cast<const char*>(v), vl));
  return 0;
}

int Relay::s_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* p) {
  auto* r = self_of(p);
  Call* c = r->call(f->hd.stream_id);
  if (!c) return 0;
  if (f->hd.type == NGHTTP2_HEADERS && !c->headers_done) {
    c->headers_done = true;
    c->path = header_value(c->req_headers, ":path");
  }
  if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
      (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
    c->req_end = true;
  if (!c->routed && !c->failed)
    r->try_route(*c);
  else
    r->resume_request(*c);
  return 0;
}

int Relay::s_data(nghttp2_session* s, uint8_t, int32_t sid, const uint8_t* d, size_t len, void* p) {
  auto* r = self_of(p);
  Call* c = r->call(sid);
  if (!c || c->failed) {
    nghttp2_session_consume(s, sid, len);
    return 0;
  }
  c->req.append(reinterpret_cast<const char*>(d), len);
  // Read ahead, bounded, only to see the message that routes a call (it may be larger than the
  // stream's window); other calls wait for their build under flow control.
  if (!c->routed && buildkit::needs_message(buildkit::classify(c->path))) {
    if (r->pending_bytes_ + len > kMaxPendingBytes) {
      r->fail(*c, kGrpcResourceExhausted,
              "more than 64 MiB of BuildKit requests wait to be routed on this connection");
      return 0;
    }
    nghttp2_session_consume(s, sid, len);
    c->consumed += len;
    c->read_ahead += len;
    r->pending_bytes_ += len;
  }
  return 0;
}

int Relay::s_close(nghttp2_session*, int32_t sid, uint32_t code, void* p) {
  auto* r = self_of(p);
  auto it = r->calls_.find(sid);
  if (it == r->calls_.end()) return 0;
  Call& c = *it->second;
  if (c.facts.kind == buildkit::CallKind::ControlSolve) r->settle(c.facts.ref);
  r->drop_legs(c);
  r->release_read_ahead(c);
  if (c.up && c.uid > 0 && !c.up->dead) {
    if (c.resp_unconsumed) nghttp2_session_consume_connection(c.up->session, c.resp_unconsumed);
    c.up->calls.erase(c.uid);
    nghttp2_submit_rst_stream(c.up->session, NGHTTP2_FLAG_NONE, c.uid, NGHTTP2_CANCEL);
  }
  r->calls_.erase(it);
  return 0;
}

ssize_t Relay::s_read_resp(nghttp2_session*, int32_t sid, uint8_t* buf, size_t len, uint32_t* flags,
                           nghttp2_data_source*, void* p) {
  auto* r = self_of(p);
  Call* c = r->call(sid);
  if (!c) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t n = std::min(len, c->resp.size());
  if (n) {
    std::memcpy(buf, c->resp.data(), n);
    c->resp.erase(0, n);
    size_t give = std::min(n, c->resp_unconsumed);
    if (give && c->up && !c->up->dead) nghttp2_session_consume(c->up->session, c->uid, give);
    c->resp_unconsumed -= give;
  }
  if (c->resp.empty() && c->resp_end) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!c->resp_trailers.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      auto nv = to_nv(c->resp_trailers);
      nghttp2_submit_trailer(r->server_, sid, nv.data(), nv.size());
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    c->resp_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

int Relay::u_header(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                    const uint8_t* v, size_t vl, uint8_t, void* p) {
  auto* r = self_of(p);
  Call* c = r->call_of(r->upstream_of(s), f->hd.stream_id);
  if (!c || f->hd.type != NGHTTP2_HEADERS) return 0;
  std::string name(reinterpret_cast<const char*>(n), nl);
  std::string value(reinterpret_cast<const char*>(v), vl);
  if (!c->resp_headers_seen)
    c->resp_headers.emplace_back(std::move(name), std::move(value));
  else
    c->resp_trailers.emplace_back(std::move(name), std::move(value));
  return 0;
}

int Relay::u_frame_recv(nghttp2_session* s, const nghttp2_frame* f, void* p) {
  auto* r = self_of(p);
  Call* c = r->call_of(r->upstream_of(s), f->hd.stream_id);
  if (!c) return 0;
  bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (c->parent) {
    if (f->hd.type == NGHTTP2_HEADERS) c->resp_headers_seen = true;
    if (end) c->resp_end = true;
    r->leg_progress(*c);
    return 0;
  }
  if (f->hd.type == NGHTTP2_HEADERS) {
    if (!c->resp_headers_seen) {
      c->resp_headers_seen = true;
      if (end) c->resp_end = true;
      if (!end && !c->resp_submitted && c->facts.kind == buildkit::CallKind::ControlStatus)
        r->note_placement(*c);
      if (!c->resp_submitted) r->submit_response(*c);
    } else if (end) {
      c->resp_end = true;
    }
  } else if (f->hd.type == NGHTTP2_DATA && end) {
    c->resp_end = true;
  }
  // A build that ends without its frontend naming a platform stays where it started.
  if (c->resp_end && c->facts.kind == buildkit::CallKind::ControlSolve) r->settle(c->facts.ref);
  r->resume_response(*c);
  return 0;
}

int Relay::u_data(nghttp2_session* s, uint8_t, int32_t sid, const uint8_t* d, size_t len, void* p) {
  auto* r = self_of(p);
  Call* c = r->call_of(r->upstream_of(s), sid);
  if (!c) {
    nghttp2_session_consume(s, sid, len);
    return 0;
  }
  c->resp.append(reinterpret_cast<const char*>(d), len);
  if (c->parent) {  // merged whole messages at a time: read ahead, bounded
    nghttp2_session_consume(s, sid, len);
    if (c->resp.size() > kMaxLegAnswer) {
      c->resp.clear();
      c->resp_trailers = {{"grpc-status", std::to_string(kGrpcUnavailable)},
                          {"grpc-message", "answer larger than twinboxd merges"}};
      c->resp_end = true;
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    }
    r->leg_progress(*c);
    return 0;
  }
  c->resp_unconsumed += len;
  r->resume_response(*c);
  return 0;
}

int Relay::u_close(nghttp2_session* s, int32_t sid, uint32_t code, void* p) {
  auto* r = self_of(p);
  Upstream* u = r->upstream_of(s);
  Call* c = r->call_of(u, sid);
  if (u) u->calls.erase(sid);
  if (!c) return 0;
  if (c->parent) {
    if (!c->resp_end && code != NGHTTP2_NO_ERROR)
      c->resp_trailers = {{"grpc-status", std::to_string(kGrpcUnavailable)},
                          {"grpc-message", "the engine reset the stream"}};
    c->resp_end = true;
    r->leg_progress(*c);
    return 0;
  }
  if (c->facts.kind == buildkit::CallKind::ControlSolve) r->settle(c->facts.ref);
  if (code != NGHTTP2_NO_ERROR && !c->resp_end) {
    nghttp2_submit_rst_stream(r->server_, NGHTTP2_FLAG_NONE, c->cid, code);
    return 0;
  }
  if (!c->resp_end) {
    c->resp_end = true;
    if (!c->resp_submitted) r->submit_response(*c);
    r->resume_response(*c);
  }
  return 0;
}

ssize_t Relay::u_read_req(nghttp2_session* s, int32_t sid, uint8_t* buf, size_t len,
                          uint32_t* flags, nghttp2_data_source*, void* p) {
  auto* r = self_of(p);
  Call* c = r->call_of(r->upstream_of(s), sid);
  if (!c) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t n = std::min(len, c->req.size() - c->sent);
  if (n) {
    std::memcpy(buf, c->req.data() + c->sent, n);
    c->sent += n;
    if (c->sent > c->consumed) {
      nghttp2_session_consume(r->server_, c->cid, c->sent - c->consumed);
      c->consumed = c->sent;
    }
    if (!c->keep) {
      c->req.erase(0, c->sent);
      c->consumed -= c->sent;
      c->sent = 0;
    }
  }
  if (c->sent == c->req.size() && c->req_end) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    c->req_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

void Relay::submit_response(Call& c) {
  c.resp_submitted = true;
  auto nv = to_nv(c.resp_headers);
  if (c.resp_end && c.resp.empty() && c.resp_trailers.empty()) {
    nghttp2_submit_response(server_, c.cid, nv.data(), nv.size(), nullptr);
    return;
  }
  nghttp2_data_provider prd{};
  prd.read_callback = &Relay::s_read_resp;
  nghttp2_submit_response(server_, c.cid, nv.data(), nv.size(), &prd);
}

void Relay::fail(Call& c, int grpc_status, const std::string& message) {
  log::warn("api", "BuildKit call " + c.path + ": " + message);
  c.failed = true;
  release_read_ahead(c);
  if (c.req.size() > c.consumed) nghttp2_session_consume(server_, c.cid, c.req.size() - c.consumed);
  c.req.clear();
  c.resp_headers = {{":status", "200"},
                    {"content-type", "application/grpc"},
                    {"grpc-status", std::to_string(grpc_status)},
                    {"grpc-message", buildkit::grpc_percent_encode("twinbox: " + message)}};
  c.resp_end = true;
  submit_response(c);
}

Result<Upstream*> Relay::upstream(const std::string& backend) {
  auto it = ups_.find(backend);
  if (it != ups_.end() && !it->second->dead) return it->second.get();
  TRY_ASSIGN(auto stream, env_.open_engine(backend));
  auto u = std::make_unique<Upstream>();
  u->backend = backend;
  u->stream = std::move(stream);
  int fl = fcntl(u->stream->fd(), F_GETFL);
  fcntl(u->stream->fd(), F_SETFL, fl | O_NONBLOCK);
  TRY_ASSIGN(u->session, new_session(false,
                                     {nullptr, &Relay::u_header, &Relay::u_frame_recv,
                                      &Relay::u_data, &Relay::u_close},
                                     this,
                                     {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
                                      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}}));
  auto& buffered = u->stream->buffer();
  if (!buffered.empty()) {
    auto n = nghttp2_session_mem_recv(u->session, reinterpret_cast<const uint8_t*>(buffered.data()),
                                      buffered.size());
    if (n < 0)
      return make_error(ErrorCode::Unavailable,
                        "the " + backend + " engine's HTTP/2: " + nghttp2_strerror(int(n)));
    buffered.clear();
  }
  if (env_.tracker) env_.tracker->add(u->stream->fd());
  Upstream* raw = u.get();
  ups_[backend] = std::move(u);
  return raw;
}

void Relay::lose_upstream(Upstream& u, const std::string& why) {
  log::warn("api", "BuildKit connection to the " + u.backend + " engine ended: " + why);
  u.dead = true;
  for (auto& [uid, cid] : u.calls) {
    Call* c = call(cid);
    if (!c) continue;
    c->up = nullptr;
    c->uid = -1;
    if (c->parent) {
      c->resp_trailers = {{"grpc-status", std::to_string(kGrpcUnavailable)},
                          {"grpc-message", "the connection to the " + u.backend + " engine ended"}};
      c->resp_end = true;
      leg_progress(*c);
      continue;
    }
    if (c->resp_submitted)
      nghttp2_submit_rst_stream(server_, NGHTTP2_FLAG_NONE, cid, NGHTTP2_INTERNAL_ERROR);
    else
      fail(*c, kGrpcUnavailable,
           "the connection to the " + u.backend + " engine ended (" + why + ")");
  }
  u.calls.clear();
  if (env_.tracker) env_.tracker->remove(u.stream->fd());
}

void Relay::send_to(Call& c, const std::string& backend, const std::string& why) {
  auto u = upstream(backend);
  if (!u && c.parent) {  // a fan-out leg: an ended leg carrying the error
    c.resp_trailers = {{"grpc-status", std::to_string(kGrpcUnavailable)},
                       {"grpc-message", u.error().message}};
    c.resp_end = true;
    return;
  }
  if (!u) {
    fail(c, kGrpcUnavailable, u.error().message);
    return;
  }
  c.routed = true;
  release_read_ahead(c);
  c.up = *u;
  c.sent = 0;
  c.req_deferred = false;
  nghttp2_data_provider prd{};
  prd.read_callback = &Relay::u_read_req;
  auto nv = to_nv(c.req_headers);
  int32_t uid = nghttp2_submit_request(c.up->session, nullptr, nv.data(), nv.size(), &prd, nullptr);
  if (uid < 0) {
    fail(c, kGrpcUnavailable,
         "could not open a stream to the " + backend + " engine: " + nghttp2_strerror(uid));
    return;
  }
  c.uid = uid;
  c.up->calls[uid] = c.cid;
  if (why.empty())
    log::debug("api", "BuildKit " + c.path + " -> " + backend);
  else
    log::info("api", "BuildKit " + c.path + " -> " + backend + ": " + why);
}

void Relay::move_build(const std::string& ref, Build& b, const std::string& to) {
  log::info("api", "BuildKit build " + ref + " moves from " + b.backend + " to " + to +
                       " before anything ran: its frontend asked for a platform " + to + " builds");
  for (auto& [cid, cp] : calls_) {
    Call& c = *cp;
    if (!c.routed || c.failed || c.facts.ref != ref || !c.up) continue;
    if (c.facts.kind != buildkit::CallKind::ControlSolve &&
        c.facts.kind != buildkit::CallKind::ControlStatus)
      continue;
    // Reset the stream in the engine it started in; its answers so far are dropped.
    Upstream* old = c.up;
    if (!old->dead) {
      if (c.resp_unconsumed) nghttp2_session_consume_connection(old->session, c.resp_unconsumed);
      old->calls.erase(c.uid);
      nghttp2_submit_rst_stream(old->session, NGHTTP2_FLAG_NONE, c.uid, NGHTTP2_CANCEL);
    }
    c.resp_unconsumed = 0;
    if (!c.resp_submitted) {
      c.resp.clear();
      c.resp_headers.clear();
      c.resp_trailers.clear();
      c.resp_headers_seen = false;
      c.resp_end = false;
    }
    c.up = nullptr;
    c.uid = -1;
    send_to(c, to, "");
  }
  b.backend = to;
}

void Relay::try_route(Call& c) {
  if (!c.headers_done) return;
  if (!c.classified) {
    std::string message;
    auto kind = buildkit::classify(c.path);
    if (buildkit::needs_message(kind)) {
      auto m = buildkit::first_message(c.req, kMaxRoutingMessage);
      if (!m) return fail(c, kGrpcInvalidArgument, m.error().message);
      if (!*m) {
        if (c.req_end) return fail(c, kGrpcInvalidArgument, "the request ended before its message");
        return;  // wait for the rest of the message
      }
      if ((*m)->compressed)
        return fail(c, kGrpcInvalidArgument,
                    "a compressed BuildKit request cannot be routed by twinboxd");
      message = std::string((*m)->bytes);
    }
    auto facts =
        buildkit::read_call(c.path, header_value(c.req_headers, buildkit::kBuildIdHeader),
                            header_value(c.req_headers, buildkit::kSessionUuidHeader), message);
    if (!facts) return fail(c, kGrpcInvalidArgument, facts.error().message);
    c.facts = std::move(facts).value();
    c.classified = true;
    c.keep = c.facts.kind == buildkit::CallKind::ControlSolve ||
             c.facts.kind == buildkit::CallKind::ControlStatus;
  }
  using buildkit::CallKind;
  auto& f = c.facts;
  switch (f.kind) {
    case CallKind::ControlSolve: {
      Build b;
      b.session = f.session;
      std::string why;
      if (f.client_frontend && !f.has_platform) {
        b.backend = env_.home;
        b.provisional = true;
        why = "build " + f.ref + " starts in " + b.backend + " until its frontend names a platform";
      } else {
        auto choice = env_.build_backend(f.platform);
        if (!choice) return fail(c, kGrpcInvalidArgument, choice.error().message);
        b.backend = choice->backend;
        b.reason = choice->reason;
        why = "build " + f.ref + ": " + choice->reason;
      }
      builds_[f.ref] = b;
      if (!b.provisional && env_.sessions && !b.session.empty())
        env_.sessions->claim(b.session, b.backend);
      send_to(c, b.backend, why);
      route_pending();
      return;
    }
    case CallKind::BridgeSolve: {
      auto it = builds_.find(f.ref);
      if (it == builds_.end()) break;  // pending until its build is known
      Build& b = it->second;
      if (b.provisional) {
        auto choice = env_.build_backend(f.platform);
        if (!choice) return fail(c, kGrpcInvalidArgument, choice.error().message);
        if (choice->backend != b.backend) move_build(f.ref, b, choice->backend);
        b.reason = choice->reason;
        settle(f.ref);
        return send_to(c, b.backend, "build " + f.ref + ": " + choice->reason);
      }
      return send_to(c, b.backend, "");
    }
    case CallKind::ControlStatus:
    case CallKind::Bridge: {
      auto it = builds_.find(f.ref);
      if (it == builds_.end()) break;
      return send_to(c, it->second.backend, "");
    }
    case CallKind::ControlSession: {
      for (auto& [ref, b] : builds_)
        if (b.session == f.session && !b.provisional)
          return send_to(c, b.backend, "session of build " + ref);
      break;
    }
    case CallKind::DiskUsage:
    case CallKind::Prune:
      return fan_out(c);
    case CallKind::Workers:
    case CallKind::Other:
      return send_to(c, f.kind == CallKind::Workers ? env_.workers_backend() : env_.home, "");
  }
  // Its build is not known yet: wait, bounded.
  if (Clock::now() - c.since > kPendingLimit) {
    auto backend = env_.home;
    auto it = builds_.find(f.ref);
    if (it != builds_.end()) backend = it->second.backend;
    send_to(c, backend, "no build named " + (f.ref.empty() ? f.session : f.ref) + " within 10 s");
  }
}

void Relay::fan_out(Call& c) {
  if (!c.req_end) return;  // a unary request: sent to every engine once whole
  auto backends = env_.running ? env_.running() : std::vector<std::string>{env_.home};
  if (backends.empty()) return fail(c, kGrpcUnavailable, "no engine is running");
  c.routed = true;
  for (auto& b : backends) {
    auto leg = std::make_unique<Call>();
    leg->cid = next_leg_--;
    leg->parent = c.cid;
    leg->req_headers = c.req_headers;
    leg->path = c.path;
    leg->headers_done = true;
    leg->req = c.req;
    leg->consumed = leg->req.size();  // the parent gave the client's window back
    leg->keep = true;
    leg->req_end = true;
    leg->facts = c.facts;
    leg->classified = true;
    c.legs.push_back(leg->cid);
    Call& ref = *leg;
    calls_[leg->cid] = std::move(leg);
    send_to(ref, b, "");
  }
  if (c.req.size() > c.consumed) nghttp2_session_consume(server_, c.cid, c.req.size() - c.consumed);
  c.consumed = c.req.size();
  c.req.clear();  // each leg has its copy
  log::debug("api", "BuildKit " + c.path + " -> every running engine, answers merged");
  if (Call* first = call(c.legs.front())) leg_progress(*first);
}

void Relay::leg_progress(Call& leg) {
  Call* parent = call(leg.parent);
  if (!parent || parent->resp_end) return;
  bool streaming = parent->facts.kind == buildkit::CallKind::Prune;
  if (streaming)
    for (auto& m : buildkit::take_messages(leg.resp)) parent->resp += m;
  bool all_ended = true;
  size_t ok = 0;
  std::string err_status, err_message;
  std::vector<std::string> answers;
  for (auto id : parent->legs) {
    Call* l = call(id);
    if (!l) continue;
    if (!l->resp_end) {
      all_ended = false;
      continue;
    }
    auto st = header_value(l->resp_trailers, "grpc-status");
    if (st.empty()) st = header_value(l->resp_headers, "grpc-status");  // a trailers-only answer
    if (st == "0") {
      ++ok;
      if (!streaming) answers.push_back(l->resp);
      continue;
    }
    err_status = st.empty() ? std::to_string(kGrpcUnavailable) : st;
    err_message = header_value(l->resp_trailers, "grpc-message");
    if (err_message.empty()) err_message = header_value(l->resp_headers, "grpc-message");
  }
  if (!all_ended) {
    if (!parent->resp.empty() && !parent->resp_submitted) {
      parent->resp_headers = {{":status", "200"}, {"content-type", "application/grpc"}};
      submit_response(*parent);
    }
    resume_response(*parent);
    return;
  }
  // One engine's failure does not hide the other's build cache: an error only when none answered.
  Headers end = {{"grpc-status", ok ? "0" : err_status}};
  if (!ok && !err_message.empty()) end.emplace_back("grpc-message", err_message);
  if (!streaming && ok) parent->resp = buildkit::merge_unary(answers);
  parent->resp_end = true;
  if (parent->resp_submitted) {
    parent->resp_trailers = std::move(end);
  } else if (parent->resp.empty() && !ok) {
    parent->resp_headers = {{":status", "200"}, {"content-type", "application/grpc"}};
    parent->resp_headers.insert(parent->resp_headers.end(), end.begin(), end.end());
    submit_response(*parent);  // trailers-only
  } else {
    parent->resp_headers = {{":status", "200"}, {"content-type", "application/grpc"}};
    parent->resp_trailers = std::move(end);
    submit_response(*parent);
  }
  resume_response(*parent);
}

void Relay::drop_legs(Call& c) {
  for (auto id : c.legs) {
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    Call& l = *it->second;
    if (l.up && l.uid > 0 && !l.up->dead) {
      l.up->calls.erase(l.uid);
      if (!l.resp_end)
        nghttp2_submit_rst_stream(l.up->session, NGHTTP2_FLAG_NONE, l.uid, NGHTTP2_CANCEL);
    }
    calls_.erase(it);
  }
  c.legs.clear();
}

void Relay::note_placement(Call& c) {
  auto it = builds_.find(c.facts.ref);
  if (it == builds_.end()) return;
  const Build& b = it->second;
  std::string text =
      "twinbox: building in " + b.backend + (b.reason.empty() ? "" : " (" + b.reason + ")");
  auto now = std::chrono::system_clock::now().time_since_epoch();
  c.resp.insert(0, buildkit::status_note(
                       text, std::chrono::duration_cast<std::chrono::seconds>(now).count()));
}

void Relay::settle(const std::string& ref) {
  auto it = builds_.find(ref);
  if (it == builds_.end() || !it->second.provisional) return;
  it->second.provisional = false;
  if (env_.sessions && !it->second.session.empty())
    env_.sessions->claim(it->second.session, it->second.backend);
}

void Relay::route_pending() {
  std::vector<int32_t> ids;
  for (auto& [cid, c] : calls_)
    if (!c->routed && !c->failed && c->headers_done) ids.push_back(cid);
  for (auto cid : ids)
    if (Call* c = call(cid)) try_route(*c);
}

Status Relay::flush(nghttp2_session* s, int fd, std::string& out) {
  while (out.size() < kMaxOutBuffer && nghttp2_session_want_write(s)) {
    const uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(s, &data);
    if (n < 0)
      return make_error(ErrorCode::Internal, std::string("HTTP/2: ") + nghttp2_strerror(int(n)));
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  while (!out.empty()) {
    auto w = ::write(fd, out.data(), out.size());
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return make_error(ErrorCode::Unavailable, std::string("write: ") + std::strerror(errno));
    }
    out.erase(0, static_cast<size_t>(w));
  }
  return {};
}

Status Relay::run() {
  TRY_ASSIGN(server_, new_session(true,
                                  {&Relay::s_begin_headers, &Relay::s_header, &Relay::s_frame_recv,
                                   &Relay::s_data, &Relay::s_close},
                                  this,
                                  {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow}}));

  int cfd = client_.fd();
  fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
  auto feed = [](nghttp2_session* s, const char* d, size_t n) -> Status {
    auto r = nghttp2_session_mem_recv(s, reinterpret_cast<const uint8_t*>(d), n);
    if (r < 0)
      return make_error(ErrorCode::InvalidArgument,
                        std::string("HTTP/2: ") + nghttp2_strerror(int(r)));
    return {};
  };
  if (!client_.buffer().empty()) {
    TRY(feed(server_, client_.buffer().data(), client_.buffer().size()));
    client_.buffer().clear();
  }
  std::vector<char> buf(64 * 1024);
  while (true) {
    route_pending();
    if (!flush(server_, cfd, out_)) return {};  // the client went away: its streams end with it
    for (auto& [name, u] : ups_) {
      if (u->dead) continue;
      if (auto st = flush(u->session, u->stream->fd(), u->out); !st)
        lose_upstream(*u, st.error().message);
    }
    if (!nghttp2_session_want_read(server_) && !nghttp2_session_want_write(server_) && out_.empty())
      return {};
    std::vector<pollfd> fds;
    std::vector<Upstream*> owners;
    fds.push_back({cfd, short(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0});
    owners.push_back(nullptr);
    for (auto& [name, u] : ups_) {
      if (u->dead) continue;
      fds.push_back({u->stream->fd(), short(POLLIN | (u->out.empty() ? 0 : POLLOUT)), 0});
      owners.push_back(u.get());
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::Internal, std::string("poll: ") + std::strerror(errno));
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (!owners[i]) {
        if (n <= 0) return {};  // the client went away: its streams end with it
        TRY(feed(server_, buf.data(), static_cast<size_t>(n)));
        continue;
      }
      Upstream& u = *owners[i];
      if (n <= 0) {
        lose_upstream(u, n == 0 ? "closed by the engine" : std::strerror(errno));
        continue;
      }
      if (auto st = feed(u.session, buf.data(), static_cast<size_t>(n)); !st)
        lose_upstream(u, st.error().message);
    }
  }
}

}  // namespace

Result<std::unique_ptr<Stream>> upgrade_engine_grpc(Fd engine) {
  auto s = std::make_unique<Stream>(std::move(engine));
  TRY(write_all(s->fd(),
                "POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
                "Content-Length: 0\r\n\r\n"));
  auto h = read_response_head(*s);
  if (h.state != HeadRead<http::ResponseHead>::State::Ok)
    return make_error(ErrorCode::Unavailable, "the engine closed its /grpc connection");
  if (h.head.status != 101)
    return make_error(ErrorCode::Unavailable, "the engine answered /grpc with " +
                                                  std::to_string(h.head.status) + ", not 101");
  return s;
}

Status serve_grpc(Stream& client, const GrpcProxyEnv& env) {
  TRY(write_all(client.fd(),
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"));
  Relay relay(client, env);
  return relay.run();
}

}  // namespace twinbox::api
