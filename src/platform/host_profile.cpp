#include "platform/host_profile.hpp"

#include "util/strings.hpp"

namespace twinbox::platform {

namespace {

Platform linux_platform(std::string arch, std::string variant = "") {
  return Platform{"linux", std::move(arch), std::move(variant)};
}

std::vector<HostProfile> make_profiles() {
  // Rosetta (and qemu-x86_64 standing in for it) is registered for 64-bit x86 ELF only: 386
  // binaries have another ELF class and e_machine, and Apple's Rosetta has no 32-bit mode.
  // amd64/v2+ stay out until the translator's CPU features are checked against those levels.
  BackendSupport rosetta{Backend::Rosetta,
                         {linux_platform("amd64")},
                         {"amd64", "386"},
                         "translated from x86-64",
                         "rosetta translates 64-bit x86 at the baseline level only (no 386, no "
                         "amd64/v2 and above)"};
  HostProfile apple{
      "apple-silicon",
      "Apple silicon: arm64 natively on hv, amd64 through Rosetta",
      {{Backend::Hv,
        {linux_platform("arm64")},
        {"arm64", "arm"},
        "native",
        "hv runs linux/arm64 (the v8 baseline) only: Apple silicon has no AArch32 (32-bit ARM) "
        "execution state"},
       rosetta}};
  // containerd's full arm64 vector: right on cores that execute AArch32 at EL0 (Cortex-A72,
  // Neoverse N1, ...), which is what a generic arm64 Linux host or a TCG guest provides.
  HostProfile generic{
      "generic-arm64",
      "generic arm64 host with AArch32: arm64 and arm/v8..v5 on hv, amd64 translated",
      {{Backend::Hv,
        {linux_platform("arm64"), linux_platform("arm", "v8"), linux_platform("arm", "v7"),
         linux_platform("arm", "v6"), linux_platform("arm", "v5")},
        {"arm64", "arm"},
        "native",
        "hv runs linux/arm64 (the v8 baseline) and 32-bit linux/arm/v8 down to v5"},
       rosetta}};
  return {apple, generic};
}

bool contains(const std::vector<Platform>& ps, const Platform& p) {
  for (const auto& q : ps)
    if (q == p) return true;
  return false;
}

// Why `p` cannot run: the limits of the backend whose family `p` belongs to, if any.
std::string why_not(const HostProfile& profile, const Platform& p) {
  if (p.os != "linux") return "twinbox runs Linux containers only";
  for (const auto& b : profile.backends) {
    for (const auto& arch : b.family)
      if (arch == p.arch) return b.limits;
  }
  return "no backend runs " + p.arch;
}

std::string runs_on(const Platform& p, const BackendSupport& b, const std::string& profile) {
  return p.to_string() + " runs on " + std::string(backend_name(b.backend)) + " (" + b.how +
         ", host profile " + profile + ")";
}

Error no_match(const HostProfile& profile, const std::vector<Platform>& entries,
               const std::string& wanted) {
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (const auto& e : entries) names.push_back(e.to_string());
  return make_error(ErrorCode::NotFound, "no matching manifest for " + wanted +
                                             " in the manifest list entries (the "
                                             "index has: " +
                                             (names.empty() ? "nothing" : join(names, ", ")) +
                                             "; host profile " + profile.name + " runs " +
                                             profile.accepted_text() + ")");
}

}  // namespace

std::string_view backend_name(Backend b) { return b == Backend::Hv ? "hv" : "rosetta"; }

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "hv") return Backend::Hv;
  if (name == "rosetta") return Backend::Rosetta;
  return std::nullopt;
}

BackendMatch HostProfile::backend_for(const Platform& p) const {
  Platform n = normalize(p);
  for (const auto& b : backends) {
    if (contains(b.platforms, n)) return {b.backend, runs_on(n, b, name)};
  }
  return {std::nullopt, "host profile " + name + " cannot run " + n.to_string() + ": " +
                            why_not(*this, n) + " (accepted: " + accepted_text() + ")"};
}

const std::vector<Platform>& HostProfile::accepted(Backend b) const {
  static const std::vector<Platform> kNone;
  for (const auto& s : backends)
    if (s.backend == b) return s.platforms;
  return kNone;
}

std::string HostProfile::accepted_text() const {
  std::vector<std::string> parts;
  for (const auto& b : backends) {
    std::vector<std::string> names;
    for (const auto& p : b.platforms) names.push_back(p.to_string());
    parts.push_back(std::string(backend_name(b.backend)) + ": " + join(names, ", "));
  }
  return join(parts, "; ");
}

Result<IndexChoice> HostProfile::select_from_index(const std::vector<Platform>& entries,
                                                   const std::optional<Platform>& want) const {
  std::vector<Platform> normalized;
  normalized.reserve(entries.size());
  for (const auto& e : entries) normalized.push_back(normalize(e));
  auto find = [&](const Platform& p) -> std::optional<size_t> {
    for (size_t i = 0; i < normalized.size(); ++i)
      if (normalized[i] == p) return i;
    return std::nullopt;
  };
  if (want) {
    for (const auto& c : compatible_platforms(*want)) {
      auto match = backend_for(c);
      auto i = match.backend ? find(c) : std::nullopt;
      if (i)
        return IndexChoice{*i, *match.backend, c,
                           normalize(*want).to_string() + " requested: " + match.reason};
    }
    return no_match(*this, normalized, normalize(*want).to_string());
  }
  for (const auto& b : backends) {
    for (const auto& p : b.platforms) {
      if (auto i = find(p))
        return IndexChoice{*i, b.backend, p,
                           "no platform requested: the image provides " + runs_on(p, b, name)};
    }
  }
  return no_match(*this, normalized, "this host");
}

const std::vector<HostProfile>& all_profiles() {
  static const std::vector<HostProfile> profiles = make_profiles();
  return profiles;
}

const HostProfile* find_profile(std::string_view name) {
  for (const auto& p : all_profiles())
    if (p.name == name) return &p;
  return nullptr;
}

const HostProfile& default_profile() { return *find_profile(kDefaultProfile); }

std::string profile_names_text() {
  std::vector<std::string> names;
  for (const auto& p : all_profiles()) names.push_back(p.name);
  return join(names, ", ");
}

}  // namespace twinbox::platform
