#include "vm/shares.hpp"

#include <cctype>

#include "util/strings.hpp"
#include "vm/domain_xml.hpp"

namespace twinbox::vm {

namespace {

// What the guest runs from: a share here would hide the guest's own files (vmtemplates/guest).
constexpr const char* kGuestSystemDirs[] = {"/bin",
                                            "/boot",
                                            "/data",
                                            "/dev",
                                            "/etc",
                                            "/lib",
                                            "/lib64",
                                            "/proc",
                                            "/run",
                                            "/sbin",
                                            "/sys",
                                            "/usr",
                                            "/var/lib/docker",
                                            "/var/lib/containerd",
                                            "/var/run"};

bool keep_in_cmdline(unsigned char c) {
  return std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string lexical_normal(std::string_view p) {
  if (p.empty() || p.front() != '/') return "";
  std::vector<std::string> parts;
  for (auto& part : split(p, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(std::move(part));
  }
  std::string out;
  for (const auto& part : parts) (out += '/') += part;
  return out.empty() ? "/" : out;
}

bool path_within(std::string_view path, std::string_view root) {
  if (root == "/") return !path.empty() && path.front() == '/';
  return path.substr(0, root.size()) == root &&
         (path.size() == root.size() || path[root.size()] == '/');
}

Result<std::vector<Share>> plan_shares(const std::vector<std::string>& dirs) {
  std::vector<std::string> paths;
  for (const auto& d : dirs) {
    std::string p = lexical_normal(d);
    if (p.empty())
      return make_error(ErrorCode::InvalidArgument,
                        "--share " + d +
                            ": give an absolute path (the directory is mounted at "
                            "the same path in both VMs)");
    for (const char* sys : kGuestSystemDirs)
      if (path_within(p, sys) || path_within(sys, p))
        return make_error(ErrorCode::InvalidArgument,
                          "--share " + d + ": " +
                              (p == sys              ? "is"
                               : path_within(p, sys) ? "is inside"
                                                     : "holds") +
                              " the utility VMs' own " + sys +
                              ", which a share mounted at the same path would replace; share "
                              "the directories your containers use (your home, a project "
                              "directory, /tmp)");
    paths.push_back(std::move(p));
  }
  std::vector<Share> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    bool inside_other = false;
    for (size_t j = 0; j < paths.size() && !inside_other; ++j)
      inside_other = j != i && path_within(paths[i], paths[j]) && (paths[i] != paths[j] || j < i);
    if (!inside_other) out.push_back(Share{paths[i], "twinbox-share" + std::to_string(out.size())});
  }
  return out;
}

const Share* share_holding(std::string_view path, const std::vector<Share>& shares) {
  for (const auto& s : shares)
    if (path_within(path, s.path)) return &s;
  return nullptr;
}

std::string shares_cmdline_value(const std::vector<Share>& shares) {
  std::string out;
  for (const auto& s : shares)
    out += (out.empty() ? "" : ",") + s.tag + "=" + percent_encode(s.path, keep_in_cmdline);
  return out;
}

std::string filesystems_xml(const std::vector<Share>& shares, const std::string& volumes_dir) {
  auto one = [](const std::string& dir, const std::string& tag) {
    // multidevs='remap': a share spanning several host file systems keeps distinct inode numbers.
    return "<filesystem type='mount' accessmode='passthrough' multidevs='remap'>"
           "<driver type='path'/><source dir='" +
           xml_escape(dir) + "'/><target dir='" + xml_escape(tag) + "'/></filesystem>";
  };
  std::string out;
  for (const auto& s : shares) out += one(s.path, s.tag);
  if (!volumes_dir.empty()) out += one(volumes_dir, kVolumesTag);
  return out;
}

}  // namespace twinbox::vm
