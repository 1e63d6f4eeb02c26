// twinbox-assets initramfs / module-order: resolve kernel modules from modules.dep and pack the
// stage-1 initramfs.
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "assets/cli_args.hpp"
#include "assets/commands.hpp"
#include "assets/initramfs_plan.hpp"
#include "assets/initramfs_writer.hpp"
#include "assets/module_deps.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

namespace twinbox::assets {

namespace {

int fail(const std::string& cmd, const Error& e) {
  std::fprintf(stderr, "twinbox-assets %s: %s\n", cmd.c_str(), e.message.c_str());
  return 1;
}

struct ModuleSelection {
  std::string modules_root;  // holds <version>/
  std::vector<std::string> paths;
};

// --kernel-modules is the directory holding <version>/ (".../lib/modules"); the version
// directory itself is accepted too.
Result<std::string> modules_root(const std::string& dir, const std::string& version) {
  if (fs::exists(dir + "/" + version + "/modules.dep")) return dir;
  if (fs::exists(dir + "/modules.dep") && split(dir, '/').back() == version)
    return fs::dirname(dir);
  return make_error(ErrorCode::NotFound, "no modules.dep for kernel " + version + " under " + dir +
                                             " (run depmod -b <root> " + version + " first)");
}

Result<ModuleSelection> select_modules(const CliArgs& args) {
  TRY_ASSIGN(std::string dir, args.one("kernel-modules"));
  TRY_ASSIGN(std::string version, args.one("kernel-version"));
  std::vector<std::string> names = args.all("module");
  if (names.empty()) return make_error(ErrorCode::InvalidArgument, "missing --module NAME...");
  ModuleSelection sel;
  TRY_ASSIGN(sel.modules_root, modules_root(dir, version));
  const std::string vdir = sel.modules_root + "/" + version;
  auto dep_text = fs::read_file(vdir + "/modules.dep");
  if (!dep_text) return dep_text.error().context("read modules.dep");
  TRY_ASSIGN(ModuleIndex index, parse_modules_dep(*dep_text));
  std::set<std::string> builtin;
  if (auto b = fs::read_file(vdir + "/modules.builtin")) builtin = parse_modules_builtin(*b);
  auto order = resolve_load_order(index, names, builtin);
  if (!order) return order.error().context("resolve modules of kernel " + version);
  sel.paths = std::move(order).value();
  return sel;
}

Status build(const CliArgs& args) {
  TRY(args.only({"out", "init", "busybox", "kernel-modules", "kernel-version", "module"}));
  TRY_ASSIGN(std::string out, args.one("out"));
  InitramfsInputs in;
  TRY_ASSIGN(in.init, args.one("init"));
  TRY_ASSIGN(in.busybox, args.one("busybox"));
  TRY_ASSIGN(in.kernel_version, args.one("kernel-version"));
  TRY_ASSIGN(ModuleSelection sel, select_modules(args));
  in.modules_root = sel.modules_root;
  in.module_paths = sel.paths;
  TRY(write_initramfs(out, plan_initramfs(in)));
  struct stat st {};
  ::stat(out.c_str(), &st);
  std::fprintf(stderr, "twinbox-assets initramfs: wrote %s (%lld bytes, %zu modules)\n",
               out.c_str(), static_cast<long long>(st.st_size), sel.paths.size());
  return {};
}

}  // namespace

int run_initramfs(const std::vector<std::string>& argv) {
  auto args = CliArgs::parse(argv);
  if (!args) return fail("initramfs", args.error());
  if (auto st = build(*args); !st) return fail("initramfs", st.error());
  return 0;
}

int run_module_order(const std::vector<std::string>& argv) {
  auto args = CliArgs::parse(argv);
  if (!args) return fail("module-order", args.error());
  if (auto st = args->only({"kernel-modules", "kernel-version", "module"}); !st)
    return fail("module-order", st.error());
  auto sel = select_modules(*args);
  if (!sel) return fail("module-order", sel.error());
  for (const std::string& p : sel->paths) std::printf("%s\n", p.c_str());
  return 0;
}

}  // namespace twinbox::assets
