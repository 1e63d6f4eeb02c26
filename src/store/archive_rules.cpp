#include "store/archive_rules.hpp"

#include <vector>

#include "platform/reference.hpp"
#include "util/strings.hpp"

namespace twinbox::store {

namespace {

Error entry_error(std::string_view name, const std::string& what) {
  return make_error(ErrorCode::InvalidArgument,
                    "archive entry \"" + std::string(name) + "\": " + what);
}

// Splits on '/', dropping empty and "." components.
std::vector<std::string> components(std::string_view p) {
  std::vector<std::string> out;
  for (auto& c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<std::string> normalize_archive_path(std::string_view name) {
  if (name.empty()) return entry_error(name, "empty name");
  for (char ch : name) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return entry_error(name, "control character in the name; refusing the archive");
    }
  }
  if (name[0] == '/') {
    return entry_error(name, "absolute path; image archives hold only relative paths");
  }
  auto parts = components(name);
  for (auto& c : parts) {
    if (c == "..") {
      return entry_error(name, "\"..\" in the path would escape the archive root; refusing it");
    }
  }
  if (parts.empty()) return std::string(".");
  return join(parts, "/");
}

Result<std::string> resolve_link_target(std::string_view entry_path, std::string_view target,
                                        bool hardlink) {
  const char* kind = hardlink ? "hardlink" : "symlink";
  if (target.empty()) return entry_error(entry_path, std::string(kind) + " with an empty target");
  if (target[0] == '/') {
    return entry_error(entry_path, std::string(kind) + " to the absolute path \"" +
                                       std::string(target) + "\" points outside the archive");
  }
  std::vector<std::string> base;
  if (!hardlink) {
    base = components(entry_path);
    if (!base.empty()) base.pop_back();  // relative to the link's own directory
  }
  for (auto& c : components(target)) {
    if (c == "..") {
      if (base.empty()) {
        return entry_error(entry_path, std::string(kind) + " to \"" + std::string(target) +
                                           "\" escapes the archive root");
      }
      base.pop_back();
    } else {
      base.push_back(c);
    }
  }
  if (base.empty()) {
    return entry_error(entry_path,
                       std::string(kind) + " to \"" + std::string(target) + "\" is the root");
  }
  return join(base, "/");
}

Result<std::string> oci_archive_reference(const std::map<std::string, std::string>& annotations,
                                          std::string_view name_option) {
  auto named = [](std::string_view s, std::string_view source) -> Result<std::string> {
    auto r = platform::parse_reference(s);
    if (!r)
      return r.error().context("image name \"" + std::string(s) + "\" from " + std::string(source));
    return r->canonical();
  };
  if (auto it = annotations.find(std::string(kContainerdNameAnnotation));
      it != annotations.end() && !it->second.empty()) {
    return named(it->second, kContainerdNameAnnotation);
  }
  auto it = annotations.find(std::string(kRefNameAnnotation));
  if (it == annotations.end() || it->second.empty()) {
    if (name_option.empty()) {
      return make_error(ErrorCode::InvalidArgument,
                        "the archive names no image (no " + std::string(kRefNameAnnotation) +
                            " or " + std::string(kContainerdNameAnnotation) +
                            " annotation); pass --name REPOSITORY[:TAG] to give it one");
    }
    return named(name_option, "--name");
  }
  const std::string& ref = it->second;
  // A full reference has a repository; a bare word could be either, and the OCI image-layout
  // spec's own example (and skopeo) write just the tag, so a bare word is read as a tag.
  bool full = ref.find('/') != std::string::npos || ref.find('@') != std::string::npos ||
              ref.find(':') != std::string::npos;
  if (full) return named(ref, kRefNameAnnotation);
  if (name_option.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "the archive names its image only by the tag \"" + ref + "\" (annotation " +
                          std::string(kRefNameAnnotation) +
                          "); pass --name REPOSITORY (e.g. --name twinbox/busybox) to import it "
                          "as REPOSITORY:" +
                          ref);
  }
  std::string repo(name_option);
  // "--name repo:tag" for a tagged archive: the archive's tag wins only when --name has none.
  auto slash = repo.rfind('/');
  auto colon = repo.rfind(':');
  bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (has_tag || repo.find('@') != std::string::npos) return named(repo, "--name");
  return named(repo + ":" + ref, "--name and the archive's tag");
}

}  // namespace twinbox::store
