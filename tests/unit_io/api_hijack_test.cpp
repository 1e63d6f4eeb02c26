// attach / exec start through twinbox: the 101 upgrade (and the old 200 raw stream) become a
// two-way tunnel, and a half-close from either side reaches the other.
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

const std::string kUpgrade = "Connection: Upgrade\r\nUpgrade: tcp\r\n";

// Reads exactly as many raw bytes as `want` has and compares.
#define EXPECT_RAW(client, want) EXPECT_EQ((client).read_raw(std::string(want).size()), want)

TEST_F(TwoEngines, AttachUpgradeRoundTripsBytesAndHalfClose) {
  auto c = client();
  std::string id = create(c, "?name=shell&platform=linux/amd64", R"({"Image":"a"})");
  ASSERT_TRUE(
      c.send("POST /v1.41/containers/shell/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
             "Host: docker\r\n" +
             kUpgrade + "\r\n"));
  auto head = c.read_head();
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->status, 101);
  EXPECT_EQ(head->headers.get("Upgrade"), "tcp");
  EXPECT_RAW(c, "hello from rosetta\n");  // the engine spoke first
  ASSERT_TRUE(c.send("ping 1\n"));
  EXPECT_RAW(c, "ping 1\n");
  ASSERT_TRUE(c.send("ping 2\n"));
  EXPECT_RAW(c, "ping 2\n");
  // stdin ends: the engine must see EOF, and its later output must still reach us.
  c.shutdown_write();
  EXPECT_EQ(c.read_until_eof(), "bye\n");
  EXPECT_EQ(rosetta_->count("POST", "/containers/shell/attach"), 1u);
  EXPECT_EQ(hv_->count("POST", "/containers/shell/attach"), 0u);
}

TEST_F(TwoEngines, BytesSentRightAfterTheHeadAreNotLost) {
  auto c = client();
  create(c, "?name=eager", R"({"Image":"a"})");
  // A client that does not wait for the 101 before writing stdin.
  ASSERT_TRUE(c.send("POST /v1.41/containers/eager/attach?stdin=1 HTTP/1.1\r\nHost: d\r\n" +
                     kUpgrade + "\r\nearly bytes\n"));
  c.shutdown_write();
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 101);
  EXPECT_EQ(c.read_until_eof(), "hello from hv\nearly bytes\nbye\n");
}

TEST_F(TwoEngines, OldClientsGet200RawStream) {
  auto c = client();
  create(c, "?name=old&platform=amd64", R"({"Image":"a"})");
  ASSERT_TRUE(
      c.send("POST /v1.24/containers/old/attach?stdin=1&stream=1 HTTP/1.1\r\n"
             "Host: d\r\n\r\n"));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers.get("Content-Type"), "application/vnd.docker.raw-stream");
  EXPECT_RAW(c, "hello from rosetta\n");
  ASSERT_TRUE(c.send("abc"));
  EXPECT_RAW(c, "abc");
  c.shutdown_write();
  EXPECT_EQ(c.read_until_eof(), "bye\n");
}

TEST_F(TwoEngines, ExecCreateAndStartFollowTheContainer) {
  auto c = client();
  std::string id = create(c, "?name=box&platform=linux/amd64", R"({"Image":"a"})");
  auto exec = c.request("POST", "/v1.41/containers/box/exec",
                        R"({"AttachStdin":true,"AttachStdout":true,"Cmd":["sh"]})");
  ASSERT_TRUE(exec);
  ASSERT_EQ(exec->status, 201) << exec->body;
  std::string exec_id = json_of(*exec)["Id"];
  EXPECT_EQ(exec_id.rfind("exec-rosetta-", 0), 0u);
  std::string body = R"({"Detach":false,"Tty":false})";
  ASSERT_TRUE(c.send("POST /v1.41/exec/" + exec_id + "/start HTTP/1.1\r\nHost: d\r\n" + kUpgrade +
                     "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 101);
  EXPECT_RAW(c, "hello from rosetta\n");
  ASSERT_TRUE(c.send("ls\n"));
  EXPECT_RAW(c, "ls\n");
  c.shutdown_write();
  EXPECT_EQ(c.read_until_eof(), "bye\n");
  auto reqs = rosetta_->requests();
  EXPECT_EQ(reqs.back().path, "/exec/" + exec_id + "/start");
  EXPECT_EQ(reqs.back().body, body);
}

TEST_F(TwoEngines, StopCutsAStreamThatOutlivesTheGracePeriod) {
  auto c = client();
  create(c, "?name=forever", R"({"Image":"a"})");
  ASSERT_TRUE(c.send("POST /v1.41/containers/forever/attach?stdin=1 HTTP/1.1\r\nHost: d\r\n" +
                     kUpgrade + "\r\n"));
  ASSERT_EQ(c.read_head()->status, 101);
  EXPECT_RAW(c, "hello from hv\n");
  server_->stop();  // grace 300 ms, then cut: returns instead of waiting for the stream
  std::string rest = c.read_until_eof();
  EXPECT_TRUE(rest.empty() || rest == "bye\n") << rest;
  EXPECT_FALSE(TestClient::connect(socket()));  // no longer listening
}

}  // namespace
}  // namespace twinbox::fakes
