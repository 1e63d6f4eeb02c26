#pragma once
// A small HTTP/1.1 client for tests: one unix-socket connection, kept alive across requests
// (it fails loudly if the server closed it), plus raw access for hijacked streams.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http.hpp"
#include "api/stream.hpp"
#include "util/result.hpp"

namespace twinbox::fakes {

struct TestResponse {
  int status = 0;
  api::http::Headers headers;
  std::string body;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class TestClient {
 public:
  static Result<TestClient> connect(const std::string& socket_path);

  // Sends a request with a Content-Length body (when not empty) and reads the whole answer.
  Result<TestResponse> request(const std::string& method, const std::string& target,
                               const std::string& body = "", const HeaderList& headers = {});
  // Sends a head and a chunked body cut into `pieces` chunks.
  Result<TestResponse> request_chunked(const std::string& method, const std::string& target,
                                       const std::string& body, size_t pieces);

  // Lower level: write bytes, read one response head, read raw bytes.
  Status send(const std::string& bytes);
  Result<api::http::ResponseHead> read_head();
  // Reads until `n` bytes (or EOF) arrived; returns what came.
  std::string read_raw(size_t n);
  std::string read_until_eof();
  // Reads the next chunk of a chunked body that is still streaming (decoded).
  Result<std::string> read_available();
  void shutdown_write();
  api::Stream& stream() { return *stream_; }

 private:
  explicit TestClient(Fd fd);
  Result<TestResponse> read_response(const std::string& method);
  std::unique_ptr<api::Stream> stream_;
};

}  // namespace twinbox::fakes
