#pragma once
// Registry credentials from the text of ~/.docker/config.json. Reading the file (and honouring
// DOCKER_CONFIG) is the caller's job; this parses and looks up. Credential helpers are detected
// and reported, not run: running a helper is I/O and comes with the transport.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::image {

struct RegistryCredentials {
  std::string username;
  std::string password;
  std::string identity_token;  // "identitytoken": an OAuth refresh token for the token endpoint
  std::string registry_token;  // "registrytoken": a bearer token sent as is
};

// "Basic <base64(user:password)>" for an Authorization header (Basic challenges, and the GET
// token request when the registry wants credentials). "" when there is no username.
std::string basic_authorization(const RegistryCredentials& c);

struct CredentialLookup {
  std::optional<RegistryCredentials> credentials;  // absent: pull anonymously
  std::string matched_key;                         // the auths key the credentials came from
  std::string helper;  // helper docker would run for this host ("desktop"), "" if none
  std::string note;    // for the log: why there are no credentials, or what was skipped
};

// The host a config key or image reference host stands for: scheme and path dropped, lowercased,
// and Docker Hub's aliases ("https://index.docker.io/v1/", "registry-1.docker.io", ...) folded
// into "docker.io". Ports are kept: "http://localhost:5000/" -> "localhost:5000".
std::string normalize_registry_host(std::string_view key);

class DockerConfig {
 public:
  // Fails on malformed JSON or a wrongly typed auths/credHelpers/credsStore. A bad entry (auth not
  // base64 "user:pass") does not fail the parse; it fails the lookup of its own host.
  static Result<DockerConfig> parse(std::string_view json_text);

  // Docker's precedence: credHelpers[host], then credsStore, then auths. Helpers are not run, so
  // when one applies the inline auths entry (if any) is used and `note` says so.
  Result<CredentialLookup> lookup(std::string_view registry_host) const;

 private:
  struct Entry {
    std::string key;
    std::string host;
    std::optional<RegistryCredentials> credentials;
    std::string error;  // non-empty: the entry is malformed
  };
  std::vector<Entry> auths_;
  std::vector<std::pair<std::string, std::string>> cred_helpers_;  // host -> helper
  std::string creds_store_;
};

}  // namespace twinbox::image
