// FakeRegistry: a minimal HTTP/1.1 server (a thread per connection, kept alive) speaking enough
// of the OCI distribution API and Docker token auth for the registry client's tests.
#include "fakes/fake_registry.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "image/base64.hpp"
#include "util/strings.hpp"

namespace twinbox::fakes {

namespace {

std::string error_json(const std::string& code, const std::string& message) {
  return R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"(","detail":null}]})";
}

}  // namespace

FakeRegistry::~FakeRegistry() { stop(); }

Status FakeRegistry::start() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return make_error(ErrorCode::Io, "socket failed");
  listener_ = Fd(s);
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 16) != 0) {
    return make_error(ErrorCode::Io, "bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void FakeRegistry::stop() {
  if (!acceptor_.joinable() || stopping_.exchange(true)) return;
  ::shutdown(listener_.get(), SHUT_RDWR);
  acceptor_.join();
  std::lock_guard<std::mutex> lock(conn_mu_);
  for (auto& fd : conn_fds_) ::shutdown(fd.get(), SHUT_RDWR);  // ends idle kept connections
  for (auto& t : conn_threads_) t.join();
  conn_threads_.clear();
  conn_fds_.clear();
}

void FakeRegistry::accept_loop() {
  while (!stopping_) {
    pollfd p{listener_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    if (stopping_) break;
    if (n <= 0) continue;
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    connections_++;
    // As Go's net/http (every real registry) does: a head and body written apart would
    // otherwise wait out the client's delayed ACK on a kept-alive connection.
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The fd stays open until stop() (a connection that ends is shut down, not closed), so its
    // number is never reused while stop() may still shut it down.
    std::lock_guard<std::mutex> lock(conn_mu_);
    conn_fds_.emplace_back(c);
    conn_threads_.emplace_back([this, c] {
      serve(c);
      ::shutdown(c, SHUT_RDWR);
    });
  }
}

void FakeRegistry::serve(int fd) {
  std::string buf;
  char tmp[4096];
  while (!stopping_) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      auto r = read_some(fd, tmp, sizeof tmp);
      if (!r || *r == 0) return;
      buf.append(tmp, *r);
      if (buf.size() > (1 << 20)) return;
    }
    std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);  // GET and HEAD carry no body
    auto lines = split(head, '\n');
    if (lines.empty()) return;
    RegistryRequest req;
    auto first = split(std::string(trim(lines[0])), ' ');
    if (first.size() < 2) return;
    req.method = first[0];
    std::string target = first[1];
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    for (size_t i = 1; i < lines.size(); i++) {
      std::string line(trim(lines[i]));
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = to_lower(trim(line.substr(0, colon)));
      std::string value(trim(line.substr(colon + 1)));
      if (name == "authorization") req.authorization = value;
      if (name == "accept") req.accept = value;
      if (name == "range") req.range = value;
    }
    if (!answer(fd, req)) return;
  }
}

// Writes the answer to `req`; false when the connection must end (dropped or cut short).
bool FakeRegistry::answer(int fd, const RegistryRequest& req) {
  Response resp = handle(req);
  if (resp.drop) return false;
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\n";
  out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
  for (const auto& [n, v] : resp.headers) out += n + ": " + v + "\r\n";
  out += "\r\n";
  std::string body = req.method == "HEAD" ? std::string() : resp.body;
  bool cut = body.size() > resp.cut_after;
  if (cut) body.resize(resp.cut_after);
  if (!resp.blob || body.empty()) {
    return write_all(fd, out + body) && !cut;
  }
  int now = ++blobs_in_flight_;
  for (int seen = max_blobs_in_flight_.load(); now > seen;) {
    if (max_blobs_in_flight_.compare_exchange_weak(seen, now)) break;
  }
  bool ok = static_cast<bool>(write_all(fd, out));
  std::chrono::milliseconds pause;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pause = slow_blobs_;
  }
  const size_t pieces = pause.count() > 0 ? 4 : 1;
  const size_t step = (body.size() + pieces - 1) / pieces;
  for (size_t off = 0; ok && off < body.size(); off += step) {
    if (off > 0) std::this_thread::sleep_for(pause);
    ok = static_cast<bool>(write_all(fd, std::string_view(body).substr(off, step)));
  }
  --blobs_in_flight_;
  return ok && !cut;
}

