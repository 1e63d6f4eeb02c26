// POST /auth (docker login), answered by twinboxd: the credentials are checked against the
// registry from the host, with the same endpoint rules as pulls (plain HTTP for loopback and
// --insecure-registry hosts). Forwarding it to an engine would check from inside a VM, whose
// 127.0.0.1 is not the host's. Nothing is stored: the docker CLI keeps the credentials in the
// client's config and sends them with each pull (X-Registry-Auth), as with dockerd.
#include "api/dispatch.hpp"
#include "api/docker_json.hpp"
#include "image/auth_config.hpp"
#include "util/log.hpp"

namespace twinbox::api {

namespace {

// An AuthConfig is a few short strings; anything larger is not one.
constexpr size_t kMaxAuthBody = 64u << 10;

}  // namespace

RequestOutcome Dispatcher::serve_auth(Stream& client, const http::RequestHead& head,
                                      bool body_pending) {
  if (!images_) {
    return answer(client, head,
                  error_response(503,
                                 "docker login: twinboxd runs without a content store, so "
                                 "it has no registry client to check credentials with"),
                  "local", body_pending);
  }
  auto framing = http::request_framing(head);
  if (!framing) return answer(client, head, error_response(framing.error()), "-", false);
  auto body = read_body(client, *framing, kMaxAuthBody);
  if (!body) {
    return answer(
        client, head,
        error_response(400, "docker login: reading the request body: " + body.error().message), "-",
        false);
  }
  auto auth = image::parse_auth_config(*body);
  if (!auth) {
    return answer(client, head,
                  error_response(400, "docker login: the body is not a valid AuthConfig: " +
                                          auth.error().message),
                  "-", false);
  }
  auto result = images_->registry().login(*auth);
  if (!result) {
    log::warn("auth", result.error().message);
    return answer(client, head, error_response(result.error()), "local", false);
  }
  if (!result->accepted) {
    // The user name is left out of the log too: only the registry and its answer.
    log::info("auth", "docker login " + result->registry + ": refused by the registry");
    return answer(client, head, error_response(401, result->message), "local", false);
  }
  log::info("auth", "docker login " + result->registry + ": accepted" +
                        (result->message.empty() ? "" : " (" + result->message + ")"));
  // Docker's answer; no IdentityToken: the CLI then stores the user name and password.
  Json ok{{"Status", "Login Succeeded"}, {"IdentityToken", ""}};
  return answer(client, head, json_response(200, dump_json(ok)), "local", false);
}

}  // namespace twinbox::api
