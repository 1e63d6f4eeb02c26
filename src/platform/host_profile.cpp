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
  // The flags are those of the rule the guest assets install (vmtemplates/guest/README.md).
  Translator qemu_x86_64{"qemu-x86_64", {linux_platform("amd64")}, "POCF", "Rosetta"};
  const std::string x86_limits =
      "rosetta translates 64-bit x86 at the baseline level only (no 386, no amd64/v2 and above)";

  // Both utility VMs are arm64 guests of one host CPU: each runs the host's native platforms.
  std::vector<Platform> apple_native{linux_platform("arm64")};
  const std::string apple_limits =
      "Apple silicon runs linux/arm64 (the v8 baseline) only: it has no AArch32 (32-bit ARM) "
      "execution state";
  HostProfile apple{
      "apple-silicon",
      "Apple silicon: arm64 natively on hv and rosetta, amd64 through Rosetta on rosetta",
      {{"hv", apple_native, {}, {"arm64", "arm"}, apple_limits},
       {"rosetta", apple_native, {qemu_x86_64}, {"amd64", "386"}, x86_limits}}};

  // containerd's full arm64 vector: right on cores that execute AArch32 at EL0 (Cortex-A72,
  // Neoverse N1, ...), which is what a generic arm64 Linux host or a TCG guest provides.
  std::vector<Platform> generic_native{linux_platform("arm64"), linux_platform("arm", "v8"),
                                       linux_platform("arm", "v7"), linux_platform("arm", "v6"),
                                       linux_platform("arm", "v5")};
  const std::string generic_limits =
      "this host runs linux/arm64 (the v8 baseline) and 32-bit linux/arm/v8 down to v5";
  HostProfile generic{
      "generic-arm64",
      "generic arm64 host with AArch32: arm64 and arm/v8..v5 natively on hv and rosetta, amd64 "
      "translated on rosetta",
      {{"hv", generic_native, {}, {"arm64", "arm"}, generic_limits},
       {"rosetta", generic_native, {qemu_x86_64}, {"amd64", "386"}, x86_limits}}};
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

std::optional<Runs> how_runs(const BackendSupport& b, const Platform& n) {
  if (contains(b.native, n)) return Runs{b.name, Execution::Native, nullptr};
  if (const Translator* t = b.translator_for(n)) return Runs{b.name, Execution::Translated, t};
  return std::nullopt;
}

std::string runs_text(const Platform& p, const Runs& r, const std::string& profile) {
  return p.to_string() + " runs on " + r.backend + " (" + r.how() + ", host profile " + profile +
         ")";
}

BackendMatch matched(const Platform& n, const Runs& r, const std::string& profile) {
  return {r.backend, runs_text(n, r, profile), r};
}

std::string platform_names(const std::vector<Platform>& ps) {
  std::vector<std::string> names;
  names.reserve(ps.size());
  for (const auto& p : ps) names.push_back(p.to_string());
  return names.empty() ? "nothing" : join(names, ", ");
}

Error no_match(const HostProfile& profile, const std::vector<Platform>& entries,
               const std::string& wanted) {
  return make_error(ErrorCode::NotFound,
                    "no matching manifest for " + wanted +
                        " in the manifest list entries (the index has: " + platform_names(entries) +
                        "; host profile " + profile.name + " runs " + profile.accepted_text() +
                        ")");
}

std::optional<size_t> find_entry(const std::vector<Platform>& normalized, const Platform& p) {
  for (size_t i = 0; i < normalized.size(); ++i)
    if (normalized[i] == p) return i;
  return std::nullopt;
}

std::vector<Platform> normalized_all(const std::vector<Platform>& entries) {
  std::vector<Platform> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(normalize(e));
  return out;
}

}  // namespace

std::string translator_label(std::string_view name, std::string_view flags, std::string_view note) {
  return std::string(name) + " (binfmt " + (flags.empty() ? "no flags" : std::string(flags)) +
         (note.empty() ? "" : ", " + std::string(note)) + ")";
}

std::string runs_reason(const Platform& p, const Runs& r, std::string_view profile) {
  return runs_text(p, r, std::string(profile));
}

std::string_view execution_name(Execution e) {
  return e == Execution::Native ? "native" : "translated";
}

std::string Runs::how() const {
  if (execution == Execution::Native || translator == nullptr) return "native";
  return "translated by " + translator->name;
}

std::vector<Platform> BackendSupport::platforms() const {
  std::vector<Platform> out = native;
  for (const auto& t : translators)
    for (const auto& p : t.platforms)
      if (!contains(out, p)) out.push_back(p);
  return out;
}

