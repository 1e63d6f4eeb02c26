// HTTP request and response heads as twinboxd reads them from clients and engines, the body
// framing they imply, and the request target's path and query.
#include "api/http.hpp"
#include "api/http_body.hpp"
#include "fuzz_input.hpp"

using namespace twinbox::api::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = twinbox::fuzz::as_text(data, size);
  find_head_end(in);
  auto req = parse_request_head(in);
  if (req.state == ParseState::Complete) {
    (void)request_framing(req.head);
    (void)wants_keep_alive(req.head);
    (void)req.head.query_value("platform");
    (void)serialize(req.head);
  }
  auto resp = parse_response_head(in, 4096);
  if (resp.state == ParseState::Complete) {
    for (const char* m : {"GET", "HEAD", "POST"}) {
      auto f = response_framing(m, resp.head);
      if (f) (void)is_raw_stream_response(resp.head, *f, true);
    }
    (void)serialize(resp.head);
  }
  (void)split_target(in);
  (void)parse_query(in);
  (void)decode_path(in);
  return 0;
}
