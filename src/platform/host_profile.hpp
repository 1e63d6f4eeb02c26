#pragma once
// Host profiles: which platforms each backend can really run on a kind of host. containerd's
// matcher (platform.hpp) says what an arm64 machine *may* accept; a profile says what this host
// does: Apple silicon has no AArch32, so arm/v7 is not native there even though containerd's
// arm64 vector lists it. Profiles are data, chosen by name (daemon config), never probed here.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/platform.hpp"

namespace twinbox::platform {

enum class Backend { Hv, Rosetta };

// "hv", "rosetta": the names the router, labels and `docker info` use.
std::string_view backend_name(Backend b);
std::optional<Backend> parse_backend(std::string_view name);

struct BackendSupport {
  Backend backend;
  std::vector<Platform> platforms;  // what it runs, best first
  std::vector<std::string> family;  // arches it is the home of: whose refusals quote `limits`
  std::string how;                  // "native", "translated from x86-64"
  std::string limits;               // why nothing else of its family runs here
};

// The outcome of asking a profile about one platform. `reason` is one human line either way.
struct BackendMatch {
  std::optional<Backend> backend;
  std::string reason;
};

// The manifest of an image index a profile would run when pulling or creating.
struct IndexChoice {
  size_t entry = 0;  // position in the index
  Backend backend = Backend::Hv;
  Platform platform;  // the entry's platform, normalized
  std::string reason;
};

struct HostProfile {
  std::string name;                      // "apple-silicon"
  std::string description;               // one line for `docker info`
  std::vector<BackendSupport> backends;  // in preference order: hv first

  // The backend that runs exactly `p` (normalized first), or nullopt with a reason that lists
  // what is accepted. Strict: linux/amd64/v3 is refused when only linux/amd64 is accepted,
  // because an image built for v3 may use instructions the translator lacks.
  BackendMatch backend_for(const Platform& p) const;

  // The platforms `b` runs, best first; empty when this profile has no such backend.
  const std::vector<Platform>& accepted(Backend b) const;

  // "hv: linux/arm64; rosetta: linux/amd64", for error messages and `docker info`.
  std::string accepted_text() const;

  // The index entry to run. With `want`: the first of compatible_platforms(want) that this host
  // runs and the index provides (so an arm64 request never lands on arm/v7 where hv lacks
  // AArch32). Without: the backends in preference order, each with its platforms best first
  // (an image with an arm64 manifest -> hv; amd64-only -> rosetta). NotFound in the words of
  // dockerd ("no matching manifest for ..."), naming the index's platforms and the accepted ones.
  Result<IndexChoice> select_from_index(const std::vector<Platform>& entries,
                                        const std::optional<Platform>& want) const;
};

inline constexpr std::string_view kDefaultProfile = "apple-silicon";

// nullptr for an unknown name.
const HostProfile* find_profile(std::string_view name);
const HostProfile& default_profile();
const std::vector<HostProfile>& all_profiles();
// "apple-silicon, generic-arm64", for an error about an unknown profile name.
std::string profile_names_text();

}  // namespace twinbox::platform
