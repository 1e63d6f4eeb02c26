// Image references from clients (create, pull, tag, build -t, archive names) and from archives.
#include "fuzz_input.hpp"
#include "platform/reference.hpp"
#include "store/archive_rules.hpp"
#include "store/content_store.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::as_text(data, size);
  if (auto r = platform::parse_reference(in)) {
    (void)r->canonical();
    (void)r->familiar();
    (void)r->familiar_name();
    // What is printed parses back to the same reference.
    auto again = platform::parse_reference(r->canonical());
    if (!again || !(*again == *r)) std::abort();
  }
  (void)platform::validate_digest(in);
  (void)store::normalize_reference(in);
  (void)store::normalize_archive_path(in);
  auto parts = fuzz::fields(in, 2);
  (void)store::resolve_link_target(parts[0], parts.back(), false);
  (void)store::resolve_link_target(parts[0], parts.back(), true);
  (void)store::oci_archive_reference(
      {{std::string(store::kRefNameAnnotation), std::string(parts[0])}}, parts.back());
  return 0;
}
