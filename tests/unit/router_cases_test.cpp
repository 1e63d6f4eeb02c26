// Routing-case files: parsing (with line-numbered errors), running cases, and the shipped
// example file (docs/examples/routing-cases.txt) passing as a whole.
#include <gtest/gtest.h>

#include "router/route_cases.hpp"
#include "test_data.hpp"

using namespace twinbox;
using namespace twinbox::router;

namespace {

std::string parse_error(const std::string& text) {
  auto r = parse_route_cases(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? "" : r.error().message;
}

TEST(RouteCases, ParsesEveryKey) {
  auto r = parse_route_cases(R"(# a comment
case: everything
image: busybox
image-platforms: linux/amd64, aarch64
platform: linux/amd64
body-platform: arm64
name: web
profile: generic-arm64
backends: hv=starting rosetta=absent
rosetta: off
fallback: qemu-x86_64 (hv fallback)
mixed-projects: on
project: shop on rosetta (first container web)
pod-peer: db on hv
pod-peer: data on rosetta via volumes_from data
compose-service: api platform=linux/amd64 image-platforms=unknown
expect: error 503 Backend HV
expect-platform: linux/amd64
expect-translator: none
expect-reason: why

case: second
expect: hv
)");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const RouteCase& c = (*r)[0];
  EXPECT_EQ(c.name, "everything");
  EXPECT_EQ(c.line, 2);
  EXPECT_EQ(c.query.image, "busybox");
  EXPECT_EQ(platforms_text(c.query.image_platforms), "linux/amd64, linux/arm64");
  EXPECT_EQ(c.query.platform, "linux/amd64");
  EXPECT_EQ(c.query.body_platform, "arm64");
  EXPECT_EQ(c.query.name, "web");
  EXPECT_EQ(c.env.host().name, "generic-arm64");
  EXPECT_EQ(c.env.backends.of("hv"), "starting");
  EXPECT_EQ(c.env.backends.of("rosetta"), "");
  EXPECT_FALSE(c.env.translator.enabled("rosetta"));
  EXPECT_EQ(c.env.translator.fallback, "qemu-x86_64 (hv fallback)");
  EXPECT_TRUE(c.env.mixed_projects);
  ASSERT_TRUE(c.query.group.project.has_value());
  EXPECT_EQ(c.query.group.project->backend, "rosetta");
  EXPECT_EQ(c.query.group.project->source, PlacementSource::FirstContainer);
  EXPECT_EQ(c.query.group.project->decided_by, "container web");
  ASSERT_EQ(c.query.group.pod_peers.size(), 2u);
  EXPECT_EQ(c.query.group.pod_peers[0].relation, "network_mode container:db");
  EXPECT_EQ(c.query.group.pod_peers[1].relation, "volumes_from data");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].platform, "linux/amd64");
  EXPECT_FALSE(c.services[0].image_platforms.has_value());
  EXPECT_TRUE(c.expect.error);
  EXPECT_EQ(c.expect.status, 503);
  EXPECT_EQ(c.expect.substring, "Backend HV");
  EXPECT_EQ((*r)[1].line, 22);
  EXPECT_EQ((*r)[1].expect.backend, "hv");
}