FakeRegistry::Response FakeRegistry::token(const RegistryRequest& r) {
  Response resp;
  if (!user_.empty() &&
      r.authorization != "Basic " + image::base64_encode(user_ + ":" + password_)) {
    resp.status = 401;
    resp.body = error_json("UNAUTHORIZED", "authentication required");
    return resp;
  }
  std::string t = "tok-" + std::to_string(++tokens_issued_);
  tokens_.push_back(t);
  resp.headers.emplace_back("Content-Type", "application/json");
  resp.body = R"({"token":")" + t + R"(","expires_in":)" + std::to_string(expires_in_) + "}";
  return resp;
}

FakeRegistry::Response FakeRegistry::authorize(const RegistryRequest& r) {
  Response resp;
  resp.status = 0;
  if (auth_ == "basic") {
    if (r.authorization == "Basic " + image::base64_encode(user_ + ":" + password_)) return resp;
    resp.status = 401;
    resp.headers.emplace_back("WWW-Authenticate", R"(Basic realm="fake registry")");
  } else if (auth_ == "bearer") {
    for (const auto& t : tokens_) {
      if (r.authorization == "Bearer " + t) return resp;
    }
    resp.status = 401;
    std::string scope;
    auto m = r.path.find("/manifests/");
    auto b = r.path.find("/blobs/");
    auto end = m != std::string::npos ? m : b;
    if (end != std::string::npos && starts_with(r.path, "/v2/")) {
      scope = ",scope=\"repository:" + r.path.substr(4, end - 4) + ":pull\"";
    }
    resp.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"http://" + host() +
                                                      "/token\",service=\"fake\"" + scope);
  } else {
    return resp;
  }
  resp.headers.emplace_back("Content-Type", "application/json");
  resp.body = error_json("UNAUTHORIZED", "authentication required");
  return resp;
}

FakeRegistry::Response FakeRegistry::handle(const RegistryRequest& r) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(r);
  size_t cut_after = SIZE_MAX;
  for (auto& f : failures_) {
    if (f.path == r.path && f.left > 0 && f.cut_after != SIZE_MAX) {
      f.left--;
      cut_after = f.cut_after;
      break;
    }
    if (f.path == r.path && f.left > 0) {
      f.left--;
      Response resp;
      if (f.status == 0) {
        resp.drop = true;
        return resp;
      }
      resp.status = f.status;
      if (!f.retry_after.empty()) resp.headers.emplace_back("Retry-After", f.retry_after);
      resp.body = error_json("UNAVAILABLE", "scripted failure");
      return resp;
    }
  }
  if (r.path == "/token") return token(r);
  Response denied = authorize(r);
  if (denied.status != 0) return denied;
  Response resp;
  if (r.path == "/v2/" || r.path == "/v2") {
    resp.body = "{}";
    return resp;
  }
  auto m = r.path.find("/manifests/");
  auto b = r.path.find("/blobs/");
  if (starts_with(r.path, "/v2/") && m != std::string::npos) {
    std::string repo = r.path.substr(4, m - 4);
    std::string ref = r.path.substr(m + 11);
    auto it = manifests_.find(repo + " " + ref);
    if (it == manifests_.end()) {
      resp.status = 404;
      resp.headers.emplace_back("Content-Type", "application/json");
      resp.body = error_json("MANIFEST_UNKNOWN", "manifest unknown");
      return resp;
    }
    resp.headers.emplace_back("Content-Type", it->second.content_type);
    resp.headers.emplace_back("Docker-Content-Digest", it->second.digest_header);
    resp.body = it->second.bytes;
    return resp;
  }
  if (starts_with(r.path, "/v2/") && b != std::string::npos) {
    std::string repo = r.path.substr(4, b - 4);
    auto it = blobs_.find(repo + " " + r.path.substr(b + 7));
    if (it == blobs_.end()) {
      resp.status = 404;
      resp.headers.emplace_back("Content-Type", "application/json");
      resp.body = error_json("BLOB_UNKNOWN", "blob unknown to registry");
      return resp;
    }
    resp.headers.emplace_back("Content-Type", "application/octet-stream");
    resp.blob = true;
    resp.cut_after = cut_after;
    const std::string& blob = it->second;
    size_t from = 0;
    if (!ignore_ranges_ && starts_with(r.range, "bytes=")) {
      from = std::strtoull(r.range.c_str() + 6, nullptr, 10);
      if (from >= blob.size()) {
        resp.status = 416;
        resp.blob = false;
        resp.headers.emplace_back("Content-Range", "bytes */" + std::to_string(blob.size()));
        return resp;
      }
      resp.status = 206;
      resp.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" +
                                                     std::to_string(blob.size() - 1) + "/" +
                                                     std::to_string(blob.size()));
    }
    resp.body = blob.substr(from);
    return resp;
  }
  resp.status = 404;
  resp.body = error_json("NAME_UNKNOWN", "repository name not known to registry");
  return resp;
}

