#pragma once
// twinbox-assets subcommands. Each takes the arguments after its name, prints its result on
// stdout, its errors on stderr, and returns the process exit code.
#include <string>
#include <vector>

namespace twinbox::assets {

int run_initramfs(const std::vector<std::string>& args);
int run_module_order(const std::vector<std::string>& args);
int run_binfmt_rule(const std::vector<std::string>& args);

}  // namespace twinbox::assets
