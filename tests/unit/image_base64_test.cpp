// Base64 against the RFC 4648 section 10 vectors, plus what config.json files contain.
#include <gtest/gtest.h>

#include <vector>

#include "image/base64.hpp"

using namespace twinbox::image;

namespace {

struct Vector {
  const char* plain;
  const char* encoded;
};
const std::vector<Vector> kRfc4648 = {{"", ""},
                                      {"f", "Zg=="},
                                      {"fo", "Zm8="},
                                      {"foo", "Zm9v"},
                                      {"foob", "Zm9vYg=="},
                                      {"fooba", "Zm9vYmE="},
                                      {"foobar", "Zm9vYmFy"}};

TEST(Base64Encode, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) EXPECT_EQ(base64_encode(v.plain), v.encoded) << v.plain;
}

TEST(Base64Decode, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    auto d = base64_decode(v.encoded);
    ASSERT_TRUE(d.has_value()) << v.encoded << ": " << d.error().message;
    EXPECT_EQ(*d, v.plain);
  }
}

TEST(Base64Decode, AcceptsUnpadded) {
  EXPECT_EQ(base64_decode("Zg").value(), "f");
  EXPECT_EQ(base64_decode("Zm8").value(), "fo");
  EXPECT_EQ(base64_decode("dXNlcjpwYXNz").value(), "user:pass");
}

TEST(Base64, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string s = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(s)).value(), s) << n;
  }
}

TEST(Base64Decode, RejectsMalformed) {
  for (const char* bad : {"Z", "Zm9vY", "Zg=", "Zg===", "Z===", "Zm9v\n", "Zm 9v",
                          "Zm9v!A==", "=Zm9", "Zm=v", "Zm9v-_=="}) {
    auto d = base64_decode(bad);
    EXPECT_FALSE(d.has_value()) << bad;
    if (!d) {
      EXPECT_NE(d.error().message.find("invalid base64"), std::string::npos);
    }
  }
}

}  // namespace
