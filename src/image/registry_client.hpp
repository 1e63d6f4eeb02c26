#pragma once
// The registry client: OCI distribution API pulls with anonymous, Basic and Bearer-token auth,
// retries with backoff, and digest verification of everything it returns or stores.
//
// A pull is three steps so that the router, not this module, chooses the backend in between:
//   inspect(ref)          -> ImageOffer: the top-level document and the platforms it offers
//   resolve(offer, want)  -> ResolvedImage: the child manifest and config for one platform
//   fetch(resolved, sink) -> layers, config, manifest (and index) stored in a BlobSink
//
// Credentials: twinboxd's docker config by default; a pull may bring its own (the docker client's
// X-Registry-Auth), which then replace the config's for every request of that pull. `login`
// checks credentials against a registry the way dockerd's `POST /auth` does.
//
// Thread safety: one RegistryClient may be shared by several threads pulling at once. The token
// cache and the docker config are guarded by an internal mutex; the transport must be thread-safe
// (CurlTransport is: one easy handle per request). Credentials never appear in errors or logs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/auth_challenge.hpp"
#include "image/auth_config.hpp"
#include "image/blob_sink.hpp"
#include "image/digest.hpp"
#include "image/docker_config.hpp"
#include "image/endpoint.hpp"
#include "image/manifest.hpp"
#include "image/resolve.hpp"
#include "image/transport.hpp"
#include "platform/platform.hpp"
#include "platform/reference.hpp"
#include "util/result.hpp"

namespace twinbox::image {

struct RegistryOptions {
  // config.json with credentials. "" -> $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
  // A missing file means anonymous pulls; it is read once, on the first 401.
  std::string docker_config_path;
  // Registries reached over plain HTTP ("host:port", "host", IPv4 CIDR); loopback always is.
  std::vector<std::string> insecure_registries;
  int max_attempts = 5;  // per request, counting the first; transient errors only
  std::chrono::milliseconds initial_backoff{500};  // doubled after each failed attempt
  std::chrono::milliseconds max_backoff{10000};
  // A Retry-After (429/503) up to this long is honoured instead of the backoff; a longer one
  // ends the retries with the registry's answer (a pull does not sit for minutes).
  std::chrono::milliseconds max_retry_after{30000};
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds request_timeout{60000};  // manifests, tokens, configs
  std::chrono::milliseconds stall_timeout{60000};    // layer downloads: cut below 1 KiB/s
  // Layers of one pull fetched at once (dockerd's --max-concurrent-downloads, also 3).
  int max_concurrent_downloads = 3;
  std::string user_agent;  // "" -> "twinbox/<version>"
};

// The image chosen for one platform, with everything verified.
struct ResolvedImage {
  platform::Reference reference;  // as the user gave it
  Digest manifest_digest;         // the child manifest: what gets recorded
  std::string manifest_media_type;
  std::string manifest_bytes;
  ImageManifest manifest;
  std::string config_bytes;
  ImageConfig config;
  platform::Platform platform;  // from the config, normalized
  // The index the child came from (absent for a single manifest).
  std::optional<Digest> index_digest;
  std::string index_media_type;
  std::string index_bytes;

  // "<name>@<manifest digest>": what a container keeps, so a moved tag cannot change it.
  std::string pinned() const { return pinned_reference(reference, manifest_digest); }
  // The user's reference as docker shows it: "busybox:latest".
  std::string display() const { return reference.familiar(); }
};

// Credentials for one pull, from the docker client (X-Registry-Auth). Set: used instead of the
// docker config's for every request of the pull, token requests included, and its tokens are
// cached apart from every other credentials'. nullopt: the docker config's (or anonymous).
using PullCredentials = std::optional<RegistryCredentials>;

// What `login` found out.
struct LoginResult {
  bool accepted = false;
  std::string registry;  // "127.0.0.1:5001", "docker.io"
  std::string url;       // the endpoint checked: "http://127.0.0.1:5001/v2/"
  // Refused: Docker's "login attempt to <url> failed with status: 401 Unauthorized", the
  // registry's answer and what to do. Accepted: "" (or a note, e.g. the registry wants no auth).
  std::string message;
};

enum class PullPhase { Waiting, Downloading, Verifying, DownloadComplete, AlreadyExists };
// "Waiting", "Downloading", "Verifying Checksum", "Download complete", "Already exists": the
// status strings docker pull prints.
const char* pull_phase_text(PullPhase p);

struct PullProgress {
  std::string id;  // short digest: the first 12 hex characters, as docker shows layers
  Digest digest;
  PullPhase phase = PullPhase::Waiting;
  int64_t current = 0;  // bytes received (Downloading)
  int64_t total = 0;    // the layer's size from the manifest
};
using ProgressCallback = std::function<void(const PullProgress&)>;

class RegistryClient {
 public:
  // `transport` nullptr -> a CurlTransport built from the options.
  explicit RegistryClient(RegistryOptions opts, std::shared_ptr<Transport> transport = nullptr);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // Fetches the top-level document of `ref` (by digest when it has one, else by tag), verifies
  // it, and lists the platforms it offers. For a single manifest the config is fetched too (its
  // platform is the offer). Errors name the registry, the reference and the registry's answer.
  Result<ImageOffer> inspect(const platform::Reference& ref, const PullCredentials& creds = {});
  Result<ImageOffer> inspect(std::string_view reference, const PullCredentials& creds = {});

