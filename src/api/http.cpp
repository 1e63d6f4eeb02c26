#include "api/http.hpp"

#include <cctype>
#include <cstdio>

#include "util/strings.hpp"

namespace twinbox::api::http {

void Headers::add(std::string name, std::string value) {
  items_.push_back(Header{std::move(name), std::move(value)});
}

void Headers::set(const std::string& name, std::string value) {
  remove(name);
  add(name, std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(items_, [&](const Header& h) { return iequals(h.name, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& h : items_)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& h : items_)
    if (iequals(h.name, name)) out.emplace_back(h.value);
  return out;
}

bool Headers::has_token(std::string_view name, std::string_view token) const {
  for (auto value : get_all(name)) {
    for (const auto& part : split(value, ','))
      if (iequals(trim(part), token)) return true;
  }
  return false;
}

std::optional<std::string> RequestHead::query_value(std::string_view name) const {
  for (const auto& q : parsed.query)
    if (q.name == name) return q.value;
  return std::nullopt;
}

std::optional<size_t> find_head_end(std::string_view buf, size_t from) {
  // Resume a little before `from`: the terminator may straddle the previous end.
  size_t i = from > 3 ? from - 3 : 0;
  for (; i < buf.size(); ++i) {
    if (buf[i] != '\n') continue;
    if (i + 1 < buf.size() && buf[i + 1] == '\n') return i + 2;
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
  }
  return std::nullopt;
}

namespace {

bool is_token_char(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

// Splits a head into lines without their CR/LF; the last (empty) line is dropped.
std::vector<std::string_view> head_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < head.size()) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) nl = head.size();
    std::string_view line = head.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Parses "HTTP/1.x"; nullopt for anything else (HTTP/2 and 0.9 are not spoken here).
std::optional<int> parse_http_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1." || !std::isdigit((unsigned char)v[7]))
    return std::nullopt;
  return v[7] - '0';
}

// Parses header lines [1, end) into `out`; returns an error text or "".
std::string parse_header_lines(const std::vector<std::string_view>& lines, Headers& out) {
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t')
      return "obsolete header line folding is not supported (line " + std::to_string(i + 1) + ")";
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return "header line without ':' (line " + std::to_string(i + 1) + ")";
    std::string_view name = line.substr(0, colon);
    if (!is_token(name))
      return "invalid header name \"" + std::string(name) + "\" (line " + std::to_string(i + 1) +
             ")";
    out.add(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  return "";
}

template <class T>
HeadParse<T> parse_error(int status, std::string msg) {
  HeadParse<T> r;
  r.state = ParseState::Error;
  r.status = status;
  r.error = std::move(msg);
  return r;
}

// Common first step: finds the head and splits it into lines, or says why not.
template <class T>
std::optional<HeadParse<T>> locate_head(std::string_view buf, size_t max_bytes,
                                        std::vector<std::string_view>& lines, size_t& end) {
  // Tolerate blank lines before a head (RFC 9112 2.2), as Go does.
  size_t skip = 0;
  while (skip < buf.size() && (buf[skip] == '\r' || buf[skip] == '\n')) ++skip;
  auto found = find_head_end(buf.substr(skip));
  if (!found) {
    if (buf.size() > max_bytes)
      return parse_error<T>(
          431, "request header fields too large (limit " + std::to_string(max_bytes) + " bytes)");
    return HeadParse<T>{};
  }
  end = skip + *found;
  if (end > max_bytes)
    return parse_error<T>(431, "request header fields too large (" + std::to_string(end) +
                                   " bytes, limit " + std::to_string(max_bytes) + ")");
  lines = head_lines(buf.substr(skip, *found));
  if (lines.empty()) return parse_error<T>(400, "empty head");
  return std::nullopt;
}

}  // namespace

HeadParse<RequestHead> parse_request_head(std::string_view buf, size_t max_bytes) {
  std::vector<std::string_view> lines;
  size_t end = 0;
  if (auto early = locate_head<RequestHead>(buf, max_bytes, lines, end)) return *early;
  auto parts = split(lines[0], ' ');
  if (parts.size() != 3 || !is_token(parts[0]) || parts[1].empty())
    return parse_error<RequestHead>(400, "malformed request line \"" + std::string(lines[0]) +
                                             "\" (want: METHOD /path HTTP/1.1)");
  auto minor = parse_http_version(parts[2]);
  if (!minor) return parse_error<RequestHead>(400, "unsupported HTTP version \"" + parts[2] + "\"");
  HeadParse<RequestHead> r;
  r.head.method = parts[0];
  r.head.target = parts[1];
  r.head.version_minor = *minor;
  auto target = split_target(r.head.target);
  if (!target) return parse_error<RequestHead>(400, target.error().message);
  r.head.parsed = std::move(target).value();
  if (auto err = parse_header_lines(lines, r.head.headers); !err.empty())
    return parse_error<RequestHead>(400, err);
  // Go's net/http (dockerd) ignores and drops Transfer-Encoding on an HTTP/1.0 request: do the
  // same, so twinboxd and the engine behind it frame one body the same way.
  if (r.head.version_minor == 0) r.head.headers.remove("Transfer-Encoding");
  r.state = ParseState::Complete;
  r.consumed = end;
  return r;
}

HeadParse<ResponseHead> parse_response_head(std::string_view buf, size_t max_bytes) {
  std::vector<std::string_view> lines;
  size_t end = 0;
  if (auto early = locate_head<ResponseHead>(buf, max_bytes, lines, end)) return *early;
  std::string_view line = lines[0];
  auto minor = parse_http_version(line.substr(0, 8));
  bool ok = minor && line.size() >= 12 && line[8] == ' ' && std::isdigit((unsigned char)line[9]) &&
            std::isdigit((unsigned char)line[10]) && std::isdigit((unsigned char)line[11]) &&
            (line.size() == 12 || line[12] == ' ');
  if (!ok)
    return parse_error<ResponseHead>(400, "malformed status line \"" + std::string(line) + "\"");
  HeadParse<ResponseHead> r;
  r.head.version_minor = *minor;
  r.head.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  // 000-099 is no HTTP status: it would not round-trip, and the proxy takes below 200 as interim.
  if (r.head.status < 100)
    return parse_error<ResponseHead>(
        400, "malformed status line \"" + std::string(line) + "\" (status below 100)");
  r.head.reason = line.size() > 13 ? std::string(line.substr(13)) : "";
  if (auto err = parse_header_lines(lines, r.head.headers); !err.empty())
    return parse_error<ResponseHead>(400, err);
  r.state = ParseState::Complete;
  r.consumed = end;
  return r;
}

std::string decode_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<QueryParam> parse_query(std::string_view raw) {
  std::vector<QueryParam> out;
  if (raw.empty()) return out;
  for (const auto& part : split(raw, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view p(part);
    if (eq == std::string::npos) {
      out.push_back({url_decode(p), ""});
    } else {
      out.push_back({url_decode(p.substr(0, eq)), url_decode(p.substr(eq + 1))});
    }
  }
  return out;
}

// "/v1.41/x" -> ("1.41", "/x"); Docker's router accepts /v{digits and dots}/.
static std::pair<std::string, std::string_view> strip_version(std::string_view path) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return {"", path};
  size_t i = 2;
  while (i < path.size() && (std::isdigit((unsigned char)path[i]) || path[i] == '.')) ++i;
  if (i == 2 || !std::isdigit((unsigned char)path[2])) return {"", path};
  if (i == path.size()) return {std::string(path.substr(2)), "/"};
  if (path[i] != '/') return {"", path};
  return {std::string(path.substr(2, i - 2)), path.substr(i)};
}

Result<Target> split_target(std::string_view target) {
  if (target.empty() || target[0] != '/')
    return make_error(ErrorCode::InvalidArgument,
                      "request target \"" + std::string(target) + "\" is not a path");
  Target t;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) t.raw_query = std::string(target.substr(q + 1));
  auto [version, rest] = strip_version(path);
  t.api_version = std::move(version);
  t.path = decode_path(rest);
  t.query = parse_query(t.raw_query);
  return t;
}

static void append_headers(std::string& out, const Headers& headers) {
  for (const auto& h : headers.all()) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "\r\n";
}

std::string serialize(const RequestHead& head) {
  std::string out =
      head.method + " " + head.target + " HTTP/1." + std::to_string(head.version_minor) + "\r\n";
  append_headers(out, head.headers);
  return out;
}

std::string serialize(const ResponseHead& head) {
  std::string reason = head.reason.empty() ? reason_phrase(head.status) : head.reason;
  std::string out = "HTTP/1." + std::to_string(head.version_minor) + " " +
                    std::to_string(head.status) + " " + reason + "\r\n";
  append_headers(out, head.headers);
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

bool wants_keep_alive(const RequestHead& head) {
  if (head.headers.has_token("Connection", "close")) return false;
  if (head.version_minor >= 1) return true;
  return head.headers.has_token("Connection", "keep-alive");
}

std::string chunk_frame(std::string_view payload) {
  if (payload.empty()) return "";
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  std::string out(size, static_cast<size_t>(n));
  out.append(payload);
  out += "\r\n";
  return out;
}

}  // namespace twinbox::api::http
