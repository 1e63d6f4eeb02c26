// WWW-Authenticate parsing (RFC 7235 as registries send it), token URLs and token responses.
#include <gtest/gtest.h>

#include <vector>

#include "image/auth_challenge.hpp"

using namespace twinbox::image;

namespace {

TEST(ParseWwwAuthenticate, DockerHubBearer) {
  auto r = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/busybox:pull")");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const auto& c = (*r)[0];
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c.param("service"), "registry.docker.io");
  EXPECT_EQ(c.param("scope"), "repository:library/busybox:pull");
}

TEST(ParseWwwAuthenticate, Table) {
  struct Case {
    std::string in;
    std::vector<std::string> schemes;
    std::vector<std::pair<std::string, std::string>> first_params;
    std::string first_token68;
  };
  for (const auto& c : std::vector<Case>{
           {R"(Basic realm="Registry Realm")", {"basic"}, {{"realm", "Registry Realm"}}, ""},
           {R"(BASIC REALM="x", Charset=UTF-8)",
            {"basic"},
            {{"realm", "x"}, {"charset", "UTF-8"}},
            ""},
           {R"(Bearer realm = "https://ghcr.io/token" , service = "ghcr.io")",
            {"bearer"},
            {{"realm", "https://ghcr.io/token"}, {"service", "ghcr.io"}},
            ""},
           {R"(Basic realm="a", Bearer realm="https://b/token",service="b")",
            {"basic", "bearer"},
            {{"realm", "a"}},
            ""},
           {R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple")",
            {"newauth", "basic"},
            {{"realm", "apps"}, {"type", "1"}, {"title", R"(Login to "apps")"}},
            ""},
           {R"(Negotiate, Basic realm="r")", {"negotiate", "basic"}, {}, ""},
           {"Negotiate YIIBgwYGKwYBBQUCoIIBdzCC==",
            {"negotiate"},
            {},
            "YIIBgwYGKwYBBQUCoIIBdzCC=="},
           {"Negotiate abc/+._~-, Basic realm=x", {"negotiate", "basic"}, {}, "abc/+._~-"},
           {R"(  ,Bearer realm="r",, ,scope="a b"  )",
            {"bearer"},
            {{"realm", "r"}, {"scope", "a b"}},
            ""},
           {R"(Bearer realm="back\\slash")", {"bearer"}, {{"realm", R"(back\slash)"}}, ""},
           {R"(Bearer realm="")", {"bearer"}, {{"realm", ""}}, ""},
           // The grammar makes a bare "name=" a token68, not an empty parameter.
           {"Bearer realm=", {"bearer"}, {}, "realm="}}) {
    auto r = parse_www_authenticate(c.in);
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message;
    std::vector<std::string> schemes;
    for (const auto& ch : *r) schemes.push_back(ch.scheme);
    EXPECT_EQ(schemes, c.schemes) << c.in;
    const auto& first = (*r)[0];
    EXPECT_EQ(first.params.size(), c.first_params.size()) << c.in;
    for (const auto& [k, v] : c.first_params) EXPECT_EQ(first.param(k), v) << c.in << " " << k;
    EXPECT_EQ(first.token68, c.first_token68) << c.in;
  }
}

TEST(ParseWwwAuthenticate, RejectsMalformed) {
  for (const char* bad : {"", "  , ", R"(Bearer realm="unterminated)", R"(Bearer ="x")",
                          R"(Bearer realm="a", realm="b")", R"(Bearer realm=,service=x)",
                          R"(Bearer realm="a" service="b")", "Bearer abc def", "\"Bearer\"",
                          R"(Bearer realm=a;b)", "Bearer@x"}) {
    auto r = parse_www_authenticate(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, twinbox::ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find("WWW-Authenticate"), std::string::npos);
  }
}

TEST(FindChallenge, CaseInsensitiveFirstMatch) {
  auto r = parse_www_authenticate(R"(Basic realm="a", Bearer realm="https://b")").value();
  ASSERT_NE(find_challenge(r, "BEARER"), nullptr);
  EXPECT_EQ(find_challenge(r, "bearer")->param("REALM"), "https://b");
  EXPECT_EQ(find_challenge(r, "digest"), nullptr);
}

TEST(TokenRequestUrl, Table) {
  struct Case {
    std::string header;
    std::vector<std::string> extra;
    std::string url;
  };
  for (const auto& c : std::vector<Case>{
           {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
            R"(scope="repository:library/busybox:pull")",
            {},
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%"
            "2Fbusybox%3Apull"},
           {R"(Bearer realm="https://ghcr.io/token",service="ghcr.io")",
            {"repository:org/app:pull"},
            "https://ghcr.io/token?service=ghcr.io&scope=repository%3Aorg%2Fapp%3Apull"},
           {R"(Bearer realm="https://r/token?v=2",scope="repository:a:pull repository:b:pull")",
            {"repository:a:pull", "repository:c:pull"},
            "https://r/token?v=2&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull"
            "&scope=repository%3Ac%3Apull"},
           {R"(Bearer realm="http://localhost:5001/auth")", {}, "http://localhost:5001/auth"}}) {
    auto ch = parse_www_authenticate(c.header);
    ASSERT_TRUE(ch.has_value()) << c.header;
    auto url = token_request_url((*ch)[0], c.extra);
    ASSERT_TRUE(url.has_value()) << url.error().message;
    EXPECT_EQ(*url, c.url);
  }
}

TEST(PullScope, FeedsTheTokenUrl) {
  EXPECT_EQ(pull_scope("library/busybox"), "repository:library/busybox:pull");
  auto ch = parse_www_authenticate(R"(Bearer realm="https://r/t",service="r")").value();
  EXPECT_EQ(token_request_url(ch[0], {pull_scope("team/app")}).value(),
            "https://r/t?service=r&scope=repository%3Ateam%2Fapp%3Apull");
}

TEST(TokenRequestUrl, RefusesNonBearerAndBadRealm) {
  for (const char* h :
       {R"(Basic realm="https://x")", R"(Bearer service="x")", R"(Bearer realm="ftp://x/token")"}) {
    auto ch = parse_www_authenticate(h).value();
    EXPECT_FALSE(token_request_url(ch[0]).has_value()) << h;
  }
}

TEST(ParseTokenResponse, Table) {
  struct Case {
    const char* body;
    const char* token;
    int64_t expires_in;
  };
  for (const auto& c :
       std::vector<Case>{{R"({"token":"abc","access_token":"abc","expires_in":300,)"
                          R"("issued_at":"2024-01-01T00:00:00Z"})",
                          "abc", 300},
                         {R"({"access_token":"only-access"})", "only-access", 60},
                         {R"({"token":"t","expires_in":0})", "t", 60},
                         {R"({"token":"","access_token":"fallback"})", "fallback", 60}}) {
    auto r = parse_token_response(c.body);
    ASSERT_TRUE(r.has_value()) << c.body << ": " << r.error().message;
    EXPECT_EQ(r->token, c.token);
    EXPECT_EQ(r->expires_in, c.expires_in);
  }
  EXPECT_EQ(parse_token_response(R"({"token":"a","issued_at":"2024-01-01T00:00:00Z"})")->issued_at,
            "2024-01-01T00:00:00Z");
}

TEST(ParseTokenResponse, RejectsMalformed) {
  for (const char* bad : {"", "nope", R"({"expires_in":60})", R"({"token":5})",
                          R"({"token":"a","expires_in":"60"})"}) {
    EXPECT_FALSE(parse_token_response(bad).has_value()) << bad;
  }
}

}  // namespace
