#include <gtest/gtest.h>

#include "vm/utility_vm.hpp"

using namespace twinbox::vm;

namespace {

TEST(EnginePing, ReadsVersionAndApiVersionFromTheHeaders) {
  auto p = parse_engine_ping(
      "HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nBuilder-Version: 2\r\nCache-Control: no-cache\r\n"
      "Server: Docker/26.1.5+dfsg1 (linux)\r\nContent-Length: 2\r\n\r\nOK");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->api_version, "1.45");
  EXPECT_EQ(p->version, "26.1.5+dfsg1");
}

TEST(EnginePing, HeaderNamesAnyCaseAndMissingOnesEmpty) {
  auto p = parse_engine_ping("HTTP/1.0 200 OK\r\napi-version:1.41\r\n\r\nOK");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->api_version, "1.41");
  EXPECT_EQ(p->version, "");
}

TEST(EnginePing, AnythingButA200WithOkIsNoAnswer) {
  EXPECT_FALSE(
      parse_engine_ping("HTTP/1.1 500 Internal Server Error\r\nApi-Version: 1.45\r\n\r\nOK"));
  EXPECT_FALSE(parse_engine_ping("HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\n\r\n"));
  EXPECT_FALSE(parse_engine_ping("HTTP/1.1 200 OK\r\nApi-Version: 1.45"));
  EXPECT_FALSE(parse_engine_ping(""));
}

}  // namespace
