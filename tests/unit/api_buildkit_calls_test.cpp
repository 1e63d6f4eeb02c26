// What twinboxd reads of BuildKit's gRPC calls to route a build: message framing, the protobuf
// fields of Control/Solve, Control/Status and LLBBridge/Solve, and the platform rule of builds.
#include <gtest/gtest.h>

#include "api/buildkit_calls.hpp"

using namespace twinbox::api::buildkit;

namespace {

std::string field(uint32_t number, const std::string& bytes) {
  return protobuf_field(number, bytes);
}
std::string map_entry(uint32_t number, const std::string& k, const std::string& v) {
  return field(number, field(1, k) + field(2, v));
}
std::string framed(const std::string& msg) { return grpc_frame(msg); }

constexpr const char* kSolve = "/moby.buildkit.v1.Control/Solve";
constexpr const char* kBridgeSolve = "/moby.buildkit.v1.frontend.LLBBridge/Solve";

TEST(BuildkitCalls, FirstMessageWaitsForTheWholeMessage) {
  std::string body = framed("hello") + framed("next");
  auto m = first_message(body, 1024);
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->bytes, "hello");
  EXPECT_FALSE((*m)->compressed);
  for (size_t cut = 0; cut < 10; ++cut) {
    auto part = first_message(body.substr(0, cut), 1024);
    ASSERT_TRUE(part.has_value());
    EXPECT_FALSE(part->has_value()) << cut;
  }
  auto big = first_message(framed(std::string(2000, 'x')).substr(0, 5), 1024);
  EXPECT_FALSE(big.has_value());
}

TEST(BuildkitCalls, Classify) {
  EXPECT_EQ(classify(kSolve), CallKind::ControlSolve);
  EXPECT_EQ(classify("/moby.buildkit.v1.Control/Status"), CallKind::ControlStatus);
  EXPECT_EQ(classify("/moby.buildkit.v1.Control/Session"), CallKind::ControlSession);
  EXPECT_EQ(classify("/moby.buildkit.v1.Control/ListWorkers"), CallKind::Workers);
  EXPECT_EQ(classify("/moby.buildkit.v1.Control/Info"), CallKind::Workers);
  EXPECT_EQ(classify("/moby.buildkit.v1.Control/DiskUsage"), CallKind::DiskUsage);
  EXPECT_EQ(classify("/moby.buildkit.v1.Control/Prune"), CallKind::Prune);
  EXPECT_TRUE(fans_out(CallKind::Prune));
  EXPECT_FALSE(fans_out(CallKind::ControlSolve));
  EXPECT_EQ(classify(kBridgeSolve), CallKind::BridgeSolve);
  EXPECT_EQ(classify("/moby.buildkit.v1.frontend.LLBBridge/Ping"), CallKind::Bridge);
  EXPECT_EQ(classify("/grpc.health.v1.Health/Check"), CallKind::Other);
  EXPECT_TRUE(needs_message(CallKind::ControlSolve));
  EXPECT_FALSE(needs_message(CallKind::Bridge));
}

TEST(BuildkitCalls, ControlSolveWithTheFrontendInTheEngine) {
  // Ref 1, Exporter 3 (ignored), Session 5, Frontend 6, FrontendAttrs 7; a varint field too.
  std::string msg = field(1, "ref1") + field(3, "moby") + field(5, "sess1") +
                    field(6, "dockerfile.v0") + map_entry(7, "target", "prod") +
                    map_entry(7, "platform", " linux/amd64 ") + "\x58\x01";  // field 11 = 1
  auto c = read_call(kSolve, "", "", msg);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->kind, CallKind::ControlSolve);
  EXPECT_EQ(c->ref, "ref1");
  EXPECT_EQ(c->session, "sess1");
  EXPECT_TRUE(c->has_platform);
  EXPECT_EQ(c->platform, "linux/amd64");
  EXPECT_FALSE(c->client_frontend);
}

TEST(BuildkitCalls, ControlSolveOfAClientSideFrontendHasNoPlatformYet) {
  auto c = read_call(kSolve, "", "", field(1, "ref2") + field(5, "sess2"));
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->client_frontend);
  EXPECT_FALSE(c->has_platform);
  // An LLB definition (field 2) is a build whose platform is in its ops: not client-side.
  auto llb = read_call(kSolve, "", "", field(1, "ref3") + field(2, field(1, "op")));
  ASSERT_TRUE(llb.has_value());
  EXPECT_FALSE(llb->client_frontend);
}

