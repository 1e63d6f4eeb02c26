// twinbox-assets binfmt-rule: print the binfmt_misc register line for a translator.
#include <cstdio>
#include <string>
#include <vector>

#include "assets/cli_args.hpp"
#include "assets/commands.hpp"
#include "guest/binfmt.hpp"
#include "platform/arch_table.hpp"
#include "util/strings.hpp"

namespace twinbox::assets {

namespace {

Result<std::string> rule(const std::vector<std::string>& argv) {
  TRY_ASSIGN(CliArgs args, CliArgs::parse(argv));
  TRY(args.only({"arch", "name", "interpreter", "flags"}));
  TRY_ASSIGN(std::string arch_name, args.one("arch"));
  TRY_ASSIGN(std::string name, args.one("name"));
  TRY_ASSIGN(std::string interpreter, args.one("interpreter"));
  TRY_ASSIGN(std::string flags, args.one("flags"));
  auto arch = platform::arch_info(arch_name);
  if (!arch)
    return make_error(ErrorCode::InvalidArgument, "unknown arch '" + arch_name + "' (known: " +
                                                      join(platform::known_arches(), ", ") + ")");
  return guest::binfmt_register_line(*arch, name, interpreter, flags);
}

}  // namespace

int run_binfmt_rule(const std::vector<std::string>& argv) {
  auto line = rule(argv);
  if (!line) {
    std::fprintf(stderr, "twinbox-assets binfmt-rule: %s\n", line.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", line->c_str());
  return 0;
}

}  // namespace twinbox::assets
