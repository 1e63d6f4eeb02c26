#pragma once
// Host directories shared into both utility VMs (virtio-9p), each mounted in the guest at the
// same absolute path, so a bind source the client names on the host means the same files in
// either VM. Pure: the daemon checks the directories exist; the guest mounts what the kernel
// command line lists (vmtemplates/guest/README.md, "Shares").
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::vm {

struct Share {
  std::string path;  // absolute and lexically normal, on the host and in the guest
  std::string tag;   // the 9p mount tag: "twinbox-share0", ...
};

// The 9p tag of the global volume directory (<state>/volumes, mounted on the guest engine's
// /var/lib/docker/volumes).
inline constexpr const char* kVolumesTag = "twinbox-volumes";
inline constexpr const char* kGuestVolumesDir = "/var/lib/docker/volumes";

// `p` made absolute-normal: repeated and trailing slashes dropped, "." and ".." resolved
// lexically ("/a/../b" -> "/b", "/.." -> "/"). "" when `p` is not absolute.
std::string lexical_normal(std::string_view p);

// Whether normal path `path` is `root` or below it ("/tmpx" is not below "/tmp").
bool path_within(std::string_view path, std::string_view root);

// The shares for `dirs` (as given to --share): each made normal; refused (InvalidArgument,
// naming the directory) when relative or when it is, holds or lies in a directory the guest
// itself runs from (/usr, /etc, /var/lib/docker, ...: mounting the host's there would replace
// the guest's own). A directory inside another share is dropped (the outer one carries it);
// duplicates once. Tags in order.
Result<std::vector<Share>> plan_shares(const std::vector<std::string>& dirs);

// The share whose path holds normal path `path`, or nullptr.
const Share* share_holding(std::string_view path, const std::vector<Share>& shares);

// The kernel command line value listing the shares: "tag=path,tag=path", each path
// percent-encoded outside [A-Za-z0-9/._-] (so blanks, commas and '=' survive the command line).
std::string shares_cmdline_value(const std::vector<Share>& shares);

// One libvirt <filesystem> (virtio-9p, accessmode passthrough: the guest's uid, gid and mode
// are the host file's) per share, and the volume directory when `volumes_dir` is not "".
std::string filesystems_xml(const std::vector<Share>& shares, const std::string& volumes_dir);

}  // namespace twinbox::vm
