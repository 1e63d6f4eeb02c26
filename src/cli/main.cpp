// twinbox: the command line for twinboxd. One function per command; each talks only to the
// daemon's socket (doctor also inspects the host, which is its job).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/client.hpp"
#include "cli/compose_cmd.hpp"
#include "cli/doctor.hpp"
#include "cli/image_cmd.hpp"
#include "cli/route_cmd.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

using json = nlohmann::json;
using namespace twinbox;

namespace {

const char* kUsage =
    "usage: twinbox [--socket PATH] COMMAND\n"
    "  status [--wait SECONDS] [--json]  both utility VMs: state, arch, accelerator, translator\n"
    "  down [--timeout SECONDS]          ACPI shutdown of both VMs, then twinboxd exits\n"
    "  down --keep-vms                   twinboxd exits, the VMs and containers keep running:\n"
    "                                    the next twinboxd adopts them (a restart, an upgrade)\n"
    "  doctor                            check this host's prerequisites\n"
    "  compose [-f F]... [-p P] [--mixed] ARGS  declare the project, then run docker-compose\n"
    "  images [--json]                   both engines' images: backend and platform of each\n"
    "  image import|export|ls|prune|prewarm     the host image store (image --help)\n"
    "  route explain --image REF [--platform P] [--project NAME] [--image-platforms P1,P2]\n"
    "        [--profile NAME] [--json]   which backend would run REF, and why (route --help)\n"
    "  route test [--verbose] FILE       check a file of routing cases; exit 1 on a failure\n"
    "The socket is --socket, else $TWINBOX_SOCKET, else <state dir>/docker.sock.\n";

std::string default_socket() {
  if (const char* s = std::getenv("TWINBOX_SOCKET")) return s;
  std::string state;
  if (const char* s = std::getenv("TWINBOX_STATE_DIR")) {
    state = s;
  } else {
    const char* x = std::getenv("XDG_STATE_HOME");
    const char* h = std::getenv("HOME");
    state = (x ? std::string(x) : std::string(h ? h : "/root") + "/.local/state") + "/twinbox";
  }
  return state + "/docker.sock";
}

Result<json> get_status(const std::string& sock) {
  TRY_ASSIGN(cli::Response r, cli::request(sock, "GET", "/twinbox/v1/status"));
  auto j = parse_json<json>(r.body);
  if (r.status != 200 || j.is_discarded())
    return make_error(ErrorCode::Io,
                      "status: twinboxd answered " + std::to_string(r.status) + ": " + r.body);
  return j;
}

int cmd_images(const std::string& sock, const std::vector<std::string>& args) {
  bool as_json = !args.empty() && args[0] == "--json";
  if (!args.empty() && !as_json) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto r = cli::request(sock, "GET", "/twinbox/v1/engine-images");
  auto j = r ? parse_json<json>(r->body) : json();
  if (!r || r->status != 200 || !j.is_array()) {
    std::fprintf(stderr, "twinbox: list the engines' images: %s\n",
                 r ? r->body.c_str() : r.error().message.c_str());
    return 1;
  }
  if (as_json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%-50s %-14s %-8s %-16s %s\n", "REPOSITORY:TAG", "IMAGE ID", "BACKEND", "PLATFORM",
              "SIZE");
  for (const auto& img : j) {
    std::string id = img.value("id", "");
    if (id.rfind("sha256:", 0) == 0) id = id.substr(7, 12);
    auto tags = img.value("repo_tags", json::array());
    if (tags.empty()) tags.push_back("<none>:<none>");
    for (const auto& t : tags)
      std::printf("%-50s %-14s %-8s %-16s %.1fMB\n", t.get<std::string>().c_str(), id.c_str(),
                  img.value("backend", "").c_str(), img.value("platform", "").c_str(),
                  static_cast<double>(img.value("size", int64_t{0})) / 1e6);
  }
  return 0;
}

void print_status(const json& j) {
  std::printf("%-8s %-9s %-6s %-12s %-12s %-5s %-26s %-24s %s\n", "BACKEND", "STATE", "ARCH",
              "NATIVE", "TRANSLATED", "ACCEL", "TRANSLATOR", "ENGINE", "DETAIL");
  auto or_none = [](const json& b, const char* key) {
    std::string v = b.value(key, "");
    return v.empty() ? std::string("none") : v;
  };
  for (const auto& b : j.value("backends", json::array())) {
    std::string engine =
        b.value("engine_api_version", "").empty()
            ? std::string("-")
            : b.value("engine_version", "") + " (API " + b.value("engine_api_version", "") + ")";
    std::printf("%-8s %-9s %-6s %-12s %-12s %-5s %-26s %-24s %s\n", b.value("name", "").c_str(),
                b.value("state", "").c_str(), b.value("vm_arch", "").c_str(),
                or_none(b, "native").c_str(), or_none(b, "translated").c_str(),
                b.value("accelerator", "").c_str(), or_none(b, "translator").c_str(),
                engine.c_str(), b.value("detail", "").c_str());
  }
  auto daemon = j.value("daemon", json::object());
  for (const auto& o : daemon.value("orphans_ended", json::array()))
    if (o.is_string()) std::printf("ended at start, orphaned: %s\n", o.get<std::string>().c_str());
}

// 0: every backend running; 1: one failed (and not being restarted); 2: still starting.
int readiness(const json& j) {
  bool all = true;
  for (const auto& b : j.value("backends", json::array())) {
    std::string s = b.value("state", "");
    if ((s == "failed" && !b.value("restarting", false)) || s == "stopped") return 1;
    if (s != "running") all = false;
  }
  return all ? 0 : 2;
}

int cmd_status(const std::string& sock, const std::vector<std::string>& args) {
  int wait_s = 0;
  bool as_json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--wait" && i + 1 < args.size())
      wait_s = std::atoi(args[++i].c_str());
    else if (args[i] == "--json")
      as_json = true;
    else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  for (;;) {
    auto st = get_status(sock);
    int ready = st ? readiness(*st) : 2;
    bool timed_out = std::chrono::steady_clock::now() >= deadline;
    if (st && (ready != 2 || timed_out)) {
      if (as_json)
        std::printf("%s\n", st->dump(2).c_str());
      else
        print_status(*st);
      if (ready == 2 && wait_s > 0)
        std::fprintf(stderr, "twinbox: backends still starting after %d s\n", wait_s);
      return wait_s > 0 ? (ready == 0 ? 0 : 1) : 0;
    }
    if (!st && timed_out) {
      std::fprintf(stderr, "twinbox: %s\n", st.error().message.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int cmd_down(const std::string& sock, const std::vector<std::string>& args) {
  int timeout_s = 120;
  bool keep_vms = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--timeout" && i + 1 < args.size())
      timeout_s = std::atoi(args[++i].c_str());
    else if (args[i] == "--keep-vms")
      keep_vms = true;
    else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  // Read the pid first: "stopped" means the process has exited (and released the libvirt
  // root's lock), not merely that its socket went away.
  std::string pid_file = fs::dirname(sock) + "/twinboxd.pid";
  auto pid_text = fs::read_file(pid_file);
  pid_t pid = pid_text ? std::atoi(pid_text->c_str()) : 0;
  auto r = cli::request(sock, "POST",
                        std::string("/twinbox/v1/shutdown") + (keep_vms ? "?keep_vms=1" : ""));
  if (!r) {
    std::fprintf(stderr, "twinbox down: %s\n", r.error().message.c_str());
    return 1;
  }
  if (r->status != 202 && r->status != 200) {
    std::fprintf(stderr, "twinbox down: twinboxd answered %d: %s\n", r->status, r->body.c_str());
    return 1;
  }
  std::printf(keep_vms ? "twinbox: stopping twinboxd; the utility VMs and their containers keep "
                         "running for the next twinboxd to adopt\n"
                       : "twinbox: shutting down both utility VMs\n");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    bool gone = pid > 0 ? (::kill(pid, 0) != 0 && errno == ESRCH)
                        : (!fs::exists(pid_file) && !cli::request(sock, "GET", "/_ping"));
    if (gone) {
      std::printf("twinbox: twinboxd stopped\n");
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::fprintf(stderr, "twinbox down: twinboxd still running after %d s\n", timeout_s);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string sock = default_socket();
  if (args.size() >= 2 && args[0] == "--socket") {
    sock = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "status") return cmd_status(sock, args);
  if (cmd == "down") return cmd_down(sock, args);
  if (cmd == "doctor") return cli::cmd_doctor(sock);
  if (cmd == "compose") return cli::cmd_compose(sock, args);
  if (cmd == "image") return cli::cmd_image(sock, args);
  if (cmd == "images") return cmd_images(sock, args);
  if (cmd == "route") return cli::cmd_route(sock, args);
  std::fprintf(stderr, "twinbox: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}
