#include "api/engine_client.hpp"

#include <algorithm>
#include <cstdio>

#include "api/http_body.hpp"
#include "api/stream.hpp"

namespace twinbox::api {

namespace {
constexpr size_t kMaxAnswerBytes = 64u << 20;
}

namespace {

Result<EngineResponse> exchange(guest::GuestConnector& engine, const std::string& method,
                                const std::string& target, const std::string& content_type,
                                const BodyProducer* produce, std::chrono::milliseconds timeout) {
  std::string what = method + " " + target + " on " + engine.describe();
  bool reusable = may_reuse_connection(method, produce != nullptr);
  TRY_ASSIGN(auto lease, engine.lease(reusable));
  Stream s(std::move(lease.fd));
  s.set_read_timeout(timeout);
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: twinbox\r\nUser-Agent: twinboxd\r\n";
  if (!reusable) req += "Connection: close\r\n";
  if (produce) req += "Content-Type: " + content_type + "\r\nTransfer-Encoding: chunked\r\n";
  req += "\r\n";
  auto sent = write_all(s.fd(), req);
  if (!sent && lease.reused)
    return exchange(engine, method, target, content_type, produce, timeout);
  if (!sent) return sent.error().context(what);
  if (produce) {
    auto chunk = [&](std::string_view piece) -> Status {
      return write_all(s.fd(), http::chunk_frame(piece));
    };
    if (auto st = (*produce)(chunk); !st) return st.error().context(what);
    if (auto st = write_all(s.fd(), "0\r\n\r\n"); !st) return st.error().context(what);
  }
  auto head = read_response_head(s);
  if (head.state == HeadRead<http::ResponseHead>::State::Eof && lease.reused)
    return exchange(engine, method, target, content_type, produce, timeout);
  while (head.state == HeadRead<http::ResponseHead>::State::Ok && head.head.status >= 100 &&
         head.head.status < 200)
    head = read_response_head(s);  // interim 1xx answers carry no body
  if (head.state != HeadRead<http::ResponseHead>::State::Ok)
    return make_error(ErrorCode::Io, what + ": bad response head: " +
                                         (head.error.empty() ? "connection closed" : head.error));
  auto framing = http::response_framing(method, head.head);
  if (!framing) return framing.error().context(what);
  EngineResponse out;
  out.status = head.head.status;
  out.headers = std::move(head.head.headers);
  auto body = read_body(s, *framing, kMaxAnswerBytes);
  if (!body) return body.error().context(what);
  out.body = std::move(body).value();
  if (reusable && connection_reusable_after(*framing, out.headers, s)) engine.keep(s.release_fd());
  return out;
}

}  // namespace

bool may_reuse_connection(const std::string& method, bool has_body) {
  return !has_body && (method == "GET" || method == "HEAD");
}

bool connection_reusable_after(const http::Framing& framing, const http::Headers& answer_headers,
                               Stream& engine) {
  return framing.kind != http::BodyKind::UntilClose && engine.buffer().empty() &&
         !answer_headers.has_token("Connection", "close");
}

Status engine_stream(guest::GuestConnector& engine, const std::string& target, int cancel_fd,
                     const std::function<void(const EngineResponse&)>& on_head,
                     const std::function<bool(std::string_view)>& on_data) {
  std::string what = "GET " + target + " on " + engine.describe();
  TRY_ASSIGN(Fd fd, engine.connect());
  Stream s(std::move(fd));
  s.set_cancel_fd(cancel_fd);
  std::string req =
      "GET " + target +
      " HTTP/1.1\r\nHost: twinbox\r\nUser-Agent: twinboxd\r\nConnection: close\r\n\r\n";
  if (auto st = write_all(s.fd(), req); !st) return st.error().context(what);
  auto head = read_response_head(s);
  if (head.state != HeadRead<http::ResponseHead>::State::Ok)
    return make_error(ErrorCode::Io, what + ": bad response head: " +
                                         (head.error.empty() ? "connection closed" : head.error));
  auto framing = http::response_framing("GET", head.head);
  if (!framing) return framing.error().context(what);
  EngineResponse first;
  first.status = head.head.status;
  first.headers = std::move(head.head.headers);
  if (first.status != 200) {
    auto body = read_body(s, *framing, kMaxAnswerBytes);
    if (!body) return body.error().context(what);
    first.body = std::move(body).value();
    on_head(first);
    return {};
  }
  on_head(first);
  http::ChunkedDecoder chunked;
  uint64_t left = framing->length;
  if (framing->kind == http::BodyKind::None || (framing->kind == http::BodyKind::Length && !left))
    return {};
  for (;;) {
    if (s.buffer().empty()) {
      TRY_ASSIGN(size_t n, s.fill());
      if (n == 0) {
        if (framing->kind == http::BodyKind::Chunked && !chunked.done())
          return make_error(ErrorCode::Io, what + ": the stream ended mid-chunk");
        return {};
      }
    }
    std::string payload;
    std::string& buf = s.buffer();
    if (framing->kind == http::BodyKind::Chunked) {
      TRY_ASSIGN(size_t used, chunked.feed(buf, &payload));
      buf.erase(0, used);
    } else if (framing->kind == http::BodyKind::Length) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      payload = buf.substr(0, take);
      buf.erase(0, take);
      left -= take;
    } else {
      payload = std::move(buf);
      buf.clear();
    }
    if (!payload.empty() && !on_data(payload)) return {};
    if ((framing->kind == http::BodyKind::Chunked && chunked.done()) ||
        (framing->kind == http::BodyKind::Length && left == 0))
      return {};
  }
}

Result<EngineResponse> engine_request(guest::GuestConnector& engine, const std::string& method,
                                      const std::string& target,
                                      std::chrono::milliseconds timeout) {
  return exchange(engine, method, target, "", nullptr, timeout);
}

Result<EngineResponse> engine_upload(guest::GuestConnector& engine, const std::string& method,
                                     const std::string& target, const std::string& content_type,
                                     const BodyProducer& produce,
                                     std::chrono::milliseconds timeout) {
  return exchange(engine, method, target, content_type, &produce, timeout);
}

}  // namespace twinbox::api
