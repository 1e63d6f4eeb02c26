// BuildKit: the /session request arrives before its build and must reach the same backend.
#include <future>

#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

TEST_F(TwoEngines, SessionFollowsTheBuildThatNamesIt) {
  hv_->on("POST", "/session", FakeResponse{400, R"({"message":"hv session"})"});
  rosetta_->on("POST", "/session", FakeResponse{400, R"({"message":"rosetta session"})"});
  auto session = std::async(std::launch::async, [&] {
    auto c = client();
    return c.request("POST", "/v1.41/session", "",
                     {{"Upgrade", "h2c"},
                      {"Connection", "Upgrade"},
                      {"X-Docker-Expose-Session-Uuid", "sess-42"}});
  });
  // The session is held until a build claims it.
  EXPECT_EQ(session.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  auto c = client();
  auto build = c.request("POST", "/v1.41/build?platform=linux/amd64&session=sess-42", "");
  ASSERT_TRUE(build);
  auto s = session.get();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_NE(s->body.find("rosetta session"), std::string::npos) << s->body;
  EXPECT_EQ(rosetta_->count("POST", "/session"), 1u);
  EXPECT_EQ(hv_->count("POST", "/session"), 0u);
  EXPECT_EQ(rosetta_->count("POST", "/build"), 1u);
}

}  // namespace
}  // namespace twinbox::fakes
