#pragma once
// Host profiles: which platforms each backend can really run on a kind of host, and how: natively
// or through a translator registered with binfmt_misc. containerd's matcher (platform.hpp) says
// what an arm64 machine *may* accept; a profile says what this host does: Apple silicon has no
// AArch32, so arm/v7 is not native there even though containerd's arm64 vector lists it. Both
// utility VMs are arm64 guests, so rosetta runs linux/arm64 natively as well as linux/amd64
// translated: a pod or compose project that follows one amd64 member there keeps its arm64
// members. Profiles are data, chosen by name (daemon config), never probed here.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/platform.hpp"

namespace twinbox::platform {

// A user-space translator a backend registers with binfmt_misc.
struct Translator {
  std::string name;                 // the binfmt_misc entry: "qemu-x86_64"
  std::vector<Platform> platforms;  // the platforms it takes, best first
  std::string flags;                // the binfmt flags its rule registers: "POCF"
  std::string stands_for;           // what it emulates on Apple hardware: "Rosetta"
};

// "qemu-x86_64 (binfmt POCF)": how labels, `docker info` and `twinbox status` name a translator
// with the flags of its binfmt_misc rule (the profile's, or those read back from the guest).
// `note` is added after the flags: "qemu-x86_64 (binfmt POCF, hv fallback)".
std::string translator_label(std::string_view name, std::string_view flags,
                             std::string_view note = "");

enum class Execution { Native, Translated };
std::string_view execution_name(Execution e);  // "native", "translated"

// One utility VM of a profile: what it is and what it runs. Adding a backend to a profile is one
// entry; the router asks these entries, never a backend's name.
struct BackendSupport {
  std::string name;  // "hv", "rosetta": the VM's role and the name labels and `docker info` use
  std::vector<Platform> native;         // what its CPU runs, best first
  std::vector<Translator> translators;  // what it runs through a translator
  std::vector<std::string> family;      // arches it is the home of: whose refusals quote `limits`
  std::string limits;                   // why nothing else of its family runs here

  // Native platforms first, then each translator's: best first.
  std::vector<Platform> platforms() const;
  // The translator that takes `p` (normalized), nullptr when none does.
  const Translator* translator_for(const Platform& p) const;
};

// How one backend runs one platform.
struct Runs {
  std::string backend;
  Execution execution = Execution::Native;
  const Translator* translator = nullptr;  // set when translated; points into the profile
  std::string how() const;                 // "native", "translated by qemu-x86_64"
};

// "linux/amd64 runs on rosetta (translated by qemu-x86_64, host profile apple-silicon)".
std::string runs_reason(const Platform& p, const Runs& r, std::string_view profile);

// The outcome of asking a profile about one platform. `reason` is one human line either way.
struct BackendMatch {
  std::optional<std::string> backend;
  std::string reason;
  std::optional<Runs> runs;  // set with backend
};

// The manifest of an image index a profile would run when pulling or creating.
struct IndexChoice {
  size_t entry = 0;  // position in the index
  std::string backend;
  Platform platform;  // the entry's platform, normalized
  std::string reason;
  Runs runs;  // how `backend` runs `platform`
};

struct HostProfile {
  std::string name;                      // "apple-silicon"
  std::string description;               // one line for `docker info`
  std::vector<BackendSupport> backends;  // in preference order: hv first

  // The first backend: where work goes that nothing else decides ("hv").
  const std::string& default_backend() const;

  // The backend that runs exactly `p` (normalized first) when nothing ties the workload to a
  // backend: the first that runs it natively, else the first that translates it (so linux/arm64
  // prefers hv even though rosetta runs it too). nullopt with a reason that lists what is
  // accepted. Strict: linux/amd64/v3 is refused when only linux/amd64 is accepted, because an
  // image built for v3 may use instructions the translator lacks.
  BackendMatch backend_for(const Platform& p) const;

  // Whether backend `b` runs exactly `p` (normalized first), and how: for a group (pod, compose
  // project) already placed on `b`. nullopt backend with a reason when `b` does not run it.
  BackendMatch runs_on(std::string_view b, const Platform& p) const;

  // The backend's entry; nullptr when this profile has no such backend.
  const BackendSupport* support(std::string_view b) const;

  // The platforms `b` runs, native first; empty when this profile has no such backend.
  std::vector<Platform> accepted(std::string_view b) const;

  // "hv: linux/arm64; rosetta: linux/arm64, linux/amd64 (translated)", for error messages and
  // `docker info`.
  std::string accepted_text() const;

  // The index entry to run. With `want`: the first of compatible_platforms(want) that this host
  // runs and the index provides (so an arm64 request never lands on arm/v7 where hv lacks
  // AArch32). Without: native platforms before translated ones, backends in preference order,
  // each best first (an image with an arm64 manifest -> hv; amd64-only -> rosetta). NotFound in
  // the words of dockerd ("no matching manifest for ..."), naming the index's platforms and the
  // accepted ones.
  Result<IndexChoice> select_from_index(const std::vector<Platform>& entries,
                                        const std::optional<Platform>& want) const;

  // The index entry backend `b` would run (a group placed on `b`): with `want`, the first of
  // compatible_platforms(want) that `b` runs and the index provides; without, `b`'s native
  // platforms then its translated ones. nullopt when `b` runs none of them.
  std::optional<IndexChoice> select_on(std::string_view b, const std::vector<Platform>& entries,
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
