// Docker's AuthConfig as twinboxd receives it: the POST /auth body, the X-Registry-Auth header
// (base64url JSON), the login's registry host, the token-cache fingerprint, and /auth's route.
#include <gtest/gtest.h>

#include "image/auth_config.hpp"
#include "image/base64.hpp"
#include "router/route.hpp"

using namespace twinbox;
using namespace twinbox::image;

namespace {

// base64url without padding, as Go's URLEncoding minus the '=' (some clients strip it).
std::string b64url(const std::string& s, bool pad) {
  std::string out = base64_encode(s);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  if (!pad) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

TEST(AuthConfig, ParsesDockersLoginBody) {
  auto a = parse_auth_config(
      R"({"username":"twinbox","password":"pw","serveraddress":"127.0.0.1:5001","email":"x@y"})");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->credentials.username, "twinbox");
  EXPECT_EQ(a->credentials.password, "pw");
  EXPECT_EQ(a->server_address, "127.0.0.1:5001");
  EXPECT_FALSE(a->empty());
}

TEST(AuthConfig, AuthFieldIsUsedWhenUserAndPasswordAreAbsentAndNullsAreAbsent) {
  auto a = parse_auth_config(R"({"auth":")" + base64_encode("bob:a:b") +
                             R"(","username":null,"identitytoken":null,"unknown":1})");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->credentials.username, "bob");
  EXPECT_EQ(a->credentials.password, "a:b");  // only the first ':' splits
  // Explicit username/password win over "auth".
  auto b = parse_auth_config(R"({"username":"u","password":"p","auth":")" + base64_encode("x:y") +
                             "\"}");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->credentials.username, "u");
  EXPECT_EQ(b->credentials.password, "p");
}

TEST(AuthConfig, TokensAreKept) {
  auto a = parse_auth_config(R"({"identitytoken":"it","registrytoken":"rt"})");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->credentials.identity_token, "it");
  EXPECT_EQ(a->credentials.registry_token, "rt");
  EXPECT_FALSE(a->empty());
  EXPECT_TRUE(parse_auth_config(R"({"serveraddress":"h","email":"e"})")->empty());
}

