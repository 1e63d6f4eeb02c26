#include "image/auth_config.hpp"

#include "image/base64.hpp"
#include "image/digest.hpp"
#include "image/json_fields.hpp"
#include "util/strings.hpp"

namespace twinbox::image {

namespace {

constexpr std::string_view kHeader = "X-Registry-Auth";

bool base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '+' || c == '/' || c == '=';
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
         c == '[' || c == ']' || c == '_';
}

}  // namespace

bool AuthConfig::empty() const {
  return credentials.username.empty() && credentials.password.empty() &&
         credentials.identity_token.empty() && credentials.registry_token.empty();
}

Result<AuthConfig> parse_auth_config(std::string_view json_text) {
  // The parser's own messages never quote the input, so no secret can leak through them.
  TRY_ASSIGN(auto doc, detail::parse_json_object(json_text, "the AuthConfig"));
  AuthConfig out;
  RegistryCredentials& c = out.credentials;
  std::string auth, email;
  auto fields = {std::pair{"username", &c.username},
                 std::pair{"password", &c.password},
                 std::pair{"auth", &auth},
                 std::pair{"email", &email},
                 std::pair{"serveraddress", &out.server_address},
                 std::pair{"identitytoken", &c.identity_token},
                 std::pair{"registrytoken", &c.registry_token}};
  for (auto [key, dst] : fields) {
    // A null field is what Go clients send for an unset pointer: treat it as absent.
    if (auto it = doc.find(key); it != doc.end() && it->is_null()) continue;
    TRY_ASSIGN(*dst, detail::get_string(doc, key, "", false));
  }
  if (!auth.empty() && c.username.empty() && c.password.empty()) {
    auto decoded = base64_decode(trim(auth));
    if (!decoded || decoded->find(':') == std::string::npos) {
      return make_error(ErrorCode::InvalidArgument,
                        "AuthConfig field \"auth\" is not base64 of \"user:password\"");
    }
    size_t colon = decoded->find(':');
    c.username = decoded->substr(0, colon);
    c.password = decoded->substr(colon + 1);
  }
  return out;
}

Result<std::optional<AuthConfig>> parse_registry_auth_header(std::string_view value) {
  std::string_view v = trim(value);
  if (v.empty()) return std::optional<AuthConfig>();
  auto bad = [](const std::string& why) {
    return make_error(ErrorCode::InvalidArgument,
                      std::string(kHeader) + " is not valid base64url JSON: " + why +
                          " (docker sends base64url of {\"username\":...,\"password\":...})");
  };
  std::string text(v);
  for (size_t i = 0; i < text.size(); i++) {
    char& ch = text[i];
    if (!base64url_char(ch)) {
      return bad("character " + std::to_string(i + 1) + " is outside the base64url alphabet");
    }
    if (ch == '-') ch = '+';
    if (ch == '_') ch = '/';
  }
  auto decoded = base64_decode(text);
  if (!decoded) {
    // base64_decode's own message may quote a character; the reason is enough here.
    std::string why = decoded.error().message;
    if (why.find("alphabet") != std::string::npos) why = "invalid base64";
    return bad(why);
  }
  auto parsed = parse_auth_config(*decoded);
  if (!parsed) return bad(parsed.error().message);
  if (parsed->empty()) return std::optional<AuthConfig>();
  return std::optional<AuthConfig>(std::move(parsed).value());
}

Result<std::string> login_registry_host(std::string_view server_address) {
  std::string_view a = trim(server_address);
  if (a.empty()) return std::string("docker.io");
  std::string host = normalize_registry_host(a);
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::InvalidArgument,
                      "server address \"" + std::string(a) + "\" " + why +
                          ": give host[:port], e.g. docker login 127.0.0.1:5000");
  };
  if (host.empty()) return bad("names no registry host");
  for (char c : host) {
    if (!host_char(c)) return bad("is not a registry host");
  }
  return host;
}

std::string credentials_fingerprint(const RegistryCredentials& c) {
  // Length-prefixed fields: ("ab", "c") and ("a", "bc") must not collide.
  std::string text;
  for (const std::string* f : {&c.username, &c.password, &c.identity_token, &c.registry_token}) {
    text += std::to_string(f->size()) + ":" + *f + ";";
  }
  return sha256_digest(text).str();
}

}  // namespace twinbox::image
