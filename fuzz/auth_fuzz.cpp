// Credentials and challenges: a registry's WWW-Authenticate header, the client's X-Registry-Auth
// header and auth body, and ~/.docker/config.json with its lookups.
#include "fuzz_input.hpp"
#include "image/auth_challenge.hpp"
#include "image/auth_config.hpp"
#include "image/docker_config.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::fields(fuzz::as_text(data, size), 2);
  std::string_view in = parts[0];
  if (auto ch = image::parse_www_authenticate(in)) {
    if (const auto* bearer = image::find_challenge(*ch, "bearer")) {
      (void)image::token_request_url(*bearer, {image::pull_scope("library/busybox")});
    }
  }
  (void)image::parse_auth_config(in);
  (void)image::parse_registry_auth_header(in);
  (void)image::login_registry_host(in);
  (void)image::normalize_registry_host(in);
  if (auto cfg = image::DockerConfig::parse(in)) {
    (void)cfg->lookup(parts.back());
    (void)cfg->lookup("docker.io");
  }
  return 0;
}
