#include "assets/initramfs_plan.hpp"

#include <set>

namespace twinbox::assets {

namespace {

class Planner {
 public:
  void dir(const std::string& path) {
    if (path.empty() || dirs_.count(path) != 0) return;
    auto slash = path.rfind('/');
    if (slash != std::string::npos) dir(path.substr(0, slash));
    dirs_.insert(path);
    InitramfsEntry e;
    e.path = path;
    e.type = EntryType::Directory;
    e.mode = 0755;
    out_.push_back(std::move(e));
  }

  void file(const std::string& path, const std::string& source, std::string data, unsigned mode) {
    parent(path);
    InitramfsEntry e;
    e.path = path;
    e.type = EntryType::File;
    e.mode = mode;
    e.source = source;
    e.data = std::move(data);
    out_.push_back(std::move(e));
  }

  void symlink(const std::string& path, const std::string& target) {
    parent(path);
    InitramfsEntry e;
    e.path = path;
    e.type = EntryType::Symlink;
    e.mode = 0777;
    e.link_target = target;
    out_.push_back(std::move(e));
  }

  void chardev(const std::string& path, unsigned mode, unsigned major, unsigned minor) {
    parent(path);
    InitramfsEntry e;
    e.path = path;
    e.type = EntryType::CharDevice;
    e.mode = mode;
    e.dev_major = major;
    e.dev_minor = minor;
    out_.push_back(std::move(e));
  }

  std::vector<InitramfsEntry> take() { return std::move(out_); }

 private:
  void parent(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos) dir(path.substr(0, slash));
  }

  std::set<std::string> dirs_;
  std::vector<InitramfsEntry> out_;
};

}  // namespace

std::vector<InitramfsEntry> plan_initramfs(const InitramfsInputs& in) {
  Planner p;
  for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp",
                        "newroot", "etc/twinbox"})
    p.dir(d);
  p.chardev("dev/console", 0600, 5, 1);
  p.chardev("dev/null", 0666, 1, 3);
  p.file("init", in.init, "", 0755);
  p.file("bin/busybox", in.busybox, "", 0755);
  p.symlink("bin/sh", "busybox");

  const std::string mod_dir = "lib/modules/" + in.kernel_version;
  p.dir(mod_dir);
  std::string load_list;
  for (const std::string& rel : in.module_paths) {
    p.file(mod_dir + "/" + rel, in.modules_root + "/" + in.kernel_version + "/" + rel, "", 0644);
    load_list += "/" + mod_dir + "/" + rel + "\n";
  }
  p.file(kModuleLoadList, "", load_list, 0644);
  return p.take();
}

}  // namespace twinbox::assets
