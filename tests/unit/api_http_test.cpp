// Request/response head parsing, version-prefix stripping, query decoding and serialization.
#include <gtest/gtest.h>

#include "api/http.hpp"
#include "api/http_body.hpp"

using namespace twinbox::api::http;

namespace {

struct GoodRequest {
  const char* name;
  std::string raw;
  std::string method, target, version, path, raw_query;
  int minor;
};

class ParseGoodRequest : public ::testing::TestWithParam<GoodRequest> {};

TEST_P(ParseGoodRequest, SplitsTheHead) {
  const auto& c = GetParam();
  auto r = parse_request_head(c.raw + "BODY");
  ASSERT_EQ(r.state, ParseState::Complete) << r.error;
  EXPECT_EQ(r.consumed, c.raw.size());
  EXPECT_EQ(r.head.method, c.method);
  EXPECT_EQ(r.head.target, c.target);
  EXPECT_EQ(r.head.api_version(), c.version);
  EXPECT_EQ(r.head.path(), c.path);
  EXPECT_EQ(r.head.parsed.raw_query, c.raw_query);
  EXPECT_EQ(r.head.version_minor, c.minor);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseGoodRequest,
    ::testing::Values(
        GoodRequest{"ping", "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n", "GET", "/_ping", "",
                    "/_ping", "", 1},
        GoodRequest{"versioned", "GET /v1.41/containers/json?all=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                    "GET", "/v1.41/containers/json?all=1", "1.41", "/containers/json", "all=1", 1},
        GoodRequest{"bare_lf", "HEAD /v1.24/_ping HTTP/1.0\nHost: x\n\n", "HEAD", "/v1.24/_ping",
                    "1.24", "/_ping", "", 0},
        GoodRequest{"major_only_version", "GET /v1/info HTTP/1.1\r\n\r\n", "GET", "/v1/info", "1",
                    "/info", "", 1},
        GoodRequest{"not_a_version", "GET /volumes/vx HTTP/1.1\r\n\r\n", "GET", "/volumes/vx", "",
                    "/volumes/vx", "", 1},
        GoodRequest{"v_word", "GET /version HTTP/1.1\r\n\r\n", "GET", "/version", "", "/version",
                    "", 1},
        GoodRequest{"leading_crlf", "\r\nPOST /v1.41/build?t=a%2Fb HTTP/1.1\r\n\r\n", "POST",
                    "/v1.41/build?t=a%2Fb", "1.41", "/build", "t=a%2Fb", 1},
        GoodRequest{"encoded_path", "GET /v1.41/images/a%3Ab/json HTTP/1.1\r\n\r\n", "GET",
                    "/v1.41/images/a%3Ab/json", "1.41", "/images/a:b/json", "", 1},
        GoodRequest{"version_root", "GET /v1.41 HTTP/1.1\r\n\r\n", "GET", "/v1.41", "1.41", "/", "",
                    1}),
    [](const auto& info) { return std::string(info.param.name); });

struct BadHead {
  const char* name;
  std::string raw;
  int status;
  const char* says;  // a fragment of the error message
};

class ParseBadRequest : public ::testing::TestWithParam<BadHead> {};

TEST_P(ParseBadRequest, RefusesWithStatus) {
  const auto& c = GetParam();
  auto r = parse_request_head(c.raw, 256);
  ASSERT_EQ(r.state, ParseState::Error);
  EXPECT_EQ(r.status, c.status);
  EXPECT_NE(r.error.find(c.says), std::string::npos) << r.error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseBadRequest,
    ::testing::Values(
        BadHead{"two_words", "GET /x\r\n\r\n", 400, "malformed request line"},
        BadHead{"http2", "GET / HTTP/2.0\r\n\r\n", 400, "unsupported HTTP version"},
        BadHead{"absolute_form", "GET http://x/ HTTP/1.1\r\n\r\n", 400, "is not a path"},
        BadHead{"no_colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "without ':'"},
        BadHead{"space_in_name", "GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n", 400,
                "invalid header name"},
        BadHead{"folding", "GET / HTTP/1.1\r\nA: 1\r\n  more\r\n\r\n", 400, "folding"},
        BadHead{"method_with_slash", "G/T / HTTP/1.1\r\n\r\n", 400, "malformed request line"},
        BadHead{"too_large_incomplete", "GET / HTTP/1.1\r\nA: " + std::string(300, 'a'), 431,
                "too large"},
        BadHead{"too_large_complete", "GET / HTTP/1.1\r\nA: " + std::string(300, 'a') + "\r\n\r\n",
                431, "too large"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ParseRequestHead, IncompleteUntilTheBlankLine) {
  std::string raw = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t n = 0; n < raw.size(); ++n)
    EXPECT_EQ(parse_request_head(raw.substr(0, n)).state, ParseState::Incomplete) << n;
  EXPECT_EQ(parse_request_head(raw).state, ParseState::Complete);
}

TEST(FindHeadEnd, ResumesAcrossAppends) {
  std::string buf = "GET / HTTP/1.1\r\nA: b\r\n\r";
  EXPECT_FALSE(find_head_end(buf).has_value());
  size_t scanned = buf.size();
  buf += "\nrest";
  EXPECT_EQ(find_head_end(buf, scanned), buf.size() - 4);
}

TEST(Headers, CaseInsensitiveLookupKeepsOrderAndCase) {
  auto r = parse_request_head(
      "POST /x HTTP/1.1\r\nContent-Type:  application/json \r\nX-A: 1\r\nx-a: 2\r\n"
      "Connection: keep-alive, Upgrade\r\nUpgrade: tcp\r\n\r\n");
  ASSERT_EQ(r.state, ParseState::Complete);
  const auto& h = r.head.headers;
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_EQ(h.get("X-a"), "1");
  EXPECT_EQ(h.get_all("x-A").size(), 2u);
  EXPECT_TRUE(h.has_token("connection", "upgrade"));
  EXPECT_FALSE(h.has_token("connection", "close"));
  ASSERT_EQ(h.all().size(), 5u);
  EXPECT_EQ(h.all()[2].name, "x-a");
}

TEST(Headers, SetReplacesEveryField) {
  Headers h;
  h.add("Content-Length", "1");
  h.add("content-length", "2");
  h.set("Content-Length", "9");
  EXPECT_EQ(h.get_all("CONTENT-LENGTH").size(), 1u);
  EXPECT_EQ(h.get("content-length"), "9");
}

TEST(Query, DecodesNamesAndValues) {
  auto q = parse_query("all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&name=&flag&x=a+b");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[1].value, R"({"label":["a=b"]})");
  EXPECT_EQ(q[2].name, "name");
  EXPECT_EQ(q[2].value, "");
  EXPECT_EQ(q[3].name, "flag");
  EXPECT_EQ(q[4].value, "a b");
}

TEST(Query, RequestHeadFindsFirstValue) {
  auto r = parse_request_head(
      "POST /v1.41/containers/create?name=web&platform=linux%2Famd64 HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(r.head.query_value("platform"), "linux/amd64");
  EXPECT_EQ(r.head.query_value("name"), "web");
  EXPECT_FALSE(r.head.query_value("missing").has_value());
}

TEST(ParseResponseHead, StatusReasonAndHeaders) {
  std::string head =
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
      "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
  auto r = parse_response_head(head + "raw bytes");
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(r.head.status, 101);
  EXPECT_EQ(r.head.reason, "UPGRADED");
  EXPECT_EQ(r.head.headers.get("upgrade"), "tcp");
  EXPECT_EQ(r.consumed, head.size());
}

TEST(ParseResponseHead, RejectsBadStatusLines) {
  // Issue 18: "042" and "000" are no statuses (the proxy would take them for interim answers).
  for (std::string bad :
       {"HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 OK\r\n\r\n", "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 042 Odd\r\n\r\n", "HTTP/1.1 000\r\n\r\n"}) {
    auto r = parse_response_head(bad);
    EXPECT_EQ(r.state, ParseState::Error) << bad;
    EXPECT_EQ(r.status, 400);
  }
  auto no_reason = parse_response_head("HTTP/1.0 204\r\n\r\n");
  ASSERT_EQ(no_reason.state, ParseState::Complete);
  EXPECT_EQ(no_reason.head.status, 204);
  EXPECT_EQ(no_reason.head.version_minor, 0);
}

// Issue 18: Go's net/http (dockerd) ignores Transfer-Encoding on an HTTP/1.0 request; twinboxd
// drops it too, so both sides frame the body by Content-Length (or as none).
TEST(ParseRequestHead, Http10DropsTransferEncoding) {
  auto r = parse_request_head(
      "POST /containers/create HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "2\r\n\r\n");
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_FALSE(r.head.headers.get("Transfer-Encoding").has_value());
  auto f = request_framing(r.head);
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_EQ(f->kind, BodyKind::Length);
  EXPECT_EQ(f->length, 2u);
  auto v11 = parse_request_head("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(v11.state, ParseState::Complete);
  EXPECT_EQ(request_framing(v11.head)->kind, BodyKind::Chunked);
}

TEST(Serialize, RoundTripsARequestHead) {
  std::string raw =
      "POST /v1.41/containers/create?name=a HTTP/1.1\r\nHost: docker\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n";
  auto r = parse_request_head(raw);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(serialize(r.head), raw);
}

TEST(Serialize, ResponseUsesDefaultReason) {
  ResponseHead h;
  h.status = 404;
  h.headers.add("Content-Length", "0");
  EXPECT_EQ(serialize(h), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

TEST(KeepAlive, FollowsVersionAndConnectionHeader) {
  auto parse = [](const std::string& s) { return parse_request_head(s).head; };
  EXPECT_TRUE(wants_keep_alive(parse("GET / HTTP/1.1\r\n\r\n")));
  EXPECT_FALSE(wants_keep_alive(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")));
  EXPECT_FALSE(wants_keep_alive(parse("GET / HTTP/1.0\r\n\r\n")));
  EXPECT_TRUE(wants_keep_alive(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")));
}

}  // namespace

TEST(ChunkFrame, FramesOnePieceAndNeverEndsTheBody) {
  EXPECT_EQ(twinbox::api::http::chunk_frame("hello, world!!!!!"), "11\r\nhello, world!!!!!\r\n");
  EXPECT_EQ(twinbox::api::http::chunk_frame(""), "");
}
