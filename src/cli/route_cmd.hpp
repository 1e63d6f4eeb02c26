#pragma once
// `twinbox route explain` and `twinbox route test`: the routing brain from the command line.
// explain is offline (pure router code) when --image-platforms is given, else it asks twinboxd
// (GET /twinbox/v1/route/explain); test runs a routing-case file offline.
#include <string>
#include <vector>

namespace twinbox::cli {

// `twinbox route SUBCOMMAND ARGS...`. explain: 0 for a decision, 1 for a refusal or when
// twinboxd cannot be asked; test: 0 when every case passed, 1 when one failed, 2 when the file
// cannot be read or parsed; 2 on a usage error.
int cmd_route(const std::string& socket_path, const std::vector<std::string>& args);

}  // namespace twinbox::cli
