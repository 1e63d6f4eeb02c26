#include "image/registry_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include "image/auth_challenge.hpp"
#include "image/curl_transport.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#ifndef TWINBOX_VERSION
#define TWINBOX_VERSION "0"
#endif

namespace twinbox::image {

namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;    // containerd's limit for manifests and indexes
constexpr size_t kMaxConfigBytes = 16 << 20;     // configs are small; a huge one is not a config
constexpr size_t kMaxErrorBodyBytes = 64 << 10;  // enough for any registry error document
constexpr int64_t kProgressStep = 256 << 10;     // a Downloading event per 256 KiB

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool transient_status(int status) { return status == 429 || status >= 500; }

// "Retry-After: <seconds>"; an HTTP date or garbage -> nullopt (the backoff applies).
std::optional<milliseconds> retry_after(const HttpResponse& r) {
  std::string v(trim(r.header("Retry-After")));
  if (v.empty() || v.size() > 9) return std::nullopt;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return milliseconds(std::stoll(v) * 1000);
}

std::string short_id(const Digest& d) { return d.hex().substr(0, 12); }

}  // namespace

const char* pull_phase_text(PullPhase p) {
  switch (p) {
    case PullPhase::Waiting:
      return "Waiting";
    case PullPhase::Downloading:
      return "Downloading";
    case PullPhase::Verifying:
      return "Verifying Checksum";
    case PullPhase::DownloadComplete:
      return "Download complete";
    case PullPhase::AlreadyExists:
      return "Already exists";
  }
  return "?";
}

// One repository on one registry: what every request of a pull shares.
struct RegistryClient::Repo {
  platform::Reference ref;
  RegistryEndpoint ep;
  std::string scope;       // "repository:<path>:pull"
  PullCredentials client;  // the docker client's credentials for this pull, if it sent any
  std::string cache_key;   // registry, scope and whose credentials: the token cache's key

  std::string url(std::string_view kind, std::string_view what) const {
    return ep.base_url + "/v2/" + ref.path + "/" + std::string(kind) + "/" + std::string(what);
  }
  // "127.0.0.1:5000/twinbox/busybox:latest on registry 127.0.0.1:5000", for every error.
  std::string where() const {
    return ref.familiar() + " (registry " + ep.registry + ", " + ep.base_url + ")";
  }
};

struct RegistryClient::Fetched {
  HttpResponse head;
  std::string body;
};

RegistryClient::RegistryClient(RegistryOptions opts, std::shared_ptr<Transport> transport)
    : opts_(std::move(opts)), transport_(std::move(transport)) {
  if (opts_.user_agent.empty()) opts_.user_agent = std::string("twinbox/") + TWINBOX_VERSION;
  if (opts_.max_attempts < 1) opts_.max_attempts = 1;
  if (!transport_) {
    CurlTransportOptions t;
    t.connect_timeout = opts_.connect_timeout;
    t.stall_timeout = opts_.stall_timeout;
    t.user_agent = opts_.user_agent;
    transport_ = std::make_shared<CurlTransport>(t);
  }
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::config_path() const {
  if (!opts_.docker_config_path.empty()) return opts_.docker_config_path;
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "") + "/.docker/config.json";
}

Result<std::optional<RegistryCredentials>> RegistryClient::credentials_for(
    const std::string& registry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!config_loaded_) {
    config_loaded_ = true;
    std::string path = config_path();
    if (fs::exists(path)) {
      auto text = fs::read_file(path);
      if (!text) {
        config_error_ = "reading " + path + ": " + text.error().message;
      } else if (auto cfg = DockerConfig::parse(*text); !cfg) {
        config_error_ = path + ": " + cfg.error().message;
      } else {
        config_ = std::move(*cfg);
      }
    }
  }
  if (!config_error_.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "the docker config with registry credentials is unusable: " + config_error_);
  }
  if (!config_) return std::optional<RegistryCredentials>();
  auto found = config_->lookup(registry);
  if (!found) return found.error();
  if (!found->note.empty()) log::info("image", found->note);
  return found->credentials;
}

bool RegistryClient::has_credentials(const Repo& repo) {
  if (repo.client) return true;
  auto c = credentials_for(repo.ep.registry);
  return c && c->has_value();
}

std::string RegistryClient::credentials_origin(const Repo& repo) const {
  return repo.client ? std::string("sent by the docker client") : "in " + config_path();
}

