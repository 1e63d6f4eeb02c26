#include "cli/client.hpp"

#include "util/fd.hpp"
#include "util/strings.hpp"

namespace twinbox::cli {

Result<Response> parse_response(const std::string& raw) {
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || !starts_with(raw, "HTTP/1."))
    return make_error(ErrorCode::Io, "malformed HTTP response from twinboxd");
  Response r;
  r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  std::string head = to_lower(raw.substr(0, head_end));
  std::string body = raw.substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") == std::string::npos) {
    r.body = body;
    return r;
  }
  size_t pos = 0;
  for (;;) {
    auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return make_error(ErrorCode::Io, "truncated chunked body");
    size_t n = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) break;
    if (eol + 2 + n > body.size()) return make_error(ErrorCode::Io, "truncated chunk");
    r.body.append(body, eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  return r;
}

Result<Response> request(const std::string& socket_path, const std::string& method,
                         const std::string& path, const std::string& body) {
  auto fd = connect_unix(socket_path);
  if (!fd)
    return fd.error().context("twinboxd is not answering (is it running? start it with "
                              "scripts/run)");
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: twinbox\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  TRY(write_all(fd->get(), req));
  TRY_ASSIGN(std::string raw, read_to_eof(fd->get()));
  return parse_response(raw);
}

}  // namespace twinbox::cli
