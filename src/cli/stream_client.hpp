#pragma once
// Requests to twinboxd that carry a body, or whose answer is too big or too long-lived to hold
// in memory (image archives, prewarm progress). client.hpp's request() stays the tool for small
// body-less calls; this one streams both ways over the same HTTP parsing (api/http, api/stream).
#include <functional>
#include <string>
#include <string_view>

#include "api/http.hpp"
#include "util/result.hpp"

namespace twinbox::cli {

struct RequestBody {
  std::string data;          // sent as is when fd < 0 (Content-Length, 0 when empty)
  int fd = -1;               // streamed from here when >= 0: Content-Length for the rest of a
                             // regular file, chunked for anything else (a pipe, a terminal)
  std::string content_type;  // no Content-Type header when empty
};

// Receives a 2xx answer's payload (chunked framing removed) piece by piece as it arrives; an
// error stops the transfer and is returned by call().
using Sink = std::function<Status(std::string_view)>;

struct CallResult {
  int status = 0;
  api::http::Headers headers;
  std::string body;  // the payload, unless it went to the sink
};

// One request on a fresh connection to twinboxd's socket. A 2xx payload goes to `sink` when one
// is given; other answers (error bodies) and answers without a sink are collected in `body`
// (at most 64 MiB). If the daemon answers before taking the whole request body (an early
// refusal), that answer is returned. No read timeout: an import or a prewarm takes as long as
// the daemon needs, and Ctrl-C ends the command.
Result<CallResult> call(const std::string& socket_path, const std::string& method,
                        const std::string& target, const RequestBody& body = {},
                        const Sink& sink = nullptr);

}  // namespace twinbox::cli