RegistryClient::Repo RegistryClient::make_repo(const platform::Reference& ref,
                                               const PullCredentials& creds) const {
  Repo repo{ref, registry_endpoint(ref.domain, opts_.insecure_registries), pull_scope(ref.path),
            creds, ""};
  repo.cache_key = repo.ep.registry + " " + repo.scope + " " +
                   (creds ? credentials_fingerprint(*creds) : std::string("config"));
  return repo;
}

Result<HttpResponse> RegistryClient::send_small(const HttpRequest& req, std::string* body,
                                                size_t limit) {
  Result<HttpResponse> r = make_error(ErrorCode::Internal, "no attempt");
  for (int attempt = 1;; attempt++) {
    body->clear();
    r = transport_->send(req, [&](const HttpResponse&, std::string_view chunk) -> Status {
      if (body->size() + chunk.size() > limit) {
        return make_error(
            ErrorCode::InvalidArgument,
            "the answer of " + req.url + " is larger than " + std::to_string(limit) + " bytes");
      }
      body->append(chunk);
      return {};
    });
    bool transient =
        r ? transient_status(r->status)
          : (r.error().code == ErrorCode::Unavailable || r.error().code == ErrorCode::Timeout);
    if (!transient || attempt >= opts_.max_attempts) return r;
    sleep_before_retry(attempt, r ? &*r : nullptr);
  }
}

void RegistryClient::sleep_before_retry(int attempt, const HttpResponse* resp) {
  milliseconds delay = opts_.initial_backoff;
  for (int i = 1; i < attempt && delay < opts_.max_backoff; i++) delay *= 2;
  delay = std::min(delay, opts_.max_backoff);
  if (resp) {
    if (auto ra = retry_after(*resp)) delay = *ra;
  }
  std::this_thread::sleep_for(delay);
}

namespace {

// One attempt's outcome inside the retry loop.
struct Attempt {
  Result<HttpResponse> result;
  bool body_failed = false;  // the consumer refused the body: never retried
};

}  // namespace

Result<HttpResponse> RegistryClient::request(
    const Repo& repo, const std::string& url, const HeaderList& extra, milliseconds timeout,
    const std::function<Status(const HttpResponse&, std::string_view)>& on_ok_body,
    const std::function<void(HeaderList& headers)>& on_retry, std::string* error_body) {
  HeaderList headers = extra;  // on_retry may change them for the next attempt (Range)
  bool challenged = false;
  std::string authorization;
  // Once a registry has asked for auth, later requests send what it accepted up front.
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(repo.cache_key);
    if (it != tokens_.end() && Clock::now() < it->second.expires) {
      authorization = it->second.authorization;
    }
  }
  for (int attempt = 1;; attempt++) {
    HttpRequest req;
    req.url = url;
    req.headers = headers;
    req.timeout = timeout;
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    bool body_failed = false;
    error_body->clear();
    auto body = [&](const HttpResponse& head, std::string_view chunk) -> Status {
      if (head.status >= 200 && head.status < 300) {
        Status s = on_ok_body(head, chunk);
        if (!s) body_failed = true;
        return s;
      }
      if (error_body->size() < kMaxErrorBodyBytes) {
        error_body->append(chunk.substr(0, kMaxErrorBodyBytes - error_body->size()));
      }
      return {};
    };
    Result<HttpResponse> r = transport_->send(req, body);
    if (!r && body_failed) return r.error();

    if (r && r->status == 401 && !challenged) {
      // The challenge flow: learn what the registry wants, get it, ask again (once).
      challenged = true;
      std::string header = r->header("WWW-Authenticate");
      if (header.empty()) return r;
      auto challenges = parse_www_authenticate(header);
      if (!challenges) {
        return make_error(ErrorCode::InvalidArgument,
                          repo.where() + ": the registry's WWW-Authenticate header is malformed: " +
                              challenges.error().message);
      }
      TRY_ASSIGN(authorization, authorization_for(repo, true, *challenges));
      if (authorization.empty()) return r;  // nothing to offer: the caller reports 401
      on_retry(headers);
      attempt--;  // the challenge round trip is not a failed attempt
      continue;
    }

    bool transient =
        r ? transient_status(r->status)
          : (r.error().code == ErrorCode::Unavailable || r.error().code == ErrorCode::Timeout);
    if (!transient) return r;
    if (attempt >= opts_.max_attempts) {
      if (r) return r;
      return make_error(r.error().code,
                        r.error().message + " (gave up after " + std::to_string(attempt) +
                            " attempts: check the registry address and that it is reachable)");
    }
    if (r) {
      auto ra = retry_after(*r);
      if (ra && *ra > opts_.max_retry_after) return r;
    }
    std::string why = r ? "HTTP " + std::to_string(r->status) : r.error().message;
    log::warn("image", "GET " + url + " failed (" + why + "); retrying (attempt " +
                           std::to_string(attempt + 1) + " of " +
                           std::to_string(opts_.max_attempts) + ")");
    sleep_before_retry(attempt, r ? &*r : nullptr);
    on_retry(headers);
  }
}

