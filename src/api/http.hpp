#pragma once
// HTTP/1.1 at the edge, pure: request and response heads parsed into plain values, and turned
// back into bytes. No sockets here; stream.hpp feeds these functions from a connection.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::api::http {

// Heads larger than this are refused with 431 (Go's net/http default, which dockerd uses).
inline constexpr size_t kMaxHeadBytes = 1 << 20;

struct Header {
  std::string name;   // as received (case preserved)
  std::string value;  // trimmed
};

// Header fields in arrival order; lookups are case-insensitive.
class Headers {
 public:
  void add(std::string name, std::string value);
  // Replaces every field named `name` with one field.
  void set(const std::string& name, std::string value);
  void remove(std::string_view name);
  // The first field named `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // True when a comma-separated field (Connection, Upgrade, Transfer-Encoding) lists `token`.
  bool has_token(std::string_view name, std::string_view token) const;
  // Every value of `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  const std::vector<Header>& all() const { return items_; }

 private:
  std::vector<Header> items_;
};

struct QueryParam {
  std::string name;   // decoded
  std::string value;  // decoded
};

// A request target split into the parts routing needs. `/v1.41/containers/json?all=1` gives
// api_version "1.41", path "/containers/json", raw_query "all=1".
struct Target {
  std::string api_version;  // "" when the target has no /vX.Y prefix
  std::string path;         // percent-decoded, version prefix removed
  std::string raw_query;    // as received, without '?'
  std::vector<QueryParam> query;
};

struct RequestHead {
  std::string method;
  std::string target;  // as received; forwarded unchanged (the version prefix is kept)
  int version_minor = 1;
  Headers headers;
  Target parsed;  // split_target(target)

  const std::string& path() const { return parsed.path; }
  const std::string& api_version() const { return parsed.api_version; }
  // The first query parameter named `name` (decoded), if present.
  std::optional<std::string> query_value(std::string_view name) const;
};

struct ResponseHead {
  int version_minor = 1;
  int status = 0;
  std::string reason;
  Headers headers;
};

// Outcome of parsing a head from a buffer that may not hold all of it yet.
enum class ParseState { Incomplete, Complete, Error };

template <class T>
struct HeadParse {
  ParseState state = ParseState::Incomplete;
  T head;
  size_t consumed = 0;  // bytes of the head including the blank line, when Complete
  int status = 0;       // 400 or 431, when Error
  std::string error;    // why, when Error
};

// Where the head ends (index just past the blank line), or nullopt if not yet. Accepts CRLF and
// bare LF line ends. `from` lets a caller resume scanning after appending bytes.
std::optional<size_t> find_head_end(std::string_view buf, size_t from = 0);

// Parses the head at the start of `buf`. Incomplete while no blank line is buffered and the
// buffer is within `max_bytes`; Error 431 beyond it, Error 400 on malformed input.
HeadParse<RequestHead> parse_request_head(std::string_view buf, size_t max_bytes = kMaxHeadBytes);
HeadParse<ResponseHead> parse_response_head(std::string_view buf, size_t max_bytes = kMaxHeadBytes);

// Splits a request target; InvalidArgument when it is not origin-form ("/...").
Result<Target> split_target(std::string_view target);
// Decodes "a=1&b=x%20y" into parameters (a name without '=' has an empty value).
std::vector<QueryParam> parse_query(std::string_view raw);
// Percent-decoding of a path ('+' stays '+', unlike in queries).
std::string decode_path(std::string_view s);

std::string serialize(const RequestHead& head);
std::string serialize(const ResponseHead& head);
const char* reason_phrase(int status);

// True when the client wants the connection kept open after this request.
bool wants_keep_alive(const RequestHead& head);

// One chunk of a chunked body: "<hex size>\r\n<payload>\r\n" ("" for an empty payload, which
// would end the body).
std::string chunk_frame(std::string_view payload);

}  // namespace twinbox::api::http
