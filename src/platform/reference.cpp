#include "platform/reference.hpp"

#include <algorithm>

#include "util/strings.hpp"

namespace twinbox::platform {

namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr size_t kNameMax = 255;
constexpr size_t kTagMax = 128;
constexpr std::string_view kExamples =
    "e.g. busybox, user/app:1.0, localhost:5000/team/app:v2, alpine@sha256:<64 hex digits>";

Error invalid(std::string_view input, const std::string& what) {
  return make_error(ErrorCode::InvalidArgument, "invalid reference format \"" + std::string(input) +
                                                    "\": " + what + " (" + std::string(kExamples) +
                                                    ")");
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex_lower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+
bool valid_path_component(std::string_view s) {
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    if (i == start) return false;  // empty, or a separator first, last or doubled up
    if (i == s.size()) return true;
    size_t sep = i;
    while (i < s.size() && !is_lower_alnum(s[i])) ++i;
    std::string_view sv = s.substr(sep, i - sep);
    bool dashes = std::all_of(sv.begin(), sv.end(), [](char c) { return c == '-'; });
    if (!(sv == "." || sv == "_" || sv == "__" || dashes)) return false;
  }
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// host [":" port] where host is a dotted name, an IPv4 address or "[" IPv6 "]".
bool valid_domain(std::string_view d) {
  std::string_view host = d;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    std::string_view ip6 = d.substr(1, close - 1);
    if (!std::all_of(ip6.begin(), ip6.end(),
                     [](char c) { return is_alnum(c) || c == ':' || c == '.'; }))
      return false;
    host = {};
    d.remove_prefix(close + 1);
  } else {
    size_t colon = d.find(':');
    host = d.substr(0, colon);
    d = colon == std::string_view::npos ? std::string_view{} : d.substr(colon);
    for (const auto& c : split(host, '.'))
      if (!valid_domain_component(c)) return false;
  }
  if (d.empty()) return true;
  std::string_view port = d.substr(1);
  return d.front() == ':' && !port.empty() &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_tag(std::string_view t) {
  return !t.empty() && t.size() <= kTagMax && is_word(t.front()) &&
         std::all_of(t.begin(), t.end(), [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// Docker's splitDockerDomain: the first component is a registry when it has '.' or ':', is
// "localhost", or has an upper-case letter (repository paths are lower case).
void split_domain(std::string_view name, std::string& domain, std::string& path) {
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  bool registry =
      slash != std::string_view::npos && (first.find_first_of(".:") != std::string_view::npos ||
                                          first == "localhost" || to_lower(first) != first);
  domain = registry ? std::string(first) : std::string(kDefaultDomain);
  path = std::string(registry ? name.substr(slash + 1) : name);
  if (domain == kLegacyDomain) domain = kDefaultDomain;
  if (domain == kDefaultDomain && path.find('/') == std::string::npos)
    path = std::string(kOfficialPrefix) + path;
}

Status validate_name(std::string_view input, const Reference& r) {
  if (!valid_domain(r.domain))
    return invalid(input, "registry \"" + r.domain + "\" is not a valid host[:port]");
  if (to_lower(r.path) != r.path)
    return invalid(input, "repository name \"" + r.path + "\" must be lowercase");
  for (const auto& c : split(r.path, '/')) {
    if (c.empty()) return invalid(input, "repository name has an empty path component");
    if (!valid_path_component(c))
      return invalid(input, "path component \"" + c +
                                "\" must be lowercase letters and digits, joined by '.', '_', "
                                "'__' or dashes");
  }
  if (r.name().size() > kNameMax)
    return invalid(input, "repository name must not be more than 255 characters");
  return {};
}

}  // namespace

std::string Reference::name() const { return domain + "/" + path; }

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) return name();
  std::string_view rest = path;
  if (starts_with(rest, kOfficialPrefix) &&
      rest.substr(kOfficialPrefix.size()).find('/') == std::string_view::npos)
    rest.remove_prefix(kOfficialPrefix.size());
  return std::string(rest);
}

std::string Reference::canonical() const {
  return name() + (tag.empty() ? "" : ":" + tag) + (digest.empty() ? "" : "@" + digest);
}

std::string Reference::familiar() const {
  return familiar_name() + (tag.empty() ? "" : ":" + tag) + (digest.empty() ? "" : "@" + digest);
}

Status validate_digest(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos)
    return make_error(ErrorCode::InvalidArgument, "digest \"" + std::string(digest) +
                                                      "\" must be algorithm:hex, e.g. sha256:<64 "
                                                      "hex digits>");
  std::string_view algo = digest.substr(0, colon), hex = digest.substr(colon + 1);
  size_t want = algo == "sha256" ? 64 : algo == "sha512" ? 128 : 0;
  if (want == 0)
    return make_error(
        ErrorCode::InvalidArgument,
        "unsupported digest algorithm \"" + std::string(algo) + "\" (supported: sha256, sha512)");
  if (hex.size() != want || !std::all_of(hex.begin(), hex.end(), is_hex_lower))
    return make_error(ErrorCode::InvalidArgument,
                      "digest \"" + std::string(digest) + "\": " + std::string(algo) + " needs " +
                          std::to_string(want) + " lower-case hex digits, got \"" +
                          std::string(hex) + "\"");
  return {};
}

Result<Reference> parse_reference(std::string_view s) {
  if (s.empty()) return invalid(s, "it is empty");
  if (std::any_of(s.begin(), s.end(), [](char c) { return c <= ' ' || c == 0x7f; }))
    return invalid(s, "it contains whitespace or control characters");
  Reference r;
  std::string_view rest = s;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    r.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (auto st = validate_digest(r.digest); !st) return invalid(s, st.error().message);
  }
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
  if (colon != std::string_view::npos) {
    r.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(r.tag))
      return invalid(
          s, "tag \"" + r.tag + "\" must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
  }
  if (rest.empty()) return invalid(s, "the repository name is empty");
  if (rest.size() == 64 && std::all_of(rest.begin(), rest.end(), is_hex_lower) && r.tag.empty() &&
      r.digest.empty())
    return invalid(s, "a 64-character hexadecimal string is an image ID, not a repository name");
  split_domain(rest, r.domain, r.path);
  TRY(validate_name(s, r));
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace twinbox::platform