Result<std::string> RegistryClient::authorization_for(
    const Repo& repo, bool force_refresh, const std::vector<AuthChallenge>& challenges) {
  const std::string& key = repo.cache_key;
  if (!force_refresh) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && Clock::now() < it->second.expires) return it->second.authorization;
  }
  std::optional<RegistryCredentials> creds = repo.client;
  if (!creds) {
    TRY_ASSIGN(creds, credentials_for(repo.ep.registry));
  }
  std::string authorization;
  auto expires = Clock::now() + std::chrono::hours(24 * 365);
  if (const AuthChallenge* bearer = find_challenge(challenges, "bearer")) {
    if (creds && !creds->registry_token.empty()) {
      authorization = "Bearer " + creds->registry_token;
    } else {
      TRY_ASSIGN(auto token_url, token_request_url(*bearer, {repo.scope}));
      HttpRequest req;
      req.url = token_url;
      req.timeout = opts_.request_timeout;
      if (creds) {
        std::string basic = basic_authorization(*creds);
        if (!basic.empty()) req.headers.emplace_back("Authorization", basic);
      }
      std::string body;
      Result<HttpResponse> r = send_small(req, &body, kMaxConfigBytes);
      std::string realm = bearer->param("realm");
      if (!r) {
        return r.error().context(repo.where() + ": fetching a token from " + realm);
      }
      if (r->status != 200) {
        std::string answer = "HTTP " + std::to_string(r->status);
        if (auto s = registry_error_summary(body); !s.empty()) answer += " " + s;
        std::string what;
        if (r->status == 401 || r->status == 403) {
          what = creds
                     ? "the credentials for " + repo.ep.registry + " " + credentials_origin(repo) +
                           " were refused: check the user name and password (docker login " +
                           repo.ep.registry + ")"
                     : "unauthorized: docker login " + repo.ep.registry +
                           " or add credentials for it to " + config_path();
        } else {
          what = "the token service did not give a token";
        }
        return make_error(
            r->status >= 500 ? ErrorCode::Unavailable : ErrorCode::InvalidArgument,
            repo.where() + ": token request to " + realm + " answered " + answer + ": " + what);
      }
      auto token = parse_token_response(body);
      if (!token) return token.error().context(repo.where() + ": token from " + realm);
      authorization = "Bearer " + token->token;
      // A few seconds early, so a token does not expire between the check and the request.
      expires = Clock::now() + std::chrono::seconds(std::max<int64_t>(token->expires_in - 5, 1));
    }
  } else if (find_challenge(challenges, "basic")) {
    if (!creds) return std::string();
    authorization = basic_authorization(*creds);
    if (authorization.empty()) return std::string();
  } else {
    return std::string();
  }
  std::lock_guard<std::mutex> lock(mu_);
  tokens_[key] = CachedToken{authorization, expires};
  return authorization;
}

namespace {

// `origin`: where the credentials came from ("in <config path>", "sent by the docker client");
// `config_path`: where twinboxd looks for them.
Error http_error(const std::string& where, const std::string& what, int status,
                 const std::string& body, const std::string& config_path,
                 const std::string& registry, int attempts, bool had_credentials,
                 const std::string& origin) {
  std::string answer = "HTTP " + std::to_string(status);
  if (auto s = registry_error_summary(body); !s.empty()) answer += " " + s;
  std::string head = where + ": " + what + ": the registry answered " + answer;
  switch (status) {
    case 404:
      return make_error(ErrorCode::NotFound, head + ": not found: check the name and tag");
    case 401:
      if (had_credentials) {
        return make_error(ErrorCode::InvalidArgument,
                          head + ": unauthorized: the credentials for " + registry + " " + origin +
                              " were refused; check the user name and password " +
                              "(docker login " + registry + ")");
      }
      return make_error(ErrorCode::InvalidArgument,
                        head + ": unauthorized: docker login " + registry +
                            " or add credentials for it to " + config_path);
    case 403:
      return make_error(ErrorCode::InvalidArgument,
                        head + ": access denied: check that these credentials may pull it");
    case 429:
      return make_error(ErrorCode::Unavailable, head + " after " + std::to_string(attempts) +
                                                    " attempts: rate limited, try again later");
    default:
      break;
  }
  if (status >= 500) {
    return make_error(ErrorCode::Unavailable, head + " after " + std::to_string(attempts) +
                                                  " attempts: the registry is failing, try again "
                                                  "later");
  }
  return make_error(ErrorCode::InvalidArgument, head);
}

}  // namespace

