// Platform strings from clients (--platform, DOCKER_DEFAULT_PLATFORM, compose platform:) and
// from registries (index entries), and how the router matches and places them.
#include <cstdlib>

#include "fuzz_input.hpp"
#include "platform/host_profile.hpp"
#include "platform/platform.hpp"
#include "router/platform_route.hpp"
#include "router/run_decision.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::fields(fuzz::as_text(data, size), 2);
  auto want = platform::parse_platform(parts[0]);
  (void)router::parse_platform_list(parts.back());
  if (!want) return 0;
  auto n = platform::normalize(*want);
  auto compatible = platform::compatible_platforms(n);
  if (compatible.size() > 4096) std::abort();  // one entry per lower variant, bounded
  std::vector<platform::Platform> entries;
  if (auto have = platform::parse_platform(parts.back())) {
    (void)platform::matches(n, *have);
    entries.push_back(*have);
  }
  entries.push_back(n);
  (void)platform::select_from_index(entries, n);
  (void)router::backend_for_platform(parts[0], "fuzz");
  router::RunRequest req;
  req.query_platform = std::string(parts[0]);
  req.image_platforms = entries;
  (void)router::decide_run(req, router::RouteEnv{});
  return 0;
}
