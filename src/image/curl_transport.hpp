#pragma once
// Transport over libcurl. One easy handle per request, so one object may be used from several
// threads at once; curl_global_init runs once per process (std::call_once).
#include <chrono>
#include <string>

#include "image/transport.hpp"

namespace twinbox::image {

struct CurlTransportOptions {
  std::chrono::milliseconds connect_timeout{15000};
  // A transfer slower than 1 KiB/s for this long is cut (Timeout): bounds blob downloads that
  // have no whole-request limit.
  std::chrono::milliseconds stall_timeout{60000};
  std::string user_agent;  // "twinbox/0.1.0"
};

class CurlTransport : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions opts);
  Result<HttpResponse> send(const HttpRequest& req, const BodyCallback& on_body) override;

 private:
  CurlTransportOptions opts_;
};

}  // namespace twinbox::image