TEST(RouteCases, EmptyFileHasNoCases) {
  auto r = parse_route_cases("# only comments\n\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->empty());
}

TEST(RouteCases, ErrorsNameTheLine) {
  EXPECT_EQ(parse_error("case: a\nexpect: hv\nfrobnicate: 1\n").rfind("line 3: unknown key", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nplatform: x\nplatform: y\nexpect: hv\n")
                .rfind("line 3: \"platform\" given twice", 0),
            0u);
  EXPECT_EQ(
      parse_error("\n\ncase: a\nimage: x\n").rfind("line 3: case \"a\" has no \"expect:\"", 0), 0u);
  EXPECT_EQ(parse_error("image: x\nexpect: hv\n").rfind("line 1: this case has no \"case:\"", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nexpect: sideways\n").rfind("line 2: expect:", 0), 0u);
  EXPECT_EQ(parse_error("case: a\nexpect: hv now\n").rfind("line 2:", 0), 0u);
  EXPECT_EQ(parse_error("case: a\njust words\nexpect: hv\n").rfind("line 2: \"just words\"", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nimage-platforms: linux/amd64, bogus\nexpect: hv\n")
                .rfind("line 2: image-platforms: invalid platform \"bogus\"", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nprofile: intel\nexpect: hv\n")
                .rfind("line 2: profile: unknown host profile \"intel\"", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nbackends: hv\nexpect: hv\n").rfind("line 2: backends:", 0), 0u);
  EXPECT_EQ(parse_error("case: a\nbackends: vm=running\nexpect: hv\n").rfind("line 2:", 0), 0u);
  EXPECT_EQ(parse_error("case: a\nrosetta: maybe\nexpect: hv\n").rfind("line 2: rosetta:", 0), 0u);
  EXPECT_EQ(parse_error("case: a\nproject: shop on mars (declared)\nexpect: hv\n")
                .rfind("line 2: project:", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nproject: shop on hv (because)\nexpect: hv\n")
                .rfind("line 2: project:", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\npod-peer: db\nexpect: hv\n").rfind("line 2: pod-peer:", 0), 0u);
  EXPECT_EQ(parse_error("case: a\ncompose-service: web color=red\nexpect: hv\n")
                .rfind("line 2: compose-service web:", 0),
            0u);
  EXPECT_EQ(parse_error("case: a\nimage:\nexpect: hv\n").rfind("line 2: \"image\" has no value", 0),
            0u);
}

RouteCase one(const std::string& text) {
  auto r = parse_route_cases(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  EXPECT_EQ(r ? r->size() : 0u, 1u);
  return r && !r->empty() ? (*r)[0] : RouteCase{};
}

TEST(RouteCases, RunPassesAndFails) {
  auto ok = run_route_case(one("case: a\nplatform: amd64\nexpect: rosetta\n"));
  EXPECT_TRUE(ok.passed) << ok.actual;
  EXPECT_EQ(ok.expected, "rosetta");

  auto wrong = run_route_case(one("case: a\nplatform: amd64\nexpect: hv\n"));
  EXPECT_FALSE(wrong.passed);
  EXPECT_EQ(wrong.actual.rfind("rosetta linux/amd64 (translator qemu-x86_64 (binfmt POCF)): ", 0),
            0u)
      << wrong.actual;

  auto err_expected = run_route_case(one("case: a\nplatform: amd64\nexpect: error\n"));
  EXPECT_FALSE(err_expected.passed);

  auto status = run_route_case(one("case: a\nplatform: 386\nexpect: error 404 no 386\n"));
  EXPECT_FALSE(status.passed) << "386 is a 400, not a 404";
  EXPECT_EQ(status.actual.rfind("error 400: ", 0), 0u) << status.actual;

  auto text = run_route_case(one("case: a\nplatform: 386\nexpect: error 400 NO 386\n"));
  EXPECT_TRUE(text.passed) << "case-insensitive: " << text.actual;

  auto platform =
      run_route_case(one("case: a\nimage-platforms: linux/amd64,linux/arm64\nexpect: hv\n"
                         "expect-platform: linux/amd64\n"));
  EXPECT_FALSE(platform.passed);
  EXPECT_EQ(platform.expected, "hv, platform linux/amd64");

  auto reason = run_route_case(one("case: a\nexpect: hv\nexpect-reason: no such words\n"));
  EXPECT_FALSE(reason.passed);
}

TEST(RouteCases, ProjectCases) {
  auto o = run_route_case(
      one("case: p\nproject: shop\ncompose-service: web image-platforms=linux/arm64,linux/amd64\n"
          "compose-service: old image-platforms=amd64\nexpect: rosetta\n"
          "expect-platform: web=rosetta linux/arm64, old=rosetta linux/amd64\n"));
  EXPECT_TRUE(o.passed) << o.actual;
}

TEST(RouteCases, ShippedExampleFilePasses) {
  std::string text = read_test_data("../../docs/examples/routing-cases.txt");
  ASSERT_FALSE(text.empty()) << "docs/examples/routing-cases.txt is missing";
  auto cases = parse_route_cases(text);
  ASSERT_TRUE(cases.has_value()) << cases.error().message;
  EXPECT_GE(cases->size(), 40u);
  for (const auto& c : *cases) {
    auto o = run_route_case(c);
    EXPECT_TRUE(o.passed) << c.name << " (line " << c.line << ")\n  expected: " << o.expected
                          << "\n  actual:   " << o.actual;
  }
}

}  // namespace

namespace {

ExplainQuery query(std::string image, std::optional<std::string> platform, const char* offers) {
  ExplainQuery q;
  q.image = std::move(image);
  q.platform = std::move(platform);
  q.image_platforms = *parse_platform_list(offers);
  return q;
}

TEST(Explain, DecisionJson) {
  auto q = query("busybox", std::nullopt, "linux/amd64, linux/arm64");
  q.group.project_name = "shop";
  auto e = explain(q, RouteEnv{});
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(explanation_status(e), 200);
  auto j = explanation_to_json(e);
  EXPECT_EQ(j["backend"], "hv");
  EXPECT_EQ(j["translator"], "none");
  EXPECT_EQ(j["platform"], "linux/arm64");
  EXPECT_EQ(j["profile"], "apple-silicon");
  EXPECT_EQ(j["project"], "shop");
  EXPECT_EQ(j["image"]["reference"], "docker.io/library/busybox:latest");
  EXPECT_EQ(j["image"]["platforms"], nlohmann::json({"linux/amd64", "linux/arm64"}));
  EXPECT_FALSE(j.contains("error"));
  EXPECT_NE(j["reason"].get<std::string>().find("host profile apple-silicon"), std::string::npos);

  auto back = explanation_from_json(j.dump());
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_TRUE(back->decision.has_value());
  EXPECT_EQ(back->decision->reason, e.decision->reason);
  EXPECT_EQ(back->decision->translator, "none");
  EXPECT_EQ(back->image_platforms, e.image_platforms);
  EXPECT_EQ(back->project, "shop");
  EXPECT_EQ(explanation_text(*back), explanation_text(e));
}

TEST(Explain, SaysNativeOrTranslated) {
  auto amd = explain(query("busybox", "linux/amd64", "linux/amd64, linux/arm64"), RouteEnv{});
  ASSERT_TRUE(amd.decision.has_value());
  EXPECT_EQ(explanation_to_json(amd)["execution"], "translated");
  EXPECT_NE(explanation_text(amd).find("runs:       translated\ntranslator: qemu-x86_64 (binfmt "
                                       "POCF)\n"),
            std::string::npos)
      << explanation_text(amd);
  auto arm = explain(query("busybox", std::nullopt, "linux/arm64"), RouteEnv{});
  ASSERT_TRUE(arm.decision.has_value());
  EXPECT_NE(explanation_text(arm).find("runs:       native\n"), std::string::npos);
  // From a twinboxd that sent no execution field: derived from the translator.
  auto old = explanation_from_json(
      R"x({"backend":"rosetta","translator":"qemu-x86_64 (binfmt F)","platform":"linux/amd64",)x"
      R"x("reason":"r","profile":"apple-silicon"})x");
  ASSERT_TRUE(old.has_value() && old->decision.has_value());
  EXPECT_EQ(old->decision->execution, "translated");
}

TEST(Explain, ErrorJsonCarriesStatusAndDockerMessage) {
  RouteEnv env;
  env.backends.set("rosetta", "failed");
  auto e = explain(query("busybox", "linux/amd64", "unknown"), env);
  ASSERT_TRUE(e.error.has_value());
  EXPECT_EQ(explanation_status(e), 503);
  auto j = explanation_to_json(e);
  EXPECT_EQ(j["error"]["code"], "Unavailable");
  EXPECT_EQ(j["error"]["status"], 503);
  EXPECT_EQ(j["message"], j["error"]["message"]);
  EXPECT_TRUE(j["image"]["platforms"].is_null());
  EXPECT_FALSE(j.contains("backend"));
  auto back = explanation_from_json(j.dump());
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(back->error.has_value());
  EXPECT_EQ(back->error->code, ErrorCode::Unavailable);
  EXPECT_FALSE(back->image_platforms.has_value());
  EXPECT_EQ(explanation_text(*back).rfind("error (503 Unavailable): backend rosetta", 0), 0u);
}

TEST(Explain, InvalidReferenceIsTheError) {
  auto e = explain(query("UPPER//case", std::nullopt, "linux/amd64"), RouteEnv{});
  ASSERT_TRUE(e.error.has_value());
  EXPECT_EQ(explanation_status(e), 400);
  EXPECT_NE(e.error->message.find("invalid reference format"), std::string::npos);
  EXPECT_EQ(e.image, "UPPER//case");
}

TEST(Explain, AttestationEntriesAreNotPlatforms) {
  auto q = query("busybox", std::nullopt, "linux/amd64");
  q.image_platforms->push_back({"unknown", "unknown", ""});
  auto e = explain(q, RouteEnv{});
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(e.image_platforms, (std::vector<std::string>{"linux/amd64"}));
  EXPECT_EQ(e.decision->backend, "rosetta");
  EXPECT_EQ(e.decision->reason.find("unknown/unknown"), std::string::npos) << e.decision->reason;
}

TEST(Explain, FromJsonRejectsOtherShapes) {
  EXPECT_FALSE(explanation_from_json("not json").has_value());
  EXPECT_FALSE(explanation_from_json("[1]").has_value());
  EXPECT_FALSE(explanation_from_json(R"({"profile":"x"})").has_value());
  EXPECT_FALSE(explanation_from_json(R"({"error":{"code":"Nope","message":"m"}})").has_value());
  // A plain Docker error (a daemon without the endpoint) is kept as an error.
  auto plain = explanation_from_json(R"({"message":"page not found"})");
  ASSERT_TRUE(plain.has_value());
  ASSERT_TRUE(plain->error.has_value());
  EXPECT_EQ(plain->error->message, "page not found");
}

TEST(Explain, ErrorCodeIdsRoundTrip) {
  for (auto c : {ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::InvalidArgument,
                 ErrorCode::Unavailable, ErrorCode::Timeout, ErrorCode::Io, ErrorCode::Internal})
    EXPECT_EQ(parse_error_code_id(error_code_id(c)), c);
  EXPECT_EQ(parse_error_code_id("notfound"), std::nullopt);
}

}  // namespace