Result<RegistryClient::Fetched> RegistryClient::get_small(const Repo& repo, const std::string& url,
                                                          const std::string& accept,
                                                          const std::string& what) {
  Fetched f;
  size_t limit = accept.empty() ? kMaxConfigBytes : kMaxManifestBytes;
  HeaderList headers;
  if (!accept.empty()) headers.emplace_back("Accept", accept);
  std::string error_body;
  auto r = request(
      repo, url, headers, opts_.request_timeout,
      [&](const HttpResponse&, std::string_view chunk) -> Status {
        if (f.body.size() + chunk.size() > limit) {
          return make_error(ErrorCode::InvalidArgument,
                            repo.where() + ": " + what + " is larger than " +
                                std::to_string(limit) + " bytes; refusing it");
        }
        f.body.append(chunk);
        return {};
      },
      [&](HeaderList&) { f.body.clear(); }, &error_body);
  if (!r) return r.error().context(repo.where() + ": " + what);
  if (r->status != 200) {
    return http_error(repo.where(), what, r->status, error_body, config_path(), repo.ep.registry,
                      opts_.max_attempts, r->status == 401 && has_credentials(repo),
                      credentials_origin(repo));
  }
  f.head = std::move(*r);
  return f;
}

Result<std::string> RegistryClient::fetch_manifest(const Repo& repo, const std::string& ref,
                                                   const Digest* want, std::string* media_type,
                                                   Digest* digest) {
  std::string what = "fetching manifest " + ref;
  TRY_ASSIGN(Fetched f,
             get_small(repo, repo.url("manifests", ref), manifest_accept_header(), what));
  Digest actual = sha256_digest(f.body);
  if (want) {
    if (want->algorithm() != "sha256") {
      Status v = verify(f.body, *want);
      if (!v) return v.error().context(repo.where() + ": " + what);
    } else if (actual != *want) {
      return make_error(ErrorCode::InvalidArgument,
                        repo.where() + ": " + what + ": the registry sent content that hashes to " +
                            actual.str() + ", not the requested " + want->str() +
                            "; refusing it (registry or proxy corruption)");
    }
  }
  std::string sent = f.head.header("Docker-Content-Digest");
  if (!sent.empty()) {
    auto d = Digest::parse(trim(sent));
    if (!d) {
      return make_error(
          ErrorCode::InvalidArgument,
          repo.where() + ": " + what + ": malformed Docker-Content-Digest: " + d.error().message);
    }
    if (d->algorithm() == "sha256" && *d != actual) {
      return make_error(ErrorCode::InvalidArgument,
                        repo.where() + ": " + what + ": the content hashes to " + actual.str() +
                            " but the registry says Docker-Content-Digest " + d->str() +
                            "; refusing it");
    }
  }
  if (media_type) *media_type = f.head.header("Content-Type");
  if (digest) *digest = want ? *want : actual;
  return std::move(f.body);
}

Result<std::string> RegistryClient::fetch_config(const Repo& repo, const Descriptor& config) {
  std::string what = "fetching image config " + config.digest.str();
  TRY_ASSIGN(Fetched f, get_small(repo, repo.url("blobs", config.digest.str()), "", what));
  Status v = verify(f.body, config.digest);
  if (!v) return v.error().context(repo.where() + ": " + what);
  return std::move(f.body);
}

Result<ImageOffer> RegistryClient::inspect(std::string_view reference,
                                           const PullCredentials& creds) {
  TRY_ASSIGN(auto ref, platform::parse_reference(reference));
  return inspect(ref, creds);
}

