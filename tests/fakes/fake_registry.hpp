#pragma once
// An in-process fake OCI registry on 127.0.0.1 (plain HTTP/1.1, a thread per connection,
// connections kept alive as a real registry keeps them) for the registry client's unit_io tests:
// manifests and blobs by tag and digest, blob range requests (206), anonymous / Basic / Bearer
// auth with a token endpoint, scripted failures (5xx, 429 with Retry-After, dropped connections,
// bodies cut short), corrupted content, and counts of connections and of blob GETs in flight.
// MemoryBlobSink is header-only so the integration tests can use it without the fake.
#include <atomic>
#include <chrono>
#include <cstdint>
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
  std::string range;  // the Range header, "" when none
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

  // The next `times` GETs of `path` send the full Content-Length but only the first
  // `after_bytes` of the body, then close the connection (a transfer broken mid-way).
  void cut(const std::string& path, size_t after_bytes, int times);
  // Blob GETs ignore Range and answer 200 with the whole blob (registries may).
  void ignore_ranges(bool yes);
  // Each blob body is sent in pieces with this pause between them (to see transfers overlap).
  void slow_blobs(std::chrono::milliseconds pause);

  std::vector<RegistryRequest> requests() const;
  size_t count(const std::string& path) const;
  int tokens_issued() const;
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // The most blob GETs that were being answered at the same time.
  int max_blobs_in_flight() const { return max_blobs_in_flight_.load(); }

 private:
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool drop = false;
    size_t cut_after = SIZE_MAX;  // send only this much of the body, then close
    bool blob = false;
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
    size_t cut_after = SIZE_MAX;
  };
  void accept_loop();
  void serve(int fd);
  bool answer(int fd, const RegistryRequest& req);
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

  bool ignore_ranges_ = false;
  std::chrono::milliseconds slow_blobs_{0};

  Fd listener_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::atomic<int> connections_{0};
  std::atomic<int> blobs_in_flight_{0};
  std::atomic<int> max_blobs_in_flight_{0};
  std::mutex conn_mu_;
  std::vector<std::thread> conn_threads_;
  std::vector<Fd> conn_fds_;  // shut down by stop() so idle kept connections end
};

// Blobs in memory, verified on commit like the real store: a writer that does not hash to its
// digest (or has the wrong size) stores nothing. Writers may run on several threads at once (a
// pull fetches layers in parallel); read the fields once the pull is over.
class MemoryBlobSink : public image::BlobSink {
 public:
  std::map<std::string, std::string> blobs;  // digest -> bytes
  int commits = 0;
  int aborts = 0;
  int rejected = 0;

  bool has(const image::Digest& d) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return blobs.count(d.str()) > 0;
  }
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
      std::lock_guard<std::mutex> lock(s_->mu_);
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
      std::lock_guard<std::mutex> lock(s_->mu_);
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
  mutable std::mutex mu_;
};

}  // namespace twinbox::fakes
