#include "api/engine_client.hpp"

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
  TRY_ASSIGN(Fd fd, engine.connect());
  Stream s(std::move(fd));
  s.set_read_timeout(timeout);
  std::string req = method + " " + target +
                    " HTTP/1.1\r\nHost: twinbox\r\nUser-Agent: twinboxd\r\n"
                    "Connection: close\r\n";
  if (produce) req += "Content-Type: " + content_type + "\r\nTransfer-Encoding: chunked\r\n";
  req += "\r\n";
  if (auto st = write_all(s.fd(), req); !st) return st.error().context(what);
  if (produce) {
    auto chunk = [&](std::string_view piece) -> Status {
      return write_all(s.fd(), http::chunk_frame(piece));
    };
    if (auto st = (*produce)(chunk); !st) return st.error().context(what);
    if (auto st = write_all(s.fd(), "0\r\n\r\n"); !st) return st.error().context(what);
  }
  auto head = read_response_head(s);
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
  return out;
}

}  // namespace

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
