// Digest syntax, SHA-256 against the FIPS 180-4 / NIST vectors, streaming, and verify().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "image/digest.hpp"

using namespace twinbox::image;

namespace {

std::string sha256_hex(std::string_view s) {
  Sha256 h;
  h.update(s);
  return h.final_hex();
}

TEST(Sha256, NistVectors) {
  struct Case {
    std::string in;
    const char* hex;
  };
  for (const auto& c : std::vector<Case>{
           {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
           {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
           {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
           {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnop"
            "qrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
           {std::string(1000000, 'a'),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"}}) {
    EXPECT_EQ(sha256_hex(c.in), c.hex) << c.in.substr(0, 60) << " (" << c.in.size() << " bytes)";
  }
}

TEST(Sha256, StreamingMatchesOneShotAtEverySplit) {
  // 0..130 bytes crosses the 55/56/64-byte padding boundaries and the block boundary twice.
  std::string data;
  for (int i = 0; i < 130; ++i) data += static_cast<char>('!' + i % 90);
  for (size_t len : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 130}) {
    std::string msg = data.substr(0, len);
    std::string want = sha256_hex(msg);
    for (size_t split = 0; split <= len; ++split) {
      Sha256 h;
      h.update(std::string_view(msg).substr(0, split));
      h.update(std::string_view(msg).substr(split));
      ASSERT_EQ(h.final_hex(), want) << "len " << len << " split " << split;
    }
  }
}

TEST(Sha256, AssigningANewOneStartsOver) {
  // What a retried download does: the bytes of the broken attempt must not count.
  Sha256 h;
  h.update("the first attempt, cut short");
  h = Sha256();
  h.update("abc");
  EXPECT_EQ(h.final_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 moved = std::move(h);  // NOLINT(performance-move-const-arg): the move is the test
  Sha256 fresh;
  fresh.update("");
  EXPECT_EQ(fresh.final_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, MillionAByteAtATimeInChunks) {
  Sha256 h;
  std::string chunk(997, 'a');  // prime-sized chunks so block boundaries fall mid-chunk
  size_t left = 1000000;
  while (left > 0) {
    size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  EXPECT_EQ(Digest::from_sha256(h.final()).str(),
            "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(DigestParse, AcceptsSha256AndSha512) {
  std::string h64(64, 'a');
  std::string h128(128, '0');
  auto d = Digest::parse("sha256:" + h64);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_EQ(d->hex(), h64);
  EXPECT_EQ(d->str(), "sha256:" + h64);
  auto d512 = Digest::parse("sha512:" + h128);
  ASSERT_TRUE(d512.has_value());
  EXPECT_EQ(d512->algorithm(), "sha512");
}

TEST(DigestParse, RejectsMalformed) {
  std::string h64(64, 'a');
  struct Case {
    std::string in;
    const char* says;
  };
  for (const auto& c :
       std::vector<Case>{{"", "algorithm:hex"},
                         {h64, "algorithm:hex"},
                         {"sha256:" + std::string(63, 'a'), "64 lowercase hex"},
                         {"sha256:" + std::string(65, 'a'), "64 lowercase hex"},
                         {"sha256:" + std::string(64, 'A'), "64 lowercase hex"},
                         {"sha256:" + std::string(63, 'a') + "g", "64 lowercase hex"},
                         {"sha512:" + h64, "128 lowercase hex"},
                         {"SHA256:" + h64, "unsupported algorithm"},
                         {"md5:" + std::string(32, 'a'), "unsupported algorithm"},
                         {"sha256:", "64 lowercase hex"}}) {
    auto d = Digest::parse(c.in);
    ASSERT_FALSE(d.has_value()) << c.in;
    EXPECT_EQ(d.error().code, twinbox::ErrorCode::InvalidArgument);
    EXPECT_NE(d.error().message.find(c.says), std::string::npos) << d.error().message;
  }
}

TEST(DigestCompare, EqualityAndOrdering) {
  auto a = Digest::parse("sha256:" + std::string(64, 'a')).value();
  auto a2 = Digest::parse("sha256:" + std::string(64, 'a')).value();
  auto b = Digest::parse("sha256:" + std::string(64, 'b')).value();
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_TRUE(Digest().empty());
}

TEST(Verify, AcceptsMatchingBytes) {
  auto d = Digest::parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(verify("abc", *d).has_value());
  EXPECT_EQ(sha256_digest("abc"), *d);
}

TEST(Verify, MismatchNamesExpectedAndActual) {
  auto d = Digest::parse("sha256:" + std::string(64, '0')).value();
  auto s = verify("abc", d);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, twinbox::ErrorCode::InvalidArgument);
  const auto& m = s.error().message;
  EXPECT_NE(m.find("expected sha256:" + std::string(64, '0')), std::string::npos) << m;
  EXPECT_NE(m.find("got sha256:ba7816bf"), std::string::npos) << m;
}

TEST(Verify, RefusesSha512Explicitly) {
  auto d = Digest::parse("sha512:" + std::string(128, '0')).value();
  auto s = verify("abc", d);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, twinbox::ErrorCode::Unavailable);
  EXPECT_NE(s.error().message.find("sha512"), std::string::npos);
}

}  // namespace