const Translator* BackendSupport::translator_for(const Platform& p) const {
  for (const auto& t : translators)
    if (contains(t.platforms, p)) return &t;
  return nullptr;
}

BackendMatch HostProfile::backend_for(const Platform& p) const {
  Platform n = normalize(p);
  for (const auto& b : backends)
    if (contains(b.native, n)) return matched(n, *how_runs(b, n), name);
  for (const auto& b : backends)
    if (auto r = how_runs(b, n)) return matched(n, *r, name);
  return {std::nullopt,
          "host profile " + name + " cannot run " + n.to_string() + ": " + why_not(*this, n) +
              " (accepted: " + accepted_text() + ")",
          std::nullopt};
}

const std::string& HostProfile::default_backend() const {
  static const std::string kNone;
  return backends.empty() ? kNone : backends.front().name;
}

BackendMatch HostProfile::runs_on(std::string_view b, const Platform& p) const {
  Platform n = normalize(p);
  const BackendSupport* s = support(b);
  if (s)
    if (auto r = how_runs(*s, n)) return matched(n, *r, name);
  std::string bname(b);
  if (!s) return {std::nullopt, "host profile " + name + " has no backend " + bname, std::nullopt};
  std::string why = backend_for(n).backend ? "" : ": " + why_not(*this, n);
  return {std::nullopt,
          bname + " does not run " + n.to_string() + why + " (host profile " + name + "; " + bname +
              " runs " + platform_names(s->platforms()) + ")",
          std::nullopt};
}

const BackendSupport* HostProfile::support(std::string_view b) const {
  for (const auto& s : backends)
    if (s.name == b) return &s;
  return nullptr;
}

std::vector<Platform> HostProfile::accepted(std::string_view b) const {
  const BackendSupport* s = support(b);
  return s ? s->platforms() : std::vector<Platform>{};
}

std::string HostProfile::accepted_text() const {
  std::vector<std::string> parts;
  for (const auto& b : backends) {
    std::vector<std::string> names;
    for (const auto& p : b.native) names.push_back(p.to_string());
    for (const auto& t : b.translators)
      for (const auto& p : t.platforms) names.push_back(p.to_string() + " (translated)");
    parts.push_back(b.name + ": " + join(names, ", "));
  }
  return join(parts, "; ");
}

Result<IndexChoice> HostProfile::select_from_index(const std::vector<Platform>& entries,
                                                   const std::optional<Platform>& want) const {
  std::vector<Platform> normalized = normalized_all(entries);
  if (want) {
    for (const auto& c : compatible_platforms(*want)) {
      auto match = backend_for(c);
      auto i = match.backend ? find_entry(normalized, c) : std::nullopt;
      if (i)
        return IndexChoice{*i, *match.backend, c,
                           normalize(*want).to_string() + " requested: " + match.reason,
                           *match.runs};
    }
    return no_match(*this, normalized, normalize(*want).to_string());
  }
  // Native anywhere before translated anywhere; backends in preference order within each.
  auto choice = [&](size_t i, const Platform& p, const Runs& r) {
    return IndexChoice{i, r.backend, p,
                       "no platform requested: the image provides " + runs_text(p, r, name), r};
  };
  for (const auto& b : backends)
    for (const auto& p : b.native)
      if (auto i = find_entry(normalized, p))
        return choice(*i, p, Runs{b.name, Execution::Native, nullptr});
  for (const auto& b : backends)
    for (const auto& t : b.translators)
      for (const auto& p : t.platforms)
        if (auto i = find_entry(normalized, p); i && !contains(b.native, p))
          return choice(*i, p, Runs{b.name, Execution::Translated, &t});
  return no_match(*this, normalized, "this host");
}

std::optional<IndexChoice> HostProfile::select_on(std::string_view b,
                                                  const std::vector<Platform>& entries,
                                                  const std::optional<Platform>& want) const {
  const BackendSupport* s = support(b);
  if (!s) return std::nullopt;
  std::vector<Platform> normalized = normalized_all(entries);
  std::vector<Platform> candidates = want ? compatible_platforms(*want) : s->platforms();
  for (const auto& c : candidates) {
    auto r = how_runs(*s, c);
    auto i = r ? find_entry(normalized, c) : std::nullopt;
    if (!i) continue;
    std::string why = want ? normalize(*want).to_string() + " requested: "
                           : "no platform requested: the image provides ";
    return IndexChoice{*i, std::string(b), c, why + runs_text(c, *r, name), *r};
  }
  return std::nullopt;
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
