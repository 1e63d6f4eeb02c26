#include "cli/client.hpp"

#include "guest/connector.hpp"

namespace twinbox::cli {

Result<Response> request(const std::string& socket_path, const std::string& method,
                         const std::string& path) {
  guest::UnixConnector daemon(socket_path);
  auto r = api::engine_request(daemon, method, path);
  if (!r)
    return r.error().context(
        "twinboxd is not answering (is it running? start it with scripts/run)");
  return r;
}

}  // namespace twinbox::cli