Result<ImageOffer> RegistryClient::inspect(const platform::Reference& ref,
                                           const PullCredentials& creds) {
  Repo repo = make_repo(ref, creds);
  std::optional<Digest> pinned;
  if (!ref.digest.empty()) {
    TRY_ASSIGN(pinned, Digest::parse(ref.digest));
  }
  std::string content_type;
  Digest digest;
  TRY_ASSIGN(std::string bytes,
             fetch_manifest(repo, pinned ? pinned->str() : ref.tag, pinned ? &*pinned : nullptr,
                            &content_type, &digest));
  auto parsed = parse_manifest(bytes, content_type);
  if (!parsed) return parsed.error().context(repo.where() + ": manifest " + digest.str());
  if (auto* index = std::get_if<Index>(&*parsed)) {
    return offer_from_index(ref, digest, std::move(bytes), std::move(*index));
  }
  auto& manifest = std::get<ImageManifest>(*parsed);
  TRY_ASSIGN(std::string config_bytes, fetch_config(repo, manifest.config));
  auto config = parse_image_config(config_bytes);
  if (!config) {
    return config.error().context(repo.where() + ": image config " + manifest.config.digest.str());
  }
  return offer_from_manifest(ref, digest, std::move(bytes), std::move(manifest),
                             std::move(config_bytes), std::move(*config));
}

Result<ResolvedImage> RegistryClient::resolve(const ImageOffer& offer,
                                              const std::optional<platform::Platform>& want,
                                              const PullCredentials& creds) {
  Repo repo = make_repo(offer.reference, creds);
  ResolvedImage out;
  out.reference = offer.reference;
  if (!offer.is_index) {
    // A single manifest is what it is, whether named by tag or pinned by digest: no platform
    // filter picks anything else; an explicit platform can only confirm it or be refused.
    if (!offer.manifest || !offer.config) {
      return make_error(ErrorCode::Internal, "image offer without its manifest or config");
    }
    platform::Platform expected = config_platform(*offer.config);
    if (want) {
      TRY_ASSIGN(auto chosen, choose_platform(offer, *want));
      (void)chosen;
      expected = *want;
    }
    Status ok = check_resolved_config(*offer.manifest, *offer.config, expected);
    if (!ok) return ok.error().context(repo.where() + ": manifest " + offer.digest.str());
    out.manifest_digest = offer.digest;
    out.manifest_media_type = offer.media_type;
    out.manifest_bytes = offer.bytes;
    out.manifest = *offer.manifest;
    out.config_bytes = offer.config_bytes;
    out.config = *offer.config;
    out.platform = config_platform(*offer.config);
    return out;
  }
  if (!want) {
    return make_error(ErrorCode::InvalidArgument, repo.where() + " is an index (" +
                                                      offer.platforms_text() +
                                                      "): a platform must be chosen to resolve it");
  }
  TRY_ASSIGN(OfferedPlatform chosen, choose_platform(offer, *want));
  std::string media_type;
  TRY_ASSIGN(out.manifest_bytes,
             fetch_manifest(repo, chosen.digest.str(), &chosen.digest, &media_type, nullptr));
  auto manifest = parse_image_manifest(out.manifest_bytes, media_type);
  if (!manifest) {
    return manifest.error().context(repo.where() + ": manifest " + chosen.digest.str() + " (" +
                                    chosen.platform.to_string() + ")");
  }
  TRY_ASSIGN(out.config_bytes, fetch_config(repo, manifest->config));
  auto config = parse_image_config(out.config_bytes);
  if (!config) {
    return config.error().context(repo.where() + ": image config " + manifest->config.digest.str());
  }
  Status ok = check_resolved_config(*manifest, *config, chosen.platform);
  if (!ok) {
    return ok.error().context(repo.where() + ": manifest " + chosen.digest.str() + " listed for " +
                              chosen.platform.to_string());
  }
  out.manifest_digest = chosen.digest;
  out.manifest_media_type = manifest->media_type;
  out.manifest = std::move(*manifest);
  out.config = std::move(*config);
  out.platform = config_platform(out.config);
  out.index_digest = offer.digest;
  out.index_media_type = offer.media_type;
  out.index_bytes = offer.bytes;
  return out;
}

namespace {

// True when `head` is a 206 whose Content-Range ("bytes FROM-LAST/SIZE") starts at `from` and
// runs to the end of a blob of `size` bytes.
bool answers_range(const HttpResponse& head, int64_t from, int64_t size) {
  if (head.status != 206) return false;
  std::string want = "bytes " + std::to_string(from) + "-" + std::to_string(size - 1) + "/";
  std::string got = head.header("Content-Range");
  if (!starts_with(got, want)) return false;
  std::string total = got.substr(want.size());
  return total == "*" || total == std::to_string(size);
}

}  // namespace

