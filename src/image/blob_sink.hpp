#pragma once
// Where fetched content goes. The registry client (twinbox_image_io) and archive import stream
// bytes into a BlobWriter; the content store (src/store) implements the sink and verifies the
// digest and size on commit, so nothing unverified is ever stored. Pure interface: no I/O here.
#include <cstdint>
#include <memory>
#include <string_view>

#include "image/digest.hpp"
#include "util/result.hpp"

namespace twinbox::image {

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends the next chunk of the blob.
  virtual Status write(std::string_view chunk) = 0;
  // Verifies digest (and size, when one was expected) and makes the blob visible atomically.
  // On mismatch: InvalidArgument naming expected vs actual, and nothing is stored.
  virtual Status commit() = 0;
  // Drops what was written. Also what the destructor does when neither was called.
  virtual void abort() = 0;
};

class BlobSink {
 public:
  virtual ~BlobSink() = default;
  // True when the blob is already stored (a fetch can be skipped).
  virtual bool has(const Digest& digest) const = 0;
  // Starts a blob expected to hash to `digest`; `expected_size` < 0 when unknown.
  virtual Result<std::unique_ptr<BlobWriter>> begin(const Digest& digest,
                                                    int64_t expected_size) = 0;
};

}  // namespace twinbox::image
