#pragma once
// The pure half of resolving a reference to one platform's image: what an image offers (an
// index's runnable entries, or a single manifest's platform read from its config), which child
// a platform gets (containerd's preference order), the checks a resolved image must pass, and the
// digest-pinned reference. The registry client (registry_client.hpp) fetches; this decides.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest.hpp"
#include "image/manifest.hpp"
#include "platform/platform.hpp"
#include "platform/reference.hpp"
#include "util/result.hpp"

namespace twinbox::image {

// One platform an image offers. For an index, `entry` is its position in `Index::manifests`
// and `digest` the child manifest; for a single manifest, entry 0 and the manifest itself.
struct OfferedPlatform {
  platform::Platform platform;  // normalized
  size_t entry = 0;
  Digest digest;
};

// What `inspect` found under a reference: enough for the router to choose a backend, and the
// fetched documents so that resolving does not fetch them again.
struct ImageOffer {
  platform::Reference reference;  // as the user gave it (tag kept for display)
  Digest digest;                  // of the top-level document (index or manifest)
  std::string media_type;         // canonical media type of the top-level document
  bool is_index = false;
  std::vector<OfferedPlatform> platforms;  // attestations skipped; index order

  std::string bytes;  // the top-level document as fetched (digest verified)
  std::optional<Index> index;
  // For a single manifest: the manifest and its config (the platform comes from the config).
  std::optional<ImageManifest> manifest;
  std::string config_bytes;
  std::optional<ImageConfig> config;

  // "linux/amd64, linux/arm64" (for messages).
  std::string platforms_text() const;
};

// The platform an image config declares, normalized (variant kept when the config has one).
platform::Platform config_platform(const ImageConfig& c);

// The offer of an index: its runnable entries. Entries without a platform and attestation
// entries are skipped. InvalidArgument when nothing runnable remains.
Result<ImageOffer> offer_from_index(const platform::Reference& ref, const Digest& digest,
                                    std::string bytes, Index index);

// The offer of a single manifest whose config has been fetched and verified.
Result<ImageOffer> offer_from_manifest(const platform::Reference& ref, const Digest& digest,
                                       std::string bytes, ImageManifest manifest,
                                       std::string config_bytes, ImageConfig config);

// The offered platform `want` gets: the first of platform::compatible_platforms(want) that the
// offer has (index order breaks ties). NotFound in dockerd's words, listing what is offered:
// "no matching manifest for linux/arm64 in <ref>: the image offers linux/s390x".
Result<OfferedPlatform> choose_platform(const ImageOffer& offer, const platform::Platform& want);

// A resolved child's config against what was asked. `expected` is the index entry's platform
// (or the explicit request for a single manifest). The config must say the same os and arch
// (platform::matches: a config without a variant matches on os+arch) and describe one diff_id per
// layer (check_config_matches). InvalidArgument naming both platforms otherwise.
Status check_resolved_config(const ImageManifest& m, const ImageConfig& c,
                             const platform::Platform& expected);

// "<name>@<digest>": "127.0.0.1:5000/twinbox/busybox@sha256:...", "docker.io/library/busybox@...".
std::string pinned_reference(const platform::Reference& ref, const Digest& digest);

// The registry's error document ({"errors":[{"code","message","detail"}]}) in one line:
// "MANIFEST_UNKNOWN: manifest unknown". "" when `body` is not one.
std::string registry_error_summary(std::string_view body);

}  // namespace twinbox::image
