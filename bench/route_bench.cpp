// route_bench: how fast the routing brain decides, and how fast the workload registry answers
// with 10 000 workloads. Pure code only (twinbox_core): no daemon, no VM. Not run by ctest.
//   build/bench/route_bench [SECONDS_PER_ROW]
// Prints one table: operations, total time, operations per second, nanoseconds per operation.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "router/decision_json.hpp"
#include "router/groups.hpp"
#include "router/run_decision.hpp"
#include "router/workload_registry.hpp"

using namespace twinbox;
using namespace twinbox::router;
using Clock = std::chrono::steady_clock;

namespace {

size_t g_sink = 0;  // results feed it so the optimizer keeps the work

std::optional<std::vector<platform::Platform>> offers(const char* list) {
  return *parse_platform_list(list);
}

// Runs `op` in batches until `seconds` have passed; prints one row.
void row(const char* what, double seconds, const std::function<void()>& op) {
  size_t n = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  size_t batch = 1;  // grows so the clock is read rarely for fast ops, often for slow ones
  do {
    for (size_t i = 0; i < batch; ++i) op();
    n += batch;
    if (batch < 1024) batch *= 2;
  } while (Clock::now() < deadline);
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("| %-46s | %10zu | %8.1f | %12.0f | %10.0f |\n", what, n, s * 1000, n / s,
              s * 1e9 / n);
}

std::string hex_id(std::mt19937_64& rng) {
  static const char* digits = "0123456789abcdef";
  std::string id(64, '0');
  for (auto& c : id) c = digits[rng() & 15];
  return id;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  if (seconds <= 0) seconds = 0.5;

  // A mix of run decisions: every rule's happy path and a few refusals.
  std::vector<RunRequest> mix;
  auto add = [&](std::optional<std::string> platform, const char* image_platforms) {
    RunRequest r;
    r.name = "web";
    r.query_platform = std::move(platform);
    r.image_platforms = offers(image_platforms);
    mix.push_back(r);
  };
  add("linux/arm64", "unknown");
  add("x86_64", "unknown");
  add(std::nullopt, "linux/amd64,linux/arm64");
  add(std::nullopt, "linux/amd64");
  add(std::nullopt, "linux/arm64/v8");
  add("linux/amd64", "linux/amd64,linux/arm64");
  add("linux/arm64", "linux/amd64");  // refused: not offered
  add("linux/arm/v7", "unknown");     // refused: apple-silicon has no AArch32
  add(std::nullopt, "linux/s390x");   // refused: nothing runnable
  add(std::nullopt, "unknown");
  RunRequest joining = mix[2];
  joining.group.project = ProjectPlacement{"shop", "rosetta", PlacementSource::Declared, ""};
  mix.push_back(joining);
  RunRequest pod = mix[3];
  pod.group.pod_peers = {{"db", "hv", "network_mode container:db"}};  // refused: conflict
  mix.push_back(pod);
  RouteEnv env;

  std::vector<ServiceSpec> services = {{"web", std::nullopt, offers("linux/amd64,linux/arm64")},
                                       {"api", std::nullopt, offers("linux/amd64,linux/arm64")},
                                       {"cache", std::nullopt, offers("linux/arm64,linux/amd64")},
                                       {"db", "linux/amd64", offers("linux/amd64")},
                                       {"worker", std::nullopt, offers("unknown")}};

  ExplainQuery q;
  q.image = "localhost:5000/twinbox/busybox:latest";
  q.image_platforms = offers("linux/amd64,linux/arm64");
  q.group.project_name = "shop";

  // The registry: 10 000 containers, half on each backend, each named.
  const int kWorkloads = 10000;
  std::mt19937_64 rng(42);
  WorkloadRegistry reg;
  std::vector<std::string> ids, names, prefixes;
  auto build_start = Clock::now();
  for (int i = 0; i < kWorkloads; ++i) {
    ids.push_back(hex_id(rng));
    names.push_back("svc-" + std::to_string(i));
    reg.record_container({ids.back(), i % 2 ? "rosetta" : "hv", names.back()});
  }
  double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - build_start).count();
  for (const auto& id : ids) prefixes.push_back(id.substr(0, 12));
  std::string serialized = reg.to_json();

  std::printf("route_bench: %.2f s per row, %zu decision inputs in the mix, %d workloads\n\n",
              seconds, mix.size(), kWorkloads);
  std::printf("| %-46s | %10s | %8s | %12s | %10s |\n", "operation", "ops", "ms", "ops/s", "ns/op");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(48, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str(), std::string(14, '-').c_str(),
              std::string(12, '-').c_str());

  size_t i = 0;
  row("decide_run, mixed cases (incl. refusals)", seconds, [&] {
    auto d = decide_run(mix[i++ % mix.size()], env);
    g_sink += d ? d->reason.size() : d.error().message.size();
  });
  row("decide_project, 5 services (one pinned amd64)", seconds, [&] {
    auto d = decide_project("shop", services, env);
    g_sink += d->services.size();
  });
  row("explain + JSON (the live endpoint's work)", seconds,
      [&] { g_sink += explanation_to_json(explain(q, env)).dump().size(); });
  i = 0;
  row("registry: find by full id (10k)", seconds,
      [&] { g_sink += reg.find_container(ids[i++ % ids.size()])->backend.size(); });
  i = 0;
  row("registry: find by name (10k)", seconds,
      [&] { g_sink += reg.find_container(names[i++ % names.size()])->backend.size(); });
  i = 0;
  std::vector<std::string> slashed;
  for (const auto& n : names) slashed.push_back("/" + n);
  row("registry: find by /name (10k)", seconds,
      [&] { g_sink += reg.find_container(slashed[i++ % slashed.size()])->backend.size(); });
  i = 0;
  row("registry: find by 12-char id prefix (10k)", seconds,
      [&] { g_sink += reg.find_container(prefixes[i++ % prefixes.size()])->backend.size(); });
  i = 0;
  row("registry: miss (NotFound) (10k)", seconds,
      [&] { g_sink += reg.find_container("nosuch-" + std::to_string(i++ & 1023)).has_value(); });
  row("registry: to_json, 10k workloads", seconds / 5, [&] { g_sink += reg.to_json().size(); });
  row("registry: from_json, 10k workloads", seconds / 5,
      [&] { g_sink += WorkloadRegistry::from_json(serialized)->containers().size(); });
  std::printf("\nbuilding the 10k registry: %.1f ms; its JSON: %zu bytes (sink %zu)\n", build_ms,
              serialized.size(), g_sink % 10);
  return 0;
}