std::string FakeRegistry::add_manifest(const std::string& repo, const std::string& tag,
                                       const std::string& bytes, const std::string& content_type) {
  std::string d = image::sha256_digest(bytes).str();
  std::lock_guard<std::mutex> lock(mu_);
  Manifest m{bytes, content_type, d};
  manifests_[repo + " " + d] = m;
  if (!tag.empty()) manifests_[repo + " " + tag] = m;
  return d;
}

std::string FakeRegistry::add_blob(const std::string& repo, const std::string& bytes) {
  std::string d = image::sha256_digest(bytes).str();
  std::lock_guard<std::mutex> lock(mu_);
  blobs_[repo + " " + d] = bytes;
  return d;
}

void FakeRegistry::corrupt_blob(const std::string& repo, const std::string& digest,
                                const std::string& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  blobs_[repo + " " + digest] = bytes;
}

void FakeRegistry::set_digest_header(const std::string& repo, const std::string& ref,
                                     const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  manifests_[repo + " " + ref].digest_header = value;
}

void FakeRegistry::require_basic(const std::string& user, const std::string& password) {
  std::lock_guard<std::mutex> lock(mu_);
  auth_ = "basic";
  user_ = user;
  password_ = password;
}

void FakeRegistry::require_bearer(const std::string& user, const std::string& password,
                                  int expires_in) {
  std::lock_guard<std::mutex> lock(mu_);
  auth_ = "bearer";
  user_ = user;
  password_ = password;
  expires_in_ = expires_in;
}

void FakeRegistry::revoke_tokens() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.clear();
}

void FakeRegistry::fail(const std::string& path, int status, int times,
                        const std::string& retry_after) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back({path, status, times, retry_after});
}

void FakeRegistry::cut(const std::string& path, size_t after_bytes, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back({path, 200, times, "", after_bytes});
}

void FakeRegistry::ignore_ranges(bool yes) {
  std::lock_guard<std::mutex> lock(mu_);
  ignore_ranges_ = yes;
}

void FakeRegistry::slow_blobs(std::chrono::milliseconds pause) {
  std::lock_guard<std::mutex> lock(mu_);
  slow_blobs_ = pause;
}

std::vector<RegistryRequest> FakeRegistry::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeRegistry::count(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& r : requests_) n += r.path == path;
  return n;
}

int FakeRegistry::tokens_issued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_issued_;
}

}  // namespace twinbox::fakes