TEST(BuildkitCalls, BridgeCallsBelongToTheirBuildIdHeader) {
  auto s = read_call(kBridgeSolve, "ref2", "",
                     field(2, "dockerfile.v0") + map_entry(3, "platform", "linux/arm64"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->kind, CallKind::BridgeSolve);
  EXPECT_EQ(s->ref, "ref2");
  EXPECT_EQ(s->platform, "linux/arm64");
  auto ping = read_call("/moby.buildkit.v1.frontend.LLBBridge/Ping", "ref2", "", "");
  ASSERT_TRUE(ping.has_value());
  EXPECT_EQ(ping->ref, "ref2");
  auto status = read_call("/moby.buildkit.v1.Control/Status", "", "", field(1, "ref9"));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->ref, "ref9");
  auto session = read_call("/moby.buildkit.v1.Control/Session", "", "sess7", "");
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->session, "sess7");
}

TEST(BuildkitCalls, MalformedProtobufIsAnError) {
  // A length that runs past the end, and a map entry that is not a message.
  EXPECT_FALSE(read_call(kSolve, "", "", std::string("\x0a\x10", 2) + "ab").has_value());
  EXPECT_FALSE(read_call(kBridgeSolve, "r", "", field(3, "\xff\xff")).has_value());
  EXPECT_FALSE(read_call(kSolve, "", "", "\xff").has_value());
}

TEST(BuildkitCalls, BuildPlatformPicksTheBackend) {
  auto none = backend_for_build("");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->backend, "hv");
  auto amd = backend_for_build("linux/amd64");
  ASSERT_TRUE(amd.has_value());
  EXPECT_EQ(amd->backend, "rosetta");
  EXPECT_NE(amd->reason.find("build for linux/amd64"), std::string::npos) << amd->reason;
  auto arm = backend_for_build("linux/arm64");
  ASSERT_TRUE(arm.has_value());
  EXPECT_EQ(arm->backend, "hv");
  auto multi = backend_for_build("linux/amd64,linux/arm64");
  ASSERT_FALSE(multi.has_value());
  EXPECT_NE(multi.error().message.find("--platform linux/amd64 and --platform linux/arm64"),
            std::string::npos)
      << multi.error().message;
  EXPECT_FALSE(backend_for_build("linux/s390x").has_value());
}

TEST(BuildkitCalls, StatusNoteIsOneFramedStatusResponse) {
  std::string note = status_note("twinbox: building in rosetta", 1700000000);
  auto m = first_message(note, 1 << 20);
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->bytes.size() + 5, note.size());
  // StatusResponse.vertexes (field 1) holds the vertex; its digest and name are fields 1 and 3.
  std::string_view body = (*m)->bytes;
  ASSERT_EQ(static_cast<uint8_t>(body[0]), (1u << 3) | 2);
  EXPECT_NE(body.find("twinbox: building in rosetta"), std::string_view::npos);
  EXPECT_NE(body.find("sha256:"), std::string_view::npos);
}

TEST(BuildkitCalls, TakeMessagesLeavesAPartialOne) {
  std::string buf = framed("one") + framed("two") + framed("three").substr(0, 6);
  auto ms = take_messages(buf);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0], framed("one"));
  EXPECT_EQ(ms[1], framed("two"));
  EXPECT_EQ(buf, framed("three").substr(0, 6));
}

TEST(BuildkitCalls, MergedUnaryAnswersListEveryRecord) {
  // Two DiskUsageResponses (record = field 1) become one whose records are both.
  auto merged = merge_unary({framed(field(1, field(1, "a"))), framed(field(1, field(1, "b")))});
  EXPECT_EQ(merged, framed(field(1, field(1, "a")) + field(1, field(1, "b"))));
  EXPECT_EQ(merge_unary({}), framed(""));
  EXPECT_EQ(grpc_frame("xyz"), std::string("\0\0\0\0\x03xyz", 8));
  EXPECT_EQ(protobuf_field(3, "ab"),
            "\x1a\x02"
            "ab");
}

TEST(BuildkitCalls, GrpcMessageIsPercentEncoded) {
  EXPECT_EQ(grpc_percent_encode("a b%c\n\xc3\xa9"), "a b%25c%0A%C3%A9");
}

}  // namespace
