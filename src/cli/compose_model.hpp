#pragma once
// `twinbox compose`, the pure half: its command line, docker-compose 1.29's project name, and
// the project declaration built from the JSON form of `docker-compose config`. No process,
// file or environment access here; compose_cmd.cpp gathers those inputs.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::cli {

// `twinbox compose [OPTIONS] ARGS...` split into what twinbox reads and what docker-compose gets.
struct ComposeArgs {
  std::vector<std::string> files;     // -f/--file, in order
  std::string project_name;           // -p/--project-name, "" when absent
  std::string project_directory;      // --project-directory, "" when absent
  std::string env_file;               // --env-file (forwarded to both compose calls)
  std::vector<std::string> profiles;  // --profile (forwarded to both compose calls)
  bool mixed = false;                 // --mixed: ask for the experimental mixed-backend mode
  std::vector<std::string> rest;      // the compose command and its arguments ("up", "-d")
};

// Options are read until the first argument that is not one of them (the compose command).
// InvalidArgument for an option without its value, `-f -` (the file would have to be read
// twice), or no compose command at all.
Result<ComposeArgs> parse_compose_args(const std::vector<std::string>& args);

// The compose command ("up", "down"...): the first of `rest` not starting with '-'; "" if none.
std::string compose_command(const ComposeArgs& a);

// docker-compose's global options for the project, with `-p project` always given explicitly
// so the containers carry exactly the name that was declared.
std::vector<std::string> compose_global_argv(const ComposeArgs& a, const std::string& project);

// docker-compose 1.29's normalize_name: lowercased, characters other than [-_a-z0-9] removed.
std::string normalize_project_name(std::string_view name);

// docker-compose 1.29's get_project_name: the -p value, else COMPOSE_PROJECT_NAME (from the
// environment or the project's .env file), else the project directory's basename, each
// normalized; "default" when that leaves nothing.
std::string compose_project_name(const std::string& explicit_name, const std::string& env_name,
                                 const std::string& project_dir);

// The value of `key` in a compose .env file's text ("KEY=VALUE" lines, '#' comments, optional
// quotes around the value); "" when absent.
std::string env_file_value(std::string_view text, std::string_view key);

struct ComposeService {
  std::string name;
  std::string image;     // services.<name>.image, or "<project>_<name>" for a build-only one
  std::string platform;  // services.<name>.platform, else build.platform, else the default
  bool built = false;    // true when the image comes from a build: section
};

// The services of `docker-compose config` output (as JSON), sorted by name as compose prints
// them. `default_platform` is $DOCKER_DEFAULT_PLATFORM, which compose applies to services
// without a platform. InvalidArgument for bad JSON, no services, or a service with neither image
// nor build.
Result<std::vector<ComposeService>> compose_services(std::string_view config_json,
                                                     const std::string& project,
                                                     const std::string& default_platform);

// The body of POST /twinbox/v1/projects/{name}.
nlohmann::json declare_request(const std::vector<ComposeService>& services, bool mixed);

// "project P → BACKEND (reason)" from the daemon's answer to a declaration.
std::string describe_declaration(const nlohmann::json& answer);

// The message in a daemon error body (Docker's {"message": ...}); the trimmed body otherwise,
// or "HTTP <status>" when it is empty.
std::string daemon_message(int status, std::string_view body);

}  // namespace twinbox::cli
