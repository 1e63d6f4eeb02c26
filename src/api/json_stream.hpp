#pragma once
// A 200 answer whose body is newline-delimited JSON sent in chunks as it is produced: docker
// pull and docker load progress, twinbox image prewarm. Once the head is out, errors can only
// travel as lines (Docker's {"errorDetail": ...}).
#include <string>

#include "api/docker_json.hpp"
#include "api/http.hpp"
#include "api/stream.hpp"

namespace twinbox::api {

class JsonStream {
 public:
  // `line_end`: "\r\n" as dockerd writes its progress streams; "\n" for twinbox's own.
  explicit JsonStream(Stream& client, std::string line_end = "\r\n")
      : client_(client), line_end_(std::move(line_end)) {}
  Status begin(const std::string& version) {
    return write_all(client_.fd(),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Server: twinboxd/" +
                         version + "\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  void line(const Json& j) {
    if (!ok_) return;
    ok_ = write_all(client_.fd(), http::chunk_frame(dump_json(j) + line_end_)).has_value();
  }
  // A failure after the head went out, as dockerd reports it; the CLI prints it and exits 1.
  void error(const std::string& message) {
    line(Json{{"errorDetail", {{"message", message}}}, {"error", message}});
  }
  // The last chunk; false when any write failed (the client went away).
  bool end() { return ok_ && write_all(client_.fd(), "0\r\n\r\n").has_value(); }

 private:
  Stream& client_;
  std::string line_end_;
  bool ok_ = true;
};

}  // namespace twinbox::api
