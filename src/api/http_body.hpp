#pragma once
// HTTP/1.1 body framing, pure: how long a body is (RFC 9112 section 6) and an incremental
// chunked decoder. The proxy forwards bodies byte for byte; the decoder only tells it where a
// chunked body ends (and decodes it when twinbox itself needs the payload).
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http.hpp"
#include "util/result.hpp"

namespace twinbox::api::http {

enum class BodyKind {
  None,        // no body at all
  Length,      // exactly `length` bytes
  Chunked,     // Transfer-Encoding: chunked, ends with the zero chunk and trailers
  UntilClose,  // response only: everything until the server closes
};

struct Framing {
  BodyKind kind = BodyKind::None;
  uint64_t length = 0;
};

// A request's body framing. InvalidArgument (400) for a Transfer-Encoding other than chunked,
// an invalid or conflicting Content-Length, or both headers at once (request smuggling).
Result<Framing> request_framing(const RequestHead& head);
// A response's body framing given the request method: HEAD requests and 1xx/204/304 answers
// have none; otherwise chunked, Content-Length, or until close.
Result<Framing> response_framing(std::string_view request_method, const ResponseHead& head);

// True when a response switches the connection to raw bytes in both directions: a 101, or the
// "200 + raw stream until close" dockerd sends to clients that attach without Upgrade headers.
bool is_raw_stream_response(const ResponseHead& head, const Framing& framing, bool hijack_endpoint);

// Incremental decoder of a chunked body. feed() consumes bytes up to the end of the body and
// no further; the caller forwards exactly the consumed bytes to keep the stream unaltered.
class ChunkedDecoder {
 public:
  // Consumes a prefix of `in`, appending decoded payload to *payload when it is not null.
  // Returns how many bytes of `in` belong to the body (less than in.size() only once done()).
  Result<size_t> feed(std::string_view in, std::string* payload = nullptr);
  bool done() const { return state_ == State::Done; }

 private:
  enum class State { Size, Data, DataEnd, Trailer, Done };
  Status end_size_line();
  Status end_trailer_line();

  State state_ = State::Size;
  std::string line_;        // the size or trailer line being collected
  uint64_t remaining_ = 0;  // payload bytes left in the current chunk
  size_t trailer_bytes_ = 0;
};

}  // namespace twinbox::api::http
