#include "api/proxy.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/engine_client.hpp"
#include "api/http_body.hpp"

namespace twinbox::api {

namespace {

constexpr size_t kMaxBufferedAnswer = 1 << 20;

// One direction of a tunnel.
struct Direction {
  int from;
  int to;
  bool open = true;
};

// Moves what is readable on d.from to d.to; on EOF or a write failure the direction ends and
// the peer learns it through shutdown(SHUT_WR). Returns false on a read error (reset).
bool move_once(Direction& d) {
  char buf[64 * 1024];
  ssize_t n = ::read(d.from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n < 0) return false;
  if (n == 0 || !write_all(d.to, std::string_view(buf, static_cast<size_t>(n)))) {
    ::shutdown(d.to, SHUT_WR);
    d.open = false;
  }
  return true;
}

Status send_request(Stream& client, int engine_fd, const http::RequestHead& head,
                    const ProxyOptions& opts, bool& body_done) {
  http::RequestHead out = head;
  if (opts.replaced_body) {
    out.headers.remove("Transfer-Encoding");
    out.headers.set("Content-Length", std::to_string(opts.replaced_body->size()));
  }
  std::string bytes = http::serialize(out);
  if (opts.replaced_body) bytes += *opts.replaced_body;
  TRY(write_all(engine_fd, bytes));
  if (opts.replaced_body) {
    body_done = true;
    return {};
  }
  TRY_ASSIGN(auto framing, http::request_framing(head));
  TRY(copy_body(client, engine_fd, framing));
  body_done = true;
  return {};
}

// Interim answers one request may get before its final one: a real engine sends at most a
// 100 Continue (and a 103); an endless stream of them must not hold the proxy forever.
constexpr int kMaxInterimAnswers = 8;

// Reads the engine's answer head, passing interim 1xx answers (100 Continue) to the client.
HeadRead<http::ResponseHead> final_head(Stream& client, Stream& engine, ProxyResult& r) {
  for (int interim = 0;; ++interim) {
    auto h = read_response_head(engine);
    if (h.state != HeadRead<http::ResponseHead>::State::Ok) return h;
    if (h.head.status >= 200 || h.head.status == 101) return h;
    if (interim >= kMaxInterimAnswers) {
      HeadRead<http::ResponseHead> bad;
      bad.state = HeadRead<http::ResponseHead>::State::Bad;
      bad.status = 502;
      bad.error = "the engine sent more than " + std::to_string(kMaxInterimAnswers) +
                  " interim (1xx) answers to one request";
      return bad;
    }
    if (write_all(client.fd(), http::serialize(h.head))) r.answered = true;
  }
}

// Reads the whole (small) answer, hands it to on_answer, then forwards it re-framed with a
// Content-Length.
void buffer_response(Stream& client, Stream& engine, const http::RequestHead& head,
                     http::ResponseHead resp, const http::Framing& framing,
                     const ProxyOptions& opts, ProxyResult& r) {
  auto body = read_body(engine, framing, kMaxBufferedAnswer);
  if (!body) {
    r.error = body.error().context("read the engine's answer");
    return;
  }
  opts.on_answer(resp.status, *body);
  if (framing.kind != http::BodyKind::None) {
    resp.headers.remove("Transfer-Encoding");
    resp.headers.set("Content-Length", std::to_string(body->size()));
  }
  if (auto st = write_all(client.fd(), http::serialize(resp) + *body); !st) {
    r.error = st.error().context("send the answer to the client");
    return;
  }
  r.answered = true;
  r.keep_alive = r.request_body_done && http::wants_keep_alive(head) &&
                 !resp.headers.has_token("Connection", "close");
}

void stream_response(Stream& client, Stream& engine, const http::RequestHead& head,
                     const http::ResponseHead& resp, const http::Framing& framing,
                     const ProxyOptions& opts, ProxyResult& r) {
  bool raw = http::is_raw_stream_response(resp, framing, opts.hijack_endpoint);
  if (opts.on_answer && !raw) return buffer_response(client, engine, head, resp, framing, opts, r);
  if (auto st = write_all(client.fd(), http::serialize(resp)); !st) {
    r.error = st.error().context("send response head to the client");
    return;
  }
  r.answered = true;
  if (raw) {
    r.upgraded = true;
    if (auto st = pump(client, engine); !st) r.error = st.error();
    return;
  }
  if (auto st = copy_body(engine, client.fd(), framing); !st) {
    r.error = st.error().context("stream response body");
    return;
  }
  r.keep_alive = r.request_body_done && framing.kind != http::BodyKind::UntilClose &&
                 http::wants_keep_alive(head) && !resp.headers.has_token("Connection", "close");
}

// Kept engine connections (engine_client.hpp): a request without a body of its own, not
// hijacked.
bool may_reuse(const http::RequestHead& head, const ProxyOptions& opts) {
  auto framing = http::request_framing(head);
  bool has_body = opts.replaced_body || !framing || framing->kind != http::BodyKind::None;
  return !opts.hijack_endpoint && may_reuse_connection(head.method, has_body);
}

}  // namespace

ProxyResult proxy_request(Stream& client, const http::RequestHead& head,
                          guest::GuestConnector& engine, const ProxyOptions& opts) {
  ProxyResult r;
  bool reuse = may_reuse(head, opts);
  auto leased = engine.lease(reuse);
  if (!leased) {
    r.error = Error{ErrorCode::Unavailable, leased.error().message};
    return r;
  }
  auto lease = std::move(leased).value();
  Stream eng(std::move(lease.fd));
  TrackedFd tracked(opts.tracker, eng.fd());
  if (auto st = send_request(client, eng.fd(), head, opts, r.request_body_done); !st) {
    if (lease.reused) return proxy_request(client, head, engine, opts);  // closed while kept
    // The engine may already have answered (and stopped reading): let it finish, then read.
    ::shutdown(eng.fd(), SHUT_WR);
    r.error = st.error().context("send request to " + engine.describe());
  }
  auto h = final_head(client, eng, r);
  if (h.state == HeadRead<http::ResponseHead>::State::Eof && lease.reused && !r.answered)
    return proxy_request(client, head, engine, opts);  // closed while kept
  if (h.state != HeadRead<http::ResponseHead>::State::Ok) {
    if (!r.error)
      r.error =
          Error{ErrorCode::Unavailable, "no valid answer from " + engine.describe() + ": " +
                                            (h.error.empty() ? "connection closed" : h.error)};
    return r;
  }
  r.error.reset();
  r.status = h.head.status;
  auto framing = http::response_framing(head.method, h.head);
  if (!framing) {
    r.error = framing.error().context("engine answer from " + engine.describe());
    return r;
  }
  if (opts.intercept_404 && r.status == 404) {
    r.intercepted = read_body(eng, *framing, kMaxBufferedAnswer).has_value();
    if (!r.intercepted) r.error = Error{ErrorCode::Io, "reading a 404 answer failed"};
  } else {
    stream_response(client, eng, head, h.head, *framing, opts, r);
  }
  if (reuse && !r.error && !r.upgraded && r.request_body_done &&
      connection_reusable_after(*framing, h.head.headers, eng))
    engine.keep(eng.release_fd());
  return r;
}

Status pump(Stream& client, Stream& engine) {
  if (!engine.buffer().empty()) TRY(write_all(client.fd(), engine.buffer()));
  engine.buffer().clear();
  if (!client.buffer().empty()) TRY(write_all(engine.fd(), client.buffer()));
  client.buffer().clear();
  Direction up{client.fd(), engine.fd()};    // stdin
  Direction down{engine.fd(), client.fd()};  // stdout/stderr
  while (up.open || down.open) {
    pollfd fds[2] = {{up.open ? up.from : -1, POLLIN, 0}, {down.open ? down.from : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::Io, std::string("poll: ") + std::strerror(errno));
    }
    bool ok = true;
    if (fds[0].revents) ok = move_once(up) && ok;
    if (fds[1].revents) ok = move_once(down) && ok;
    if (!ok) return make_error(ErrorCode::Io, "raw stream reset by peer");
  }
  return {};
}

}  // namespace twinbox::api
