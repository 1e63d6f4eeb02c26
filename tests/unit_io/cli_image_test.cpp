// `twinbox image ...` (the real binary) against a fake twinboxd: the request bytes it sends and
// the files it writes.
#include <sys/socket.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "unit_io/cli_fixture.hpp"

namespace twinbox::fakes {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Bytes that are not text, longer than one 256 KiB read of the client.
std::string archive_bytes() {
  std::string s;
  for (size_t i = 0; i < 300 * 1024; ++i) s += static_cast<char>((i * 7 + i / 251) & 0xff);
  return s;
}

class CliImage : public FakeDaemon {
 protected:
  // Replaces the fake daemon with a raw server that takes one connection and hands it to
  // `answer`: for answers no well-behaved server sends (early refusals, cut bodies).
  std::thread serve_once(std::function<void(int fd)> answer) {
    daemon_->stop();
    daemon_.reset();
    auto listener = listen_unix(socket(), 0600);
    EXPECT_TRUE(listener) << listener.error().message;
    if (!listener) return std::thread([] {});
    return std::thread([fd = std::move(*listener), answer = std::move(answer)] {
      Fd c(::accept(fd.get(), nullptr, nullptr));
      answer(c.get());
    });
  }
};

TEST_F(CliImage, ImportSendsTheFileWithItsLength) {
  std::string tar = archive_bytes();
  spit(dir_ + "/app.tar", tar);
  daemon_->on("POST", "/twinbox/v1/images/import",
              {200, R"({"references":["127.0.0.1:5000/app:latest","127.0.0.1:5000/app:1"],)"
                    R"("blobs":3,"bytes":2048})"});
  auto out = twinbox({"image", "import", dir_ + "/app.tar", "--name", "127.0.0.1:5000/app"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output,
            "imported 127.0.0.1:5000/app:latest\nimported 127.0.0.1:5000/app:1\n3 blobs, "
            "2.05kB\n");
  auto reqs = requests_to("/twinbox/v1/images/import");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/twinbox/v1/images/import?name=127.0.0.1%3A5000%2Fapp");
  EXPECT_EQ(reqs[0].headers.get("Content-Type").value_or(""), "application/x-tar");
  EXPECT_EQ(reqs[0].headers.get("Content-Length").value_or(""), std::to_string(tar.size()));
  EXPECT_FALSE(reqs[0].headers.has("Transfer-Encoding"));
  EXPECT_TRUE(reqs[0].body == tar) << "body of " << reqs[0].body.size() << " bytes differs";
}

TEST_F(CliImage, ImportFromStdinIsChunked) {
  std::string tar = archive_bytes();
  spit(dir_ + "/app.tar", tar);
  daemon_->on("POST", "/twinbox/v1/images/import",
              {200, R"({"references":["127.0.0.1:5000/imported/app:latest"],)"
                    R"("blobs":1,"bytes":1})"});
  auto out = shell("cat '" + dir_ + "/app.tar' | '" + bin_ + "' --socket '" + socket() +
                   "' image import -");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto reqs = requests_to("/twinbox/v1/images/import");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/twinbox/v1/images/import");
  EXPECT_TRUE(reqs[0].headers.has_token("Transfer-Encoding", "chunked"));
  EXPECT_FALSE(reqs[0].headers.has("Content-Length"));
  EXPECT_TRUE(reqs[0].body == tar) << "body of " << reqs[0].body.size() << " bytes differs";
}

TEST_F(CliImage, ImportErrorsQuoteTheDaemon) {
  spit(dir_ + "/evil.tar", "x");
  daemon_->on("POST", "/twinbox/v1/images/import",
              {400, R"({"message":"archive entry ../etc/passwd escapes the root"})"});
  auto out = twinbox({"image", "import", dir_ + "/evil.tar"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.output, "twinbox: importing " + dir_ +
                            "/evil.tar: archive entry ../etc/passwd escapes the root\n");
  auto missing = twinbox({"image", "import", dir_ + "/nope.tar"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("No such file or directory"), std::string::npos) << missing.output;
  EXPECT_EQ(requests_to("/twinbox/v1/images/import").size(), 1u);
}

TEST_F(CliImage, AnEarlyRefusalIsReportedNotTheBrokenPipe) {
  // The daemon refuses from the head alone (as it would an absurd Content-Length) and closes
  // without reading the 300 KiB body: the client must show that answer.
  std::thread server = serve_once([](int c) {
    std::string head;
    char ch;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(c, &ch, 1) == 1) head += ch;
    (void)write_all(c,
                    "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n"
                    "Content-Length: 34\r\n\r\n{\"message\":\"archive is too large\"}");
  });
  spit(dir_ + "/big.tar", archive_bytes());
  auto out = twinbox({"image", "import", dir_ + "/big.tar"});
  server.join();
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.output, "twinbox: importing " + dir_ + "/big.tar: archive is too large\n");
}

TEST_F(CliImage, ExportWritesTheArchiveAtomically) {
  std::string tar = archive_bytes();
  daemon_->on("GET", "/twinbox/v1/images/export", {200, tar, "application/x-tar", true});
  std::string out_path = dir_ + "/out.tar";
  auto out = twinbox({"image", "export", "-o", out_path, "busybox:1", "a/b@sha256:00"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(slurp(out_path) == tar) << "file of " << slurp(out_path).size() << " bytes";
  EXPECT_FALSE(fs::exists(out_path + ".tmp"));
  auto reqs = requests_to("/twinbox/v1/images/export");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target,
            "/twinbox/v1/images/export?reference=busybox%3A1&reference=a%2Fb%40sha256%3A00");
}

TEST_F(CliImage, FailedExportLeavesNoTempAndKeepsTheOldFile) {
  std::string out_path = dir_ + "/out.tar";
  spit(out_path, "previous archive");
  daemon_->on("GET", "/twinbox/v1/images/export",
              {404, R"({"message":"no such image in the store: missing:1"})"});
  auto out = twinbox({"image", "export", "-o", out_path, "missing:1"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.output,
            "twinbox: exporting to " + out_path + ": no such image in the store: missing:1\n");
  EXPECT_FALSE(fs::exists(out_path + ".tmp"));
  EXPECT_EQ(slurp(out_path), "previous archive");
}

TEST_F(CliImage, ExportCutShortLeavesNoTemp) {
  // A 200 whose chunked body never completes: the daemon died in the middle of the archive.
  std::thread server = serve_once([](int c) {
    char buf[4096];
    (void)::read(c, buf, sizeof buf);
    (void)write_all(c,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  });
  std::string out_path = dir_ + "/cut.tar";
  auto out = twinbox({"image", "export", "-o", out_path, "a:1"});
  server.join();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("twinbox: exporting to " + out_path + ": "), std::string::npos)
      << out.output;
  EXPECT_FALSE(fs::exists(out_path + ".tmp"));
  EXPECT_FALSE(fs::exists(out_path));
}

TEST_F(CliImage, LsPrintsATableOrTheJson) {
  std::string body = R"([{"reference":"127.0.0.1:5000/twinbox/busybox:latest","digest":"sha256:)" +
                     std::string(64, 'e') + R"(",
      "media_type":"application/vnd.oci.image.index.v1+json",
      "platforms":[{"platform":"linux/amd64","manifest":"sha256:1","complete":true},
                   {"platform":"linux/arm64","manifest":"sha256:2","complete":false}],
      "size":2200000}])";
  daemon_->on("GET", "/twinbox/v1/images", {200, body});
  auto out = twinbox({"image", "ls"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output,
            "REFERENCE                               PLATFORMS                          "
            "DIGEST                SIZE\n"
            "127.0.0.1:5000/twinbox/busybox:latest   linux/amd64,linux/arm64(partial)   "
            "sha256:eeeeeeeeeeee   2.2MB\n");
  auto js = twinbox({"image", "ls", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.output;
  EXPECT_EQ(nlohmann::json::parse(js.output), nlohmann::json::parse(body));
  EXPECT_EQ(requests_to("/twinbox/v1/images").size(), 2u);
}

TEST_F(CliImage, PruneReportsWhatWasFreed) {
  daemon_->on("POST", "/twinbox/v1/images/prune",
              {200, R"({"blobs_removed":4,"bytes_freed":5000000})"});
  auto out = twinbox({"image", "prune"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "removed 4 blobs, freed 5MB\n");
  auto reqs = requests_to("/twinbox/v1/images/prune");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].headers.get("Content-Length").value_or(""), "0");
}

TEST_F(CliImage, PrewarmPrintsEachResultAndFailsIfOneFailed) {
  spit(dir_ + "/list", "# CI\n127.0.0.1:5000/twinbox/busybox\n\nmissing:1  # gone\n");
  daemon_->on("POST", "/twinbox/v1/images/prewarm",
              {200,
               "{\"reference\":\"127.0.0.1:5000/twinbox/busybox\",\"status\":\"pulled\"}\n"
               "{\"reference\":\"missing:1\",\"status\":\"error\","
               "\"message\":\"manifest unknown\"}\n",
               "application/json", true});
  auto out = twinbox({"image", "prewarm", dir_ + "/list"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.output,
            "pulled 127.0.0.1:5000/twinbox/busybox\n"
            "error  missing:1: manifest unknown\n"
            "twinbox: prewarming from " +
                dir_ + "/list: 1 of 2 references failed\n");
  auto reqs = requests_to("/twinbox/v1/images/prewarm");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(
      nlohmann::json::parse(reqs[0].body),
      nlohmann::json::parse(
          R"({"references":["127.0.0.1:5000/twinbox/busybox:latest","docker.io/library/missing:1"]})"));
  EXPECT_EQ(reqs[0].headers.get("Content-Type").value_or(""), "application/json");

  daemon_->on("POST", "/twinbox/v1/images/prewarm",
              {200, "{\"reference\":\"a:1\",\"status\":\"pulled\"}\n", "application/json", true});
  spit(dir_ + "/one", "a:1\n");
  auto ok = twinbox({"image", "prewarm", dir_ + "/one"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output, "pulled a:1\n");
}

TEST_F(CliImage, UsageErrorsExit2AndAbsentDaemonExits1) {
  EXPECT_EQ(twinbox({"image"}).exit_code, 2);
  EXPECT_EQ(twinbox({"image", "export", "a:1"}).exit_code, 2);                  // no -o
  EXPECT_EQ(twinbox({"image", "export", "-o", dir_ + "/x.tar"}).exit_code, 2);  // no reference
  EXPECT_EQ(twinbox({"image", "import"}).exit_code, 2);
  EXPECT_EQ(twinbox({"image", "ls", "--wide"}).exit_code, 2);
  EXPECT_EQ(twinbox({"image", "frobnicate"}).exit_code, 2);
  EXPECT_TRUE(daemon_->requests().empty());
  daemon_->stop();
  auto out = twinbox({"image", "ls"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.output.find("twinbox: listing images: twinboxd is not answering"),
            std::string::npos)
      << out.output;
}

}  // namespace
}  // namespace twinbox::fakes
