#pragma once
// Content digests ("sha256:<hex>") and a streaming SHA-256 (OpenSSL's libcrypto: computation
// only, no I/O) so registry content can be verified in pure code. The I/O half feeds blob bytes
// to Sha256 as they stream in.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"

using EVP_MD_CTX = struct evp_md_ctx_st;

namespace twinbox::image {

// A validated OCI digest. Only sha256 (64 lowercase hex) and sha512 (128 lowercase hex) are
// accepted: those are the algorithms registries use and the OCI spec registers.
class Digest {
 public:
  Digest() = default;
  static Result<Digest> parse(std::string_view s);
  // "sha256:<hex of hash>": for a hash computed with Sha256 (streamed blobs).
  static Digest from_sha256(const std::array<uint8_t, 32>& hash);

  const std::string& algorithm() const { return algorithm_; }
  const std::string& hex() const { return hex_; }
  std::string str() const { return algorithm_.empty() ? std::string() : algorithm_ + ":" + hex_; }
  bool empty() const { return algorithm_.empty(); }

  auto operator<=>(const Digest&) const = default;

 private:
  Digest(std::string algorithm, std::string hex)
      : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
  std::string algorithm_;
  std::string hex_;
};

// Streaming SHA-256 (OpenSSL's EVP). update() any number of times, then final() (or
// final_hex()) once; the object is spent afterwards. Movable (`h = Sha256()` starts over), not
// copyable.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::array<uint8_t, 32> final();
  // Lowercase hex of final(); convenience for digests.
  std::string final_hex();

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const;
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

std::string to_hex(const uint8_t* data, size_t len);
// "sha256:<hex>" of `bytes`.
Digest sha256_digest(std::string_view bytes);
// OK when `bytes` hash to `expected`; InvalidArgument naming expected vs actual otherwise.
// sha512 digests are refused (Unavailable): nothing in this module computes them yet.
Status verify(std::string_view bytes, const Digest& expected);

}  // namespace twinbox::image
