#include "image/resolve.hpp"

#include <nlohmann/json.hpp>

#include "util/json.hpp"
#include "util/strings.hpp"

namespace twinbox::image {

std::string ImageOffer::platforms_text() const {
  std::vector<std::string> names;
  for (const auto& p : platforms) {
    std::string n = p.platform.to_string();
    bool seen = false;
    for (const auto& x : names) seen = seen || x == n;
    if (!seen) names.push_back(n);
  }
  return names.empty() ? std::string("no runnable platform") : join(names, ", ");
}

platform::Platform config_platform(const ImageConfig& c) {
  return platform::normalize(platform::Platform{c.os, c.architecture, c.variant});
}

Result<ImageOffer> offer_from_index(const platform::Reference& ref, const Digest& digest,
                                    std::string bytes, Index index) {
  ImageOffer o;
  o.reference = ref;
  o.digest = digest;
  o.media_type = index.media_type;
  o.is_index = true;
  o.bytes = std::move(bytes);
  for (size_t i = 0; i < index.manifests.size(); i++) {
    const Descriptor& d = index.manifests[i];
    // Attestations are never runnable; an entry without a platform cannot be chosen for one.
    if (is_attestation(d) || !d.platform) continue;
    if (!is_image_manifest(classify_media_type(d.media_type))) continue;
    platform::Platform p{d.platform->os, d.platform->architecture, d.platform->variant};
    o.platforms.push_back({platform::normalize(p), i, d.digest});
  }
  if (o.platforms.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "the index of " + ref.familiar() + " (" + digest.str() +
                          ") has no runnable image manifest (" +
                          std::to_string(index.manifests.size()) +
                          " entries, none an image manifest with a platform)");
  }
  o.index = std::move(index);
  return o;
}

Result<ImageOffer> offer_from_manifest(const platform::Reference& ref, const Digest& digest,
                                       std::string bytes, ImageManifest manifest,
                                       std::string config_bytes, ImageConfig config) {
  ImageOffer o;
  o.reference = ref;
  o.digest = digest;
  o.media_type = manifest.media_type;
  o.is_index = false;
  o.bytes = std::move(bytes);
  o.platforms.push_back({config_platform(config), 0, digest});
  o.manifest = std::move(manifest);
  o.config_bytes = std::move(config_bytes);
  o.config = std::move(config);
  return o;
}

Result<OfferedPlatform> choose_platform(const ImageOffer& offer, const platform::Platform& want) {
  platform::Platform w = platform::normalize(want);
  if (offer.is_index) {
    std::vector<platform::Platform> entries;
    entries.reserve(offer.platforms.size());
    for (const auto& p : offer.platforms) entries.push_back(p.platform);
    auto pick = platform::select_from_index(entries, w);
    if (pick) return offer.platforms[*pick];
  } else if (!offer.platforms.empty() && platform::matches(w, offer.platforms[0].platform)) {
    return offer.platforms[0];
  }
  return make_error(ErrorCode::NotFound, "no matching manifest for " + w.to_string() + " in " +
                                             offer.reference.familiar() + ": the image offers " +
                                             offer.platforms_text());
}

Status check_resolved_config(const ImageManifest& m, const ImageConfig& c,
                             const platform::Platform& expected) {
  platform::Platform have = config_platform(c);
  if (!platform::matches(platform::normalize(expected), have)) {
    return make_error(ErrorCode::InvalidArgument,
                      "image config says " + have.to_string() + " but " +
                          platform::normalize(expected).to_string() +
                          " was expected: the image is inconsistent; refusing it");
  }
  return check_config_matches(m, c);
}

std::string pinned_reference(const platform::Reference& ref, const Digest& digest) {
  return ref.name() + "@" + digest.str();
}

std::string registry_error_summary(std::string_view body) {
  auto doc = parse_json<nlohmann::json>(body);
  if (doc.is_discarded() || !doc.is_object()) return {};
  auto errs = doc.find("errors");
  if (errs == doc.end() || !errs->is_array() || errs->empty() || !(*errs)[0].is_object()) return {};
  const auto& e = (*errs)[0];
  std::string code, message;
  if (auto c = e.find("code"); c != e.end() && c->is_string()) code = c->get<std::string>();
  if (auto m = e.find("message"); m != e.end() && m->is_string()) message = m->get<std::string>();
  if (code.empty() && message.empty()) return {};
  if (code.empty()) return message;
  if (message.empty()) return code;
  return code + ": " + message;
}

}  // namespace twinbox::image
