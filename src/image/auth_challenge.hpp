#pragma once
// WWW-Authenticate challenges (RFC 7235) as registries send them, the bearer token request they
// lead to (Docker token auth), and the token endpoint's answer.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::image {

struct AuthChallenge {
  std::string scheme;                         // lowercased: "bearer", "basic", ...
  std::map<std::string, std::string> params;  // names lowercased, values unquoted
  std::string token68;                        // set instead of params for token68 challenges

  // The value of parameter `name` (case-insensitive), or "".
  std::string param(std::string_view name) const;
};

// Parses one header value, which may hold several comma-separated challenges. Fails on
// anything that is not a challenge list: empty input, unterminated quotes, "=" without a name,
// repeated parameter names, stray characters.
Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header);

// The first challenge with `scheme` (case-insensitive), or nullptr.
const AuthChallenge* find_challenge(const std::vector<AuthChallenge>& challenges,
                                    std::string_view scheme);

// "realm?service=...&scope=..." for a bearer challenge. The challenge's own scope comes first,
// then each of `extra_scopes` not already present (one scope parameter each, as the Docker token
// spec wants). Fails when the challenge is not bearer or has no http(s) realm.
Result<std::string> token_request_url(const AuthChallenge& bearer,
                                      const std::vector<std::string>& extra_scopes = {});

// The Docker token scope for pulling a repository: "repository:library/busybox:pull".
std::string pull_scope(std::string_view repository_path);

struct TokenResponse {
  std::string token;        // "token", or "access_token" when only that is present
  int64_t expires_in = 60;  // seconds; the spec's default when absent or not positive
  std::string issued_at;    // RFC 3339 as sent, "" when absent
  std::string refresh_token;
};

Result<TokenResponse> parse_token_response(std::string_view body);

}  // namespace twinbox::image
