// Body framing rules and the incremental chunked decoder.
#include <gtest/gtest.h>

#include "api/http_body.hpp"

using namespace twinbox::api::http;

namespace {

RequestHead req(const std::string& headers) {
  auto r = parse_request_head("POST /x HTTP/1.1\r\n" + headers + "\r\n");
  EXPECT_EQ(r.state, ParseState::Complete) << r.error;
  return r.head;
}

ResponseHead resp(const std::string& status_and_headers) {
  auto r = parse_response_head("HTTP/1.1 " + status_and_headers + "\r\n");
  EXPECT_EQ(r.state, ParseState::Complete) << r.error;
  return r.head;
}

TEST(RequestFraming, Table) {
  struct Case {
    std::string headers;
    bool ok;
    BodyKind kind;
    uint64_t length;
  };
  std::vector<Case> cases = {
      {"", true, BodyKind::None, 0},
      {"Content-Length: 0\r\n", true, BodyKind::None, 0},
      {"Content-Length: 42\r\n", true, BodyKind::Length, 42},
      {"Content-Length: 42\r\ncontent-length: 42\r\n", true, BodyKind::Length, 42},
      {"Content-Length: 42, 42\r\n", true, BodyKind::Length, 42},
      {"Transfer-Encoding: chunked\r\n", true, BodyKind::Chunked, 0},
      {"Transfer-Encoding: gzip, Chunked\r\n", true, BodyKind::Chunked, 0},
      {"Content-Length: 4\r\nContent-Length: 5\r\n", false, BodyKind::None, 0},
      {"Content-Length: -1\r\n", false, BodyKind::None, 0},
      {"Content-Length: 1e3\r\n", false, BodyKind::None, 0},
      {"Content-Length: 99999999999999999999\r\n", false, BodyKind::None, 0},
      {"Transfer-Encoding: gzip\r\n", false, BodyKind::None, 0},
      {"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", false, BodyKind::None, 0},
  };
  for (const auto& c : cases) {
    auto f = request_framing(req(c.headers));
    ASSERT_EQ(f.has_value(), c.ok) << c.headers;
    if (!c.ok) {
      EXPECT_EQ(f.error().code, twinbox::ErrorCode::InvalidArgument);
      continue;
    }
    EXPECT_EQ(f->kind, c.kind) << c.headers;
    EXPECT_EQ(f->length, c.length) << c.headers;
  }
}

TEST(ResponseFraming, Table) {
  struct Case {
    std::string method, head;
    BodyKind kind;
  };
  std::vector<Case> cases = {
      {"GET", "200 OK\r\nContent-Length: 5\r\n", BodyKind::Length},
      {"HEAD", "200 OK\r\nContent-Length: 5\r\n", BodyKind::None},
      {"GET", "204 No Content\r\n", BodyKind::None},
      {"GET", "304 Not Modified\r\nContent-Length: 9\r\n", BodyKind::None},
      {"POST", "100 Continue\r\n", BodyKind::None},
      {"POST", "101 UPGRADED\r\nUpgrade: tcp\r\n", BodyKind::None},
      {"POST", "200 OK\r\nTransfer-Encoding: chunked\r\n", BodyKind::Chunked},
      {"POST", "200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n",
       BodyKind::UntilClose},
      {"GET", "200 OK\r\nContent-Length: 0\r\n", BodyKind::None},
  };
  for (const auto& c : cases) {
    auto f = response_framing(c.method, resp(c.head));
    ASSERT_TRUE(f.has_value()) << c.head;
    EXPECT_EQ(f->kind, c.kind) << c.method << " " << c.head;
  }
}

TEST(RawStream, UpgradeOrUnframed200OnHijackEndpoints) {
  auto up = resp("101 UPGRADED\r\nUpgrade: tcp\r\n");
  auto raw200 = resp("200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n");
  auto json200 = resp("200 OK\r\nContent-Length: 2\r\n");
  EXPECT_TRUE(is_raw_stream_response(up, *response_framing("POST", up), false));
  EXPECT_TRUE(is_raw_stream_response(raw200, *response_framing("POST", raw200), true));
  EXPECT_FALSE(is_raw_stream_response(raw200, *response_framing("POST", raw200), false));
  EXPECT_FALSE(is_raw_stream_response(json200, *response_framing("POST", json200), true));
}

// Feeds `stream` in pieces of `step` bytes; returns (bytes consumed, payload).
std::pair<size_t, std::string> feed_in_steps(const std::string& stream, size_t step, bool* ok) {
  ChunkedDecoder d;
  std::string payload;
  size_t used = 0;
  *ok = true;
  while (used < stream.size() && !d.done()) {
    auto n = d.feed(std::string_view(stream).substr(used, step), &payload);
    if (!n) {
      *ok = false;
      break;
    }
    used += *n;
  }
  return {used, payload};
}

TEST(ChunkedDecoder, DecodesAndStopsAtTheEndInEverySplit) {
  std::string body = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
  std::string next = "GET /next HTTP/1.1\r\n\r\n";
  for (size_t step = 1; step <= body.size() + next.size(); ++step) {
    bool ok = false;
    auto [used, payload] = feed_in_steps(body + next, step, &ok);
    ASSERT_TRUE(ok) << step;
    EXPECT_EQ(used, body.size()) << "step " << step;
    EXPECT_EQ(payload, "hello 0123456789") << "step " << step;
  }
}

TEST(ChunkedDecoder, AcceptsBareLfAndUppercaseHex) {
  bool ok = false;
  std::string stream = "B\nhello world\n0\n\n";
  auto [used, payload] = feed_in_steps(stream + "next", 3, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(payload, "hello world");
  EXPECT_EQ(used, stream.size());
}

TEST(ChunkedDecoder, CountsWithoutPayloadWhenAskedTo) {
  ChunkedDecoder d;
  std::string s = "3\r\nabc\r\n0\r\n\r\nextra";
  auto n = d.feed(s);
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(d.done());
  EXPECT_EQ(*n, s.size() - 5);
}

TEST(ChunkedDecoder, RejectsMalformedStreams) {
  std::vector<std::string> bad_streams = {"zz\r\n",
                                          "3\r\nabcX\r\n",
                                          "\r\n",
                                          "12345678901234567\r\n",
                                          "3 junk\r\nabc\r\n",
                                          std::string(5000, '1')};
  for (const auto& bad : bad_streams) {
    ChunkedDecoder d;
    auto n = d.feed(bad);
    EXPECT_FALSE(n.has_value()) << bad.substr(0, 30);
  }
}

}  // namespace
