#pragma once
// An in-process fake OCI registry on 127.0.0.1 (plain HTTP, one connection at a time, each
// answered and closed) for the registry client's unit_io tests: manifests and blobs by tag and
// digest, anonymous / Basic / Bearer auth with a token endpoint, scripted failures (5xx, 429 with
// Retry-After, dropped connections) and corrupted content. MemoryBlobSink is header-only so the
// integration tests can use it without the fake.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "image/blob_sink.hpp"
#include "image/digest.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::fakes {

struct RegistryRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // raw, without '?'
  std::string authorization;
  std::string accept;
};

class FakeRegistry {
 public:
  FakeRegistry() = default;
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  Status start();
  void stop();
  // "127.0.0.1:<port>": the domain of references to this registry.
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // Serves `bytes` as a manifest of `repo` by digest and, when `tag` is not empty, by tag.
  // Returns its digest.
  std::string add_manifest(const std::string& repo, const std::string& tag,
                           const std::string& bytes, const std::string& content_type);
  std::string add_blob(const std::string& repo, const std::string& bytes);
  // Serves other bytes under `digest` (a corrupt registry or proxy).
  void corrupt_blob(const std::string& repo, const std::string& digest, const std::string& bytes);
  // Sends this Docker-Content-Digest for `repo`'s manifest `ref` instead of the real one.
  void set_digest_header(const std::string& repo, const std::string& ref, const std::string& value);

  // Basic auth on /v2/ (WWW-Authenticate: Basic realm=...).
  void require_basic(const std::string& user, const std::string& password);
  // Bearer auth: /v2/ wants a token from http://<host>/token. With a user, the token endpoint
  // wants Basic credentials; without one it hands out anonymous tokens.
  void require_bearer(const std::string& user = "", const std::string& password = "",
                      int expires_in = 300);
  // Every token issued so far stops working (the next request gets a 401 challenge).
  void revoke_tokens();

  // The next `times` requests whose path is `path` get `status` (0: the connection is closed
  // without an answer), with Retry-After when `retry_after` is not empty.
  void fail(const std::string& path, int status, int times, const std::string& retry_after = "");

  std::vector<RegistryRequest> requests() const;
  size_t count(const std::string& path) const;
  int tokens_issued() const;

 private:
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool drop = false;
  };
  struct Manifest {
    std::string bytes;
    std::string content_type;
    std::string digest_header;
  };
  struct Failure {
    std::string path;
    int status;
    int left;
    std::string retry_after;
  };
  void accept_loop();
  void serve(Fd fd);
  Response handle(const RegistryRequest& r);
  Response authorize(const RegistryRequest& r);  // status 0 = allowed
  Response token(const RegistryRequest& r);

  mutable std::mutex mu_;
  std::map<std::string, Manifest> manifests_;  // "repo ref" -> manifest
  std::map<std::string, std::string> blobs_;   // "repo digest" -> bytes
  std::string auth_;                           // "", "basic", "bearer"
  std::string user_, password_;
  int expires_in_ = 300;
  std::vector<std::string> tokens_;
  int tokens_issued_ = 0;
  std::vector<Failure> failures_;
  std::vector<RegistryRequest> requests_;

  Fd listener_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
};

// Blobs in memory, verified on commit like the real store: a writer that does not hash to its
// digest (or has the wrong size) stores nothing.
class MemoryBlobSink : public image::BlobSink {
 public:
  std::map<std::string, std::string> blobs;  // digest -> bytes
  int commits = 0;
  int aborts = 0;
  int rejected = 0;

  bool has(const image::Digest& d) const override { return blobs.count(d.str()) > 0; }
  Result<std::unique_ptr<image::BlobWriter>> begin(const image::Digest& d,
                                                   int64_t expected_size) override {
    return std::unique_ptr<image::BlobWriter>(new Writer(this, d, expected_size));
  }

 private:
  class Writer : public image::BlobWriter {
   public:
    Writer(MemoryBlobSink* s, image::Digest d, int64_t size)
        : s_(s), d_(std::move(d)), size_(size) {}
    ~Writer() override {
      if (!done_) abort();
    }
    Status write(std::string_view chunk) override {
      data_.append(chunk);
      return {};
    }
    Status commit() override {
      done_ = true;
      if (size_ >= 0 && static_cast<int64_t>(data_.size()) != size_) {
        s_->rejected++;
        return make_error(ErrorCode::InvalidArgument, "size mismatch for " + d_.str());
      }
      Status v = image::verify(data_, d_);
      if (!v) {
        s_->rejected++;
        return v;
      }
      s_->blobs[d_.str()] = std::move(data_);
      s_->commits++;
      return {};
    }
    void abort() override {
      if (!done_) s_->aborts++;
      done_ = true;
      data_.clear();
    }

   private:
    MemoryBlobSink* s_;
    image::Digest d_;
    int64_t size_;
    std::string data_;
    bool done_ = false;
  };
};

}  // namespace twinbox::fakes
