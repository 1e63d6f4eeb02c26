#include "api/http_body.hpp"

#include <algorithm>
#include <cctype>

#include "util/strings.hpp"

namespace twinbox::api::http {

namespace {

constexpr size_t kMaxSizeLine = 4096;
constexpr size_t kMaxTrailerBytes = size_t{64} * 1024;

Error bad(std::string msg) { return make_error(ErrorCode::InvalidArgument, std::move(msg)); }

// Parses one Content-Length value: digits only, no sign, no overflow.
Result<uint64_t> parse_length(std::string_view v) {
  if (v.empty() || v.size() > 19) return bad("invalid Content-Length \"" + std::string(v) + "\"");
  uint64_t n = 0;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return bad("invalid Content-Length \"" + std::string(v) + "\"");
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// Content-Length may repeat (or be a list) only with one value throughout.
Result<std::optional<uint64_t>> content_length(const Headers& headers) {
  std::optional<uint64_t> out;
  for (auto value : headers.get_all("Content-Length")) {
    for (const auto& part : split(value, ',')) {
      TRY_ASSIGN(uint64_t n, parse_length(trim(part)));
      if (out && *out != n) return bad("conflicting Content-Length values");
      out = n;
    }
  }
  return out;
}

// Transfer-Encoding ends in "chunked" (anything else cannot be framed by us).
Result<bool> is_chunked(const Headers& headers) {
  auto values = headers.get_all("Transfer-Encoding");
  if (values.empty()) return false;
  auto codings = split(values.back(), ',');
  if (!iequals(trim(codings.back()), "chunked"))
    return bad("unsupported Transfer-Encoding \"" + std::string(values.back()) +
               "\" (only chunked is accepted)");
  return true;
}

}  // namespace

Result<Framing> request_framing(const RequestHead& head) {
  TRY_ASSIGN(bool chunked, is_chunked(head.headers));
  TRY_ASSIGN(auto length, content_length(head.headers));
  if (chunked && length)
    return bad("request has both Transfer-Encoding and Content-Length; send one of them");
  if (chunked) return Framing{BodyKind::Chunked, 0};
  if (length && *length > 0) return Framing{BodyKind::Length, *length};
  return Framing{BodyKind::None, 0};
}

Result<Framing> response_framing(std::string_view request_method, const ResponseHead& head) {
  if (request_method == "HEAD") return Framing{BodyKind::None, 0};
  if (head.status < 200 || head.status == 204 || head.status == 304)
    return Framing{BodyKind::None, 0};
  TRY_ASSIGN(bool chunked, is_chunked(head.headers));
  if (chunked) return Framing{BodyKind::Chunked, 0};
  TRY_ASSIGN(auto length, content_length(head.headers));
  if (length) return Framing{*length ? BodyKind::Length : BodyKind::None, *length};
  return Framing{BodyKind::UntilClose, 0};
}

bool is_raw_stream_response(const ResponseHead& head, const Framing& framing,
                            bool hijack_endpoint) {
  if (head.status == 101) return true;
  return hijack_endpoint && head.status == 200 && framing.kind == BodyKind::UntilClose;
}

Status ChunkedDecoder::end_size_line() {
  std::string_view line(line_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t digits = 0;
  uint64_t size = 0;
  while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]))) {
    if (digits == 16) return bad("chunk size too large");
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line[digits])));
    size = size * 16 + static_cast<uint64_t>(std::isdigit(c) ? c - '0' : c - 'a' + 10);
    ++digits;
  }
  std::string_view rest = trim(line.substr(digits));
  if (digits == 0 || (!rest.empty() && rest.front() != ';'))
    return bad("malformed chunk size line \"" + std::string(line.substr(0, 40)) + "\"");
  line_.clear();
  remaining_ = size;
  state_ = size == 0 ? State::Trailer : State::Data;
  return {};
}

Status ChunkedDecoder::end_trailer_line() {
  bool empty = line_.empty() || line_ == "\r";
  trailer_bytes_ += line_.size() + 1;
  line_.clear();
  if (trailer_bytes_ > kMaxTrailerBytes) return bad("chunked trailer too large");
  if (empty) state_ = State::Done;
  return {};
}

Result<size_t> ChunkedDecoder::feed(std::string_view in, std::string* payload) {
  size_t i = 0;
  while (i < in.size() && state_ != State::Done) {
    if (state_ == State::Data) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
      if (payload) payload->append(in.substr(i, n));
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::DataEnd;
      continue;
    }
    char c = in[i++];
    if (c != '\n') {
      line_ += c;
      if (line_.size() > kMaxSizeLine) return bad("chunk size line too long");
      if (state_ == State::DataEnd && line_ != "\r") return bad("chunk data not followed by CRLF");
      continue;
    }
    if (state_ == State::Size) {
      TRY(end_size_line());
    } else if (state_ == State::DataEnd) {
      line_.clear();
      state_ = State::Size;
    } else {
      TRY(end_trailer_line());
    }
  }
  return i;
}

}  // namespace twinbox::api::http
