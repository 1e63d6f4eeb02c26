#include "pull/image_service.hpp"

#include "image/manifest.hpp"
#include "image/resolve.hpp"
#include "util/strings.hpp"

namespace twinbox::pull {

std::string StoredImage::pinned() const { return image::pinned_reference(reference, manifest); }

namespace {

// Registry answers that mean "use the store if it has the image": the registry is not there.
bool registry_unreachable(const Error& e) {
  return e.code == ErrorCode::Unavailable || e.code == ErrorCode::Io ||
         e.code == ErrorCode::Timeout;
}

std::vector<platform::Platform> parse_all(const std::vector<std::string>& ps) {
  std::vector<platform::Platform> out;
  for (const auto& p : ps)
    if (auto pp = platform::parse_platform(p)) out.push_back(*pp);
  return out;
}

}  // namespace

std::optional<Offer> ImageService::offer_local(std::string_view reference) const {
  auto ref = platform::parse_reference(reference);
  if (!ref) return std::nullopt;
  auto top = store_.resolve(ref->canonical());
  if (!top) return std::nullopt;
  Offer o;
  o.reference = *ref;
  o.source = "content store";
  if (image::is_index(image::classify_media_type(top->media_type))) {
    // The index's whole offer (not only what is complete here): routing asks what the image
    // offers; a missing platform is fetched when it is needed.
    auto bytes = store_.read_blob(top->digest);
    if (!bytes) return std::nullopt;
    auto index = image::parse_index(*bytes, top->media_type);
    if (!index) return std::nullopt;
    for (const auto& d : index->manifests) {
      if (image::is_attestation(d) || !d.platform) continue;
      std::string p = d.platform->os + "/" + d.platform->architecture +
                      (d.platform->variant.empty() ? "" : "/" + d.platform->variant);
      if (auto pp = platform::parse_platform(p)) o.platforms.push_back(*pp);
    }
  } else {
    auto complete = store_.complete_platforms(*top);
    if (!complete) return std::nullopt;
    for (const auto& c : *complete)
      if (auto pp = platform::parse_platform(c.platform)) o.platforms.push_back(*pp);
  }
  if (o.platforms.empty()) return std::nullopt;
  return o;
}

Result<Offer> ImageService::offer_for_pull(std::string_view reference,
                                           const image::PullCredentials& creds) {
  TRY_ASSIGN(platform::Reference ref, platform::parse_reference(reference));
  auto remote = registry_.inspect(ref, creds);
  if (remote) {
    Offer o;
    o.reference = ref;
    o.source = "registry " + ref.domain;
    for (const auto& p : remote->platforms) o.platforms.push_back(p.platform);
    o.registry = std::move(remote).value();
    return o;
  }
  bool fallback =
      registry_unreachable(remote.error()) || remote.error().code == ErrorCode::NotFound;
  if (fallback)
    if (auto local = offer_local(reference)) {
      local->note = "registry " + ref.domain + " not used (" + remote.error().message +
                    "); using the content store's copy";
      return *local;
    }
  return remote.error();
}

Result<StoredImage> ImageService::describe(const platform::Reference& ref,
                                           const image::Digest& manifest,
                                           const std::string& platform) const {
  TRY_ASSIGN(std::string bytes, store_.read_blob(manifest));
  TRY_ASSIGN(image::ImageManifest m, image::parse_image_manifest(bytes));
  StoredImage s;
  s.reference = ref;
  s.manifest = manifest;
  s.config = m.config.digest;
  s.platform = platform;
  s.size = static_cast<int64_t>(bytes.size()) + m.config.size;
  for (const auto& l : m.layers) {
    s.layers.push_back(l.digest);
    s.size += l.size;
  }
  return s;
}

Result<StoredImage> ImageService::stored(std::string_view reference,
                                         const platform::Platform& want) const {
  TRY_ASSIGN(platform::Reference ref, platform::parse_reference(reference));
  auto complete = store_.complete_platforms(ref.canonical());
  if (!complete)
    return complete.error().context("image " + ref.familiar() + " in the content store");
  std::vector<std::string> names;
  for (const auto& c : *complete) names.push_back(c.platform);
  auto parsed = parse_all(names);
  auto pick = platform::select_from_index(parsed, want);
  if (!pick || *pick >= complete->size())
    return make_error(ErrorCode::NotFound, "image " + ref.familiar() + " has no " +
                                               want.to_string() +
                                               " variant in the content store (it has: " +
                                               (names.empty() ? "none" : join(names, ", ")) + ")");
  const auto& hit = (*complete)[*pick];
  return describe(ref, hit.manifest, hit.platform);
}

Result<std::vector<StoredImage>> ImageService::stored_all(std::string_view reference) const {
  TRY_ASSIGN(platform::Reference ref, platform::parse_reference(reference));
  auto complete = store_.complete_platforms(ref.canonical());
  if (!complete)
    return complete.error().context("image " + ref.familiar() + " in the content store");
  std::vector<StoredImage> out;
  for (const auto& c : *complete) {
    TRY_ASSIGN(StoredImage s, describe(ref, c.manifest, c.platform));
    out.push_back(std::move(s));
  }
  return out;
}

Result<StoredImage> ImageService::pull(const Offer& offer, const platform::Platform& want,
                                       const image::ProgressCallback& progress,
                                       const image::PullCredentials& creds) {
  if (!offer.registry) {
    TRY_ASSIGN(StoredImage s, stored(offer.reference.canonical(), want));
    if (!offer.note.empty() && progress) {
      // Nothing to download: say so per layer, as docker does for layers it has.
      for (const auto& l : s.layers)
        progress({l.hex().substr(0, 12), l, image::PullPhase::AlreadyExists, 0, 0});
    }
    return s;
  }
  TRY_ASSIGN(image::ResolvedImage r, registry_.resolve(*offer.registry, want, creds));
  TRY_ASSIGN(store::Lease lease, store_.lease());
  bool had = store_.has(r.manifest_digest);
  TRY(registry_.fetch(r, store_, progress, creds));
  image::Descriptor top;
  top.media_type = offer.registry->media_type;
  top.digest = offer.registry->digest;
  top.size = static_cast<int64_t>(offer.registry->bytes.size());
  TRY(store_.set_reference(offer.reference.canonical(), top));
  TRY_ASSIGN(StoredImage s, describe(offer.reference, r.manifest_digest, r.platform.to_string()));
  s.fetched = !had;
  return s;
}

}  // namespace twinbox::pull
