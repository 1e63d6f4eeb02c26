#include "cli/route_cmd.hpp"

#include <cstdio>
#include <optional>

#include "cli/client.hpp"
#include "platform/host_profile.hpp"
#include "router/decision_json.hpp"
#include "router/route_cases.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

namespace twinbox::cli {

namespace {

const char* kRouteUsage =
    "usage: twinbox route explain --image REF [--platform P] [--project NAME]\n"
    "                             [--image-platforms P1,P2|unknown]\n"
    "                             [--profile apple-silicon|generic-arm64] [--json]\n"
    "         where REF would run and why; offline (no daemon) when --image-platforms is\n"
    "         given, else asked of twinboxd (which looks the image up)\n"
    "       twinbox route test [--verbose] FILE\n"
    "         runs a routing-case file (format: docs/examples/routing-cases.txt); PASS/FAIL per\n"
    "         case, exit 1 when any case failed\n";

int usage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twinbox route: %s\n", why.c_str());
  std::fputs(kRouteUsage, stderr);
  return 2;
}

int print(const router::Explanation& e, bool as_json) {
  if (as_json)
    std::printf("%s\n", router::explanation_to_json(e).dump(2).c_str());
  else
    std::fputs(router::explanation_text(e).c_str(), stdout);
  return e.error ? 1 : 0;
}

int cmd_explain(const std::string& sock, const std::vector<std::string>& args) {
  std::optional<std::string> image, platform, project, image_platforms, profile;
  bool as_json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::optional<std::string>& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    bool ok = true;
    if (a == "--image")
      ok = value(image);
    else if (a == "--platform")
      ok = value(platform);
    else if (a == "--project")
      ok = value(project);
    else if (a == "--image-platforms")
      ok = value(image_platforms);
    else if (a == "--profile")
      ok = value(profile);
    else if (a == "--json")
      as_json = true;
    else
      return usage("explain: unknown argument '" + a + "'");
    if (!ok) return usage("explain: " + a + " needs a value");
  }
  if (!image || image->empty()) return usage("explain: --image is required");

  if (image_platforms) {
    router::ExplainQuery q;
    q.image = *image;
    q.platform = platform;
    if (project) q.group.project_name = *project;
    auto ps = router::parse_platform_list(*image_platforms);
    if (!ps) return usage("explain: --image-platforms: " + ps.error().message);
    q.image_platforms = *ps;
    router::RouteEnv env;
    if (profile) {
      env.profile = platform::find_profile(*profile);
      if (!env.profile)
        return usage("explain: unknown host profile '" + *profile +
                     "' (known: " + platform::profile_names_text() + ")");
    }
    return print(router::explain(q, env), as_json);
  }

  if (profile)
    return usage(
        "explain: --profile applies offline only (with --image-platforms); twinboxd "
        "uses the profile it was started with");
  std::string path = "/twinbox/v1/route/explain?image=" + url_encode(*image);
  if (platform) path += "&platform=" + url_encode(*platform);
  if (project) path += "&project=" + url_encode(*project);
  auto r = request(sock, "GET", path);
  if (!r) {
    std::fprintf(stderr, "twinbox route explain: %s (or explain offline with --image-platforms)\n",
                 r.error().message.c_str());
    return 1;
  }
  auto e = router::explanation_from_json(r->body);
  if (!e) {
    std::fprintf(stderr, "twinbox route explain: twinboxd answered %d: %s\n", r->status,
                 r->body.c_str());
    return 1;
  }
  return print(*e, as_json);
}

int cmd_test(const std::vector<std::string>& args) {
  bool verbose = false;
  std::string file;
  for (const auto& a : args) {
    if (a == "--verbose" || a == "-v")
      verbose = true;
    else if (!file.empty() || (a.size() > 1 && a[0] == '-'))
      return usage("test: unexpected '" + a + "'");
    else
      file = a;
  }
  if (file.empty()) return usage("test: a case FILE is required");
  auto text = fs::read_file(file);
  if (!text) {
    std::fprintf(stderr, "twinbox route test: %s\n", text.error().message.c_str());
    return 2;
  }
  auto cases = router::parse_route_cases(*text);
  if (!cases) {
    std::fprintf(stderr, "twinbox route test: %s:%s\n", file.c_str(),
                 cases.error().message.substr(5).c_str());  // "line N: ..." -> "file:N: ..."
    return 2;
  }
  int passed = 0, failed = 0;
  for (const auto& c : *cases) {
    auto o = router::run_route_case(c);
    if (o.passed) {
      ++passed;
      std::printf("PASS  %s\n", c.name.c_str());
      if (verbose) std::printf("      %s\n", o.actual.c_str());
    } else {
      ++failed;
      std::printf("FAIL  %s (%s:%d)\n      expected: %s\n      actual:   %s\n", c.name.c_str(),
                  file.c_str(), c.line, o.expected.c_str(), o.actual.c_str());
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace

int cmd_route(const std::string& socket_path, const std::vector<std::string>& args) {
  if (args.empty()) return usage("");
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "explain") return cmd_explain(socket_path, rest);
  if (args[0] == "test") return cmd_test(rest);
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kRouteUsage, stdout);
    return 0;
  }
  return usage("unknown subcommand '" + args[0] + "'");
}

}  // namespace twinbox::cli
