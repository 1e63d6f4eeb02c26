// The proxy against an engine that misbehaves at the HTTP level (issue 18): its answers are
// bounded, never trusted to end on their own.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "api/http.hpp"
#include "api/proxy.hpp"
#include "api/stream.hpp"
#include "guest/connector.hpp"
#include "util/fd.hpp"

namespace twinbox::api {
namespace {

// An engine that answers every request with `answer`, then waits for the proxy to hang up.
class RawEngine {
 public:
  explicit RawEngine(std::string answer) : answer_(std::move(answer)) {
    char tmpl[] = "/tmp/twinbox-raw-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/engine.sock";
    auto l = listen_unix(path_, 0600);
    EXPECT_TRUE(l) << l.error().message;
    listener_ = std::move(*l);
    thread_ = std::thread([this] {
      int c = ::accept(listener_.get(), nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      (void)::read(c, buf, sizeof buf);  // the request head
      (void)!::write(c, answer_.data(), answer_.size());
      while (::read(c, buf, sizeof buf) > 0) {
      }
      ::close(c);
    });
  }
  ~RawEngine() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string answer_, dir_, path_;
  Fd listener_;
  std::thread thread_;
};

ProxyResult proxy_once(const std::string& engine_answer, std::string& client_got) {
  RawEngine engine(engine_answer);
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Stream client{Fd(sv[0])};
  Fd peer(sv[1]);
  auto head = http::parse_request_head("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
  guest::UnixConnector conn(engine.path());
  ProxyResult r = proxy_request(client, head.head, conn, ProxyOptions{});
  ::shutdown(client.fd(), SHUT_WR);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(peer.get(), buf, sizeof buf)) > 0) client_got.append(buf, n);
  return r;
}

TEST(ProxyHostileEngine, EndlessInterimAnswersEndInAnError) {
  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += "HTTP/1.1 100 Continue\r\n\r\n";
  std::string got;
  auto r = proxy_once(flood, got);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->message.find("more than 8 interim (1xx) answers"), std::string::npos)
      << r.error->message;
}

TEST(ProxyHostileEngine, AStatusBelow100IsNoAnswer) {
  std::string got;
  auto r = proxy_once("HTTP/1.1 042 Odd\r\nContent-Length: 0\r\n\r\n", got);
  EXPECT_FALSE(r.answered);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->message.find("status below 100"), std::string::npos) << r.error->message;
  EXPECT_EQ(got, "");
}

TEST(ProxyHostileEngine, AnOrdinaryAnswerStillPasses) {
  std::string got;
  auto r = proxy_once("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK",
                      got);
  EXPECT_TRUE(r.answered);
  EXPECT_FALSE(r.error.has_value());
  EXPECT_NE(got.find("200 OK"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 2), "OK");
}

}  // namespace
}  // namespace twinbox::api
