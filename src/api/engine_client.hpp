#pragma once
// One-shot requests from twinboxd to a guest engine, for the answers twinbox builds itself
// (/info, /version, merged lists) and for probing where an unknown container lives.
#include <chrono>
#include <string>

#include "api/http.hpp"
#include "guest/connector.hpp"
#include "util/result.hpp"

namespace twinbox::api {

struct EngineResponse {
  int status = 0;
  http::Headers headers;
  std::string body;  // decoded (chunked framing removed)
};

// Sends a body-less request on a fresh connection and reads the whole answer (at most 64 MiB),
// each read bounded by `timeout`. `target` is the full request target ("/v1.41/info").
Result<EngineResponse> engine_request(guest::GuestConnector& engine, const std::string& method,
                                      const std::string& target,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace twinbox::api
