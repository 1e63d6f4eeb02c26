#pragma once
// Registry credentials a Docker client sends twinboxd: Docker's AuthConfig, as the JSON body of
// `POST /auth` (docker login) and base64url-encoded in the `X-Registry-Auth` header of
// `POST /images/create` (docker pull). Pure: parsing, the login's registry, and the fingerprint
// that keeps one client's tokens away from another's.
#include <optional>
#include <string>
#include <string_view>

#include "image/docker_config.hpp"
#include "util/result.hpp"

namespace twinbox::image {

struct AuthConfig {
  std::string server_address;  // "serveraddress": "127.0.0.1:5001", "https://index.docker.io/v1/"
  RegistryCredentials credentials;  // username/password ("auth" decoded), identity/registry token

  // True when no user name, password or token was sent (docker sends "{}" for anonymous pulls).
  bool empty() const;
};

// The JSON AuthConfig (`POST /auth` body, decoded X-Registry-Auth). Fields: username, password,
// auth (base64 "user:password", used when username and password are absent), email (ignored),
// serveraddress, identitytoken, registrytoken. Unknown fields are ignored, as dockerd does.
// InvalidArgument naming the field on malformed input; values never appear in errors.
Result<AuthConfig> parse_auth_config(std::string_view json_text);

// The X-Registry-Auth header: base64url (padding optional; the standard alphabet is tolerated)
// of a JSON AuthConfig. nullopt when it carries no credentials ("", "e30=" i.e. "{}", or only
// empty fields): the pull then uses twinboxd's own docker config. InvalidArgument "X-Registry-Auth
// is not valid base64url JSON: ..." otherwise (the header's text is never quoted).
Result<std::optional<AuthConfig>> parse_registry_auth_header(std::string_view value);

// The registry host a login's serveraddress names, as credentials and references are keyed:
// "" and Docker Hub's addresses ("https://index.docker.io/v1/", "registry-1.docker.io") ->
// "docker.io"; "https://127.0.0.1:5001/" -> "127.0.0.1:5001". InvalidArgument for something that
// is not a host[:port] (spaces, "@", an empty host after the scheme).
Result<std::string> login_registry_host(std::string_view server_address);

// A one-way fingerprint of credentials ("sha256:..." of the fields), for keying token caches:
// equal credentials share tokens, different ones never do, and the cache holds no secret.
std::string credentials_fingerprint(const RegistryCredentials& c);

}  // namespace twinbox::image
