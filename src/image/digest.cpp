#include "image/digest.hpp"

#include <cstring>

namespace twinbox::image {

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

constexpr std::array<uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::array<uint32_t, 8> kInitialHash = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

Result<Digest> Digest::parse(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    return make_error(ErrorCode::InvalidArgument,
                      "digest \"" + std::string(s) + "\" is not of the form algorithm:hex");
  }
  std::string_view algo = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  size_t want = 0;
  if (algo == "sha256") {
    want = 64;
  } else if (algo == "sha512") {
    want = 128;
  } else {
    return make_error(ErrorCode::InvalidArgument, "digest \"" + std::string(s) +
                                                      "\": unsupported algorithm \"" +
                                                      std::string(algo) + "\" (sha256, sha512)");
  }
  if (hex.size() != want || !is_lower_hex(hex)) {
    return make_error(ErrorCode::InvalidArgument,
                      "digest \"" + std::string(s) + "\": " + std::string(algo) + " needs " +
                          std::to_string(want) + " lowercase hex characters");
  }
  return Digest(std::string(algo), std::string(hex));
}

Digest Digest::from_sha256(const std::array<uint8_t, 32>& hash) {
  return Digest("sha256", to_hex(hash.data(), hash.size()));
}

Sha256::Sha256() : h_(kInitialHash) {}

void Sha256::compress(const uint8_t* block) {
  std::array<uint32_t, 64> w;
  for (int i = 0; i < 16; ++i) {
    w[i] = (uint32_t{block[4 * i]} << 24) | (uint32_t{block[4 * i + 1]} << 16) |
           (uint32_t{block[4 * i + 2]} << 8) | uint32_t{block[4 * i + 3]};
  }
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = h + s1 + ch + kRoundConstants[i] + w[i];
    uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  total_len_ += len;
  if (buf_len_ > 0) {
    size_t take = std::min(len, buf_.size() - buf_len_);
    std::memcpy(buf_.data() + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    len -= take;
    if (buf_len_ < buf_.size()) return;
    compress(buf_.data());
    buf_len_ = 0;
  }
  for (; len >= 64; p += 64, len -= 64) compress(p);
  if (len > 0) {
    std::memcpy(buf_.data(), p, len);
    buf_len_ = len;
  }
}

std::array<uint8_t, 32> Sha256::final() {
  uint64_t bit_len = total_len_ * 8;
  // 0x80, zeros up to 56 mod 64, then the message length in bits, big-endian.
  std::array<uint8_t, 72> pad{0x80};
  size_t pad_len = (buf_len_ < 56) ? 56 - buf_len_ : 120 - buf_len_;
  update(pad.data(), pad_len);
  std::array<uint8_t, 8> len_be;
  for (int i = 0; i < 8; ++i) len_be[i] = static_cast<uint8_t>(bit_len >> (56 - 8 * i));
  update(len_be.data(), len_be.size());
  std::array<uint8_t, 32> out;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
  }
  return out;
}

std::string Sha256::final_hex() {
  auto d = final();
  return to_hex(d.data(), d.size());
}

std::string to_hex(const uint8_t* data, size_t len) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

Digest sha256_digest(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return Digest::from_sha256(h.final());
}

Status verify(std::string_view bytes, const Digest& expected) {
  if (expected.algorithm() != "sha256") {
    return make_error(ErrorCode::Unavailable, "cannot verify " + expected.str() + ": algorithm " +
                                                  expected.algorithm() + " is not implemented");
  }
  Digest actual = sha256_digest(bytes);
  if (actual != expected) {
    return make_error(ErrorCode::InvalidArgument, "digest mismatch: expected " + expected.str() +
                                                      ", got " + actual.str() + " (" +
                                                      std::to_string(bytes.size()) + " bytes)");
  }
  return {};
}

}  // namespace twinbox::image
