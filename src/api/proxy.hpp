#pragma once
// Forwarding one client request to a guest engine over a fresh connection, streaming both
// bodies as they arrive (no buffering: docker load uploads, logs -f, events and pull progress are
// long or endless), and turning attach/exec/session upgrades into a raw two-way tunnel with
// half-close propagation.
#include <functional>
#include <optional>
#include <string>

#include "api/http.hpp"
#include "api/stream.hpp"
#include "guest/connector.hpp"
#include "util/result.hpp"

namespace twinbox::api {

struct ProxyOptions {
  // Sent instead of the client's body, whose bytes the caller already consumed (create).
  std::optional<std::string> replaced_body;
  // attach / exec start: a 200 answer without framing also becomes a raw stream.
  bool hijack_endpoint = false;
  // On a 404, read and drop the answer instead of forwarding it (to try another backend).
  bool intercept_404 = false;
  // When set, the answer (at most 1 MiB, framing removed) is read whole and passed here
  // BEFORE it is forwarded, so what the callback records is in place when the client sends its
  // next request (docker run attaches right after create). The callback may rewrite the body
  // (image inspect gains the store's RepoDigests). For small JSON answers only.
  std::function<void(int status, std::string& body)> on_answer;
  // Sockets to cut when the server stops.
  FdTracker* tracker = nullptr;
};

struct ProxyResult {
  int status = 0;            // the engine's status code, 0 when none arrived
  bool answered = false;     // response bytes reached the client
  bool keep_alive = false;   // the client connection can carry another request
  bool upgraded = false;     // the connection became a raw tunnel (now finished)
  bool intercepted = false;  // a 404 was held back (intercept_404)
  bool request_body_done = false;
  std::optional<Error> error;  // when !answered, the caller answers with this
};

ProxyResult proxy_request(Stream& client, const http::RequestHead& head,
                          guest::GuestConnector& engine, const ProxyOptions& opts);

// Copies raw bytes both ways until both directions ended. EOF from one side becomes
// shutdown(SHUT_WR) on the other, so a client that closes stdin still reads the output.
// Bytes already buffered in either Stream go first.
Status pump(Stream& client, Stream& engine);

}  // namespace twinbox::api
