#pragma once
// Transport over libcurl. Each request takes an idle easy handle (or a new one) and gives it
// back afterwards, so a handle's open connections are kept alive for the next request to the
// same registry (one TLS handshake per connection, not per blob) while one object can still be
// used from several threads at once; curl_global_init runs once per process (std::call_once).
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "image/transport.hpp"

namespace twinbox::image {

struct CurlTransportOptions {
  std::chrono::milliseconds connect_timeout{15000};
  // A transfer slower than 1 KiB/s for this long is cut (Timeout): bounds blob downloads that
  // have no whole-request limit.
  std::chrono::milliseconds stall_timeout{60000};
  std::string user_agent;  // "twinbox/0.1.0"
  // Idle handles kept (each keeps its connections alive); more at once are closed after use.
  size_t max_idle_handles = 8;
};

class CurlTransport : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions opts);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  Result<HttpResponse> send(const HttpRequest& req, const BodyCallback& on_body) override;

 private:
  void* take_handle();           // an idle CURL* (reset) or a new one; nullptr when out of memory
  void give_back(void* handle);  // kept idle, or cleaned up when enough are

  CurlTransportOptions opts_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*: curl.h stays out of this header
};

}  // namespace twinbox::image
