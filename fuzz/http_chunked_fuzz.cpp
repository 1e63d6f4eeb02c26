// A chunked body as the proxy frames it: fed whole, then fed in pieces whose sizes come from
// the input's first bytes. Both ways must agree on where the body ends and what it holds.
#include <cstdlib>
#include <string>

#include "api/http_body.hpp"
#include "fuzz_input.hpp"

using twinbox::api::http::ChunkedDecoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t step = 1 + (data[0] % 64);
  std::string_view in = twinbox::fuzz::as_text(data + 1, size - 1);

  ChunkedDecoder whole;
  std::string whole_payload;
  auto n = whole.feed(in, &whole_payload);

  ChunkedDecoder parts;
  std::string parts_payload;
  size_t used = 0;
  bool failed = false;
  while (used < in.size() && !parts.done()) {
    auto piece = in.substr(used, step);
    auto m = parts.feed(piece, &parts_payload);
    if (!m) {
      failed = true;
      break;
    }
    used += *m;
    if (*m < piece.size() && !parts.done()) std::abort();  // stopped early without being done
  }
  // Whole and piecewise decoding agree: on success, on the bytes consumed and on the payload.
  if (n && !failed) {
    if (whole.done() != parts.done()) std::abort();
    if (whole.done() && (*n != used || whole_payload != parts_payload)) std::abort();
  }
  return 0;
}
