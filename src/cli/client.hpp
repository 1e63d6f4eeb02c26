#pragma once
// A minimal blocking HTTP/1.1 client over twinboxd's unix socket: one request per connection.
#include <string>

#include "util/result.hpp"

namespace twinbox::cli {

struct Response {
  int status = 0;
  std::string body;
};

Result<Response> request(const std::string& socket_path, const std::string& method,
                         const std::string& path, const std::string& body = "");

// Pure: parses a complete response (Content-Length, chunked or close-delimited body).
Result<Response> parse_response(const std::string& raw);

}  // namespace twinbox::cli
