#include "cli/doctor.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/client.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"
#include "util/subprocess.hpp"
#include "vm/accel.hpp"

namespace twinbox::cli {

namespace {

struct Check {
  std::string what;
  bool ok;
  std::string detail;
};

Check tool(const std::string& name, const std::string& why) {
  auto r = run_capture({"sh", "-c", "command -v " + name});
  bool ok = r && r->exit_code == 0;
  return {name, ok,
          ok ? std::string(trim(r->output)) : "missing (" + why + "); run scripts/install-deps"};
}

}  // namespace

int cmd_doctor(const std::string& socket_path) {
  std::vector<Check> checks = {
      tool("qemu-system-aarch64", "runs the arm64 utility VMs"),
      tool("ssh", "the channel to each guest engine"),
      tool("ssh-keygen", "keys for that channel"),
      tool("mkfs.ext4", "creates each VM's data disk"),
      tool("docker", "the client users point at twinbox"),
  };
  std::string kvm = vm::probe_kvm();
  auto accel = vm::choose_accelerator(vm::host_oci_arch(), "arm64", kvm.empty(), kvm);
  checks.push_back({"accelerator", true, accel.reason});
  const char* cache = std::getenv("TWINBOX_CACHE_DIR");
  const char* home = std::getenv("HOME");
  std::string assets =
      (cache ? std::string(cache) : std::string(home ? home : "/root") + "/.cache/twinbox") +
      "/assets/current";
  bool have_assets = fs::exists(assets + "/base.img");
  checks.push_back({"guest assets", have_assets,
                    have_assets ? assets : assets + " missing; run scripts/build-guest-assets"});
  auto st = request(socket_path, "GET", "/twinbox/v1/status");
  if (st && st->status == 200) {
    auto j = parse_json<nlohmann::json>(st->body);
    for (const auto& b : j.is_discarded() ? nlohmann::json::array()
                                          : j.value("backends", nlohmann::json::array())) {
      bool ok = b.value("state", "") == "running";
      checks.push_back({"backend " + b.value("name", "?"), ok,
                        b.value("state", "") + " (" + b.value("platform", "") + ", " +
                            b.value("accelerator", "") + ", translator " +
                            b.value("translator", "") + ") " + b.value("detail", "")});
    }
  } else {
    checks.push_back(
        {"twinboxd", false, "not answering on " + socket_path + "; start it with scripts/run"});
  }
  int failed = 0;
  for (const auto& c : checks) {
    std::printf("%s %-22s %s\n", c.ok ? "ok  " : "FAIL", c.what.c_str(), c.detail.c_str());
    if (!c.ok) ++failed;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace twinbox::cli
