#include <gtest/gtest.h>

#include "router/port_allocator.hpp"

using namespace twinbox;
using namespace twinbox::router;

namespace {
const PortHolder kWeb{"rosetta", "abcdef0123456789", "web"};
const PortHolder kApi{"hv", "0123456789abcdef", "api"};
PortRequest req(int host, int container = 80, std::string ip = "", std::string proto = "tcp") {
  return PortRequest{std::move(ip), host, container, std::move(proto)};
}
}  // namespace

TEST(PortAllocator, DefaultsToLoopback) {
  PortAllocator a;
  auto r = a.reserve({req(8080)}, kWeb);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)[0].request.host_ip, "127.0.0.1");
  EXPECT_EQ((*r)[0].request.host_port, 8080);
}

TEST(PortAllocator, ConflictAcrossBackendsNamesTheHolder) {
  PortAllocator a;
  ASSERT_TRUE(a.reserve({req(8080)}, kWeb));
  auto r = a.reserve({req(8080, 3000)}, kApi);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Conflict);
  EXPECT_EQ(r.error().message,
            "host port 127.0.0.1:8080/tcp is already published by container web (abcdef012345) "
            "on rosetta; pick another host port or remove it");
}

TEST(PortAllocator, TableOfCollisions) {
  struct Case {
    PortRequest held, asked;
    bool conflicts;
  } cases[] = {
      {req(80, 80, "127.0.0.1"), req(80, 80, "127.0.0.1"), true},
      {req(80, 80, "127.0.0.1"), req(80, 80, "127.0.0.2"), false},
      {req(80, 80, "0.0.0.0"), req(80, 80, "127.0.0.1"), true},
      {req(80, 80, "127.0.0.1"), req(80, 80, "0.0.0.0"), true},
      {req(80, 80, "::"), req(80, 80, "127.0.0.1"), true},
      {req(80, 80, "127.0.0.1", "tcp"), req(80, 80, "127.0.0.1", "udp"), false},
      {req(80), req(81), false},
  };
  for (const auto& c : cases) {
    PortAllocator a;
    ASSERT_TRUE(a.reserve({c.held}, kWeb));
    auto r = a.reserve({c.asked}, kApi);
    EXPECT_EQ(!r, c.conflicts) << c.held.host_ip << " vs " << c.asked.host_ip << " "
                               << c.asked.proto;
  }
}

TEST(PortAllocator, AllOrNothing) {
  PortAllocator a;
  ASSERT_TRUE(a.reserve({req(9000)}, kWeb));
  EXPECT_FALSE(a.reserve({req(9001), req(9000)}, kApi));
  EXPECT_FALSE(a.holder_of("127.0.0.1", 9001, "tcp").has_value());
}

TEST(PortAllocator, DuplicateInOneRequestIsInvalid) {
  PortAllocator a;
  auto r = a.reserve({req(9000), req(9000, 81)}, kWeb);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
}

TEST(PortAllocator, EphemeralPortsAreDistinctAcrossBackendsAndWrap) {
  PortAllocator a(50000, 50002);
  auto r1 = a.reserve({req(0), req(0, 81)}, kWeb);
  ASSERT_TRUE(r1);
  EXPECT_EQ((*r1)[0].request.host_port, 50000);
  EXPECT_EQ((*r1)[1].request.host_port, 50001);
  auto r2 = a.reserve({req(0)}, kApi);
  ASSERT_TRUE(r2);
  EXPECT_EQ((*r2)[0].request.host_port, 50002);
  auto full = a.reserve({req(0)}, kApi);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::Unavailable);
  EXPECT_EQ(a.release(kWeb.container_id), 2u);
  auto r3 = a.reserve({req(0)}, kApi);
  ASSERT_TRUE(r3);
  EXPECT_EQ((*r3)[0].request.host_port, 50000);
}

TEST(PortAllocator, ReleaseFreesForOthers) {
  PortAllocator a;
  ASSERT_TRUE(a.reserve({req(8080)}, kWeb));
  EXPECT_EQ(a.holder_of("127.0.0.1", 8080, "tcp")->container_name, "web");
  EXPECT_EQ(a.release(kWeb.container_id), 1u);
  EXPECT_TRUE(a.reserve({req(8080)}, kApi));
}

TEST(ParsePortBindings, ReadsDockerShape) {
  auto j = nlohmann::json::parse(
      R"({"80/tcp":[{"HostIp":"","HostPort":"8080"},{"HostIp":"0.0.0.0","HostPort":""}],
          "53/udp":[{"HostIp":"127.0.0.1","HostPort":"5353"}]})");
  auto r = parse_port_bindings(j);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  int tcp = 0, udp = 0;
  for (const auto& p : *r) {
    if (p.proto == "udp") {
      ++udp;
      EXPECT_EQ(p.host_port, 5353);
      EXPECT_EQ(p.container_port, 53);
    } else {
      ++tcp;
      EXPECT_EQ(p.container_port, 80);
    }
  }
  EXPECT_EQ(tcp, 2);
  EXPECT_EQ(udp, 1);
}

TEST(ParsePortBindings, RejectsBadEntries) {
  const char* bad[] = {R"({"http/tcp":[]})", R"({"80/tcp":[{"HostPort":"99999"}]})",
                       R"({"80/tcp/x":[]})", R"({"80":"8080"})", R"([1,2])"};
  for (const char* b : bad) {
    auto r = parse_port_bindings(nlohmann::json::parse(b));
    EXPECT_FALSE(r) << b;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    }
  }
  EXPECT_TRUE(parse_port_bindings(nullptr));
}
