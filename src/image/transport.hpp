#pragma once
// The HTTP the registry client needs, behind an interface so tests can replace the network:
// one request, the final response's status and headers, and the body streamed to a callback
// (a layer is never held in memory). curl_transport.hpp is the real one.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"
#include "util/strings.hpp"

namespace twinbox::image {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  HeaderList headers;  // may hold credentials: a transport never logs or reports them
  // Whole-request limit; 0 = none (blobs: the stall limit below bounds them instead).
  std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // of the final response (after redirects), names as received

  // The first header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (iequals(n, name)) return v;
    }
    return {};
  }
};

// Called for each body chunk with the response head (status and headers are known before the
// first chunk). An error return stops the transfer and becomes the result of send().
using BodyCallback = std::function<Status(const HttpResponse& head, std::string_view chunk)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `req`, following redirects (credentials are not forwarded to another host). Returns
  // the final response head once the body has been delivered. Unavailable for connection
  // failures, Timeout for timeouts; the URL is named, headers never are.
  virtual Result<HttpResponse> send(const HttpRequest& req, const BodyCallback& on_body) = 0;
};

}  // namespace twinbox::image
