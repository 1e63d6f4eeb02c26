#include "platform/platform.hpp"

#include <algorithm>
#include <utility>

#include "util/strings.hpp"

namespace twinbox::platform {

namespace {

constexpr std::string_view kKnownOs[] = {
    "aix",   "android", "darwin", "dragonfly", "freebsd", "hurd",    "illumos", "ios",     "js",
    "linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "wasip1",  "windows", "zos"};

constexpr std::string_view kKnownArch[] = {
    "386",     "amd64",  "amd64p32", "arm",      "armbe",     "arm64",       "arm64be", "loong64",
    "mips",    "mipsle", "mips64",   "mips64le", "mips64p32", "mips64p32le", "ppc",     "ppc64",
    "ppc64le", "riscv",  "riscv64",  "s390",     "s390x",     "sparc",       "sparc64", "wasm"};

constexpr std::string_view kAcceptedForms =
    "accepted forms: os/arch[/variant] such as linux/arm64, linux/amd64, linux/arm/v7, or a bare "
    "architecture such as arm64, amd64, x86_64, aarch64";

Error invalid(std::string_view input, const std::string& what) {
  return make_error(ErrorCode::InvalidArgument, "invalid platform \"" + std::string(input) +
                                                    "\": " + what + "; " +
                                                    std::string(kAcceptedForms));
}

// The highest variant level twinbox reads (amd64 has v1..v4, arm v5..v8, arm64 v8.0..v9.x):
// levels are enumerated downwards, so an unbounded one would cost time and memory in proportion.
constexpr int kMaxVariantLevel = 99;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "v7" -> 7; nullopt for anything but "v" followed by one or two digits (no sign, no more).
std::optional<int> variant_number(std::string_view variant) {
  if (variant.size() < 2 || variant.size() > 3 || variant[0] != 'v') return std::nullopt;
  int n = 0;
  for (char c : variant.substr(1)) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n <= kMaxVariantLevel ? std::optional<int>(n) : std::nullopt;
}

// A variant written as a level ("v" then digits, dots or a sign) must be one twinbox can read:
// "v3", "v9.2"; "v300000000", "v-1" and "v9.2147483647" are refused rather than enumerated.
bool level_in_bounds(std::string_view variant) {
  if (variant.size() < 2 || variant[0] != 'v') return true;  // not a level: "armhf", ...
  for (size_t i = 1; i < variant.size(); ++i) {
    char c = variant[i];
    if (!is_digit(c) && c != '.' && c != '-' && c != '+') return true;
  }
  size_t dot = variant.find('.');
  if (!variant_number(variant.substr(0, dot))) return false;
  if (dot == std::string_view::npos) return true;
  return variant_number("v" + std::string(variant.substr(dot + 1))).has_value();
}

std::string normalize_os(std::string_view os) {
  std::string out = to_lower(os);
  if (out == "macos") return "darwin";
  return out;
}

// containerd's normalizeArch. `default_arm` turns an arm without a variant into arm/v7 (what
// containerd does); an image config without a variant is left alone so that matches() can apply
// the "no variant matches on os+arch" rule.
void normalize_arch(std::string& arch, std::string& variant, bool default_arm) {
  arch = to_lower(arch);
  variant = to_lower(variant);
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0") variant.clear();
    if (variant == "9" || variant == "9.0" || variant == "v9.0") variant = "v9";
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() && default_arm) variant = "v7";
    if (variant == "5" || variant == "6" || variant == "7" || variant == "8")
      variant = "v" + variant;
  }
}

// "v9.2" -> {9, 2}, "v8" -> {8, 0}; nullopt for anything else.
std::optional<std::pair<int, int>> arm64_level(std::string_view variant) {
  size_t dot = variant.find('.');
  auto major = variant_number(variant.substr(0, dot));
  if (!major) return std::nullopt;
  if (dot == std::string_view::npos) return std::pair{*major, 0};
  auto minor = variant_number("v" + std::string(variant.substr(dot + 1)));
  if (!minor) return std::nullopt;
  return std::pair{*major, *minor};
}

// containerd's arm64 vector after `w` itself: lower v9.x levels, then v8.{x+5} (v9.0 forked from
// v8.5) down to v8 (no variant), then AArch32 arm/v8 down to arm/v5. containerd also lists arm/v9
// for arm64/v9, which no image uses; it is left out.
void add_arm64_levels(const Platform& w, std::vector<Platform>& out) {
  auto add = [&](std::string arch, std::string variant) {
    out.push_back(Platform{w.os, std::move(arch), std::move(variant)});
  };
  auto level = arm64_level(w.variant.empty() ? "v8" : w.variant);
  if (level && level->first >= 8) {
    auto [major, minor] = *level;
    auto name = [](int ma, int mi) {
      if (ma == 8 && mi == 0) return std::string();
      return "v" + std::to_string(ma) + (mi == 0 ? "" : "." + std::to_string(mi));
    };
    if (major == 9) {
      for (int m = minor - 1; m >= 0; --m) add("arm64", name(9, m));
      major = 8;
      minor = std::min(minor + 5, 9);
      add("arm64", name(8, minor));
    }
    for (int m = minor - 1; m >= 0; --m) add("arm64", name(major, m));
  }
  for (int v = 8; v >= 5; --v) add("arm", "v" + std::to_string(v));
}

bool valid_component(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

// Assigns os/arch/variant from 1-3 valid components, or says what is wrong with them.
Result<Platform> from_parts(std::string_view input, const std::vector<std::string>& parts) {
  Platform p;
  std::string arch0 = parts[0], none;
  normalize_arch(arch0, none, true);
  if (parts.size() == 1) {
    if (is_known_os(normalize_os(parts[0])))
      return invalid(input, "\"" + parts[0] +
                                "\" names only an operating system, add the "
                                "architecture (e.g. " +
                                parts[0] + "/arm64)");
    if (!is_known_arch(arch0)) return invalid(input, "unknown architecture \"" + parts[0] + "\"");
    return Platform{"linux", parts[0], ""};
  }
  if (parts.size() == 2 && !is_known_os(normalize_os(parts[0]))) {
    if (is_known_os(normalize_os(parts[1])))
      return invalid(input,
                     "the operating system comes first (e.g. " + parts[1] + "/" + parts[0] + ")");
    if (is_known_arch(arch0)) return Platform{"linux", parts[0], parts[1]};  // "arm64/v8"
    return invalid(input, "unknown operating system \"" + parts[0] + "\"");
  }
  p.os = normalize_os(parts[0]);
  if (!is_known_os(p.os)) return invalid(input, "unknown operating system \"" + parts[0] + "\"");
  p.arch = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p;
}

}  // namespace

std::string Platform::to_string() const {
  return os + "/" + arch + (variant.empty() ? "" : "/" + variant);
}

bool is_known_os(std::string_view os) {
  return std::find(std::begin(kKnownOs), std::end(kKnownOs), os) != std::end(kKnownOs);
}

bool is_known_arch(std::string_view arch) {
  return std::find(std::begin(kKnownArch), std::end(kKnownArch), arch) != std::end(kKnownArch);
}

Result<Platform> parse_platform(std::string_view s) {
  std::string text = to_lower(trim(s));
  if (text.empty()) return invalid(s, "it is empty");
  if (text.find('*') != std::string::npos) return invalid(s, "wildcards are not supported");
  auto parts = split(text, '/');
  if (parts.size() > 3)
    return invalid(s, "too many components (" + std::to_string(parts.size()) + ", at most 3)");
  for (const auto& part : parts) {
    if (part.empty()) return invalid(s, "a component is empty");
    if (!valid_component(part))
      return invalid(s, "component \"" + part + "\" may contain only a-z, 0-9, '_', '.' and '-'");
  }
  TRY_ASSIGN(Platform p, from_parts(s, parts));
  if (!level_in_bounds(p.variant))
    return invalid(s, "variant \"" + p.variant + "\" is not a level twinbox reads (v1 to v" +
                          std::to_string(kMaxVariantLevel) + ", optionally .0 to ." +
                          std::to_string(kMaxVariantLevel) + ")");
  return normalize(p);
}

Platform normalize(const Platform& p) {
  Platform out{normalize_os(p.os), p.arch, p.variant};
  normalize_arch(out.arch, out.variant, true);
  return out;
}

std::vector<Platform> compatible_platforms(const Platform& want) {
  Platform w = normalize(want);
  std::vector<Platform> out{w};
  auto add = [&](std::string arch, std::string variant) {
    out.push_back(Platform{w.os, std::move(arch), std::move(variant)});
  };
  auto n = variant_number(w.variant);
  if (w.arch == "amd64") {
    for (int v = n.value_or(1) - 1; v >= 1; --v)
      add("amd64", v == 1 ? "" : "v" + std::to_string(v));
    add("386", "");
  } else if (w.arch == "arm") {
    for (int v = n.value_or(0) - 1; v >= 5; --v) add("arm", "v" + std::to_string(v));
  } else if (w.arch == "arm64") {
    add_arm64_levels(w, out);
  }
  return out;
}

bool matches(const Platform& want, const Platform& have) {
  Platform h{normalize_os(have.os), have.arch, have.variant};
  normalize_arch(h.arch, h.variant, false);
  for (const auto& c : compatible_platforms(want)) {
    if (c.os == h.os && c.arch == h.arch && (h.variant.empty() || c.variant == h.variant))
      return true;
  }
  return false;
}

std::optional<size_t> select_from_index(const std::vector<Platform>& index_entries,
                                        const Platform& want) {
  std::vector<Platform> entries;
  entries.reserve(index_entries.size());
  for (const auto& e : index_entries) entries.push_back(normalize(e));
  for (const auto& c : compatible_platforms(want)) {
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i] == c) return i;
  }
  return std::nullopt;
}

}  // namespace twinbox::platform