Status RegistryClient::store_bytes(BlobSink& sink, const Digest& d, const std::string& bytes) {
  if (sink.has(d)) return {};
  TRY_ASSIGN(auto w, sink.begin(d, static_cast<int64_t>(bytes.size())));
  Status s = w->write(bytes);
  if (s) s = w->commit();
  if (!s) {
    w->abort();
    return s.error().context("storing " + d.str());
  }
  return {};
}

Status RegistryClient::fetch_blob(const Repo& repo, const Descriptor& d, BlobSink& sink,
                                  const ProgressCallback& progress,
                                  const std::atomic<bool>* cancel) {
  const std::string what = "fetching layer " + d.digest.str();
  PullProgress ev;
  ev.id = short_id(d.digest);
  ev.digest = d.digest;
  ev.total = d.size;
  auto emit = [&](PullPhase phase) {
    ev.phase = phase;
    if (progress) progress(ev);
  };
  if (d.digest.algorithm() != "sha256") {
    return make_error(ErrorCode::Unavailable,
                      repo.where() + ": " + what + ": only sha256 layers can be verified");
  }
  // The sink hashes what it is given and verifies it on commit(): the bytes are hashed once.
  TRY_ASSIGN(std::unique_ptr<BlobWriter> writer, sink.begin(d.digest, d.size));
  int64_t received = 0;  // bytes of the blob given to `writer`
  int64_t reported = 0;
  int64_t attempt_from = 0;  // the byte this attempt asked to start at (Range), 0 = all
  bool attempt_checked = false;
  Status restart_failed;
  auto restart = [&]() -> Status {  // what was written is dropped; a new writer from byte 0
    writer->abort();
    received = reported = 0;
    TRY_ASSIGN(writer, sink.begin(d.digest, d.size));
    return {};
  };
  auto on_body = [&](const HttpResponse& head, std::string_view chunk) -> Status {
    if (!restart_failed) return restart_failed;
    if (cancel && cancel->load()) {
      return make_error(ErrorCode::Unavailable, what + ": cancelled (another layer failed)");
    }
    if (!attempt_checked) {
      attempt_checked = true;
      if (attempt_from > 0 && !answers_range(head, attempt_from, d.size)) {
        if (head.status != 200) {
          return make_error(ErrorCode::InvalidArgument,
                            repo.where() + ": " + what + ": asked for bytes " +
                                std::to_string(attempt_from) + "- and got HTTP " +
                                std::to_string(head.status) + " with Content-Range \"" +
                                head.header("Content-Range") + "\"; refusing it");
        }
        // The registry ignored the range and sends the whole blob: start over with it.
        log::info("image", what + ": the registry ignored the range request; fetching it whole");
        attempt_from = 0;
        TRY(restart());
      }
    }
    received += static_cast<int64_t>(chunk.size());
    if (received > d.size) {
      return make_error(ErrorCode::InvalidArgument,
                        repo.where() + ": " + what + ": the registry sent more than the " +
                            std::to_string(d.size) + " bytes the manifest lists; refusing it");
    }
    TRY(writer->write(chunk));
    if (received - reported >= kProgressStep || received == d.size) {
      reported = received;
      ev.current = received;
      emit(PullPhase::Downloading);
    }
    return {};
  };
  auto on_retry = [&](HeaderList& headers) {
    attempt_checked = false;
    std::erase_if(headers, [](const auto& h) { return iequals(h.first, "Range"); });
    if (received > 0 && received < d.size) {
      // A transfer broken part-way resumes where it stopped: what arrived is kept (the sink has
      // hashed it as it streamed) and the whole is verified at commit as always.
      attempt_from = received;
      headers.emplace_back("Range", "bytes=" + std::to_string(received) + "-");
      log::info("image", what + ": resuming at byte " + std::to_string(received) + " of " +
                             std::to_string(d.size));
      return;
    }
    attempt_from = 0;
    if (Status s = restart(); !s) restart_failed = s;
  };
  std::string error_body;
  auto r = request(repo, repo.url("blobs", d.digest.str()), {}, milliseconds(0), on_body, on_retry,
                   &error_body);
  auto fail = [&](Error e) -> Status {
    writer->abort();
    return e;
  };
  if (!restart_failed) return fail(restart_failed.error().context(repo.where() + ": " + what));
  if (!r) return fail(r.error().context(repo.where() + ": " + what));
  if (r->status != 200 && !(r->status == 206 && attempt_from > 0)) {
    return fail(http_error(repo.where(), what, r->status, error_body, config_path(),
                           repo.ep.registry, opts_.max_attempts,
                           r->status == 401 && has_credentials(repo), credentials_origin(repo)));
  }
  if (received != d.size) {
    return fail(make_error(ErrorCode::Unavailable, repo.where() + ": " + what + ": got " +
                                                       std::to_string(received) + " of " +
                                                       std::to_string(d.size) + " bytes"));
  }
  emit(PullPhase::Verifying);
  Status c = writer->commit();
  if (!c) {
    // A digest mismatch (InvalidArgument) says what the content hashed to; nothing was stored.
    return fail(c.error().context(repo.where() + ": " + what + ": refusing the content"));
  }
  emit(PullPhase::DownloadComplete);
  return {};
}

