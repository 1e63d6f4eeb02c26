#include "image/docker_config.hpp"

#include "image/base64.hpp"
#include "image/json_fields.hpp"
#include "util/strings.hpp"

namespace twinbox::image {

using detail::json;

namespace {

bool is_docker_hub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" ||
         host == "registry.hub.docker.com";
}

// One auths entry. Errors are returned as text: they belong to the entry, not the file.
std::optional<RegistryCredentials> entry_credentials(const json& e, const std::string& path,
                                                     std::string& error) {
  if (!e.is_object()) {
    error = path + ": expected an object, got " + e.type_name();
    return std::nullopt;
  }
  RegistryCredentials c;
  auto fields = {std::pair{"username", &c.username}, std::pair{"password", &c.password},
                 std::pair{"identitytoken", &c.identity_token},
                 std::pair{"registrytoken", &c.registry_token}};
  for (auto [key, dst] : fields) {
    auto v = detail::get_string(e, key, path, false);
    if (!v) {
      error = v.error().message;
      return std::nullopt;
    }
    *dst = std::move(v).value();
  }
  auto auth = detail::get_string(e, "auth", path, false);
  if (!auth) {
    error = auth.error().message;
    return std::nullopt;
  }
  if (!auth->empty()) {
    auto decoded = base64_decode(*auth);
    if (!decoded) {
      error = path + ".auth: " + decoded.error().message;
      return std::nullopt;
    }
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) {
      error = path + ".auth: decoded value is not \"user:password\"";
      return std::nullopt;
    }
    c.username = decoded->substr(0, colon);
    c.password = decoded->substr(colon + 1);
  }
  if (c.username.empty() && c.password.empty() && c.identity_token.empty() &&
      c.registry_token.empty()) {
    return std::nullopt;  // e.g. {} left behind by a credsStore login
  }
  return c;
}

}  // namespace

std::string normalize_registry_host(std::string_view key) {
  std::string s = to_lower(trim(key));
  std::string_view v = s;
  if (starts_with(v, "https://"))
    v.remove_prefix(8);
  else if (starts_with(v, "http://"))
    v.remove_prefix(7);
  v = v.substr(0, v.find('/'));
  if (is_docker_hub(v)) return "docker.io";
  return std::string(v);
}

std::string basic_authorization(const RegistryCredentials& c) {
  if (c.username.empty()) return {};
  return "Basic " + base64_encode(c.username + ":" + c.password);
}

Result<DockerConfig> DockerConfig::parse(std::string_view json_text) {
  TRY_ASSIGN(json doc, detail::parse_json_object(json_text, "docker config"));
  DockerConfig cfg;
  TRY_ASSIGN(cfg.creds_store_, detail::get_string(doc, "credsStore", "", false));
  TRY_ASSIGN(auto helpers, detail::get_string_map(doc, "credHelpers", ""));
  for (auto& [host, helper] : helpers) {
    cfg.cred_helpers_.emplace_back(normalize_registry_host(host), helper);
  }
  auto auths = doc.find("auths");
  if (auths == doc.end() || auths->is_null()) return cfg;
  if (!auths->is_object()) {
    return detail::field_error("auths",
                               std::string("expected an object, got ") + auths->type_name());
  }
  for (auto it = auths->begin(); it != auths->end(); ++it) {
    Entry e{it.key(), normalize_registry_host(it.key()), std::nullopt, {}};
    e.credentials = entry_credentials(it.value(), "auths[\"" + it.key() + "\"]", e.error);
    cfg.auths_.push_back(std::move(e));
  }
  return cfg;
}

Result<CredentialLookup> DockerConfig::lookup(std::string_view registry_host) const {
  std::string host = normalize_registry_host(registry_host);
  CredentialLookup out;
  for (const auto& [h, helper] : cred_helpers_) {
    if (h == host) out.helper = helper;
  }
  if (out.helper.empty()) out.helper = creds_store_;

  // Several keys can name one host ("docker.io", "https://index.docker.io/v1/"): prefer the key
  // spelled as asked, then one that holds credentials.
  const Entry* match = nullptr;
  int best = -1;
  for (const auto& e : auths_) {
    if (e.host != host) continue;
    int score = (e.key == registry_host ? 2 : 0) + (e.credentials ? 1 : 0);
    if (score > best) {
      best = score;
      match = &e;
    }
  }
  if (match && !match->error.empty()) {
    return make_error(ErrorCode::InvalidArgument, "docker config: " + match->error);
  }
  if (match && match->credentials) {
    out.credentials = match->credentials;
    out.matched_key = match->key;
  }
  if (!out.helper.empty()) {
    out.note =
        "credential helper \"" + out.helper + "\" (docker-credential-" + out.helper +
        ") not supported yet; " +
        (out.credentials ? "using the credentials stored in auths[\"" + out.matched_key + "\"]"
                         : std::string("pulling " + host + " anonymously"));
  } else if (!out.credentials) {
    out.note = "no credentials for " + host + " in docker config; pulling anonymously";
  }
  return out;
}

}  // namespace twinbox::image
