#include "fakes/test_client.hpp"

#include <sys/socket.h>

#include <chrono>

#include "api/http_body.hpp"

namespace twinbox::fakes {

TestClient::TestClient(Fd fd) : stream_(std::make_unique<api::Stream>(std::move(fd))) {
  stream_->set_read_timeout(std::chrono::seconds(20));  // a hung test fails instead of hanging
}

Result<TestClient> TestClient::connect(const std::string& socket_path) {
  TRY_ASSIGN(Fd fd, connect_unix(socket_path));
  return TestClient(std::move(fd));
}

Status TestClient::send(const std::string& bytes) { return write_all(stream_->fd(), bytes); }

Result<api::http::ResponseHead> TestClient::read_head() {
  auto h = api::read_response_head(*stream_);
  if (h.state != api::HeadRead<api::http::ResponseHead>::State::Ok)
    return make_error(ErrorCode::Io,
                      "no response head: " + (h.error.empty() ? "connection closed" : h.error));
  return h.head;
}

Result<TestResponse> TestClient::read_response(const std::string& method) {
  TRY_ASSIGN(auto head, read_head());
  TRY_ASSIGN(auto framing, api::http::response_framing(method, head));
  TRY_ASSIGN(std::string body, api::read_body(*stream_, framing, 64u << 20));
  return TestResponse{head.status, std::move(head.headers), std::move(body)};
}

Result<TestResponse> TestClient::request(const std::string& method, const std::string& target,
                                         const std::string& body, const HeaderList& headers) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: docker\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (!body.empty())
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n" + body;
  TRY(send(out));
  return read_response(method);
}

Result<TestResponse> TestClient::request_chunked(const std::string& method,
                                                 const std::string& target, const std::string& body,
                                                 size_t pieces) {
  std::string out =
      method + " " + target + " HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n";
  size_t step = (body.size() + pieces - 1) / pieces;
  for (size_t i = 0; i < body.size(); i += step) {
    std::string piece = body.substr(i, step);
    char size[32];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    out += std::string(size) + "\r\n" + piece + "\r\n";
  }
  out += "0\r\n\r\n";
  TRY(send(out));
  return read_response(method);
}

std::string TestClient::read_raw(size_t n) {
  while (stream_->buffer().size() < n) {
    auto r = stream_->fill();
    if (!r || *r == 0) break;
  }
  std::string out = stream_->buffer().substr(0, n);
  stream_->buffer().erase(0, out.size());
  return out;
}

std::string TestClient::read_until_eof() {
  for (;;) {
    auto r = stream_->fill();
    if (!r || *r == 0) break;
  }
  return std::exchange(stream_->buffer(), "");
}

Result<std::string> TestClient::read_available() {
  if (stream_->buffer().empty()) {
    TRY_ASSIGN(size_t n, stream_->fill());
    if (n == 0) return make_error(ErrorCode::Io, "closed");
  }
  return std::exchange(stream_->buffer(), "");
}

void TestClient::shutdown_write() { ::shutdown(stream_->fd(), SHUT_WR); }

}  // namespace twinbox::fakes