TEST(AuthConfig, MalformedBodiesAreRefusedWithoutQuotingSecrets) {
  EXPECT_FALSE(parse_auth_config("").has_value());
  EXPECT_FALSE(parse_auth_config("[1]").has_value());
  auto typed = parse_auth_config(R"({"username":"u","password":12345678})");
  ASSERT_FALSE(typed.has_value());
  EXPECT_EQ(typed.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(typed.error().message.find("password"), std::string::npos) << typed.error().message;
  EXPECT_EQ(typed.error().message.find("12345678"), std::string::npos);
  auto auth = parse_auth_config(R"({"auth":"c2VjcmV0LXdpdGhvdXQtY29sb24="})");  // no ':'
  ASSERT_FALSE(auth.has_value());
  EXPECT_NE(auth.error().message.find("\"auth\""), std::string::npos);
  EXPECT_EQ(auth.error().message.find("secret"), std::string::npos);
}

TEST(RegistryAuthHeader, Base64UrlWithOrWithoutPaddingAndTheStandardAlphabet) {
  // '?' and '>' make the standard alphabet's '/' and '+' appear, and the URL one's '_' and '-'.
  std::string json = R"({"username":"u??>","password":"p>>>?","serveraddress":"h:5001"})";
  for (const std::string& header :
       {b64url(json, true), b64url(json, false), base64_encode(json), " " + b64url(json, true)}) {
    auto a = parse_registry_auth_header(header);
    ASSERT_TRUE(a.has_value()) << header << ": " << a.error().message;
    ASSERT_TRUE(a->has_value()) << header;
    EXPECT_EQ((*a)->credentials.username,
              "u?"
              "?>");
    EXPECT_EQ((*a)->credentials.password, "p>>>?");
    EXPECT_EQ((*a)->server_address, "h:5001");
  }
  EXPECT_NE(b64url(json, true), base64_encode(json));  // the test covers both alphabets
}

TEST(RegistryAuthHeader, NoCredentialsMeansTwinboxdsOwnConfig) {
  for (const std::string& header :
       {std::string(""), std::string("  "), std::string("e30="), std::string("e30"),
        b64url(R"({"username":"","password":"","serveraddress":"docker.io"})", false)}) {
    auto a = parse_registry_auth_header(header);
    ASSERT_TRUE(a.has_value()) << header << ": " << a.error().message;
    EXPECT_FALSE(a->has_value()) << header;
  }
}

TEST(RegistryAuthHeader, GarbageIsAClear400WithoutEchoingTheHeader) {
  for (const std::string& header :
       {std::string("not base64!"), std::string("abcde"), std::string("a=bc"),
        b64url("username=u password=hunter2", true), b64url(R"(["hunter2"])", true),
        b64url(R"({"username":"u","password":["hunter2"]})", true)}) {
    auto a = parse_registry_auth_header(header);
    ASSERT_FALSE(a.has_value()) << header;
    EXPECT_EQ(a.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(a.error().message.rfind("X-Registry-Auth is not valid base64url JSON: ", 0), 0u)
        << a.error().message;
    EXPECT_EQ(a.error().message.find("hunter2"), std::string::npos) << a.error().message;
    EXPECT_EQ(a.error().message.find(header), std::string::npos) << a.error().message;
  }
  auto bad_char = parse_registry_auth_header("abc!");
  ASSERT_FALSE(bad_char.has_value());
  EXPECT_NE(bad_char.error().message.find("character 4"), std::string::npos)
      << bad_char.error().message;
}

TEST(LoginRegistryHost, DockerHubLocalAndSchemes) {
  EXPECT_EQ(*login_registry_host(""), "docker.io");
  EXPECT_EQ(*login_registry_host("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(*login_registry_host("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(*login_registry_host("docker.io"), "docker.io");
  EXPECT_EQ(*login_registry_host("127.0.0.1:5001"), "127.0.0.1:5001");
  EXPECT_EQ(*login_registry_host("https://127.0.0.1:5001/"), "127.0.0.1:5001");
  EXPECT_EQ(*login_registry_host("http://Registry.Example.com:5000/v2/"),
            "registry.example.com:5000");
  EXPECT_EQ(*login_registry_host("[::1]:5000"), "[::1]:5000");
  for (const char* bad : {"https://", "user@host:5000", "two words", "host:5000?x=1"}) {
    auto r = login_registry_host(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find("host[:port]"), std::string::npos) << r.error().message;
  }
}

TEST(CredentialsFingerprint, EqualForEqualCredentialsDistinctOtherwiseAndNoSecret) {
  RegistryCredentials a{"alice", "pw-one", "", ""};
  RegistryCredentials same{"alice", "pw-one", "", ""};
  RegistryCredentials other_pw{"alice", "pw-two", "", ""};
  RegistryCredentials shifted{"alicep", "w-one", "", ""};  // same concatenation as `a`
  RegistryCredentials token{"", "", "", "alicepw-one"};
  EXPECT_EQ(credentials_fingerprint(a), credentials_fingerprint(same));
  EXPECT_NE(credentials_fingerprint(a), credentials_fingerprint(other_pw));
  EXPECT_NE(credentials_fingerprint(a), credentials_fingerprint(shifted));
  EXPECT_NE(credentials_fingerprint(a), credentials_fingerprint(token));
  EXPECT_NE(credentials_fingerprint(a), credentials_fingerprint(RegistryCredentials{}));
  EXPECT_EQ(credentials_fingerprint(a).rfind("sha256:", 0), 0u);
  EXPECT_EQ(credentials_fingerprint(a).find("pw-one"), std::string::npos);
}

TEST(AuthRoute, PostAuthIsAnsweredByTwinboxd) {
  router::WorkloadRegistry reg;
  router::RouteInput in;
  in.method = "POST";
  in.path = "/auth";
  in.api_version = "1.41";
  auto d = router::decide(in, reg);
  EXPECT_EQ(d.kind, router::Decision::Kind::Local);
  EXPECT_EQ(d.local, router::LocalHandler::Auth);
  EXPECT_STREQ(router::local_handler_name(d.local), "auth");
  in.method = "GET";  // only POST is docker login
  EXPECT_NE(router::decide(in, reg).kind, router::Decision::Kind::Local);
}

}  // namespace