  // The image for `want`. For an index: the child containerd's preference picks (NotFound listing
  // the offered platforms when none fits), its manifest and config fetched and verified, and the
  // config must agree with the index entry. For a single manifest: no re-resolution; with `want`,
  // the config must match it (NotFound "no matching manifest" otherwise). Without `want`, an
  // index is InvalidArgument (the router decides the platform) and a manifest is taken as is.
  Result<ResolvedImage> resolve(const ImageOffer& offer,
                                const std::optional<platform::Platform>& want,
                                const PullCredentials& creds = {});

  // Stores the layers (streamed, verified by the sink on commit), then the config, the manifest
  // and the index bytes, skipping blobs the sink already has: a crash leaves no manifest whose
  // blobs are missing. Progress per layer; `progress` may be empty.
  Status fetch(const ResolvedImage& image, BlobSink& sink, const ProgressCallback& progress = {},
               const PullCredentials& creds = {});

  // Checks `auth`'s credentials against its registry like dockerd's login: GET /v2/ (plain HTTP
  // for loopback and insecure registries, as pulls), then the challenge: Basic -> the request
  // again with Basic; Bearer -> a token from the realm with the credentials (no scope, `account`
  // = the user), then /v2/ with it. A registry that wants no auth accepts any login (as Docker).
  // Refused credentials are a LoginResult with accepted=false; errors: InvalidArgument (bad
  // address, no user name, identity tokens, an unknown auth scheme), Unavailable/Timeout (the
  // registry or its token service unreachable or failing), each naming the registry. Nothing is
  // cached or written: the docker client stores the credentials, as with dockerd.
  Result<LoginResult> login(const AuthConfig& auth);

  const RegistryOptions& options() const { return opts_; }

 private:
  struct Repo;
  struct Fetched;
  Repo make_repo(const platform::Reference& ref, const PullCredentials& creds) const;
  Result<Fetched> get_small(const Repo& repo, const std::string& url, const std::string& accept,
                            const std::string& what);
  Result<std::string> fetch_manifest(const Repo& repo, const std::string& ref, const Digest* want,
                                     std::string* media_type, Digest* digest);
  Result<std::string> fetch_config(const Repo& repo, const Descriptor& config);
  // `cancel`, when set by another layer's failure, stops this one at its next chunk.
  Status fetch_blob(const Repo& repo, const Descriptor& d, BlobSink& sink,
                    const ProgressCallback& progress, const std::atomic<bool>* cancel = nullptr);
  // The layers not in `sink`, each once, up to max_concurrent_downloads at a time; the first
  // failure cancels the others and is the result.
  Status fetch_layers(const Repo& repo, const std::vector<const Descriptor*>& layers,
                      BlobSink& sink, const ProgressCallback& progress);
  Status store_bytes(BlobSink& sink, const Digest& d, const std::string& bytes);

  // The request loop: auth header, retries, the 401 challenge flow.
  Result<HttpResponse> request(
      const Repo& repo, const std::string& url, const HeaderList& extra,
      std::chrono::milliseconds timeout,
      const std::function<Status(const HttpResponse&, std::string_view)>& on_ok_body,
      const std::function<void(HeaderList& headers)>& on_retry, std::string* error_body);
  Result<std::string> authorization_for(const Repo& repo, bool force_refresh,
                                        const std::vector<AuthChallenge>& challenges);
  Result<std::optional<RegistryCredentials>> credentials_for(const std::string& registry);
  bool has_credentials(const Repo& repo);
  // "in <config path>" / "sent by the docker client": where the credentials of `repo` come from.
  std::string credentials_origin(const Repo& repo) const;
  // One small GET (token, login ping) with the transient-error retries; body capped at `limit`.
  Result<HttpResponse> send_small(const HttpRequest& req, std::string* body, size_t limit);
  std::string config_path() const;
  void sleep_before_retry(int attempt, const HttpResponse* resp);

  RegistryOptions opts_;
  std::shared_ptr<Transport> transport_;

  struct CachedToken {
    std::string authorization;  // "Bearer ..." or "Basic ..."
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mu_;
  // key: registry + " " + scope + " " + whose credentials ("config" or their fingerprint), so a
  // token fetched with one client's credentials never serves a request made with others.
  std::map<std::string, CachedToken> tokens_;
  std::map<std::string, std::string> scheme_;  // registry -> "bearer" / "basic" once challenged
  bool config_loaded_ = false;
  std::optional<DockerConfig> config_;
  std::string config_error_;
};

}  // namespace twinbox::image
