#include "cli/compose_cmd.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/compose_model.hpp"
#include "cli/stream_client.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace twinbox::cli {

using json = nlohmann::json;

namespace {

const char* kComposeUsage =
    "usage: twinbox compose [-f FILE]... [-p NAME] [--project-directory DIR] [--env-file FILE]\n"
    "                       [--profile P]... [--mixed] COMMAND [ARGS...]\n"
    "  Declares the project to twinboxd (all services on one backend: hv when every image\n"
    "  runs on arm64, rosetta as soon as one is amd64-only or pinned to amd64; --mixed asks\n"
    "  for the experimental per-service placement), then runs docker-compose against twinboxd.\n"
    "  `down` forgets the declaration once docker-compose succeeded.\n"
    "  $TWINBOX_COMPOSE and $TWINBOX_PYTHON replace docker-compose and python3.\n";

// docker-compose 1.29's default file names, searched from the current directory upwards.
const char* const kDefaultFiles[] = {"docker-compose.yml", "docker-compose.yaml", "compose.yml",
                                     "compose.yaml"};

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string abspath(const std::string& p) {
  namespace sfs = std::filesystem;
  return sfs::absolute(sfs::path(p.empty() ? "." : p)).lexically_normal().string();
}

std::string parent_dir(const std::string& file) {
  auto slash = file.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : file.substr(0, slash);
}

// The compose files docker-compose will read: -f, else $COMPOSE_FILE.
std::vector<std::string> config_files(const ComposeArgs& a) {
  if (!a.files.empty()) return a.files;
  std::string env = env_or("COMPOSE_FILE", "");
  if (env.empty()) return {};
  char sep = env_or("COMPOSE_PATH_SEPARATOR", ":")[0];
  std::vector<std::string> out;
  for (auto& f : split(env, sep))
    if (!f.empty()) out.push_back(f);
  return out;
}

// The project name exactly as docker-compose 1.29 computes it (cli/command.py): the working
// directory is --project-directory, else the first compose file's directory, else the
// directory where the default file is found; COMPOSE_PROJECT_NAME comes from the environment,
// else from the env file (--env-file, else <project dir>/.env).
std::string project_name(const ComposeArgs& a) {
  auto files = config_files(a);
  std::string override_dir = !a.project_directory.empty()
                                 ? a.project_directory
                                 : (files.empty() ? "" : parent_dir(files[0]));
  std::string env_name = env_or("COMPOSE_PROJECT_NAME", "");
  if (env_name.empty() && a.project_name.empty()) {
    std::string env_path =
        !a.env_file.empty() ? a.env_file : (override_dir.empty() ? "." : override_dir) + "/.env";
    if (auto text = fs::read_file(env_path))
      env_name = env_file_value(*text, "COMPOSE_PROJECT_NAME");
  }
  std::string working_dir;
  if (!override_dir.empty()) {
    working_dir = abspath(override_dir);
  } else if (!files.empty()) {
    working_dir = abspath(parent_dir(abspath(files[0])));
  } else {
    std::string dir = abspath(".");
    working_dir = dir;  // nothing found: docker-compose config reports it
    for (std::filesystem::path p = dir;; p = p.parent_path()) {
      bool found = false;
      for (const char* name : kDefaultFiles) found = found || fs::exists((p / name).string());
      if (found) {
        working_dir = p.string();
        break;
      }
      if (p == p.parent_path()) break;
    }
  }
  return compose_project_name(a.project_name, env_name, working_dir);
}

[[noreturn]] void exec_or_die(const std::vector<std::string>& argv) {
  std::vector<char*> c;
  for (const auto& s : argv) c.push_back(const_cast<char*>(s.c_str()));
  c.push_back(nullptr);
  ::execvp(c[0], c.data());
  std::fprintf(stderr, "twinbox: cannot run %s: %s\n", c[0], std::strerror(errno));
  ::_exit(127);
}

// Exit code of a finished child; 128+signal when killed, as shells report it.
int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// `docker-compose ... config | python3 -c <yaml to json>`: compose 1.29 prints the resolved
// configuration (interpolated, merged, extends applied) only as YAML; python3 and PyYAML are
// docker-compose's own dependencies. compose's stderr reaches the user unchanged.
Result<std::string> resolved_config_json(const std::vector<std::string>& compose_argv) {
  static const char* kYamlToJson =
      "import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";
  int p1[2], p2[2];
  if (::pipe2(p1, O_CLOEXEC) != 0 || ::pipe2(p2, O_CLOEXEC) != 0)
    return make_error(ErrorCode::Io, std::string("pipe: ") + std::strerror(errno));
  Fd c_read(p1[0]), c_write(p1[1]), j_read(p2[0]), j_write(p2[1]);
  pid_t compose = ::fork();
  if (compose == 0) {
    ::dup2(c_write.get(), 1);
    exec_or_die(compose_argv);
  }
  pid_t py = compose < 0 ? -1 : ::fork();
  if (py == 0) {
    ::dup2(c_read.get(), 0);
    ::dup2(j_write.get(), 1);
    exec_or_die({env_or("TWINBOX_PYTHON", "python3"), "-c", kYamlToJson});
  }
  c_read.reset();
  c_write.reset();
  j_write.reset();
  std::string out;
  Status read_st;
  if (py > 0) {
    auto r = read_to_eof(j_read.get());
    if (r)
      out = std::move(r).value();
    else
      read_st = r.error();
  }
  int compose_rc = compose > 0 ? wait_exit(compose) : -1;
  int py_rc = py > 0 ? wait_exit(py) : -1;
  if (compose < 0 || py < 0)
    return make_error(ErrorCode::Io, std::string("fork: ") + std::strerror(errno));
  if (compose_rc != 0)
    return make_error(ErrorCode::InvalidArgument, compose_argv[0] + " config failed (exit " +
                                                      std::to_string(compose_rc) +
                                                      "); its message is above");
  if (!read_st) return read_st.error();
  if (py_rc != 0)
    return make_error(ErrorCode::Internal,
                      "converting its YAML to JSON with python3 and PyYAML failed (exit " +
                          std::to_string(py_rc) + "); is python3-yaml installed?");
  return out;
}

}  // namespace

