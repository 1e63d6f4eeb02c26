#pragma once
// Responses twinboxd writes itself, pure: the headers dockerd puts on every answer, /_ping's
// exact shape, and Docker-format errors.
#include <string>

#include "api/http.hpp"
#include "router/route.hpp"
#include "util/result.hpp"

namespace twinbox::api {

struct LocalResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  http::Headers extra;  // added after the standard headers
};

// GET|HEAD /_ping: "OK", Api-Version 1.41, no caching.
LocalResponse ping_response();
// {"message": ...} with the status of the error's code (400/404/409/500/503/504).
LocalResponse error_response(const Error& e);
LocalResponse error_response(int status, const std::string& message);
LocalResponse json_response(int status, std::string body);

// The bytes of a response: status line, Api-Version/Ostype/Docker-Experimental/Server headers,
// Content-Type and Content-Length, `Connection: close` when `close`. `head_only` (HEAD
// requests) sends the headers a GET would get and no body. `api_version` goes in Api-Version.
std::string response_bytes(const LocalResponse& r, bool head_only, bool close,
                           const std::string& server_version,
                           std::string_view api_version = router::kApiVersion);

}  // namespace twinbox::api
