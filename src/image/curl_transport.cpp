#include "image/curl_transport.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "util/strings.hpp"

namespace twinbox::image {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const BodyCallback* on_body = nullptr;
  HttpResponse head;
  Status body_status;  // the callback's error, when it stopped the transfer
};

// Header lines of every response in a redirect chain arrive here; a status line starts a new
// response, so only the final one's headers remain.
size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (starts_with(line, "HTTP/")) {
    t->head.headers.clear();
    auto sp = line.find(' ');
    t->head.status =
        sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    t->head.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                 std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->on_body || !*t->on_body) return size * n;
  Status s = (*t->on_body)(t->head, std::string_view(data, size * n));
  if (!s) {
    t->body_status = s;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  return size * n;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions opts) : opts_(std::move(opts)) { global_init(); }

CurlTransport::~CurlTransport() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlTransport::take_handle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* c = idle_.back();
      idle_.pop_back();
      return c;
    }
  }
  return curl_easy_init();
}

void CurlTransport::give_back(void* handle) {
  // Options back to their defaults, so an idle handle points at none of the finished request's
  // buffers; its connection and DNS caches stay.
  curl_easy_reset(static_cast<CURL*>(handle));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < opts_.max_idle_handles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& req, const BodyCallback& on_body) {
  // Given back when this request is done, whatever the outcome: a connection curl finds broken
  // is not reused (curl checks a kept connection before it sends on it).
  auto give = [this](CURL* h) { give_back(h); };
  std::unique_ptr<CURL, decltype(give)> curl(static_cast<CURL*>(take_handle()), give);
  if (!curl) return make_error(ErrorCode::Internal, "curl_easy_init failed");
  CURL* c = curl.get();
  Transfer t;
  t.on_body = &on_body;
  char errbuf[CURL_ERROR_SIZE] = {0};

  std::unique_ptr<curl_slist, SlistDeleter> list;
  for (const auto& [name, value] : req.headers) {
    std::string line = name + ": " + value;
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (!next) return make_error(ErrorCode::Internal, "curl_slist_append failed");
    (void)list.release();
    list.reset(next);
  }
  // Registries answer 401/404 with JSON bodies we want to read, so no CURLOPT_FAILONERROR.
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // Blob GETs are redirected to storage backends. libcurl (>= 7.83) drops Authorization when the
  // redirect leaves the host, which is what we want: the presigned URL carries its own auth.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // manifests may come gzip'd; blobs are raw
  if (!opts_.user_agent.empty()) curl_easy_setopt(c, CURLOPT_USERAGENT, opts_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts_.connect_timeout.count()));
  if (req.timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  }
  if (opts_.stall_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>((opts_.stall_timeout.count() + 999) / 1000));
  }
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    return make_error(ErrorCode::Internal, "transport: unsupported method " + req.method);
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_WRITE_ERROR && !t.body_status) return t.body_status.error();
  if (rc != CURLE_OK) {
    std::string what = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    while (!what.empty() && what.back() == '\n') what.pop_back();
    ErrorCode code = ErrorCode::Unavailable;
    if (rc == CURLE_OPERATION_TIMEDOUT) code = ErrorCode::Timeout;
    std::string method = req.method;
    return make_error(code, method + " " + req.url + ": " + what);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  t.head.status = static_cast<int>(status);
  return std::move(t.head);
}

}  // namespace twinbox::image