Status RegistryClient::fetch_layers(const Repo& repo, const std::vector<const Descriptor*>& layers,
                                    BlobSink& sink, const ProgressCallback& progress) {
  if (layers.empty()) return {};
  size_t workers = std::min<size_t>(
      layers.size(), static_cast<size_t>(std::max(1, opts_.max_concurrent_downloads)));
  // A few threads for the length of this pull (at most max_concurrent_downloads, each one
  // transfer at a time; this thread is one of them, so one worker starts no thread); the
  // caller's progress callback is called by one of them at a time.
  std::mutex mu;
  size_t next = 0;
  Status first_error;
  std::atomic<bool> cancel{false};
  ProgressCallback one_at_a_time;
  if (progress) {
    one_at_a_time = [&](const PullProgress& p) {
      std::lock_guard<std::mutex> lock(mu);
      progress(p);
    };
  }
  auto work = [&] {
    for (;;) {
      const Descriptor* d = nullptr;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (cancel || next == layers.size()) return;
        d = layers[next++];
      }
      Status s = fetch_blob(repo, *d, sink, one_at_a_time, &cancel);
      if (!s) {
        std::lock_guard<std::mutex> lock(mu);
        if (!cancel.exchange(true)) first_error = s;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t i = 1; i < workers; i++) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first_error;
}

Status RegistryClient::fetch(const ResolvedImage& image, BlobSink& sink,
                             const ProgressCallback& progress, const PullCredentials& creds) {
  Repo repo = make_repo(image.reference, creds);
  std::vector<bool> present;
  for (const auto& layer : image.manifest.layers) {
    bool have = sink.has(layer.digest);
    present.push_back(have);
    if (progress) {
      PullProgress ev;
      ev.id = short_id(layer.digest);
      ev.digest = layer.digest;
      ev.total = layer.size;
      ev.phase = have ? PullPhase::AlreadyExists : PullPhase::Waiting;
      progress(ev);
    }
  }
  std::vector<const Descriptor*> missing;
  std::set<Digest> listed;  // an image may list the same blob twice: fetched once
  for (size_t i = 0; i < image.manifest.layers.size(); i++) {
    const Descriptor& layer = image.manifest.layers[i];
    if (!present[i] && listed.insert(layer.digest).second) missing.push_back(&layer);
  }
  TRY(fetch_layers(repo, missing, sink, progress));
  // Referrers after what they reference: a manifest is stored only once its blobs are.
  auto ctx = [&](Status s, const std::string& what) -> Status {
    if (!s) return s.error().context(repo.where() + ": " + what);
    return {};
  };
  TRY(ctx(store_bytes(sink, image.manifest.config.digest, image.config_bytes), "image config"));
  TRY(ctx(store_bytes(sink, image.manifest_digest, image.manifest_bytes), "manifest"));
  if (image.index_digest) {
    TRY(ctx(store_bytes(sink, *image.index_digest, image.index_bytes), "index"));
  }
  return {};
}

namespace {

std::string status_text(int status) {
  switch (status) {
    case 401:
      return "401 Unauthorized";
    case 403:
      return "403 Forbidden";
    case 404:
      return "404 Not Found";
    default:
      return std::to_string(status);
  }
}

}  // namespace

Result<LoginResult> RegistryClient::login(const AuthConfig& auth) {
  TRY_ASSIGN(std::string host, login_registry_host(auth.server_address));
  RegistryEndpoint ep = registry_endpoint(host, opts_.insecure_registries);
  LoginResult out;
  out.registry = ep.registry;
  out.url = ep.base_url + "/v2/";
  const std::string where = "docker login " + ep.registry + " (" + out.url + ")";
  const RegistryCredentials& c = auth.credentials;
  if (c.username.empty() && c.registry_token.empty()) {
    if (!c.identity_token.empty()) {
      return make_error(ErrorCode::InvalidArgument,
                        where +
                            ": identity tokens (OAuth refresh tokens) are not supported by "
                            "twinboxd: docker logout " +
                            ep.registry + ", then log in with a user name and password");
    }
    return make_error(ErrorCode::InvalidArgument,
                      where + ": no user name given: docker login -u USER " + ep.registry);
  }

  // Anything but a 2xx after the credentials were offered: refused (401/403) or a failure.
  auto judge = [&](const HttpResponse& r, const std::string& body,
                   const std::string& asked) -> Result<LoginResult> {
    if (r.status >= 200 && r.status < 300) {
      out.accepted = true;
      return out;
    }
    std::string answer = "HTTP " + std::to_string(r.status);
    if (auto s = registry_error_summary(body); !s.empty()) answer += " " + s;
    if (r.status == 401 || r.status == 403) {
      out.message = "login attempt to " + out.url +
                    " failed with status: " + status_text(r.status) + " (" + asked + " answered " +
                    answer + "): the registry " + ep.registry +
                    " refused these credentials; check the user name and password and run "
                    "docker login " +
                    ep.registry + " again";
      return out;
    }
    return make_error(r.status >= 500 ? ErrorCode::Unavailable : ErrorCode::InvalidArgument,
                      where + ": " + asked + " answered " + answer +
                          (r.status >= 500 ? ": the registry is failing, try again later"
                                           : ": is this a registry (OCI distribution API)?"));
  };

  HttpRequest req;
  req.url = out.url;
  req.timeout = opts_.request_timeout;
  std::string body;
  auto r = send_small(req, &body, kMaxErrorBodyBytes);
  if (!r) {
    return r.error().context(where +
                             ": the registry could not be reached (is it running, and "
                             "is the address right?)");
  }
  if (r->status >= 200 && r->status < 300) {
    // dockerd accepts a login to a registry that asks for none; so does twinbox.
    out.accepted = true;
    out.message = "the registry " + ep.registry + " does not require authentication";
    return out;
  }
  if (r->status != 401) return judge(*r, body, out.url);
  std::string header = r->header("WWW-Authenticate");
  if (header.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      where + ": the registry answered 401 without a WWW-Authenticate challenge");
  }
  auto challenges = parse_www_authenticate(header);
  if (!challenges) {
    return make_error(ErrorCode::InvalidArgument,
                      where + ": the registry's WWW-Authenticate header is malformed: " +
                          challenges.error().message);
  }
  std::string authorization;
  if (const AuthChallenge* bearer = find_challenge(*challenges, "bearer")) {
    if (!c.registry_token.empty()) {
      authorization = "Bearer " + c.registry_token;
    } else {
      // Like docker: no scope (a login asks for no repository), the user as `account`.
      TRY_ASSIGN(std::string token_url, token_request_url(*bearer));
      token_url += (token_url.find('?') == std::string::npos ? "?" : "&");
      token_url += "account=" + url_encode(c.username);
      HttpRequest treq;
      treq.url = token_url;
      treq.timeout = opts_.request_timeout;
      treq.headers.emplace_back("Authorization", basic_authorization(c));
      std::string tbody;
      std::string realm = bearer->param("realm");
      auto tr = send_small(treq, &tbody, kMaxConfigBytes);
      if (!tr) return tr.error().context(where + ": fetching a token from " + realm);
      if (tr->status != 200) return judge(*tr, tbody, "the token service " + realm);
      auto token = parse_token_response(tbody);
      if (!token) return token.error().context(where + ": token from " + realm);
      authorization = "Bearer " + token->token;
    }
  } else if (find_challenge(*challenges, "basic")) {
    authorization = basic_authorization(c);
    if (authorization.empty()) {
      return make_error(ErrorCode::InvalidArgument,
                        where +
                            ": the registry wants Basic auth: log in with a user name and "
                            "password");
    }
  } else {
    return make_error(ErrorCode::InvalidArgument,
                      where + ": the registry asks for \"" + (*challenges)[0].scheme +
                          "\" authentication, which twinboxd does not speak (Basic and Bearer)");
  }
  req.headers.emplace_back("Authorization", authorization);
  r = send_small(req, &body, kMaxErrorBodyBytes);
  if (!r) return r.error().context(where + ": the registry could not be reached");
  return judge(*r, body, out.url);
}

}  // namespace twinbox::image
