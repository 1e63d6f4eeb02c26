#pragma once
// The host side of every image twinboxd hands to an engine: what a reference offers (the
// registry when it answers, else the content store, so CI can run offline after an import),
// one verified fetch into the shared content store, and the stored image for a platform.
// Delivery into an engine (docker load over the engine socket) is the api module's job.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "image/registry_client.hpp"
#include "platform/platform.hpp"
#include "store/content_store.hpp"
#include "util/result.hpp"

namespace twinbox::pull {

// What a reference offers, and where that was learnt.
struct Offer {
  platform::Reference reference;
  std::vector<platform::Platform> platforms;  // normalized, index order
  std::string source;                         // "registry 127.0.0.1:5000" / "content store"
  std::string note;                           // why the store was used ("" when registry)
  std::optional<image::ImageOffer> registry;  // set when the registry answered
};

// One platform of a reference, complete in the content store.
struct StoredImage {
  platform::Reference reference;  // the user's, tag kept for display
  image::Digest manifest;         // the child manifest: what a container pins
  image::Digest config;           // the image ID the engine will show
  std::string platform;           // from the config
  std::vector<image::Digest> layers;
  int64_t size = 0;
  bool fetched = false;        // false: it was already in the store
  std::string pinned() const;  // "<name>@<manifest>"
};

class ImageService {
 public:
  ImageService(store::ContentStore& store, image::RegistryClient& registry)
      : store_(store), registry_(registry) {}

  // For a pull: the registry first (a pull always asks it, like docker); when the registry
  // cannot be reached (or has no such image) but the store holds the reference, the store's copy
  // with `note` saying why. The registry's error otherwise. `creds`: the docker client's
  // (X-Registry-Auth) for this pull, instead of twinboxd's docker config; pass the same to pull().
  Result<Offer> offer_for_pull(std::string_view reference,
                               const image::PullCredentials& creds = {});
  // For routing a create: the store only (no network). nullopt when the store lacks it.
  std::optional<Offer> offer_local(std::string_view reference) const;

  // Fetches the platform `want` of `offer` into the store (verified; skipped when complete
  // there already) and points the reference at it. `progress` sees each layer.
  Result<StoredImage> pull(const Offer& offer, const platform::Platform& want,
                           const image::ProgressCallback& progress = {},
                           const image::PullCredentials& creds = {});
  // The stored image of `reference` best matching `want` (containerd preference); NotFound
  // listing what the store has.
  Result<StoredImage> stored(std::string_view reference, const platform::Platform& want) const;
  // Every platform of `reference` complete in the store (what a docker load delivers).
  Result<std::vector<StoredImage>> stored_all(std::string_view reference) const;

  store::ContentStore& content() { return store_; }
  // The registry client pulls go through: `POST /auth` (docker login) checks credentials with it.
  image::RegistryClient& registry() { return registry_; }

 private:
  Result<StoredImage> describe(const platform::Reference& ref, const image::Digest& manifest,
                               const std::string& platform) const;

  store::ContentStore& store_;
  image::RegistryClient& registry_;
};

}  // namespace twinbox::pull
