#pragma once
// One-shot requests from twinboxd to a guest engine, for the answers twinbox builds itself
// (/info, /version, merged lists) and for probing where an unknown container lives.
#include <chrono>
#include <functional>
#include <string>

#include "api/http.hpp"
#include "api/stream.hpp"
#include "guest/connector.hpp"
#include "util/result.hpp"

namespace twinbox::api {

struct EngineResponse {
  int status = 0;
  http::Headers headers;
  std::string body;  // decoded (chunked framing removed)
};

// The one rule for kept engine connections (GuestConnector::lease/keep), for the proxy and for
// twinboxd's own questions. A request may go on a kept connection when it is a GET or HEAD
// without a body: sent again on a new connection after the kept one turned out closed, it
// changes nothing. Everything else (effects, uploads, hijacks) gets a connection of its own.
bool may_reuse_connection(const std::string& method, bool has_body);
// After an exchange: the connection can carry another request when the answer was read to its
// end (not close-delimited), nothing more came, and the engine did not say close.
bool connection_reusable_after(const http::Framing& framing, const http::Headers& answer_headers,
                               Stream& engine);

// Sends a body-less request on a fresh connection and reads the whole answer (at most 64 MiB),
// each read bounded by `timeout`. `target` is the full request target ("/v1.41/info").
Result<EngineResponse> engine_request(guest::GuestConnector& engine, const std::string& method,
                                      const std::string& target,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Produces a request body piece by piece: calls `write` for each piece, returns when done.
using BodyProducer = std::function<Status(const std::function<Status(std::string_view)>& write)>;

// Like engine_request, with a chunked request body streamed from `produce` (docker load of an
// image from the content store, without a temp file). An error from `produce` ends the request
// unfinished and is returned.
Result<EngineResponse> engine_upload(guest::GuestConnector& engine, const std::string& method,
                                     const std::string& target, const std::string& content_type,
                                     const BodyProducer& produce,
                                     std::chrono::milliseconds timeout = std::chrono::minutes(10));

// A body-less request whose answer is a stream (GET /events): `on_head` gets the status and
// headers (and, for an answer other than 200, the whole small body); for a 200, `on_data` gets
// the decoded body piece by piece until it ends, `on_data` returns false, or `cancel_fd`
// becomes readable (then Unavailable). No read timeout: the stream may be quiet for hours.
Status engine_stream(guest::GuestConnector& engine, const std::string& target, int cancel_fd,
                     const std::function<void(const EngineResponse&)>& on_head,
                     const std::function<bool(std::string_view)>& on_data);

}  // namespace twinbox::api
