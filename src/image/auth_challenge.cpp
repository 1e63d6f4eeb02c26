#include "image/auth_challenge.hpp"

#include <algorithm>
#include <cctype>

#include "image/json_fields.hpp"
#include "util/strings.hpp"

namespace twinbox::image {

namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

// A cursor over the header value; every step reports failures with the offset.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  size_t pos() const { return i_; }
  void seek(size_t p) { i_ = p; }
  void skip_ows() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skip_ows_and_commas() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string token() {
    size_t start = i_;
    while (!at_end() && is_tchar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  Result<std::string> quoted_string() {
    size_t start = i_++;  // opening quote
    std::string out;
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end()) break;
        c = s_[i_++];
      }
      out += c;
    }
    return error_at(start, "unterminated quoted string");
  }
  // token68 = 1*(ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/") *"="
  std::string token68() {
    size_t start = i_;
    while (!at_end() && is_token68_char(s_[i_])) ++i_;
    if (i_ == start) return {};
    while (!at_end() && s_[i_] == '=') ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  Error error_at(size_t p, std::string_view what) const {
    return make_error(ErrorCode::InvalidArgument, "WWW-Authenticate \"" + std::string(s_) +
                                                      "\": " + std::string(what) + " at offset " +
                                                      std::to_string(p));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// After a parameter name and BWS: is this "name=value" (true) or the start of token68 (false)?
bool looks_like_param(Lexer& lx) {
  size_t save = lx.pos();
  std::string name = lx.token();
  lx.skip_ows();
  bool param = !name.empty() && lx.peek() == '=';
  if (param) {
    lx.seek(lx.pos() + 1);
    lx.skip_ows();
    param = lx.peek() != '=' && lx.peek() != ',' && !lx.at_end();
  }
  lx.seek(save);
  return param;
}

Status parse_param(Lexer& lx, AuthChallenge& c) {
  size_t start = lx.pos();
  std::string name = to_lower(lx.token());
  lx.skip_ows();
  lx.seek(lx.pos() + 1);  // '=' (checked by the caller)
  lx.skip_ows();
  std::string value;
  if (lx.peek() == '"') {
    TRY_ASSIGN(value, lx.quoted_string());
  } else {
    value = lx.token();
    if (value.empty()) return lx.error_at(lx.pos(), "expected a token or quoted string");
  }
  if (!c.params.emplace(name, value).second) {
    return lx.error_at(start, "parameter \"" + name + "\" repeated");
  }
  return {};
}

// Parameters of one challenge; stops before a token that starts the next challenge.
Status parse_params(Lexer& lx, AuthChallenge& c) {
  for (;;) {
    TRY(parse_param(lx, c));
    lx.skip_ows();
    if (lx.at_end()) return {};
    if (lx.peek() != ',') return lx.error_at(lx.pos(), "expected ',' after a parameter");
    lx.skip_ows_and_commas();
    if (lx.at_end()) return {};
    size_t save = lx.pos();
    std::string name = lx.token();
    lx.skip_ows();
    bool is_param = !name.empty() && lx.peek() == '=';
    lx.seek(save);
    if (!is_param) return {};  // next challenge
  }
}

Result<AuthChallenge> parse_challenge(Lexer& lx) {
  AuthChallenge c;
  size_t start = lx.pos();
  c.scheme = to_lower(lx.token());
  if (c.scheme.empty()) return lx.error_at(start, "expected an auth scheme");
  if (lx.at_end() || lx.peek() == ',') return c;
  if (lx.peek() != ' ' && lx.peek() != '\t') {
    return lx.error_at(lx.pos(), "expected a space after the scheme");
  }
  lx.skip_ows();
  if (lx.at_end() || lx.peek() == ',') return c;
  if (looks_like_param(lx)) {
    TRY(parse_params(lx, c));
    return c;
  }
  c.token68 = lx.token68();
  if (c.token68.empty()) return lx.error_at(lx.pos(), "expected token68 or parameters");
  lx.skip_ows();
  if (!lx.at_end() && lx.peek() != ',') return lx.error_at(lx.pos(), "unexpected character");
  return c;
}

}  // namespace

std::string AuthChallenge::param(std::string_view name) const {
  auto it = params.find(to_lower(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header) {
  Lexer lx(header);
  std::vector<AuthChallenge> out;
  lx.skip_ows_and_commas();
  while (!lx.at_end()) {
    TRY_ASSIGN(AuthChallenge c, parse_challenge(lx));
    out.push_back(std::move(c));
    lx.skip_ows_and_commas();
  }
  if (out.empty()) return lx.error_at(0, "no challenge");
  return out;
}

const AuthChallenge* find_challenge(const std::vector<AuthChallenge>& challenges,
                                    std::string_view scheme) {
  for (const auto& c : challenges) {
    if (iequals(c.scheme, scheme)) return &c;
  }
  return nullptr;
}

Result<std::string> token_request_url(const AuthChallenge& bearer,
                                      const std::vector<std::string>& extra_scopes) {
  if (bearer.scheme != "bearer") {
    return make_error(ErrorCode::InvalidArgument,
                      "auth scheme \"" + bearer.scheme + "\" is not bearer: no token to request");
  }
  std::string realm = bearer.param("realm");
  if (!starts_with(realm, "https://") && !starts_with(realm, "http://")) {
    return make_error(ErrorCode::InvalidArgument,
                      "bearer challenge realm \"" + realm + "\" is not an http(s) URL");
  }
  std::vector<std::string> query;
  std::string service = bearer.param("service");
  if (!service.empty()) query.push_back("service=" + url_encode(service));
  std::vector<std::string> scopes;
  // A registry asking for several scopes at once separates them with spaces.
  std::vector<std::string> wanted = split(bearer.param("scope"), ' ');
  wanted.insert(wanted.end(), extra_scopes.begin(), extra_scopes.end());
  for (const auto& s : wanted) {
    if (!s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end()) {
      scopes.push_back(s);
    }
  }
  for (const auto& s : scopes) query.push_back("scope=" + url_encode(s));
  if (query.empty()) return realm;
  return realm + (realm.find('?') == std::string::npos ? "?" : "&") + join(query, "&");
}

std::string pull_scope(std::string_view repository_path) {
  return "repository:" + std::string(repository_path) + ":pull";
}

Result<TokenResponse> parse_token_response(std::string_view body) {
  TRY_ASSIGN(detail::json doc, detail::parse_json_object(body, "token response"));
  TokenResponse r;
  TRY_ASSIGN(r.token, detail::get_string(doc, "token", "", false));
  if (r.token.empty()) {
    TRY_ASSIGN(r.token, detail::get_string(doc, "access_token", "", false));
  }
  if (r.token.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "token response has neither token nor access_token");
  }
  TRY_ASSIGN(r.expires_in, detail::get_int(doc, "expires_in", "", false, 60));
  if (r.expires_in <= 0) r.expires_in = 60;
  TRY_ASSIGN(r.issued_at, detail::get_string(doc, "issued_at", "", false));
  TRY_ASSIGN(r.refresh_token, detail::get_string(doc, "refresh_token", "", false));
  return r;
}

}  // namespace twinbox::image