int cmd_compose(const std::string& socket_path, const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::fputs(kComposeUsage, stdout);
    return 0;
  }
  auto parsed = parse_compose_args(args);
  if (!parsed) {
    std::fprintf(stderr, "twinbox compose: %s\n%s", parsed.error().message.c_str(), kComposeUsage);
    return 2;
  }
  const ComposeArgs& a = *parsed;
  std::string project = project_name(a);
  if (project.empty()) {
    std::fprintf(stderr,
                 "twinbox compose: the project name is empty once normalized (only "
                 "[-_a-z0-9] are kept); pass -p NAME\n");
    return 2;
  }
  std::string compose_bin = env_or("TWINBOX_COMPOSE", "docker-compose");
  std::vector<std::string> argv{compose_bin};
  for (auto& g : compose_global_argv(a, project)) argv.push_back(std::move(g));
  std::string target = "/twinbox/v1/projects/" + url_encode(project);
  bool down = compose_command(a) == "down";

  if (!down) {
    // Declared before docker-compose creates anything, so the first container already lands
    // where the whole project belongs.
    std::string doing = "declaring project " + project;
    auto config_argv = argv;
    config_argv.push_back("config");
    auto cfg = resolved_config_json(config_argv);
    if (!cfg) {
      std::fprintf(stderr, "twinbox: reading the compose file: %s\n", cfg.error().message.c_str());
      return 1;
    }
    auto services = compose_services(*cfg, project, env_or("DOCKER_DEFAULT_PLATFORM", ""));
    if (!services) {
      std::fprintf(stderr, "twinbox: %s: %s\n", doing.c_str(), services.error().message.c_str());
      return 1;
    }
    RequestBody body;
    body.data = declare_request(*services, a.mixed).dump();
    body.content_type = "application/json";
    auto r = call(socket_path, "POST", target, body);
    if (!r) {
      std::fprintf(stderr, "twinbox: %s: %s\n", doing.c_str(), r.error().message.c_str());
      return 1;
    }
    auto answer = parse_json<json>(r->body);
    if (r->status != 200 || !answer.is_object()) {
      std::fprintf(stderr, "twinbox: %s: %s\n", doing.c_str(),
                   daemon_message(r->status, r->body).c_str());
      return 1;
    }
    std::fprintf(stderr, "twinbox: %s\n", describe_declaration(answer).c_str());
  }

  ::setenv("DOCKER_HOST", ("unix://" + socket_path).c_str(), 1);
  ::unsetenv("DOCKER_CONTEXT");  // a context would win over DOCKER_HOST in some clients
  for (const auto& r : a.rest) argv.push_back(r);
  std::fflush(nullptr);
  if (!down) exec_or_die(argv);

  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "twinbox: cannot run %s: fork: %s\n", argv[0].c_str(),
                 std::strerror(errno));
    return 1;
  }
  if (pid == 0) exec_or_die(argv);
  int rc = wait_exit(pid);
  if (rc != 0) return rc;  // containers may remain: keep the declaration that placed them
  auto r = call(socket_path, "DELETE", target);
  if (!r || (r->status != 204 && r->status != 200 && r->status != 404)) {
    std::fprintf(stderr, "twinbox: forgetting project %s: %s\n", project.c_str(),
                 r ? daemon_message(r->status, r->body).c_str() : r.error().message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace twinbox::cli
