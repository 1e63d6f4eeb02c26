#include "api/responses.hpp"

#include "api/docker_json.hpp"
#include "router/route.hpp"

namespace twinbox::api {

LocalResponse ping_response() {
  LocalResponse r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "OK";
  r.extra.add("Builder-Version", "1");
  r.extra.add("Cache-Control", "no-cache, no-store, must-revalidate");
  r.extra.add("Pragma", "no-cache");
  return r;
}

LocalResponse error_response(const Error& e) {
  return error_response(error_code_http_status(e.code), e.message);
}

LocalResponse error_response(int status, const std::string& message) {
  return json_response(status, error_body(message));
}

LocalResponse json_response(int status, std::string body) {
  LocalResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string response_bytes(const LocalResponse& r, bool head_only, bool close,
                           const std::string& server_version, std::string_view api_version) {
  http::ResponseHead head;
  head.status = r.status;
  head.headers.add("Api-Version", std::string(api_version));
  head.headers.add("Docker-Experimental", "false");
  head.headers.add("Ostype", "linux");
  head.headers.add("Server", "twinbox/" + server_version + " (linux)");
  for (const auto& h : r.extra.all()) head.headers.add(h.name, h.value);
  bool has_body = r.status != 204 && r.status != 304 && r.status >= 200;
  if (has_body) {
    head.headers.add("Content-Type", r.content_type);
    head.headers.add("Content-Length", std::to_string(r.body.size()));
  }
  if (close) head.headers.add("Connection", "close");
  std::string out = http::serialize(head);
  if (has_body && !head_only) out += r.body;
  return out;
}

}  // namespace twinbox::api
